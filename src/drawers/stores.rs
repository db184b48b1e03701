//! Per-store cash configuration and the (global) non-sale transaction types.

use super::auth::Caller;
use super::model::{invalid, DrawerError, DrawerResult, Fields, NON_SALE_TYPES};
use serde_json::{json, Map, Value};
use sqlx::{PgPool, Postgres, Transaction};

/// A store's cash drawer configuration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoreConfig {
    pub cash_drawer_type: String,
    pub cash_management_enabled: bool,
    pub expose_count_expected_amount: bool,
}

impl StoreConfig {
    pub fn to_json(&self) -> Value {
        json!({
            "cash_drawer_type": self.cash_drawer_type,
            "cash_management_enabled": self.cash_management_enabled,
            "expose_count_expected_amount": self.expose_count_expected_amount,
        })
    }
}

pub async fn find_config<'e>(db: impl sqlx::PgExecutor<'e>, store_id: &str) -> Result<Option<StoreConfig>, sqlx::Error> {
    sqlx::query_as(
        "SELECT cash_drawer_type, cash_management_enabled, expose_count_expected_amount FROM store_cash_config WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_optional(db)
    .await
}

pub async fn get_config(db: &PgPool, caller: &Caller, store_id: &str) -> DrawerResult<StoreConfig> {
    caller.require_store(store_id)?;
    find_config(db, store_id)
        .await?
        .ok_or_else(|| DrawerError::NotFound(format!("store {store_id} has no cash drawer configuration")))
}

/// Adds or replaces a store's configuration; `true` when it was created.
/// `expose_count_expected_amount` keeps its value when left out.
pub async fn put_config(db: &PgPool, caller: &Caller, store_id: &str, body: &Value) -> DrawerResult<(bool, StoreConfig)> {
    caller.require_store(store_id)?;
    if store_id.is_empty() || store_id.len() > 256 {
        return Err(invalid("store_id: 1 to 256 characters"));
    }
    let f = Fields::of(body)?;
    let cash_drawer_type = f.choice("cash_drawer_type", &["integrated", "non_integrated"])?;
    let enabled = f.boolean("cash_management_enabled")?.ok_or_else(|| invalid("cash_management_enabled: is required"))?;
    let expose = f.boolean("expose_count_expected_amount")?;
    // `xmax = 0` only on a freshly inserted row: tells create (201) from update (200)
    let (created, cash_drawer_type, cash_management_enabled, expose_count_expected_amount): (bool, String, bool, bool) =
        sqlx::query_as(
            "INSERT INTO store_cash_config (store_id, cash_drawer_type, cash_management_enabled, expose_count_expected_amount)
             VALUES ($1, $2, $3, COALESCE($4, true))
             ON CONFLICT (store_id) DO UPDATE SET cash_drawer_type = EXCLUDED.cash_drawer_type,
                 cash_management_enabled = EXCLUDED.cash_management_enabled,
                 expose_count_expected_amount = COALESCE($4, store_cash_config.expose_count_expected_amount),
                 updated_at = now()
             RETURNING (xmax = 0), cash_drawer_type, cash_management_enabled, expose_count_expected_amount",
        )
        .bind(store_id)
        .bind(&cash_drawer_type)
        .bind(enabled)
        .bind(expose)
        .fetch_one(db)
        .await?;
    Ok((created, StoreConfig { cash_drawer_type, cash_management_enabled, expose_count_expected_amount }))
}

/// One non-sale type's configuration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TypeConfig {
    pub transaction_type: String,
    pub status: String,
    pub balance_modification: Option<String>,
    pub reasons: Value,
}

impl TypeConfig {
    /// True when `code` is one of this type's reason codes.
    pub fn has_reason(&self, code: &str) -> bool {
        self.reasons.as_array().into_iter().flatten().any(|r| r["code"].as_str() == Some(code))
    }

    pub fn has_reasons(&self) -> bool {
        self.reasons.as_array().is_some_and(|r| !r.is_empty())
    }
}

