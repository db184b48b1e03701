//! `GET /admin/`: the operators' page. HTML, script and style are compiled
//! into the binary and served from here, so the page needs nothing from the
//! internet; a strict Content-Security-Policy allows only this origin's
//! script and style (no inline script), and the page renders every value as
//! text, never as markup.

use super::auth::require_enabled;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::openapi::Register;
use actix_web::get;
use actix_web::{web, HttpResponse};

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");

/// Only this origin's files; no inline script or style, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn routes(cfg: &mut impl Register) {
    cfg.service(to_index).service(index).service(asset);
}

fn hardened(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// `/admin` is the page too.
#[utoipa::path(operation_id = "redirectToAdminPage", tag = "admin page", responses((status = 308, description = "Redirect to `/admin/`")))]
#[get("/admin")]
pub async fn to_index() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/admin/")).finish()
}

/// The operators' page (sign in with the admin token).
#[utoipa::path(operation_id = "getAdminPage", tag = "admin page",
    responses(
        (status = 200, description = "The admin page (HTML)", content_type = "text/html"),
        (status = 401, description = "The admin side is disabled: ADMIN_TOKEN is not set", body = crate::error::ErrorBody),
    ))]
#[get("/admin/")]
pub async fn index(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    require_enabled(&ctx)?;
    Ok(hardened("text/html; charset=utf-8", INDEX_HTML))
}

/// The page's script and style sheet.
#[utoipa::path(operation_id = "getAdminPageAsset", tag = "admin page",
    params(("file" = String, Path, description = "`app.js` or `app.css`")),
    responses(
        (status = 200, description = "The file", content_type = "text/javascript"),
        (status = 404, description = "No such file", body = crate::error::ErrorBody),
    ))]
#[get("/admin/assets/{file}")]
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match file.as_str() {
        "app.js" => Ok(hardened("text/javascript; charset=utf-8", APP_JS)),
        "app.css" => Ok(hardened("text/css; charset=utf-8", APP_CSS)),
        _ => Err(ApiError::not_found("no such admin page file")),
    }
}
