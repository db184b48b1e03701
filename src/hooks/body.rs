//! Hook request bodies: JSON or form-encoded, read into each hook's request
//! type, so one type both parses and documents a hook's body whatever the
//! encoding.
//!
//! Hooks answer every outcome with a code of their own, in their own check
//! order, so a field is read leniently into a [`Field`]: absent, given, or
//! invalid (of the wrong kind). The hook decides what each state means
//! (`"403"`, `402` "Invalid request payload: …", `Input invalid`). Only a body
//! that is not a JSON object or a form at all, or that is ambiguous (a field
//! repeated: which amount is meant?) or holds a NUL character (Postgres
//! cannot store it, see [`crate::json_body`]), is unreadable as a whole.

use crate::json_body::{self, storable};
use crate::money::{parse_decimal, parse_json_number};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::HttpRequest;
use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Reads `body` into `T` by its content type; `None` when the body is
/// unreadable as a whole (see the module's words).
pub fn read<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Option<T> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        let mut seen = HashSet::with_capacity(pairs.len());
        for (key, value) in &pairs {
            if !storable(key) || !storable(value) || !seen.insert(key.as_str()) {
                return None;
            }
        }
        let fields = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(pairs.into_iter());
        T::deserialize(fields).ok()
    } else {
        // A struct would also read from a JSON array, by position: only an object is a body.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        json_body::parse_as::<T>(body).ok()
    }
}

/// One field of a hook body as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    /// Not sent, or null.
    #[default]
    Absent,
    /// Sent, but not of the field's kind; the reason in words.
    Invalid(String),
    Given(T),
}

impl<T> Field<T> {
    /// The value, when one of the field's kind was sent.
    pub fn given(&self) -> Option<&T> {
        match self {
            Field::Given(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

fn invalid<T>(reason: &str) -> Field<T> {
    Field::Invalid(reason.to_string())
}

/// Text: a JSON string (any other kind is invalid). Read without building a
/// JSON tree: this is on the hot path of every hook.
impl<'de> Deserialize<'de> for Field<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Field<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Field::Given(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Field::Given(v))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Absent)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Absent)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(invalid("must be a string"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(invalid("must be a string"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(invalid("must be a string"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(invalid("must be a string"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(invalid("must be a string"))
            }
            // Objects, and numbers (which arrive as a one-key map with exact numbers on).
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(invalid("must be a string"))
            }
        }
        deserializer.deserialize_any(Text)
    }
}

/// An amount: a decimal string, or a JSON number read exactly.
impl<'de> Deserialize<'de> for Field<Decimal> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Field::Absent,
            Value::String(s) => parse_decimal(&s).map_or_else(|| invalid("must be a decimal string"), Field::Given),
            Value::Number(n) => {
                parse_json_number(&n.to_string()).map_or_else(|| invalid("must be a decimal string"), Field::Given)
            }
            _ => invalid("must be a decimal string"),
        })
    }
}

/// A yes or no: JSON `true`/`false`, or the text `true`/`false` (a form's).
impl<'de> Deserialize<'de> for Field<bool> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Field::Absent,
            Value::Bool(b) => Field::Given(b),
            Value::String(s) => match s.as_str() {
                "true" | "True" | "1" => Field::Given(true),
                "false" | "False" | "0" => Field::Given(false),
                _ => invalid("must be true or false"),
            },
            _ => invalid("must be true or false"),
        })
    }
}

/// A whole number: a JSON integer, or digits in a string (blank is absent).
impl<'de> Deserialize<'de> for Field<i64> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Field::Absent,
            Value::Number(n) => n.as_i64().map_or_else(|| invalid("must be a whole number"), Field::Given),
            Value::String(s) if s.trim().is_empty() => Field::Absent,
            Value::String(s) => s.trim().parse().map_or_else(|_| invalid("must be a whole number"), Field::Given),
            _ => invalid("must be a whole number"),
        })
    }
}

/// A list of items: the JSON list, or (in a form) the list as JSON text.
/// An item that does not read says which and why.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<Vec<T>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = match Value::deserialize(deserializer)? {
            Value::Null => return Ok(Field::Absent),
            Value::String(text) => match serde_json::from_str::<Value>(&text) {
                Ok(list @ Value::Array(_)) => list,
                _ => return Ok(invalid("must be a list")),
            },
            list @ Value::Array(_) => list,
            _ => return Ok(invalid("must be a list")),
        };
        Ok(match json_body::from_value::<Vec<T>>(list) {
            Ok(items) => Field::Given(items),
            Err(json_body::BodyError::Invalid(why) | json_body::BodyError::Malformed(why)) => Field::Invalid(why),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default)]
        text: Field<String>,
        #[serde(default)]
        amount: Field<Decimal>,
        #[serde(default)]
        flag: Field<bool>,
        #[serde(default)]
        count: Field<i64>,
        #[serde(default)]
        list: Field<Vec<i64>>,
    }

    fn json(body: &str) -> Option<Probe> {
        read(&TestRequest::default().to_http_request(), body.as_bytes())
    }

    fn form(body: &str) -> Option<Probe> {
        let req = TestRequest::default()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .to_http_request();
        read(&req, body.as_bytes())
    }

    #[test]
    fn fields_read_the_same_from_json_and_forms() {
        let from_json = json(r#"{"text": "a", "amount": 10.50, "flag": true, "count": 7, "list": [1, 2]}"#).unwrap();
        let from_form = form("text=a&amount=10.50&flag=true&count=7&list=%5B1%2C2%5D").unwrap();
        for probe in [from_json, from_form] {
            assert_eq!(probe.text, Field::Given("a".into()));
            assert_eq!(probe.amount, Field::Given(crate::money::dec("10.5")));
            assert_eq!(probe.flag, Field::Given(true));
            assert_eq!(probe.count, Field::Given(7));
            assert_eq!(probe.list, Field::Given(vec![1, 2]));
        }
    }

    #[test]
    fn wrong_kinds_are_invalid_fields_and_bad_bodies_unreadable() {
        let probe = json(r#"{"text": 5, "amount": "1e3", "flag": "maybe", "count": 1.5, "list": {"a": 1}}"#).unwrap();
        assert!(matches!(probe.text, Field::Invalid(_)) && matches!(probe.amount, Field::Invalid(_)));
        assert!(matches!(probe.flag, Field::Invalid(_)) && matches!(probe.count, Field::Invalid(_)));
        assert!(matches!(probe.list, Field::Invalid(_)));
        assert!(json(r#"{"text": null}"#).unwrap().text.is_absent());
        assert!(json(r#"["a", "1"]"#).is_none(), "only an object is a body");
        assert!(json(r#"{"text": "a", "text": "b"}"#).is_none());
        assert!(form("text=a&text=b").is_none());
        assert!(form("text=a%00b").is_none());
        assert!(json("{").is_none());
    }
}
