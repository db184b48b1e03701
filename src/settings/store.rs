//! The `dynamic_settings` and `dynamic_settings_history` tables.

use super::{prepare_write, SettingsError, KNOWN_KEYS};
use crate::keys::Keys;
use crate::redis_conn::RedisConn;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

/// The current value of one setting, as stored (secrets hashed, not masked).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SettingRow {
    pub key: String,
    pub value: Value,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// One past value of a setting.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub key: String,
    pub value: Value,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

pub async fn list(pool: &PgPool) -> Result<Vec<SettingRow>, sqlx::Error> {
    sqlx::query_as!(SettingRow, "SELECT key, value, version, updated_at, updated_by FROM dynamic_settings ORDER BY key")
        .fetch_all(pool)
        .await
}

pub async fn get(pool: &PgPool, key: &str) -> Result<Option<SettingRow>, sqlx::Error> {
    sqlx::query_as!(
        SettingRow,
        "SELECT key, value, version, updated_at, updated_by FROM dynamic_settings WHERE key = $1",
        key,
    )
    .fetch_optional(pool)
    .await
}

/// Newest first.
pub async fn history(pool: &PgPool, key: &str) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as!(
        HistoryEntry,
        "SELECT key, value, version, updated_at, updated_by FROM dynamic_settings_history
         WHERE key = $1 ORDER BY version DESC",
        key,
    )
    .fetch_all(pool)
    .await
}

/// Validates and stores a new value of `key`, appending it to the history,
/// in one transaction (the row lock orders concurrent writers).
pub async fn set(pool: &PgPool, key: &str, input: &Value, updated_by: &str) -> Result<SettingRow, SettingsError> {
    if !KNOWN_KEYS.contains(&key) {
        return Err(SettingsError::UnknownKey(key.to_string()));
    }
    let mut tx = pool.begin().await?;
    // Serializes writers of this key, including the very first one.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('dynamic_settings:' || $1))", key).execute(&mut *tx).await?;
    let current = sqlx::query!("SELECT value, version FROM dynamic_settings WHERE key = $1", key)
        .fetch_optional(&mut *tx)
        .await?;
    let stored = prepare_write(key, input, current.as_ref().map(|c| &c.value))?;
    let version = current.map_or(1, |c| c.version + 1);
    let row = sqlx::query_as!(
        SettingRow,
        "INSERT INTO dynamic_settings (key, value, version, updated_at, updated_by)
         VALUES ($1, $2, $3, now(), $4)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
             updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
         RETURNING key, value, version, updated_at, updated_by",
        key,
        stored,
        version,
        updated_by,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO dynamic_settings_history (key, value, version, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5)",
        row.key,
        row.value,
        row.version,
        row.updated_at,
        row.updated_by,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Tells every instance that `key` changed. Best effort: an instance that
/// misses it re-reads the table within its refresh interval anyway.
pub async fn notify_change(redis: &mut RedisConn, keys: &Keys, key: &str) {
    let published = crate::redis_conn::publish(redis, &keys.settings_channel(), key).await;
    if let Err(err) = published {
        log::warn!(
            "settings change of {key} not announced on Redis ({err}); instances pick it up on their next refresh"
        );
    }
}
