//! The drawer domain's types and its edge: JSON bodies parsed field by field
//! into typed values (each error names its field), and Monetary amounts read
//! exactly and written back as exact JSON numbers.

use crate::error::ApiError;
use crate::money::{parse_decimal, parse_json_number};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Number, Value};
use std::str::FromStr;

/// What went wrong in the drawer domain, in its own words.
#[derive(Debug, thiserror::Error)]
pub enum DrawerError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<DrawerError> for ApiError {
    fn from(err: DrawerError) -> Self {
        match err {
            DrawerError::Invalid(m) => ApiError::validation(m),
            DrawerError::NotFound(m) => ApiError::not_found(m),
            DrawerError::Forbidden(m) => ApiError::forbidden(m),
            DrawerError::Conflict(m) => ApiError::conflict(m),
            DrawerError::Db(e) => ApiError::from(e),
        }
    }
}

pub type DrawerResult<T> = Result<T, DrawerError>;

pub fn invalid(message: impl Into<String>) -> DrawerError {
    DrawerError::Invalid(message.into())
}

pub fn conflict(message: impl Into<String>) -> DrawerError {
    DrawerError::Conflict(message.into())
}

/// The non-sale transaction types of seed 002, in its order.
pub const NON_SALE_TYPES: [&str; 10] = [
    "add_to_float",
    "add_petty_cash",
    "transfer_in",
    "adjustment_in",
    "remove_petty_cash",
    "cash_pull",
    "transfer_out",
    "adjustment_out",
    "no_sale",
    "gift_card_cash_out",
];

/// The types the store report can filter on: ledger movements beyond non-sale ones.
pub const REPORT_TYPES: [&str; 4] = ["sale", "float_adjustment", "reconciliation", "end_of_day_withdrawal"];

/// An ISO-4217 code, upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(pub String);

impl Currency {
    pub fn parse(raw: &str, field: &str) -> DrawerResult<Currency> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Currency(raw.to_ascii_uppercase()))
        } else {
            Err(invalid(format!("{field}: must be a 3-letter ISO-4217 currency code")))
        }
    }
}

/// A Monetary amount object `{"value", "currency"}` with at most two decimals.
#[derive(Debug, Clone)]
pub struct Money {
    pub value: Decimal,
    pub currency: Currency,
}

impl Money {
    /// Refuses an amount in another currency than the drawer's.
    pub fn in_currency(self, currency: &str, field: &str) -> DrawerResult<Decimal> {
        if self.currency.0 == currency {
            Ok(self.value)
        } else {
            Err(invalid(format!("{field}: currency {} does not match the drawer's {currency}", self.currency.0)))
        }
    }
}

/// An exact decimal as a JSON number: `45.5`, `200`, `-1.99`.
pub fn number(value: Decimal) -> Value {
    let text = if value.is_zero() { "0".to_string() } else { value.normalize().to_string() };
    Number::from_str(&text).map(Value::Number).unwrap_or(Value::Null)
}

/// The Monetary amount object of an exact decimal.
pub fn money_json(value: Decimal, currency: &str) -> Value {
    json!({"value": number(value), "currency": currency})
}