pub async fn find_type(tx: &mut Transaction<'static, Postgres>, transaction_type: &str) -> Result<Option<TypeConfig>, sqlx::Error> {
    sqlx::query_as("SELECT transaction_type, status, balance_modification, reasons FROM cash_transaction_types WHERE transaction_type = $1")
        .bind(transaction_type)
        .fetch_optional(&mut **tx)
        .await
}

/// `{"transaction_types": {type: {"status", "configuration"?}}}` in the seed's shape.
pub async fn list_types(db: &PgPool) -> DrawerResult<Value> {
    let rows: Vec<TypeConfig> =
        sqlx::query_as("SELECT transaction_type, status, balance_modification, reasons FROM cash_transaction_types").fetch_all(db).await?;
    let mut types = Map::new();
    for name in NON_SALE_TYPES {
        let entry = match rows.iter().find(|r| r.transaction_type == name) {
            Some(r) if r.status == "configured" => json!({
                "status": "configured",
                "configuration": {"balance_modification": r.balance_modification, "reasons": r.reasons},
            }),
            _ => json!({"status": "not_allowed"}),
        };
        types.insert(name.to_string(), entry);
    }
    Ok(json!({ "transaction_types": types }))
}

/// Replaces the whole configuration with the body (the list's own shape);
/// types left out become `not_allowed`. Admin only.
pub async fn put_types(db: &PgPool, caller: &Caller, body: &Value) -> DrawerResult<Value> {
    caller.require_admin()?;
    let types = body
        .get("transaction_types")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("transaction_types: must be an object keyed by transaction type"))?;
    let mut parsed = Vec::new();
    for (name, entry) in types {
        if !NON_SALE_TYPES.contains(&name.as_str()) {
            return Err(invalid(format!("transaction_types.{name}: unknown type (known: {})", NON_SALE_TYPES.join(", "))));
        }
        parsed.push(parse_type(name, entry)?);
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE cash_transaction_types SET status = 'not_allowed', balance_modification = NULL, reasons = '[]'")
        .execute(&mut *tx)
        .await?;
    for t in &parsed {
        sqlx::query("UPDATE cash_transaction_types SET status = $2, balance_modification = $3, reasons = $4 WHERE transaction_type = $1")
            .bind(&t.transaction_type)
            .bind(&t.status)
            .bind(&t.balance_modification)
            .bind(&t.reasons)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    list_types(db).await
}

fn parse_type(name: &str, entry: &Value) -> DrawerResult<TypeConfig> {
    let at = |field: &str| format!("transaction_types.{name}.{field}");
    let status = entry.get("status").and_then(Value::as_str).unwrap_or_default();
    match status {
        "not_allowed" => Ok(TypeConfig {
            transaction_type: name.to_string(),
            status: status.to_string(),
            balance_modification: None,
            reasons: json!([]),
        }),
        "configured" => {
            let config = entry.get("configuration").ok_or_else(|| invalid(format!("{}: is required", at("configuration"))))?;
            let modification = match config.get("balance_modification").and_then(Value::as_str) {
                Some(m @ ("cash_in" | "cash_out")) => m.to_string(),
                _ => return Err(invalid(format!("{}: must be cash_in or cash_out", at("configuration.balance_modification")))),
            };
            let mut reasons = Vec::new();
            for reason in config.get("reasons").and_then(Value::as_array).into_iter().flatten() {
                let text = |k: &str| reason.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty() && s.len() <= 256);
                let (Some(code), Some(label)) = (text("code"), text("label")) else {
                    return Err(invalid(format!("{}: each needs a non-empty code and label", at("configuration.reasons"))));
                };
                if reasons.iter().any(|r: &Value| r["code"] == code) {
                    return Err(invalid(format!("{}: duplicate code {code}", at("configuration.reasons"))));
                }
                reasons.push(json!({"code": code, "label": label}));
            }
            Ok(TypeConfig {
                transaction_type: name.to_string(),
                status: status.to_string(),
                balance_modification: Some(modification),
                reasons: Value::Array(reasons),
            })
        }
        _ => Err(invalid(format!("{}: must be configured or not_allowed", at("status")))),
    }
}
