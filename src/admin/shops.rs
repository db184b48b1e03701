//! `POST /admin/api/shops/`: a shop of the sales web service and its key
//! (shown once); `GET /admin/api/webhooks/deliveries/`: webhook deliveries
//! with every attempt, for the operators' page.

use super::AdminAuth;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::sales::shops;
use crate::json_body::StrictJson;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/api/shops/", web::post().to(create_shop))
        .route("/admin/api/webhooks/deliveries/", web::get().to(deliveries));
}

async fn create_shop(_: AdminAuth, ctx: web::Data<AppContext>, body: StrictJson) -> Result<HttpResponse, ApiError> {
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

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
}

async fn deliveries(_: AdminAuth, ctx: web::Data<AppContext>, page: web::Query<Page>) -> Result<HttpResponse, ApiError> {
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let deliveries = crate::webhooks::recent_deliveries(&ctx.db, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": deliveries })))
}
