//! What each dynamic setting may hold: validation on write, hashing of the
//! secrets we only verify, and masking of secrets on read.

use super::{SettingsError, CASH_REGISTER_AUTH_CONF, ORDER_WEBHOOK_CONF};
use crate::secrets;
use base64::Engine;
use serde_json::{json, Map, Value};

pub const KNOWN_KEYS: &[&str] = &[CASH_REGISTER_AUTH_CONF, ORDER_WEBHOOK_CONF];

/// What a secret looks like when read back. Writing it back unchanged keeps
/// the stored secret, so an operator can edit other fields of a masked value.
pub const MASK: &str = "********";

fn invalid(message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid(message.into())
}

/// Validates `input` for `key` and returns the value to store, hashing
/// passwords. `current` is the stored value, whose secrets a masked input keeps.
pub fn prepare_write(key: &str, input: &Value, current: Option<&Value>) -> Result<Value, SettingsError> {
    match key {
        CASH_REGISTER_AUTH_CONF => prepare_cash_register(input, current),
        ORDER_WEBHOOK_CONF => prepare_webhooks(input, current),
        other => Err(SettingsError::UnknownKey(other.to_string())),
    }
}

/// The stored value as operators may see it: secrets replaced by [`MASK`].
pub fn masked(key: &str, stored: &Value) -> Value {
    let mut value = stored.clone();
    let (list, secret_field, shown_field) = match key {
        CASH_REGISTER_AUTH_CONF => ("credentials", "password_hash", "password"),
        ORDER_WEBHOOK_CONF => ("endpoints", "secret", "secret"),
        _ => return value,
    };
    if let Some(items) = value.get_mut(list).and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.remove(secret_field);
            item.insert(shown_field.to_string(), json!(MASK));
        }
    }
    value
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, SettingsError> {
    value.as_object().ok_or_else(|| invalid(format!("{what} must be a JSON object")))
}

fn refuse_unknown_fields(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), SettingsError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!("{what}: unknown field {k:?} (allowed: {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

fn required_string<'a>(obj: &'a Map<String, Value>, field: &str, what: &str) -> Result<&'a str, SettingsError> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(invalid(format!("{what}.{field} must not be empty"))),
        Some(_) => Err(invalid(format!("{what}.{field} must be a string"))),
        None => Err(invalid(format!("{what}.{field} is required"))),
    }
}

/// The item of `current[list]` whose `id_field` equals `id`.
fn current_item<'a>(current: Option<&'a Value>, list: &str, id_field: &str, id: &str) -> Option<&'a Value> {
    current?
        .get(list)?
        .as_array()?
        .iter()
        .find(|item| item.get(id_field).and_then(Value::as_str) == Some(id))
}

fn prepare_cash_register(input: &Value, current: Option<&Value>) -> Result<Value, SettingsError> {
    let obj = object(input, CASH_REGISTER_AUTH_CONF)?;
    refuse_unknown_fields(obj, &["credentials", "installment_enabled", "shipping_sku"], CASH_REGISTER_AUTH_CONF)?;
    let creds = match obj.get("credentials") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("credentials must be a list of {\"username\", \"password\"} objects")),
        None => return Err(invalid("credentials is required")),
    };
    let mut stored_creds = Vec::with_capacity(creds.len());
    let mut seen = std::collections::HashSet::new();
    for (i, cred) in creds.iter().enumerate() {
        let what = format!("credentials[{i}]");
        let cred = object(cred, &what)?;
        refuse_unknown_fields(cred, &["username", "password"], &what)?;
        let username = required_string(cred, "username", &what)?;
        if username.len() > 128 {
            return Err(invalid(format!("{what}.username must be at most 128 characters")));
        }
        if !seen.insert(username.to_string()) {
            return Err(invalid(format!("{what}.username {username:?} appears twice")));
        }
        let password = match cred.get("password") {
            None => None,
            Some(Value::String(p)) if p == MASK => None,
            Some(Value::String(p)) if p.is_empty() => return Err(invalid(format!("{what}.password must not be empty"))),
            Some(Value::String(p)) if p.len() > 1024 => {
                return Err(invalid(format!("{what}.password must be at most 1024 characters")))
            }
            Some(Value::String(p)) => Some(p.as_str()),
            Some(_) => return Err(invalid(format!("{what}.password must be a string"))),
        };
        let password_hash = match password {
            Some(p) => secrets::hash_password(p)?,
            None => current_item(current, "credentials", "username", username)
                .and_then(|c| c.get("password_hash"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| invalid(format!("{what}.password is required for new user {username:?}")))?,
        };
        stored_creds.push(json!({"username": username, "password_hash": password_hash}));
    }
    let installment_enabled = match obj.get("installment_enabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("installment_enabled must be true or false")),
    };
    let shipping_sku = match obj.get("shipping_sku") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if s.len() <= 128 => json!(s),
        Some(_) => return Err(invalid("shipping_sku must be a string of at most 128 characters, or null")),
    };
    Ok(json!({
        "credentials": stored_creds,
        "installment_enabled": installment_enabled,
        "shipping_sku": shipping_sku,
    }))
}

