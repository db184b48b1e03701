//! Cash drawer bodies: Monetary amount objects and plain amounts read
//! exactly (at most two decimals, never through a float) by the types the
//! drawer bodies are made of, and written back to the same value.
#![no_main]

use cashdesk::json_body::from_value;
use cashdesk::money::{max_amount, Amount, Monetary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = cashdesk::json_body::parse(data) else { return };
    let Some(fields) = body.as_object() else { return };
    for name in ["amount", "given", "float_amount", "counted_amount", "amount_in", "amount_out"] {
        let Some(value) = fields.get(name) else { continue };
        if let Ok(money) = from_value::<Monetary>(value.clone()) {
            assert!(money.value.scale() <= 2 && money.value.abs() <= max_amount());
            assert_eq!(money.currency.code().len(), 3);
            let written = serde_json::to_string(&money).expect("a Monetary amount is written");
            assert_eq!(serde_json::from_str::<Monetary>(&written).expect("and read back"), money);
        }
    }
    if let Some(value) = fields.get("float") {
        if let Ok(Amount(float)) = from_value::<Amount>(value.clone()) {
            assert!(float.scale() <= 2 && float.abs() <= max_amount());
        }
    }
});
