//! `/admin/api/settings/…`: read, change and audit dynamic settings.

use actix_web::{get, put};
use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::settings::{self, SettingsError, KNOWN_KEYS};
use crate::json_body::StrictJson;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get)
        .service(put)
        .service(history);
}

impl From<SettingsError> for ApiError {
    fn from(err: SettingsError) -> Self {
        match err {
            SettingsError::UnknownKey(_) => ApiError::not_found(err.to_string()),
            SettingsError::Invalid(why) => ApiError::validation(why),
            SettingsError::Database(e) => e.into(),
            SettingsError::Other(e) => ApiError::internal(e),
        }
    }
}

fn known(key: &str) -> Result<(), ApiError> {
    if KNOWN_KEYS.contains(&key) {
        Ok(())
    } else {
        Err(SettingsError::UnknownKey(key.to_string()).into())
    }
}

fn shown(row: &settings::SettingRow) -> Value {
    json!({
        "key": row.key, "value": settings::masked(&row.key, &row.value), "version": row.version,
        "updated_at": row.updated_at, "updated_by": row.updated_by,
    })
}

#[utoipa::path(operation_id = "listSettings", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    responses(
        (status = 200, description = "Every known setting, secrets masked", body = doc::SettingList),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
    ))]
#[get("/admin/api/settings/")]
pub async fn list(_: AdminAuth, ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let rows = settings::list(&ctx.db).await?;
    let items: Vec<Value> = KNOWN_KEYS
        .iter()
        .map(|key| match rows.iter().find(|r| r.key == *key) {
            Some(row) => shown(row),
            None => json!({"key": key, "value": null, "version": 0, "updated_at": null, "updated_by": null}),
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "settings": items })))
}

#[utoipa::path(operation_id = "getSetting", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("key" = String, Path, description = "CASH_REGISTER_AUTH_CONF or ORDER_WEBHOOK_CONF")),
    responses(
        (status = 200, description = "The setting, secrets masked", body = doc::Setting),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
        (status = 404, description = "Unknown key, or never set", body = doc::ErrorBody),
    ))]
#[get("/admin/api/settings/{key}/")]
pub async fn get(_: AdminAuth, ctx: web::Data<AppContext>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    match settings::get(&ctx.db, &key).await? {
        Some(row) => Ok(HttpResponse::Ok().json(shown(&row))),
        None => Err(ApiError::not_found(format!("{} has not been set yet", key.as_str()))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    value: Value,
}

#[utoipa::path(operation_id = "putSetting", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("key" = String, Path, description = "CASH_REGISTER_AUTH_CONF or ORDER_WEBHOOK_CONF")),
    request_body(content = doc::SettingWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored and in force on every instance within 2 seconds (on this one at once)", body = doc::Setting),
        (status = 400, description = "Invalid value; the message names the field, e.g. credentials[1].password", body = doc::ErrorBody),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = doc::ErrorBody),
        (status = 404, description = "Unknown key", body = doc::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = doc::ErrorBody),
    ))]
#[put("/admin/api/settings/{key}/")]
pub async fn put(
    auth: AdminAuth,
    ctx: web::Data<AppContext>,
    key: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let body: PutBody = serde_json::from_value(body.0).map_err(|e| ApiError::bad_request(format!("malformed body: {e}")))?;
    let row = settings::set(&ctx.db, &key, &body.value, auth.actor).await?;
    let mut redis = ctx.redis();
    settings::notify_change(&mut redis, &ctx.keys, &key).await;
    // This instance applies the change before answering.
    ctx.settings.reload(&ctx.db).await?;
    Ok(HttpResponse::Ok().json(shown(&row)))
}

#[utoipa::path(operation_id = "getSettingHistory", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("key" = String, Path, description = "CASH_REGISTER_AUTH_CONF or ORDER_WEBHOOK_CONF")),
    responses(
        (status = 200, description = "Every version, newest first, with who, when and what changed; secrets masked", body = doc::SettingHistory),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
        (status = 404, description = "Unknown key", body = doc::ErrorBody),
    ))]
#[get("/admin/api/settings/{key}/history/")]
pub async fn history(_: AdminAuth, ctx: web::Data<AppContext>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    let entries = settings::history(&ctx.db, &key).await?;
    // Newest first: each entry's predecessor is the next one.
    let items: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "version": e.version, "value": settings::masked(&e.key, &e.value),
                "updated_at": e.updated_at, "updated_by": e.updated_by,
                "changes": settings::describe_changes(&e.key, entries.get(i + 1).map(|p| &p.value), &e.value),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"key": key.as_str(), "history": items})))
}
