//! Sessions of the operators' page. Signing in posts the admin token in the
//! body (never a URL); the answer sets a random session id in an HttpOnly,
//! SameSite=Strict cookie scoped to `/admin` and returns the session's CSRF
//! token to the page, which keeps it in memory and sends it with every
//! state-changing request. Redis holds `sha256(session id) → CSRF token` with
//! the session's expiry, so any instance serves any session.

use super::auth::{is_admin_token, require_enabled, CSRF_HEADER};
use actix_web::{delete, get, post};

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::json_body::StrictJson;
use crate::lockouts::{self, Login, Protocol};

use crate::openapi::Register;
use crate::secrets::{constant_time_eq, random_token, sha256_hex};
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use redis::AsyncCommands;

/// The cookie holding the session id.
pub const COOKIE: &str = "cashdesk_admin";
/// A session lasts this long from sign-in (seconds).
pub const SESSION_SECONDS: u64 = 8 * 60 * 60;

/// `POST /admin/session`
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The `ADMIN_TOKEN` of the service.
    pub token: String,
}

/// A live page session.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"csrf_token": "9f2c…", "expires_in_seconds": 28800}))]
pub struct AdminSessionAnswer {
    /// Send as `X-CSRF-Token` with every state-changing admin request of this session.
    pub csrf_token: String,
    pub expires_in_seconds: i64,
}

pub fn routes(cfg: &mut impl Register) {
    cfg.service(sign_in).service(current).service(sign_out);
}

fn session_key(ctx: &AppContext, session_id: &str) -> String {
    ctx.keys.admin_session(&sha256_hex(session_id.as_bytes()))
}

/// The CSRF token of the request's session, if it has a live one.
pub async fn lookup(ctx: &AppContext, req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(cookie) = req.cookie(COOKIE) else { return Ok(None) };
    let id = cookie.value();
    if id.is_empty() || id.len() > 128 {
        return Ok(None);
    }
    let mut redis = ctx.redis();
    Ok(redis.get(session_key(ctx, id)).await?)
}

fn cookie(ctx: &AppContext, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(ctx.config.public_base_url().starts_with("https://"))
        .max_age(max_age)
        .finish()
}

/// Sign in: checks the admin token, starts a session.
#[utoipa::path(operation_id = "signInAdminPage", tag = "admin page",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: the `cashdesk_admin` cookie is set (HttpOnly, SameSite=Strict); send `csrf_token` as `X-CSRF-Token` on every state-changing admin request", body = AdminSessionAnswer),
        (status = 400, description = "Body is not `{\"token\": \"...\"}`", body = ErrorBody),
        (status = 401, description = "Wrong admin token, or the admin side is disabled", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address; wait 15 minutes", body = ErrorBody),
    ))]
#[post("/admin/session")]
pub async fn sign_in(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: StrictJson<SignIn>,
) -> Result<HttpResponse, ApiError> {
    require_enabled(&ctx)?;
    let login = Login::new(&ctx, Protocol::Admin, &req, None);
    if lockouts::refuse_if_locked(&ctx, &login).await? {
        return Err(ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many wrong admin tokens from this address; wait 15 minutes",
        ));
    }
    if !is_admin_token(&ctx, &body.token) {
        lockouts::record_failure(&ctx, &login).await;
        return Err(ApiError::unauthorized("wrong admin token"));
    }
    let mut redis = ctx.redis();
    let session_id = random_token("");
    let csrf = random_token("");
    let _: () = redis.set_ex(session_key(&ctx, &session_id), &csrf, SESSION_SECONDS).await?;
    Ok(HttpResponse::Ok()
        .cookie(cookie(&ctx, session_id, time::Duration::seconds(SESSION_SECONDS as i64)))
        .insert_header(("Cache-Control", "no-store"))
        .json(AdminSessionAnswer { csrf_token: csrf, expires_in_seconds: SESSION_SECONDS as i64 }))
}

/// The page's current session: lets a reloaded page carry on without signing in again.
#[utoipa::path(operation_id = "getAdminPageSession", tag = "admin page",
    responses(
        (status = 200, description = "The session of the `cashdesk_admin` cookie is live", body = AdminSessionAnswer),
        (status = 401, description = "No live session", body = ErrorBody),
    ))]
#[get("/admin/session")]
pub async fn current(ctx: web::Data<AppContext>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_enabled(&ctx)?;
    let Some(cookie) = req.cookie(COOKIE) else { return Err(ApiError::unauthorized("not signed in")) };
    let key = session_key(&ctx, cookie.value());
    let mut redis = ctx.redis();
    let (csrf, ttl): (Option<String>, i64) = redis::pipe().get(&key).ttl(&key).query_async(&mut redis).await?;
    match csrf {
        Some(csrf) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(AdminSessionAnswer { csrf_token: csrf, expires_in_seconds: ttl.max(0) })),
        None => Err(ApiError::unauthorized("not signed in, or the session has expired")),
    }
}

/// Sign out: ends the session (needs its CSRF token).
#[utoipa::path(operation_id = "signOutAdminPage", tag = "admin page",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "No live session", body = ErrorBody),
        (status = 403, description = "Missing or wrong CSRF token", body = ErrorBody),
    ))]
#[delete("/admin/session")]
pub async fn sign_out(ctx: web::Data<AppContext>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_enabled(&ctx)?;
    let Some(csrf) = lookup(&ctx, &req).await? else { return Err(ApiError::unauthorized("not signed in")) };
    let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
        return Err(ApiError::forbidden("missing or wrong X-CSRF-Token"));
    }
    if let Some(cookie) = req.cookie(COOKIE) {
        let _: i64 = ctx.redis().del(session_key(&ctx, cookie.value())).await?;
    }
    Ok(HttpResponse::NoContent().cookie(self::cookie(&ctx, String::new(), time::Duration::ZERO)).finish())
}
