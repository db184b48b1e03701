//! Hook bodies (JSON or form) read into fields, and every typed read of them.
#![no_main]

use actix_web::http::header::CONTENT_TYPE;
use cashdesk::hooks::HookFields;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 3] = ["application/json", "application/x-www-form-urlencoded", "text/plain"];
const FIELDS: [&str; 12] = [
    "transaction_id", "order_number", "username", "password", "amount", "discounted_amount", "terminal_code",
    "promotions", "orderNumber", "success", "staffId", "referenceNumber",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let req = actix_web::test::TestRequest::default()
        .insert_header((CONTENT_TYPE, CONTENT_TYPES[selector as usize % CONTENT_TYPES.len()]))
        .to_http_request();
    let Some(fields) = HookFields::parse(&req, body) else { return };
    for name in FIELDS {
        if let Some(text) = fields.text(name) {
            assert!(!text.contains('\0'), "a NUL got through");
        }
        if let Ok(Some(amount)) = fields.decimal(name) {
            assert!(amount.abs() <= cashdesk::money::max_amount());
        }
        let _ = (fields.has(name), fields.boolean(name), fields.integer(name), fields.structured(name));
    }
});
