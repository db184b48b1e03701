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
            let secret = item.remove(secret_field);
            item.insert(shown_field.to_string(), json!(MASK));
            // An endpoint is listed twice while its secret rotates: the id
            // tells the two masked secrets apart on write-back.
            if key == ORDER_WEBHOOK_CONF {
                if let Some(secret) = secret.as_ref().and_then(Value::as_str) {
                    item.insert("secret_id".to_string(), json!(secret_id(secret)));
                }
            }
        }
    }
    value
}

/// A short fingerprint of a webhook secret: names it without revealing it.
pub fn secret_id(secret: &str) -> String {
    secrets::sha256_hex(secret.as_bytes())[..12].to_string()
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
    current?.get(list)?.as_array()?.iter().find(|item| item.get(id_field).and_then(Value::as_str) == Some(id))
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
            Some(Value::String(p)) if p.is_empty() => {
                return Err(invalid(format!("{what}.password must not be empty")))
            }
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

/// The stored secrets of `url`, in order.
fn stored_secrets<'a>(current: Option<&'a Value>, url: &'a str) -> impl Iterator<Item = &'a str> {
    current
        .and_then(|c| c.get("endpoints"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |e| e.get("url").and_then(Value::as_str) == Some(url))
        .filter_map(|e| e.get("secret").and_then(Value::as_str))
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
        refuse_unknown_fields(endpoint, &["url", "secret", "secret_id"], &what)?;
        let url = required_string(endpoint, "url", &what)?;
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.len() > 2048
            || url.contains(char::is_whitespace)
        {
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
                let decoded =
                    s.strip_prefix("whsec_").and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
                match decoded {
                    Some(bytes) if (24..=64).contains(&bytes.len()) => s.to_string(),
                    _ => {
                        return Err(invalid(format!(
                            "{what}.secret must be whsec_ followed by 24 to 64 base64-encoded bytes"
                        )))
                    }
                }
            }
            None => match endpoint.get("secret_id") {
                // Keeps the stored secret the read named (one URL may have two).
                Some(Value::String(id)) => stored_secrets(current, url)
                    .find(|s| secret_id(s) == *id)
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("{what}.secret_id matches no stored secret of {url}")))?,
                Some(_) => return Err(invalid(format!("{what}.secret_id must be a string"))),
                None => stored_secrets(current, url)
                    .next()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("{what}.secret is required for new endpoint {url}")))?,
            },
        };
        stored.push(json!({"url": url, "secret": secret}));
    }
    Ok(json!({ "endpoints": stored }))
}

