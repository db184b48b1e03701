//! Money: exact decimals, parsed without ever passing through binary floating point.

use rust_decimal::Decimal;
use std::str::FromStr;

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

/// Parses a currency amount that must have at most two decimal places.
pub fn parse_cents(text: &str) -> Option<Decimal> {
    parse_decimal(text).filter(|v| v.normalize().scale() <= 2)
}

/// `Decimal::from_str` for values already known to be valid (used for constants).
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
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
    fn cents_refuse_more_than_two_places() {
        assert_eq!(parse_cents("1.230"), Some(dec("1.23")));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(fmt2(dec("5")), "5.00");
    }
}
