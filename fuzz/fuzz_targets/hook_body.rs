//! Hook bodies (JSON or form) read into every hook's request type.
#![no_main]

use actix_web::http::header::CONTENT_TYPE;
use cashdesk::hooks::body::{read, Field};
use cashdesk::hooks::cash_register::{CompleteRequest, PreOrderRequest};
use cashdesk::hooks::ivr::{IvrCompleteRequest, IvrPreOrderRequest};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 3] = ["application/json", "application/x-www-form-urlencoded", "text/plain"];

fn no_nul(field: &Field<String>) {
    if let Some(text) = field.given() {
        assert!(!text.contains('\0'), "a NUL got through");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let req = actix_web::test::TestRequest::default()
        .insert_header((CONTENT_TYPE, CONTENT_TYPES[selector as usize % CONTENT_TYPES.len()]))
        .to_http_request();
    if let Some(r) = read::<PreOrderRequest>(&req, body) {
        [&r.order_number, &r.username, &r.password].into_iter().for_each(no_nul);
    }
    if let Some(r) = read::<CompleteRequest>(&req, body) {
        [&r.transaction_id, &r.order_number, &r.username, &r.password, &r.terminal_code].into_iter().for_each(no_nul);
        for amount in [&r.amount, &r.discounted_amount] {
            if let Some(amount) = amount.given() {
                assert!(amount.abs() <= cashdesk::money::max_amount());
            }
        }
    }
    if let Some(r) = read::<IvrPreOrderRequest>(&req, body) {
        [&r.username, &r.password, &r.order_number].into_iter().for_each(no_nul);
    }
    let _ = read::<IvrCompleteRequest>(&req, body);
});
