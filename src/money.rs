//! Money: exact decimals, parsed without ever passing through binary floating point.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
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
            .description(Some(
                "A decimal string with at most two places, at least 0 (an exact JSON number is accepted too)",
            ))
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

/// An ISO 4217 currency code (three letters, kept upper case). Three bytes,
/// so amounts that carry it are `Copy` and answers built from them allocate nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl TryFrom<&str> for Currency {
    type Error = String;
    fn try_from(raw: &str) -> Result<Self, String> {
        match raw.as_bytes() {
            &[a, b, c] if raw.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Ok(Currency([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err("must be a three-letter ISO 4217 code".into()),
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Currency::try_from(raw.as_str())
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_string()
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(code) => Currency::try_from(code.as_str()).map_err(D::Error::custom),
            serde_json::Value::Null => Err(D::Error::custom("is required")),
            _ => Err(D::Error::custom("must be a three-letter ISO 4217 code")),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
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

/// Writes an exact decimal as a JSON number with no trailing zeros (`45.5`,
/// `200`, `-1.99`, and `0` for any zero), never through `f64`. For
/// `#[serde(serialize_with)]` on `Decimal` fields; [`Amount`] and
/// [`Monetary`] use it too.
pub fn exact_number<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let text = if value.is_zero() { "0".to_string() } else { value.normalize().to_string() };
    // With serde_json's `arbitrary_precision`, a Number is written as its text.
    serde_json::Number::from_str(&text).map_err(S::Error::custom)?.serialize(serializer)
}

/// An amount of money: an exact decimal with at most two decimal places,
/// read from a JSON number's own text (kept by serde_json's
/// `arbitrary_precision`) or from a decimal string, never through `f64`, and
/// written back as an exact JSON number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl Amount {
    const RULE: &'static str = "must be a number like 45.5";

    fn read(value: &serde_json::Value) -> Result<Amount, &'static str> {
        let parsed = match value {
            serde_json::Value::Number(n) => parse_json_number(n.as_str()),
            serde_json::Value::String(s) => parse_decimal(s),
            _ => None,
        };
        let value = parsed.ok_or(Amount::RULE)?;
        if value.normalize().scale() > 2 {
            return Err("at most 2 decimal places");
        }
        // "-0" parses as a negative zero; keep one zero so it prints and hashes alike
        Ok(Amount(if value.is_zero() { Decimal::ZERO } else { value.round_dp(2) }))
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Null => Err(D::Error::custom("is required")),
            value => Amount::read(&value).map_err(D::Error::custom),
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        exact_number(&self.0, serializer)
    }
}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "An exact decimal with at most 2 decimal places, read and written as a JSON number without ever passing \
                 through binary floating point. A request may also send it as a decimal string (`\"45.50\"`) and may not \
                 exceed 10^12 in absolute value.",
            ))
            .examples([serde_json::json!(45.5)])
            .into()
    }
}

impl ToSchema for Amount {}

/// The Monetary amount object of the cash drawer API (SPEC §3):
/// `{"value": 45.5, "currency": "USD"}`. Other keys in it are ignored. A wrong
/// one is refused naming its part: `amount.value: at most 2 decimal places`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"value": 45.5, "currency": "USD"}))]
pub struct Monetary {
    #[serde(serialize_with = "exact_number")]
    #[schema(value_type = Amount)]
    pub value: Decimal,
    pub currency: Currency,
}

impl Monetary {
    pub const RULE: &'static str = "must be a Monetary amount object {\"value\", \"currency\"}";

    pub fn new(value: Decimal, currency: Currency) -> Monetary {
        Monetary { value, currency }
    }
}

impl<'de> Deserialize<'de> for Monetary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MonetaryVisitor)
    }
}

/// Reads the object's keys with `next_value`, so an error inside one names
/// its path (`amount.value: …`).
struct MonetaryVisitor;

