//! `POST /admin/api/shops/`: a shop of the sales web service and its key
//! (shown once).

use super::AdminAuth;
use super::AdminWriteErrors;
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::fields::Text;
use crate::json_body::StrictJson;
use crate::openapi::Register;
use crate::sales::shops;
use actix_web::post;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(create_shop);
}

/// `POST /admin/api/shops/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shop_id": "IST-01", "name": "Istanbul store"}))]
pub struct ShopWrite {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub shop_id: String,
    /// At most 256 characters.
    pub name: Text,
}

/// The new shop and its key, shown once (stored as a hash).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"shop_id": "IST-01", "name": "Istanbul store", "key": "cdk_shop_0123…"}))]
pub struct ShopCreated {
    pub shop_id: String,
    pub name: String,
    pub key: String,
}

#[utoipa::path(operation_id = "createShop", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    request_body = ShopWrite,
    responses(
        (status = 201, description = "The shop key, shown once", body = ShopCreated),
        (status = 409, description = "The shop exists", body = ErrorBody),
        AdminWriteErrors,
    ))]
#[post("/admin/api/shops/")]
pub async fn create_shop(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    body: StrictJson<ShopWrite>,
) -> Result<HttpResponse, ApiError> {
    let StrictJson(write) = body;
    let valid_id = !write.shop_id.is_empty()
        && write.shop_id.len() <= 64
        && write.shop_id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !valid_id {
        return Err(ApiError::validation("shop_id: 1 to 64 letters, digits, '.', '_' or '-'"));
    }
    if write.name.len() > 256 {
        return Err(ApiError::validation("name: is required (at most 256 characters)"));
    }
    let name = String::from(write.name);
    let key = shops::create(&ctx.db, &write.shop_id, &name).await?;
    Ok(HttpResponse::Created().json(ShopCreated { shop_id: write.shop_id, name, key }))
}
