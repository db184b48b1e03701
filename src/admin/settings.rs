//! `/admin/api/settings/…`: read, change and audit dynamic settings.

use super::AdminAuth;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::settings::{self, SettingsError, KNOWN_KEYS};
use crate::json_body::StrictJson;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/api/settings/", web::get().to(list))
        .route("/admin/api/settings/{key}/", web::get().to(get))
        .route("/admin/api/settings/{key}/", web::put().to(put))
        .route("/admin/api/settings/{key}/history/", web::get().to(history));
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

async fn list(_: AdminAuth, ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
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

async fn get(_: AdminAuth, ctx: web::Data<AppContext>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    match settings::get(&ctx.db, &key).await? {
        Some(row) => Ok(HttpResponse::Ok().json(shown(&row))),
        None => Err(ApiError::not_found(format!("{} has not been set yet", key.as_str()))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    value: Value,
}

async fn put(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    key: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let body: PutBody = serde_json::from_value(body.0).map_err(|e| ApiError::bad_request(format!("malformed body: {e}")))?;
    let row = settings::set(&ctx.db, &key, &body.value, "admin-api").await?;
    let mut redis = ctx.redis();
    settings::notify_change(&mut redis, &ctx.keys, &key).await;
    // This instance applies the change before answering.
    ctx.settings.reload(&ctx.db).await?;
    Ok(HttpResponse::Ok().json(shown(&row)))
}

async fn history(_: AdminAuth, ctx: web::Data<AppContext>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    known(&key)?;
    let entries = settings::history(&ctx.db, &key).await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "version": e.version, "value": settings::masked(&e.key, &e.value),
                "updated_at": e.updated_at, "updated_by": e.updated_by,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"key": key.as_str(), "history": items})))
}