impl<'de> Visitor<'de> for MonetaryVisitor {
    type Value = Monetary;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Monetary amount object {\"value\", \"currency\"}")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Monetary, E> {
        Err(E::custom("is required"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Monetary, E> {
        Err(E::custom(Monetary::RULE))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Monetary, E> {
        Err(E::custom(Monetary::RULE))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Monetary, E> {
        Err(E::custom(Monetary::RULE))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Monetary, E> {
        Err(E::custom(Monetary::RULE))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Monetary, E> {
        Err(E::custom(Monetary::RULE))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Monetary, A::Error> {
        Err(de::Error::custom(Monetary::RULE))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Monetary, A::Error> {
        let (mut value, mut currency) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => value = Some(map.next_value::<Amount>()?.0),
                "currency" => currency = Some(map.next_value::<Currency>()?),
                // serde_json's `arbitrary_precision` hands a bare number to
                // `deserialize_any` as a map with one private key.
                private if private.starts_with("$serde_json::private") => {
                    return Err(de::Error::custom(Monetary::RULE))
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        let currency = currency.ok_or_else(|| de::Error::missing_field("currency"))?;
        Ok(Monetary { value, currency })
    }
}

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
    fn monetary_amounts_are_read_exactly_and_written_as_exact_numbers() {
        let usd = Currency::try_from("USD").unwrap();
        let m: Monetary = serde_json::from_str(r#"{"value": 45.50, "currency": "usd", "note": 1}"#).unwrap();
        assert_eq!(m, Monetary::new(dec("45.5"), usd));
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"value":45.5,"currency":"USD"}"#);
        let tenth: Monetary = serde_json::from_str(r#"{"value": 0.1, "currency": "USD"}"#).unwrap();
        assert_eq!(tenth.value + dec("0.2"), dec("0.3"));
        let text: Monetary = serde_json::from_str(r#"{"value": "-12.30", "currency": "USD"}"#).unwrap();
        assert_eq!(text.value, dec("-12.3"));
        assert_eq!(serde_json::to_string(&Amount(dec("-0.00"))).unwrap(), "0");
        assert_eq!(serde_json::to_string(&Amount(dec("200.00"))).unwrap(), "200");
        assert_eq!(
            serde_json::to_string(&Monetary::new(dec("-1.99"), usd)).unwrap(),
            r#"{"value":-1.99,"currency":"USD"}"#
        );
        assert_eq!(serde_json::from_str::<Amount>("-0").unwrap().0.to_string(), "0");
    }

    #[test]
    fn a_monetary_field_error_names_the_part_that_is_wrong() {
        use crate::json_body::{parse_as, BodyError};
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Body {
            amount: Monetary,
            tip: Option<Monetary>,
        }
        let invalid = |json: &str| match parse_as::<Body>(json.as_bytes()) {
            Err(BodyError::Invalid(why)) => why,
            other => panic!("{json}: {other:?}"),
        };
        let object = "amount: must be a Monetary amount object {\"value\", \"currency\"}";
        for (json, why) in [
            (r#"{}"#, "amount: is required"),
            (r#"{"amount": null}"#, "amount: is required"),
            (r#"{"amount": 45.5}"#, object),
            (r#"{"amount": "45.5"}"#, object),
            (r#"{"amount": [45.5, "USD"]}"#, object),
            (r#"{"amount": {"currency": "USD"}}"#, "amount.value: is required"),
            (r#"{"amount": {"value": null, "currency": "USD"}}"#, "amount.value: is required"),
            (r#"{"amount": {"value": 1}}"#, "amount.currency: is required"),
            (r#"{"amount": {"value": 1.234, "currency": "USD"}}"#, "amount.value: at most 2 decimal places"),
            (r#"{"amount": {"value": "fifty", "currency": "USD"}}"#, "amount.value: must be a number like 45.5"),
            (r#"{"amount": {"value": 1e13, "currency": "USD"}}"#, "amount.value: must be a number like 45.5"),
            (r#"{"amount": {"value": 1, "currency": "US"}}"#, "amount.currency: must be a three-letter ISO 4217 code"),
            (r#"{"amount": {"value": 1, "currency": 840}}"#, "amount.currency: must be a three-letter ISO 4217 code"),
            (r#"{"amount": {"value": 1, "currency": null}}"#, "amount.currency: is required"),
            (
                r#"{"amount": {"value": 1, "currency": "USD"}, "tip": 2}"#,
                "tip: must be a Monetary amount object {\"value\", \"currency\"}",
            ),
        ] {
            assert_eq!(invalid(json), why, "{json}");
        }
        let body: Body = parse_as(br#"{"amount": {"value": 1, "currency": "USD"}, "tip": null}"#).unwrap();
        assert!(body.tip.is_none());
    }

    #[test]
    fn cents_refuse_more_than_two_places() {
        assert_eq!(parse_cents("1.230"), Some(dec("1.23")));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(fmt2(dec("5")), "5.00");
    }
}
