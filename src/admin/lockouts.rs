//! `/admin/api/lockouts/`: see and clear login lockouts (hooks, and the admin page's sign-in).

use super::AdminAuth;
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::lockouts::{self, Protocol};
use actix_web::{delete, get};

use crate::openapi::Register;
use actix_web::{web, HttpResponse};

/// Every subject locked out now (SPEC §11), the latest to unlock first.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"lockouts": [{"protocol": "cash_register", "subject": "pair:5d41402abc4b2a76b9719d911017c592:203.0.113.7",
    "kind": "pair", "address": "203.0.113.7", "username": "cashier01", "failures": 12, "unlocks_at": "2026-11-27T09:45:00Z"}]}))]
pub struct LockoutList {
    pub lockouts: Vec<lockouts::Lockout>,
}

pub fn routes(cfg: &mut impl Register) {
    cfg.service(list).service(clear);
}

/// Every subject locked out now: its protocol, address, username (for a pair), failures and unlock time.
#[utoipa::path(operation_id = "listLockouts", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    responses(
        (status = 200, description = "The subjects locked out now: client addresses and (username, address) pairs, per protocol", body = LockoutList),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
    ))]
#[get("/admin/api/lockouts/")]
pub async fn list(_: AdminAuth, ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let lockouts = lockouts::list(&ctx).await?;
    Ok(HttpResponse::Ok().json(LockoutList { lockouts }))
}

/// Clears one subject, e.g. `DELETE /admin/api/lockouts/cash_register/addr:203.0.113.7/`.
#[utoipa::path(operation_id = "clearLockout", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("protocol" = String, Path, description = "cash_register, ivr or admin"), ("subject" = String, Path, description = "The listed subject: addr:<address> or pair:<username digest>:<address>")),
    responses(
        (status = 204, description = "Cleared: the subject's failures are forgotten"),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "Unknown protocol, or nothing recorded for the subject", body = ErrorBody),
    ))]
#[delete("/admin/api/lockouts/{protocol}/{subject}/")]
pub async fn clear(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (protocol, subject) = path.into_inner();
    let Some(protocol) = Protocol::parse(&protocol) else {
        return Err(ApiError::not_found("protocol must be cash_register, ivr or admin"));
    };
    if !lockouts::clear(&ctx, protocol, &subject).await? {
        return Err(ApiError::not_found(format!("no failed logins recorded for {} {subject}", protocol.as_str())));
    }
    Ok(HttpResponse::NoContent().finish())
}
