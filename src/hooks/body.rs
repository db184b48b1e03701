//! Hook request bodies: JSON or form-encoded, read into one field map so each
//! hook validates the same way whatever the encoding.

use crate::json_body::{parse, storable};
use crate::money::{parse_decimal, parse_json_number};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::HttpRequest;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;

/// The top-level fields of a hook body.
pub struct HookFields {
    fields: HashMap<String, Value>,
    /// Form bodies carry every value as text.
    form: bool,
}

impl HookFields {
    /// Parses `body` by its content type. `None` for an empty, malformed or
    /// ambiguous body (a repeated field is ambiguous: which amount is meant?),
    /// or one holding a NUL character (see [`crate::json_body`]).
    pub fn parse(req: &HttpRequest, body: &[u8]) -> Option<Self> {
        let form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        let fields = if form {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
            let mut map = HashMap::with_capacity(pairs.len());
            for (k, v) in pairs {
                if !storable(&k) || !storable(&v) || map.insert(k, Value::String(v)).is_some() {
                    return None;
                }
            }
            map
        } else {
            match parse(body).ok()? {
                Value::Object(map) => map.into_iter().collect(),
                _ => return None,
            }
        };
        // Postgres text cannot hold NUL: such a body is as unreadable as malformed JSON.
        if fields.values().any(|v| v.as_str().is_some_and(|s| s.contains('\0'))) {
            return None;
        }
        Some(HookFields { fields, form })
    }

    /// The field when it is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        !matches!(self.fields.get(name), None | Some(Value::Null))
    }

    /// A decimal amount: a decimal string, or (in JSON) a number read exactly.
    /// `Ok(None)` when absent, `Err` when present but not a decimal.
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ()> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_decimal(s).map(Some).ok_or(()),
            Some(Value::Number(n)) => parse_json_number(&n.to_string()).map(Some).ok_or(()),
            Some(_) => Err(()),
        }
    }

    /// A boolean: JSON `true`/`false`, or the text `true`/`false` in a form.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.fields.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if self.form => match s.as_str() {
                "true" | "True" | "1" => Some(true),
                "false" | "False" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A whole number: a JSON integer, or digits in a string.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ()> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    }

    /// A structured field: JSON as sent, or (in a form) JSON text in the field.
    pub fn structured(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if self.form => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }
}
