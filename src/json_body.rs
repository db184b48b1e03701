//! JSON request bodies, read strictly, for every API and hook.
//!
//! Two things serde_json accepts are refused before a handler sees them:
//! - a key repeated within one object (`{"amount": "1", "amount": "1000"}`):
//!   a proxy or log may read one value while we act on the other;
//! - the NUL character, which neither Postgres `text` nor `jsonb` can hold,
//!   so it would fail a write deep inside a handler (a 500, or a hook's
//!   "retry" that can never succeed) instead of being refused at the edge.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Parses `bytes` as JSON, refusing repeated keys and NUL characters. The
/// error is a message fit for the client.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<Checked>(bytes).map_err(|e| e.to_string())?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Why a body could not be read into its type.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, or JSON we refuse (a repeated key, NUL).
    Malformed(String),
    /// JSON, but a field is missing, unknown or wrong: `"items[0].quantity: …"`.
    Invalid(String),
}

impl From<BodyError> for ApiError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::Malformed(why) => ApiError::bad_request(format!("malformed JSON: {why}")),
            BodyError::Invalid(why) => ApiError::validation(why),
        }
    }
}

/// Parses `bytes` into `T` as strictly as [`parse`] does; a field error
/// names the field's path (`basket.items[0].quantity: …`).
pub fn parse_as<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    serde_json::from_slice::<Checked>(bytes).map_err(|e| BodyError::Malformed(e.to_string()))?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| BodyError::Invalid(field_error(&err)))
}

/// Reads a parsed `value` into `T`, naming the failing field the same way
/// (for bodies that arrive as a map of fields, like hook forms).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, BodyError> {
    serde_path_to_error::deserialize(value).map_err(|err| BodyError::Invalid(field_error(&err)))
}

/// `path: message`, with serde's words for a missing or unknown field turned
/// into ours, and without serde_json's position suffix.
fn field_error(err: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = err.path().to_string();
    let prefix = if path == "." { String::new() } else { format!("{path}.") };
    let message = err.inner().to_string();
    let message = match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message,
    };
    let quoted = |text: &str| text.split('`').nth(1).map(str::to_string);
    if let Some(field) = message.strip_prefix("missing field ").and_then(quoted) {
        return format!("{prefix}{field}: is required");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // The path already ends with the unknown field.
        let allowed: Vec<&str> = rest.split('`').skip(3).step_by(2).collect();
        return format!("{path}: unknown field (allowed: {})", allowed.join(", "));
    }
    if path == "." {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// True when `text` could be stored as Postgres text.
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Walks a document without building it, failing on what [`parse`] refuses.
struct Checked;

fn check_text<E: Error>(text: &str) -> Result<Checked, E> {
    if storable(text) {
        Ok(Checked)
    } else {
        Err(E::custom("the NUL character (\\u0000) is not accepted"))
    }
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<Checked, E> {
        check_text(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    // With `arbitrary_precision` a number arrives as a one-key map too: harmless here.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            check_text::<A::Error>(&key)?;
            if seen.contains(&key) {
                return Err(A::Error::custom(format!("key {key:?} appears twice in one object")));
            }
            map.next_value::<Checked>()?;
            seen.insert(key);
        }
        Ok(Checked)
    }
}

/// A request body as actix-web hands it over, or why it could not be read
/// (over the 64 KiB limit, cut off).
pub type RawBody = Result<web::Bytes, actix_web::Error>;

/// The bytes of a body: 413 when it is over the limit, 400 when it was cut off.
pub fn read_body(body: RawBody) -> Result<web::Bytes, ApiError> {
    body.map_err(|err| match err.as_response_error().status_code() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        _ => ApiError::bad_request(format!("unreadable body: {err}")),
    })
}

/// Reads a body that must be a JSON object into its type: malformed JSON (or
/// a repeated key, a NUL) is 400 `bad_request`; valid JSON that is not an
/// object, or a field that is missing or wrong, is 400 `validation_error`
/// naming the field. Whether unknown fields are refused is the type's choice.
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match parse_as::<T>(bytes) {
        Ok(body) => Ok(body),
        // Valid JSON (malformed is caught first) that does not open an object.
        Err(BodyError::Invalid(_)) if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') => {
            Err(ApiError::validation("body must be a JSON object"))
        }
        Err(err) => Err(err.into()),
    }
}

/// A JSON request body read into `T` with [`parse_as`], within the 64 KiB
/// body limit: 415 unless the content type is JSON, 413 when too large, 400
/// when malformed or when a field is wrong (the message names the field),
/// with the documented error body.
pub struct StrictJson<T = Value>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').next())
            .map(|mime| mime.trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "expected Content-Type: application/json",
                ));
            }
            let bytes = read_body(bytes.await)?;
            Ok(StrictJson(parse_as(&bytes)?))
        })
    }
}

impl<T> std::ops::Deref for StrictJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_nul_are_refused_at_any_depth() {
        assert!(parse(br#"{"a": {"b": [1, {"c": 1, "c": 2}]}}"#).unwrap_err().contains("twice"));
        assert!(parse(br#"{"a": 1, "a": 1}"#).is_err());
        assert!(parse(br#"{"a": "x\u0000y"}"#).unwrap_err().contains("NUL"));
        assert!(parse(br#"{"a\u0000": 1}"#).is_err());
        assert_eq!(parse(br#"{"a": 1e400, "b": [{"a": 1}, {"a": 2}]}"#).unwrap()["b"][1]["a"], 2);
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        sku: String,
        quantity: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Basket {
        items: Vec<Item>,
    }

    #[test]
    fn field_errors_name_the_field_in_our_words() {
        let invalid = |json: &str| match parse_as::<Basket>(json.as_bytes()) {
            Err(BodyError::Invalid(why)) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            invalid(r#"{"items": [{"sku": "A", "quantity": -1}]}"#),
            "items[0].quantity: invalid value: integer `-1`, expected u32"
        );
        assert_eq!(invalid(r#"{"items": [{"sku": "A"}]}"#), "items[0].quantity: is required");
        assert_eq!(invalid(r#"{}"#), "items: is required");
        assert_eq!(invalid(r#"{"items": [], "note": 1}"#), "note: unknown field (allowed: items)");
        assert_eq!(
            invalid(r#"{"items": [{"sku": "A", "quantity": 1, "x": 1}]}"#),
            "items[0].x: unknown field (allowed: sku, quantity)"
        );
        assert!(matches!(parse_as::<Basket>(br#"{"items": [], "items": []}"#), Err(BodyError::Malformed(_))));
        assert!(matches!(parse_as::<Basket>(b"{"), Err(BodyError::Malformed(_))));
    }
}
