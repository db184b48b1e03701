//! `/admin/api/lockouts/`: see and clear login lockouts (hooks, and admin page sign-in).

use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::hooks::lockout;
use crate::routes::Routes;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub fn routes(r: &mut Routes) {
    r.get("/admin/api/lockouts/", list)
        .delete("/admin/api/lockouts/{protocol}/{subject}/", clear);
}

/// Every failed-login counter, with whether it locks its subject out.
#[utoipa::path(get, path = "/admin/api/lockouts/", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    responses(
        (status = 200, description = "Failed-login counters and whether each locks its subject out", body = doc::LockoutList),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
    ))]
pub async fn list(_: AdminAuth, ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let mut redis = ctx.redis();
    let pattern = format!("{}*", ctx.keys.login_failures_prefix());
    let prefix_len = pattern.len() - 1;
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(500).query_async(&mut redis).await?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 || keys.len() >= 1000 {
            break;
        }
    }
    let mut items: Vec<Value> = Vec::with_capacity(keys.len());
    for key in keys {
        let (failures, ttl): (Option<i64>, i64) =
            redis::pipe().get(&key).ttl(&key).query_async(&mut redis).await?;
        // key = {prefix}ratelimit:{protocol}:{kind}:{value}
        let rest = &key[prefix_len.min(key.len())..];
        let Some((protocol, subject)) = rest.split_once(':') else { continue };
        let failures = failures.unwrap_or(0);
        let limit = if protocol == "admin" {
            super::session::MAX_SIGN_IN_FAILURES
        } else if subject.starts_with("user:") {
            lockout::MAX_FAILURES_PER_USER
        } else {
            lockout::MAX_FAILURES_PER_ADDRESS
        };
        items.push(json!({
            "protocol": protocol, "subject": subject, "failures": failures,
            "locked": failures >= limit, "expires_in_seconds": ttl,
        }));
    }
    Ok(HttpResponse::Ok().json(json!({ "lockouts": items })))
}

/// Clears one counter, e.g. `DELETE /admin/api/lockouts/cash_register/user:cashier01/`.
#[utoipa::path(delete, path = "/admin/api/lockouts/{protocol}/{subject}/", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("protocol" = String, Path, description = "cash_register, ivr or admin"), ("subject" = String, Path, description = "user:<username> or addr:<address>")),
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = doc::ErrorBody),
        (status = 404, description = "Unknown protocol, or nothing recorded", body = doc::ErrorBody),
    ))]
pub async fn clear(_: AdminAuth, ctx: web::Data<AppContext>, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (protocol, subject) = path.into_inner();
    if !["cash_register", "ivr", "admin"].contains(&protocol.as_str()) {
        return Err(ApiError::not_found("protocol must be cash_register, ivr or admin"));
    }
    let mut redis = ctx.redis();
    let removed: i64 = redis::cmd("DEL").arg(ctx.keys.login_failures(&protocol, &subject)).query_async(&mut redis).await?;
    if removed == 0 {
        return Err(ApiError::not_found(format!("no failed logins recorded for {protocol} {subject}")));
    }
    Ok(HttpResponse::NoContent().finish())
}
