//! `/api/v1/checkout/order-numbers/{order_number}…` (SPEC §14): the
//! storefront's pictures of a live number, and its cancel. Each names the
//! checkout session like the checkout API (§4); a number that is not the
//! session's, not live, or not a number at all is answered 404 alike.

use super::{render, CancelError, Cancelled};
use crate::checkout::session_id_from;
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::Register;
use crate::order_number::OrderNumber;
use actix_web::http::header;
use actix_web::{delete, get, web, HttpRequest, HttpResponse};

const NOT_LIVE: &str = "order number not found: not one of this session's live numbers";

pub fn routes(cfg: &mut impl Register) {
    cfg.service(barcode).service(qr).service(cancel);
}

/// The session's number named in the path, if well-formed and a session is named.
fn named(req: &HttpRequest, path: &str) -> Result<(OrderNumber, String), ApiError> {
    let session_id = session_id_from(req).ok_or_else(|| ApiError::not_found(NOT_LIVE))?;
    let number = OrderNumber::parse(path).ok_or_else(|| ApiError::not_found(NOT_LIVE))?;
    Ok((number, session_id))
}

/// Answers the picture `render` draws of a live number of the session.
async fn picture(
    ctx: &AppContext,
    req: &HttpRequest,
    path: &str,
    render: fn(&OrderNumber) -> Result<String, String>,
) -> Result<HttpResponse, ApiError> {
    let (number, session_id) = named(req, path)?;
    let expires_at =
        super::live_until(&ctx.db, &number, &session_id).await?.ok_or_else(|| ApiError::not_found(NOT_LIVE))?;
    let svg = render(&number).map_err(|why| ApiError::internal(anyhow::anyhow!(why)))?;
    // The picture of a number never changes; it is worth keeping while the number lives.
    let max_age = (expires_at - chrono::Utc::now()).num_seconds().max(0);
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, format!("private, max-age={max_age}")))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'"))
        .body(svg))
}

/// Code 128 of the number's digits, nothing else.
#[utoipa::path(operation_id = "getOrderNumberBarcode", tag = "checkout",
    params(
        ("order_number" = String, Path, description = "A live order number of the session"),
        ("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)"),
    ),
    description = "A standalone SVG document (SVG namespace) of the number's Code 128 barcode, for a confirmation page or an e-mail. Cached privately until the number expires.",
    responses(
        (status = 200, description = "The barcode", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Not a live number of the named session (or no session, or not an order number)", body = ErrorBody),
    ))]
#[get("/api/v1/checkout/order-numbers/{order_number}/barcode.svg")]
pub async fn barcode(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    picture(&ctx, &req, &path, render::barcode_svg).await
}

/// A QR code whose text is the number.
#[utoipa::path(operation_id = "getOrderNumberQrCode", tag = "checkout",
    params(
        ("order_number" = String, Path, description = "A live order number of the session"),
        ("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)"),
    ),
    description = "A standalone SVG document (SVG namespace) of a QR code whose text is the number. Cached privately until the number expires.",
    responses(
        (status = 200, description = "The QR code", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Not a live number of the named session (or no session, or not an order number)", body = ErrorBody),
    ))]
#[get("/api/v1/checkout/order-numbers/{order_number}/qr.svg")]
pub async fn qr(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    picture(&ctx, &req, &path, render::qr_svg).await
}

/// The customer changed their mind: the number ends now.
#[utoipa::path(operation_id = "cancelOrderNumber", tag = "checkout",
    params(
        ("order_number" = String, Path, description = "A live order number of the session"),
        ("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)"),
    ),
    description = "Cancels a live number: every hook answers not found for it afterwards, and one `order_number_cancelled` webhook is sent. A number paid at the same moment is either paid (409 here) or cancelled (the payment refused), never both.",
    responses(
        (status = 204, description = "Cancelled"),
        (status = 404, description = "Not a live number of the named session (or no session, or not an order number)", body = ErrorBody),
        (status = 409, description = "The number is paid; it cannot be cancelled", body = ErrorBody),
        (status = 503, description = "Postgres or Redis unavailable; retry", body = ErrorBody),
    ))]
#[delete("/api/v1/checkout/order-numbers/{order_number}")]
pub async fn cancel(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (number, session_id) = named(&req, &path)?;
    let cancelled = super::cancel(&ctx, &number, &session_id).await.map_err(|err| match err {
        CancelError::Db(err) => ApiError::from(err),
        CancelError::Redis(err) => ApiError::from(err),
    })?;
    match cancelled {
        Cancelled::Cancelled => Ok(HttpResponse::NoContent().finish()),
        Cancelled::Paid => Err(ApiError::conflict("the order number is paid; it cannot be cancelled")),
        Cancelled::NotFound => Err(ApiError::not_found(NOT_LIVE)),
    }
}