fn prepare_webhooks(input: &Value, current: Option<&Value>) -> Result<Value, SettingsError> {
    let obj = object(input, ORDER_WEBHOOK_CONF)?;
    refuse_unknown_fields(obj, &["endpoints"], ORDER_WEBHOOK_CONF)?;
    let endpoints = match obj.get("endpoints") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("endpoints must be a list of {\"url\", \"secret\"} objects")),
        None => return Err(invalid("endpoints is required")),
    };
    let mut stored = Vec::with_capacity(endpoints.len());
    for (i, endpoint) in endpoints.iter().enumerate() {
        let what = format!("endpoints[{i}]");
        let endpoint = object(endpoint, &what)?;
        refuse_unknown_fields(endpoint, &["url", "secret"], &what)?;
        let url = required_string(endpoint, "url", &what)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 || url.contains(char::is_whitespace) {
            return Err(invalid(format!("{what}.url must be an http:// or https:// URL")));
        }
        let secret = match endpoint.get("secret") {
            Some(Value::String(s)) if s == MASK => None,
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(invalid(format!("{what}.secret must be a string"))),
        };
        let secret = match secret {
            Some(s) => {
                let decoded = s
                    .strip_prefix("whsec_")
                    .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
                match decoded {
                    Some(bytes) if (24..=64).contains(&bytes.len()) => s.to_string(),
                    _ => {
                        return Err(invalid(format!(
                            "{what}.secret must be whsec_ followed by 24 to 64 base64-encoded bytes"
                        )))
                    }
                }
            }
            None => current_item(current, "endpoints", "url", url)
                .and_then(|e| e.get("secret"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| invalid(format!("{what}.secret is required for new endpoint {url}")))?,
        };
        stored.push(json!({"url": url, "secret": secret}));
    }
    Ok(json!({ "endpoints": stored }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_register_passwords_are_hashed_and_masked() {
        let stored = prepare_write(
            CASH_REGISTER_AUTH_CONF,
            &json!({"credentials": [{"username": "c1", "password": "secret"}], "shipping_sku": "SHIP-01"}),
            None,
        )
        .unwrap();
        let hash = stored["credentials"][0]["password_hash"].as_str().unwrap();
        assert!(secrets::verify_password("secret", hash));
        assert!(!stored.to_string().contains("\"secret\""));
        let shown = masked(CASH_REGISTER_AUTH_CONF, &stored);
        assert_eq!(shown["credentials"][0], json!({"username": "c1", "password": MASK}));

        // writing the masked value back keeps the hash
        let again = prepare_write(CASH_REGISTER_AUTH_CONF, &shown, Some(&stored)).unwrap();
        assert_eq!(again["credentials"][0]["password_hash"], stored["credentials"][0]["password_hash"]);
    }

    #[test]
    fn invalid_values_name_the_field() {
        let cases = [
            (json!({"credentials": "x"}), "credentials"),
            (json!({"credentials": [{"username": ""}]}), "credentials[0].username"),
            (json!({"credentials": [{"username": "a"}]}), "credentials[0].password"),
            (json!({"credentials": [], "installment_enabled": "yes"}), "installment_enabled"),
            (json!({"credentials": [], "colour": 1}), "colour"),
        ];
        for (input, field) in cases {
            let err = prepare_write(CASH_REGISTER_AUTH_CONF, &input, None).unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
        }
        let err = prepare_write(ORDER_WEBHOOK_CONF, &json!({"endpoints": [{"url": "ftp://x", "secret": "whsec_"}]}), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("endpoints[0].url"), "{err}");
    }
}
