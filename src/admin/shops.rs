//! `POST /admin/api/shops/`: a shop of the sales web service and its key
//! (shown once).

use actix_web::post;
use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::sales::shops;
use crate::json_body::StrictJson;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_shop);
}

#[utoipa::path(operation_id = "createShop", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    request_body(content = doc::ShopWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "The shop key, shown once", body = doc::ShopCreated),
        (status = 409, description = "The shop exists", body = doc::ErrorBody),
        doc::AdminWriteErrors,
    ))]
#[post("/admin/api/shops/")]
pub async fn create_shop(_: AdminAuth, ctx: web::Data<AppContext>, body: StrictJson) -> Result<HttpResponse, ApiError> {
    let obj = body.as_object().ok_or_else(|| ApiError::validation("body must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !["shop_id", "name"].contains(&k.as_str())) {
        return Err(ApiError::validation(format!("{k}: unknown field (allowed: shop_id, name)")));
    }
    let shop_id = obj
        .get("shop_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
        .ok_or_else(|| ApiError::validation("shop_id: 1 to 64 letters, digits, '.', '_' or '-'"))?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| ApiError::validation("name: is required (at most 256 characters)"))?;
    let key = shops::create(&ctx.db, shop_id, name).await?;
    Ok(HttpResponse::Created().json(json!({"shop_id": shop_id, "name": name, "key": key})))
}
