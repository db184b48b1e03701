//! The hook endpoints of SPEC §5 (cash register) and §6 (IVR): the HTTP edge
//! only. Every outcome is HTTP 200 with the outcome in the body.

pub mod body;
pub mod cash_register;
pub mod ivr;

use crate::openapi::Register;
use actix_web::{web, HttpResponse};

pub use body::Field;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(cash_register::get_order_number)
        .service(cash_register::look_up_pre_order)
        .service(cash_register::complete_payment)
        .service(ivr::look_up_pre_order)
        .service(ivr::complete_payment);
}

/// A hook answer: always 200, JSON.
pub(crate) fn ok_json(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(body)
}

/// The body read within the 64 KiB limit, or `None` when it was too large or unreadable.
pub(crate) fn body_bytes(body: Result<web::Bytes, actix_web::Error>) -> Option<web::Bytes> {
    body.ok()
}
