//! Cash drawer bodies: Monetary amount objects and plain amounts read
//! exactly, at most two decimals, never through a float.
#![no_main]

use cashdesk::drawers::Fields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = cashdesk::json_body::parse(data) else { return };
    let Ok(fields) = Fields::of(&body) else { return };
    for name in ["amount", "given", "float_amount", "counted_amount", "amount_in", "amount_out"] {
        if let Ok(Some(money)) = fields.money(name) {
            assert!(money.value.scale() <= 2 && money.value.abs() <= cashdesk::money::max_amount());
            assert_eq!(money.currency.0.len(), 3);
        }
    }
    if let Ok(Some(float)) = fields.amount("float") {
        assert!(float.scale() <= 2);
    }
});