/// What changed from `previous` to `stored` (both as stored, secrets hashed),
/// in words an operator reads in the history; secrets are never shown, only
/// whether they changed.
pub fn describe_changes(key: &str, previous: Option<&Value>, stored: &Value) -> Vec<String> {
    let empty = json!({});
    let previous = previous.unwrap_or(&empty);
    let mut changes = Vec::new();
    let (list, id_field, secret_field, noun) = match key {
        CASH_REGISTER_AUTH_CONF => ("credentials", "username", "password_hash", "credential"),
        ORDER_WEBHOOK_CONF => ("endpoints", "url", "secret", "endpoint"),
        _ => return changes,
    };
    // (id, secret) pairs; an endpoint may be listed twice while its secret rotates.
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.get(list)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        let text = |f: &str| i.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
                        (text(id_field), text(secret_field))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (pairs(previous), pairs(stored));
    let mut ids: Vec<&String> = before.iter().chain(after.iter()).map(|(id, _)| id).collect();
    ids.dedup();
    let mut seen = std::collections::HashSet::new();
    for id in ids.into_iter().filter(|id| seen.insert(id.as_str())) {
        let secrets = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().filter(|(i, _)| i == id).map(|(_, s)| s.clone()).collect()
        };
        let (old, new) = (secrets(&before), secrets(&after));
        let secret_word = if key == CASH_REGISTER_AUTH_CONF { "password" } else { "secret" };
        if old.is_empty() {
            changes.push(format!("added {noun} {id}"));
        } else if new.is_empty() {
            changes.push(format!("removed {noun} {id}"));
        } else if old != new {
            let added = new.iter().filter(|s| !old.contains(s)).count();
            let removed = old.iter().filter(|s| !new.contains(s)).count();
            changes.push(match (added, removed) {
                (0, _) => format!("removed a {secret_word} of {noun} {id}"),
                (_, 0) => format!("added a {secret_word} to {noun} {id}"),
                _ => format!("changed the {secret_word} of {noun} {id}"),
            });
        }
    }
    if key == CASH_REGISTER_AUTH_CONF {
        for field in ["installment_enabled", "shipping_sku"] {
            let (old, new) = (previous.get(field).unwrap_or(&Value::Null), stored.get(field).unwrap_or(&Value::Null));
            if old != new {
                changes.push(format!("{field}: {old} → {new}"));
            }
        }
    }
    changes
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
        let err =
            prepare_write(ORDER_WEBHOOK_CONF, &json!({"endpoints": [{"url": "ftp://x", "secret": "whsec_"}]}), None)
                .unwrap_err()
                .to_string();
        assert!(err.contains("endpoints[0].url"), "{err}");
    }

    #[test]
    fn a_rotating_endpoint_keeps_each_masked_secret_by_its_id() {
        let (old, new) = (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=",
            "whsec_c2VjcmV0LWJlaW5nLXJvdGF0ZWQtb3V0LW5vdy0xMjM0NTY=",
        );
        let input =
            json!({"endpoints": [{"url": "https://a/h", "secret": old}, {"url": "https://a/h", "secret": new}]});
        let stored = prepare_write(ORDER_WEBHOOK_CONF, &input, None).unwrap();
        let shown = masked(ORDER_WEBHOOK_CONF, &stored);
        assert!(!shown.to_string().contains("whsec_"));
        // written back unchanged: both secrets stay, in order
        assert_eq!(prepare_write(ORDER_WEBHOOK_CONF, &shown, Some(&stored)).unwrap(), stored);
        // the old one removed: the new one stays (not the first of the URL)
        let kept = json!({"endpoints": [shown["endpoints"][1].clone()]});
        let after = prepare_write(ORDER_WEBHOOK_CONF, &kept, Some(&stored)).unwrap();
        assert_eq!(after["endpoints"][0]["secret"], new);
        let wrong = json!({"endpoints": [{"url": "https://a/h", "secret": MASK, "secret_id": "000000000000"}]});
        let err = prepare_write(ORDER_WEBHOOK_CONF, &wrong, Some(&stored)).unwrap_err().to_string();
        assert!(err.contains("endpoints[0].secret_id"), "{err}");
    }

    #[test]
    fn changes_name_what_changed_without_secrets() {
        let v1 = json!({"credentials": [{"username": "c1", "password_hash": "h1"}], "installment_enabled": false, "shipping_sku": "S1"});
        assert_eq!(
            describe_changes(CASH_REGISTER_AUTH_CONF, None, &v1),
            ["added credential c1", "installment_enabled: null → false", "shipping_sku: null → \"S1\""]
        );
        let v2 = json!({"credentials": [{"username": "c1", "password_hash": "h9"}, {"username": "c2", "password_hash": "h2"}],
                        "installment_enabled": true, "shipping_sku": "S1"});
        let changes = describe_changes(CASH_REGISTER_AUTH_CONF, Some(&v1), &v2);
        assert_eq!(
            changes,
            ["changed the password of credential c1", "added credential c2", "installment_enabled: false → true"]
        );
        assert!(!changes.concat().contains("h9"));
        let v3 = json!({"credentials": [{"username": "c2", "password_hash": "h2"}], "installment_enabled": true, "shipping_sku": "S1"});
        assert_eq!(describe_changes(CASH_REGISTER_AUTH_CONF, Some(&v2), &v3), ["removed credential c1"]);

        let w1 = json!({"endpoints": [{"url": "https://a", "secret": "whsec_1"}]});
        let w2 = json!({"endpoints": [{"url": "https://a", "secret": "whsec_1"}, {"url": "https://a", "secret": "whsec_2"}]});
        assert_eq!(describe_changes(ORDER_WEBHOOK_CONF, Some(&w1), &w2), ["added a secret to endpoint https://a"]);
        assert_eq!(describe_changes(ORDER_WEBHOOK_CONF, Some(&w2), &w1), ["removed a secret of endpoint https://a"]);
    }
}
