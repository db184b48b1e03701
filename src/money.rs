//! Money: exact decimals, parsed without ever passing through binary floating point.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Largest absolute amount accepted anywhere (a sanity bound, far above any basket).
pub fn max_amount() -> Decimal {
    Decimal::new(1_000_000_000_000, 0)
}

/// Parses a decimal amount written as a string: `"299.99"`, `"10.5"`, `"-3"`.
/// Exponents, `NaN`, spaces and thousands separators are refused.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() || t.len() > 40 {
        return None;
    }
    let digits = t.strip_prefix('-').or_else(|| t.strip_prefix('+')).unwrap_or(t);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.map_or(true, str::is_empty) {
        return None;
    }
    if !all_digits(int) || !frac.map_or(true, all_digits) {
        return None;
    }
    let value = Decimal::from_str_exact(t).ok()?;
    (value.abs() <= max_amount()).then_some(value)
}

/// Parses a JSON number's literal text (serde_json keeps it exact with
/// `arbitrary_precision`), allowing an exponent as JSON does.
pub fn parse_json_number(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) {
        let value = Decimal::from_scientific(text).ok()?;
        return (value.abs() <= max_amount()).then_some(value);
    }
    parse_decimal(text)
}

/// Formats an amount with exactly two decimal places: `"199.98"`.
pub fn fmt2(value: Decimal) -> String {
    format!("{:.2}", value.round_dp(2))
}

/// Serialises an amount as a string with exactly two decimal places (for `#[serde(serialize_with)]`).
pub fn two_places<S: serde::Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&fmt2(*value))
}

/// Parses a currency amount that must have at most two decimal places.
pub fn parse_cents(text: &str) -> Option<Decimal> {
    parse_decimal(text).filter(|v| v.normalize().scale() <= 2)
}

/// `Decimal::from_str` for values already known to be valid (used for constants).
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
}

/// An amount read exactly from a decimal string or a JSON number (kept
/// exact by serde_json's `arbitrary_precision`): the value and its text.
fn exact<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => parse_decimal(&text),
        serde_json::Value::Number(number) => parse_json_number(&number.to_string()),
        _ => None,
    }
    .ok_or_else(|| D::Error::custom("must be a decimal string like \"99.99\""))
}

/// A price or fee: at least 0, at most two decimal places, sent as a
/// decimal string (`"99.99"`) or an exact JSON number; never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price(pub Decimal);

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = exact(deserializer)?;
        if value < Decimal::ZERO || value.normalize().scale() > 2 {
            return Err(D::Error::custom("must be a decimal string like \"99.99\", at least 0"));
        }
        Ok(Price(value))
    }
}

impl PartialSchema for Price {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^\+?[0-9]{0,13}(\.[0-9]{1,2})?$"))
            .description(Some("A decimal string with at most two places, at least 0 (an exact JSON number is accepted too)"))
            .examples([serde_json::json!("99.99")])
            .into()
    }
}

impl ToSchema for Price {}

/// A percentage from 0 to 100 (tax rates), as a decimal string or exact number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percent(pub Decimal);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = exact(deserializer).map_err(|_| D::Error::custom("must be a decimal string from 0 to 100"))?;
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(D::Error::custom("must be a decimal string from 0 to 100"));
        }
        Ok(Percent(value))
    }
}

impl PartialSchema for Percent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^\+?[0-9]{1,3}(\.[0-9]+)?$"))
            .description(Some("A decimal string from 0 to 100"))
            .examples([serde_json::json!("20.00")])
            .into()
    }
}

impl ToSchema for Percent {}

/// An ISO 4217 currency code (three letters, kept upper case).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn code(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Currency(raw.to_ascii_uppercase()))
        } else {
            Err("must be a three-letter ISO 4217 code".into())
        }
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.0
    }
}

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Za-z]{3}$"))
            .description(Some("ISO 4217 code"))
            .examples([serde_json::json!("TRY")])
            .into()
    }
}

impl ToSchema for Currency {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_only() {
        assert_eq!(parse_decimal("10.5"), parse_decimal("10.50"));
        assert_eq!(parse_decimal("299.99").unwrap().to_string(), "299.99");
        for bad in ["", " ", "1e3", "NaN", "1,000.00", "abc", ".", "-", "1.2.3", "99999999999999999999999999999999"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(parse_decimal(".5"), Some(dec("0.5")));
    }

    #[test]
    fn json_numbers_keep_their_exact_value() {
        assert_eq!(parse_json_number("389.97"), Some(dec("389.97")));
        assert_eq!(parse_json_number("1.5e2"), Some(dec("150")));
        assert_eq!(parse_json_number("1e40"), None);
    }

    #[test]
    fn prices_are_exact_and_never_negative_nor_finer_than_cents() {
        assert_eq!(serde_json::from_str::<Price>(r#""99.99""#).unwrap(), Price(dec("99.99")));
        assert_eq!(serde_json::from_str::<Price>("10.5").unwrap(), Price(dec("10.5")));
        for bad in [r#""-1""#, r#""1.234""#, "true", r#""1e3""#] {
            assert!(serde_json::from_str::<Price>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Percent>(r#""101""#).is_err());
        assert_eq!(serde_json::from_str::<Currency>(r#""try""#).unwrap().code(), "TRY");
    }

    #[test]
    fn cents_refuse_more_than_two_places() {
        assert_eq!(parse_cents("1.230"), Some(dec("1.23")));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(fmt2(dec("5")), "5.00");
    }
}
