//! `/api/v1/checkout/`: create, read and edit a checkout session.

use super::model::PreOrder;
use super::patch::CheckoutPatch;
use super::{patch, store, Session};
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::json_body::StrictJson;
use crate::openapi::Register;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

pub const SESSION_HEADER: &str = "x-checkout-session";
pub const SESSION_COOKIE: &str = "checkout_session";

pub fn routes(cfg: &mut impl Register) {
    cfg.service(create).service(read).service(update);
}

/// The session a request names, by `X-Checkout-Session` header or cookie.
pub fn session_id_from(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()))
        .filter(|id| !id.is_empty())
}

/// A checkout session and its pre-order (SPEC §4).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"session_id": "b2c4e0d1f3a54c6e8d7f9a0b1c2d3e4f", "pre_order": {
    "basket": {"id": "b2c4e0d1", "basketitem_set": [{"id": 1, "product": {"pk": 1, "sku": "SKU-1", "name": "Shirt", "base_code": "SHIRT",
        "price": "99.99", "department": "men", "attributes": {}}, "quantity": 2, "unit_price": "99.99", "price": "199.98",
        "tax_rate": "20.00", "currency_type": "try", "discount_amount": "0.00", "total_amount": "199.98"}],
        "discounts": [], "total_quantity": 2, "total_product_amount": "199.98", "total_discount_amount": "0.00", "total_amount": "199.98"},
    "shipping_address": null, "billing_address": null,
    "payment_option": {"id": 1, "name": "Pay at store", "slug": "cash-register", "payment_type": "cash_register"},
    "shipping_option": {"id": 1, "name": "Store pickup", "slug": "pickup", "price": "0.00"},
    "installment": null, "shipping_amount": "0.00", "total_amount": "199.98", "unpaid_amount": "199.98",
    "currency_type_label": "TRY", "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}))]
pub struct CheckoutAnswer {
    pub session_id: String,
    pub pre_order: PreOrder,
}

fn answer(session: &Session) -> CheckoutAnswer {
    CheckoutAnswer { session_id: session.id.clone(), pre_order: session.pre_order() }
}

#[utoipa::path(operation_id = "createCheckoutSession", tag = "checkout",
    responses(
        (status = 201, description = "A new session; also sets cookie checkout_session", body = CheckoutAnswer),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
#[post("/api/v1/checkout/")]
pub async fn create(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let session = Session::new();
    store::save(&ctx, &session, "", &[]).await?;
    let cookie = Cookie::build(SESSION_COOKIE, session.id.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(store::SESSION_IDLE_SECONDS as i64))
        .finish();
    Ok(HttpResponse::Created().cookie(cookie).json(answer(&session)))
}

async fn named_session(ctx: &AppContext, req: &HttpRequest) -> Result<store::Loaded, ApiError> {
    let id = session_id_from(req).ok_or_else(|| {
        ApiError::not_found("no checkout session: send the X-Checkout-Session header or the checkout_session cookie")
    })?;
    store::load(ctx, &id).await?.ok_or_else(|| ApiError::not_found("checkout session not found or expired"))
}

#[utoipa::path(operation_id = "getCheckoutSession", tag = "checkout",
    params(("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)")),
    responses(
        (status = 200, description = "The session", body = CheckoutAnswer),
        (status = 404, description = "No or unknown session", body = ErrorBody),
    ))]
#[get("/api/v1/checkout/")]
pub async fn read(ctx: web::Data<AppContext>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let loaded = named_session(&ctx, &req).await?;
    store::touch(&ctx, &loaded.session.id).await?;
    Ok(HttpResponse::Ok().json(answer(&loaded.session)))
}

/// Applies the body to the session; a write that raced another is retried on the fresh session.
#[utoipa::path(operation_id = "updateCheckoutSession", tag = "checkout",
    params(("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)")),
    request_body = CheckoutPatch,
    responses(
        (status = 200, description = "The session after the change", body = CheckoutAnswer),
        (status = 400, description = "Unknown SKU or slug, quantity below 1, mixed currencies; the message names the field", body = ErrorBody),
        (status = 404, description = "No or unknown session", body = ErrorBody),
        (status = 409, description = "Changed concurrently too often; retry", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    ))]
#[patch("/api/v1/checkout/")]
pub async fn update(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: StrictJson<CheckoutPatch>,
) -> Result<HttpResponse, ApiError> {
    for _ in 0..5 {
        let store::Loaded { mut session, version, numbers } = named_session(&ctx, &req).await?;
        patch::apply(&ctx, &mut session, &body).await?;
        if store::save(&ctx, &session, &version, &numbers).await? {
            return Ok(HttpResponse::Ok().json(answer(&session)));
        }
    }
    Err(ApiError::conflict("the checkout session is being changed by another request; retry"))
}
