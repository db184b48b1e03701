//! The strict JSON body reader: never panics, and accepts only what
//! serde_json accepts, without repeated keys or NUL characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn clean(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(clean),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && clean(v)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = cashdesk::json_body::parse(data) {
        assert!(serde_json::from_slice::<Value>(data).is_ok());
        assert!(clean(&value));
    }
});
