//! `/admin/api/settings/…`: read, change and audit dynamic settings.

use super::AdminAuth;
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::json_body::StrictJson;
use crate::openapi::Register;
use crate::settings::{self, SettingsError, KNOWN_KEYS};
use actix_web::{get, put};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(list).service(get).service(put).service(history);
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

/// A dynamic setting as operators see it: secrets masked.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "CASH_REGISTER_AUTH_CONF", "value": {"credentials": [{"username": "cashier01", "password": "********"}],
    "installment_enabled": false, "shipping_sku": "SHIP-01"}, "version": 3, "updated_at": "2026-11-27T09:00:00Z", "updated_by": "admin-api"}))]
pub struct SettingView {
    pub key: String,
    /// The value, passwords and secrets shown as `********`; null until first set.
    pub value: Option<Value>,
    /// 0 until first set.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    /// `admin-api`, `admin-page` or `cli`.
    pub updated_by: Option<String>,
}

fn shown(row: &settings::SettingRow) -> SettingView {
    SettingView {
        key: row.key.clone(),
        value: Some(settings::masked(&row.key, &row.value)),
        version: row.version,
        updated_at: Some(row.updated_at),
        updated_by: Some(row.updated_by.clone()),
    }
}

/// Every known setting.
#[derive(Serialize, ToSchema)]
pub struct SettingList {
    pub settings: Vec<SettingView>,
}

/// One version of a setting, with what changed from the one before.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    /// The value then, secrets masked.
    pub value: Value,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// What changed, in words, e.g. `added credential cashier02` (no secret is shown).
    pub changes: Vec<String>,
}

/// Every version of a setting, newest first.
#[derive(Serialize, ToSchema)]
pub struct SettingHistory {
    pub key: String,
    pub history: Vec<HistoryEntry>,
}

#[utoipa::path(operation_id = "listSettings", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    responses(
        (status = 200, description = "Every known setting, secrets masked", body = SettingList),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
    ))]
#[get("/admin/api/settings/")]
pub async fn list(_: AdminAuth, ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let rows = settings::list(&ctx.db).await?;
    let settings = KNOWN_KEYS
        .iter()
        .map(|key| match rows.iter().find(|r| r.key == *key) {
            Some(row) => shown(row),
            None => SettingView { key: key.to_string(), value: None, version: 0, updated_at: None, updated_by: None },
        })
        .collect();
    Ok(HttpResponse::Ok().json(SettingList { settings }))
}

#[utoipa::path(operation_id = "getSetting", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("key" = String, Path, description = "CASH_REGISTER_AUTH_CONF or ORDER_WEBHOOK_CONF")),
    responses(
        (status = 200, description = "The setting, secrets masked", body = SettingView),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
        (status = 404, description = "Unknown key, or never set", body = ErrorBody),
    ))]
#[get("/admin/api/settings/{key}/")]
pub async fn get(_: AdminAuth, ctx: web::Data<AppContext>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    match settings::get(&ctx.db, &key).await? {
        Some(row) => Ok(HttpResponse::Ok().json(shown(&row))),
        None => Err(ApiError::not_found(format!("{} has not been set yet", key.as_str()))),
    }
}

/// `PUT /admin/api/settings/{key}/`: the whole new value (send `********`
/// back for a password or secret to keep the stored one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": {"credentials": [{"username": "cashier01", "password": "********"}, {"username": "cashier02", "password": "new-secret"}],
    "installment_enabled": false, "shipping_sku": "SHIP-01"}}))]
pub struct SettingWrite {
    /// `CASH_REGISTER_AUTH_CONF`: `{"credentials": [{"username", "password"}], "installment_enabled", "shipping_sku"}`;
    /// `ORDER_WEBHOOK_CONF`: `{"endpoints": [{"url", "secret"}]}`.
    pub value: Value,
}

#[utoipa::path(operation_id = "putSetting", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("key" = String, Path, description = "CASH_REGISTER_AUTH_CONF or ORDER_WEBHOOK_CONF")),
    request_body = SettingWrite,
    responses(
        (status = 200, description = "Stored and in force on every instance within 2 seconds (on this one at once)", body = SettingView),
        (status = 400, description = "Invalid value; the message names the field, e.g. credentials[1].password", body = ErrorBody),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "Unknown key", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    ))]
#[put("/admin/api/settings/{key}/")]
pub async fn put(
    auth: AdminAuth,
    ctx: web::Data<AppContext>,
    key: web::Path<String>,
    body: StrictJson<SettingWrite>,
) -> Result<HttpResponse, ApiError> {
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
        (status = 200, description = "Every version, newest first, with who, when and what changed; secrets masked", body = SettingHistory),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
        (status = 404, description = "Unknown key", body = ErrorBody),
    ))]
#[get("/admin/api/settings/{key}/history/")]
pub async fn history(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    let entries = settings::history(&ctx.db, &key).await?;
    // Newest first: each entry's predecessor is the next one.
    let history = entries
        .iter()
        .enumerate()
        .map(|(i, e)| HistoryEntry {
            version: e.version,
            value: settings::masked(&e.key, &e.value),
            updated_at: e.updated_at,
            updated_by: e.updated_by.clone(),
            changes: settings::describe_changes(&e.key, entries.get(i + 1).map(|p| &p.value), &e.value),
        })
        .collect();
    Ok(HttpResponse::Ok().json(SettingHistory { key: key.to_string(), history }))
}
