//! Who may use the admin API: a caller with `Authorization: Bearer
//! $ADMIN_TOKEN` (checked in constant time), or the admin page's signed-in
//! session cookie, which on every state-changing request must also send the
//! session's CSRF token in `X-CSRF-Token` (a cross-site page can make the
//! browser send the cookie, but cannot read the token).

use super::session;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::secrets::{constant_time_eq, sha256};
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// Proof that the request carries the admin token or a valid page session.
pub struct AdminAuth {
    /// Who acts, as the settings history records it: `admin-api` or `admin-page`.
    pub actor: &'static str,
}

/// The header the admin page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers().get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty())
}

/// True when `token` is the configured admin token.
pub fn is_admin_token(ctx: &AppContext, token: &str) -> bool {
    ctx.admin_token_hash.is_some_and(|expected| constant_time_eq(&sha256(token.as_bytes()), &expected))
}

/// The admin API and page are off while `ADMIN_TOKEN` is unset.
pub fn require_enabled(ctx: &AppContext) -> Result<(), ApiError> {
    if ctx.admin_token_hash.is_none() {
        return Err(ApiError::unauthorized("the admin API is disabled: ADMIN_TOKEN is not set"));
    }
    Ok(())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn authorize(req: HttpRequest) -> Result<AdminAuth, ApiError> {
    let ctx = req
        .app_data::<web::Data<AppContext>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application context missing")))?;
    require_enabled(ctx)?;
    // A bearer token decides alone: a wrong one is not rescued by a cookie.
    if let Some(token) = bearer(&req) {
        return if is_admin_token(ctx, token) {
            Ok(AdminAuth { actor: "admin-api" })
        } else {
            Err(ApiError::unauthorized("missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)"))
        };
    }
    let Some(csrf) = session::lookup(ctx, &req).await? else {
        return Err(ApiError::unauthorized(
            "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>), or the admin page session has expired",
        ));
    };
    if !is_safe(req.method()) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
            return Err(ApiError::forbidden("missing or wrong X-CSRF-Token for this admin page session"));
        }
    }
    Ok(AdminAuth { actor: "admin-page" })
}

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authorize(req.clone()))
    }
}
