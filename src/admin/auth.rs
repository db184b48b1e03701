//! `Authorization: Bearer $ADMIN_TOKEN`, checked in constant time.

use crate::context::AppContext;
use crate::error::ApiError;
use crate::secrets::{constant_time_eq, sha256};
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// Proof that the request carries the admin token.
pub struct AdminAuth;

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// True when `token` is the configured admin token.
pub fn is_admin_token(ctx: &AppContext, token: &str) -> bool {
    ctx.admin_token_hash.is_some_and(|expected| constant_time_eq(&sha256(token.as_bytes()), &expected))
}

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(ctx) = req.app_data::<web::Data<AppContext>>() else {
            return ready(Err(ApiError::internal(anyhow::anyhow!("application context missing"))));
        };
        ready(if ctx.admin_token_hash.is_none() {
            Err(ApiError::unauthorized("the admin API is disabled: ADMIN_TOKEN is not set"))
        } else if bearer(req).is_some_and(|t| is_admin_token(ctx, t)) {
            Ok(AdminAuth)
        } else {
            Err(ApiError::unauthorized("missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)"))
        })
    }
}
