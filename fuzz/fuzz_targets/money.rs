//! Decimal parsing without floats: never panics, stays within bounds, and
//! what it formats it parses back to the same cents.
#![no_main]

use cashdesk::money::{fmt2, max_amount, parse_cents, parse_decimal, parse_json_number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for parsed in [parse_decimal(text), parse_json_number(text)] {
        if let Some(value) = parsed {
            assert!(value.abs() <= max_amount());
            assert_eq!(parse_decimal(&fmt2(value)), Some(value.round_dp(2)), "{text:?}");
        }
    }
    if let Some(cents) = parse_cents(text) {
        assert!(cents.normalize().scale() <= 2);
    }
});
