//! Shops of the sales web service and their keys (SPEC §9).
//!
//! A key is shown once, at creation, and stored as its SHA-256 only.

use crate::error::{unique_violation, ApiError};
use crate::secrets::{constant_time_eq, random_token, sha256_hex};
use serde::Serialize;
use sqlx::PgPool;

/// An authenticated shop.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Shop {
    pub shop_id: String,
    pub name: String,
}

/// Creates a shop and answers its key, the only time it is ever shown.
pub async fn create(db: &PgPool, shop_id: &str, name: &str) -> Result<String, ApiError> {
    let key = random_token("cdshop_");
    let inserted = sqlx::query!(
        "INSERT INTO shops (shop_id, name, key_sha256) VALUES ($1, $2, $3)",
        shop_id,
        name,
        sha256_hex(key.as_bytes())
    )
    .execute(db)
    .await;
    match inserted {
        Ok(_) => Ok(key),
        Err(err) if unique_violation(&err).is_some() => {
            Err(ApiError::conflict(format!("shop {shop_id:?} already exists")))
        }
        Err(err) => Err(err.into()),
    }
}

/// Checks `shop_id` and `key`: missing → 401, unknown shop or wrong key → 403
/// (the same answer for both, so shop ids cannot be probed).
pub async fn authenticate(db: &PgPool, shop_id: Option<&str>, key: Option<&str>) -> Result<Shop, ApiError> {
    let (Some(shop_id), Some(key)) = (shop_id.filter(|s| !s.is_empty()), key.filter(|k| !k.is_empty())) else {
        return Err(ApiError::unauthorized("shop_id and key are required"));
    };
    let row = sqlx::query!("SELECT shop_id, name, key_sha256 FROM shops WHERE shop_id = $1", shop_id)
        .fetch_optional(db)
        .await?;
    let presented = sha256_hex(key.as_bytes());
    match row {
        Some(r) if constant_time_eq(r.key_sha256.as_bytes(), presented.as_bytes()) => {
            Ok(Shop { shop_id: r.shop_id, name: r.name })
        }
        _ => Err(ApiError::forbidden("unknown shop_id or wrong key")),
    }
}