/// RFC 3339 in UTC with the precision the value has.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The current time at the microsecond precision Postgres keeps, so a value
/// hashed before it is stored hashes the same when read back.
pub fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Parses a request body as a JSON object.
pub fn parse_body(bytes: &[u8]) -> DrawerResult<Value> {
    let value = crate::json_body::parse(bytes).map_err(|e| invalid(format!("malformed JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(invalid("body must be a JSON object"))
    }
}

/// A JSON object read field by field. Unknown fields are ignored, so POS
/// apps built against a later version keep working.
pub struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    pub fn of(value: &'a Value) -> DrawerResult<Self> {
        value.as_object().map(Fields).ok_or_else(|| invalid("body must be a JSON object"))
    }

    pub fn has(&self, field: &str) -> bool {
        !matches!(self.0.get(field), None | Some(Value::Null))
    }

    /// A non-empty string of at most `max` characters, if present.
    pub fn text(&self, field: &str, max: usize) -> DrawerResult<Option<String>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => Ok(Some(s.trim().to_string())),
            Some(_) => Err(invalid(format!("{field}: must be a non-empty string of at most {max} characters"))),
        }
    }

    pub fn required_text(&self, field: &str, max: usize) -> DrawerResult<String> {
        self.text(field, max)?.ok_or_else(|| invalid(format!("{field}: is required")))
    }

    /// One of `allowed`.
    pub fn choice(&self, field: &str, allowed: &[&str]) -> DrawerResult<String> {
        let value = self.required_text(field, 64)?;
        if allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(invalid(format!("{field}: must be one of {}", allowed.join(", "))))
        }
    }

    pub fn boolean(&self, field: &str) -> DrawerResult<Option<bool>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(invalid(format!("{field}: must be true or false"))),
        }
    }

    /// An amount written as a JSON number or decimal string, at most 2 decimals.
    pub fn amount(&self, field: &str) -> DrawerResult<Option<Decimal>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => amount_value(v, field).map(Some),
        }
    }

    /// A Monetary amount object, if present.
    pub fn money(&self, field: &str) -> DrawerResult<Option<Money>> {
        let obj = match self.0.get(field) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(obj)) => obj,
            Some(_) => return Err(invalid(format!("{field}: must be a Monetary amount object {{\"value\", \"currency\"}}"))),
        };
        let value = match obj.get("value") {
            Some(v) => amount_value(v, &format!("{field}.value"))?,
            None => return Err(invalid(format!("{field}.value: is required"))),
        };
        let currency = match obj.get("currency") {
            Some(Value::String(c)) => Currency::parse(c, &format!("{field}.currency"))?,
            _ => return Err(invalid(format!("{field}.currency: is required (ISO-4217 code)"))),
        };
        Ok(Some(Money { value, currency }))
    }

    pub fn required_money(&self, field: &str) -> DrawerResult<Money> {
        self.money(field)?.ok_or_else(|| invalid(format!("{field}: is required")))
    }

    pub fn timestamp(&self, field: &str) -> DrawerResult<DateTime<Utc>> {
        let raw = self.required_text(field, 64)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(format!("{field}: must be an RFC 3339 date-time")))
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.0.get(field)
    }
}

/// Reads an amount exactly: a JSON number's literal text (serde_json keeps it
/// with `arbitrary_precision`) or a decimal string; never through `f64`.
fn amount_value(v: &Value, field: &str) -> DrawerResult<Decimal> {
    let parsed = match v {
        Value::Number(n) => parse_json_number(&n.to_string()),
        Value::String(s) => parse_decimal(s),
        _ => None,
    };
    let value = parsed.ok_or_else(|| invalid(format!("{field}: must be a number like 45.5")))?;
    if value.normalize().scale() > 2 {
        return Err(invalid(format!("{field}: at most 2 decimal places")));
    }
    // "-0" parses as a negative zero; keep one zero so it prints and hashes alike
    Ok(if value.is_zero() { Decimal::ZERO } else { value.round_dp(2) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::dec;

    #[test]
    fn amounts_are_read_exactly_and_written_as_exact_numbers() {
        let body: Value = serde_json::from_str(r#"{"a": {"value": 45.50, "currency": "usd"}, "b": {"value": 0.1, "currency": "USD"}}"#).unwrap();
        let f = Fields::of(&body).unwrap();
        let a = f.required_money("a").unwrap();
        assert_eq!(a.value, dec("45.5"));
        assert_eq!(a.currency.0, "USD");
        assert_eq!(f.required_money("b").unwrap().value + dec("0.2"), dec("0.3"));
        assert_eq!(serde_json::to_string(&money_json(dec("45.50"), "USD")).unwrap(), r#"{"value":45.5,"currency":"USD"}"#);
        assert_eq!(serde_json::to_string(&number(dec("-0.00"))).unwrap(), "0");
    }

    #[test]
    fn more_than_two_decimals_or_a_bad_currency_is_refused() {
        let body: Value = serde_json::from_str(r#"{"a": {"value": 1.234, "currency": "USD"}, "b": {"value": 1, "currency": "US"}}"#).unwrap();
        let f = Fields::of(&body).unwrap();
        assert!(f.money("a").is_err());
        assert!(f.money("b").is_err());
    }
}
