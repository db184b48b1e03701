//! Shapes the drawer API (SPEC §8) still describes beside its handlers,
//! until its bodies are the types it parses and answers with.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use crate::error::ErrorBody;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"day_start": "2026-03-01T00:00:00Z", "cash_drawers": [{"cash_drawer_id": "4G9OZ", "store_id": "store-1", "name": "Front till",
    "status": "active", "currency": "USD", "float": {"value": 200, "currency": "USD"}, "activated_at": "2026-03-01T08:00:00Z",
    "balance": {"value": 245, "currency": "USD"}, "today_cash_in": {"value": 45, "currency": "USD"}, "today_cash_out": {"value": 0, "currency": "USD"}}]}))]
pub struct DrawerOverviewList {
    /// Start of today (UTC) that `today_cash_in`/`today_cash_out` count from.
    pub day_start: String,
    /// `balance`: the cash an active drawer should hold now (float plus completed movements); null when inactive.
    pub cash_drawers: Vec<Value>,
}

// ------------------------------------------------------------------- drawers

/// The Monetary amount object: at most 2 decimal places, ISO-4217 code.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"value": 45.5, "currency": "USD"}))]
pub struct Monetary {
    pub value: f64,
    pub currency: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "expose_count_expected_amount": true}))]
pub struct StoreConfig {
    /// `integrated` or `non_integrated`
    pub cash_drawer_type: String,
    pub cash_management_enabled: bool,
    /// `false` makes counts blind.
    pub expose_count_expected_amount: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_types": {"no_sale": {"status": "configured", "configuration": {"balance_modification": "cash_in",
    "reasons": [{"code": "post_office", "label": "Post office"}]}}}}))]
pub struct TransactionTypes {
    /// Keyed by non-sale transaction type.
    pub transaction_types: Value,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "name": "Front till", "currency": "USD", "float": 200, "store_id": "store-1", "type": "integrated"}))]
pub struct DrawerCreate {
    pub cash_drawer_id: String,
    pub name: String,
    pub currency: String,
    pub float: f64,
    pub store_id: String,
    /// `integrated` or `non_integrated`
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub drawer_type: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Front till", "float": 250}))]
pub struct DrawerUpdate {
    pub name: Option<String>,
    pub float: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "name": "Front till", "currency": "USD", "float": 200, "status": "active", "type": "integrated", "store_id": "store-1"}))]
pub struct Drawer {
    pub cash_drawer_id: String,
    pub name: String,
    pub currency: String,
    pub float: f64,
    /// `inactive`, `active` or `decommissioned`
    pub status: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub drawer_type: String,
    pub store_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct DrawerList {
    pub cash_drawers: Vec<Drawer>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "A-1", "amount": {"value": 45, "currency": "USD"}, "given": {"value": 50, "currency": "USD"}}))]
pub struct SaleStart {
    pub order_id: String,
    /// Negative for a return.
    pub amount: Monetary,
    pub given: Monetary,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "change": {"value": 5, "currency": "USD"}}))]
pub struct SaleStarted {
    pub transaction_id: String,
    pub change: Monetary,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_type": "no_sale", "reason_code": "post_office", "amount_in": {"value": 10, "currency": "USD"}}))]
pub struct NonSaleStart {
    /// A configured non-sale type.
    pub transaction_type: String,
    /// One of that type's reason codes.
    pub reason_code: Option<String>,
    pub amount_in: Option<Monetary>,
    pub amount_out: Option<Monetary>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e"}))]
pub struct TransactionStarted {
    pub transaction_id: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "completed"}))]
pub struct TransactionFinish {
    /// `completed` or `canceled`
    pub status: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "cash_drawer_id": "4G9OZ", "associate_id": "alice",
    "order_id": "A-1", "transaction_type": "sale", "reason": "sale", "reason_code": null, "amount_in": {"value": 50, "currency": "USD"},
    "amount_out": {"value": 5, "currency": "USD"}, "amount_balance": {"value": 45, "currency": "USD"}, "status": "completed",
    "created_at": "2026-03-01T10:00:00Z", "finished_at": "2026-03-01T10:00:05Z"}))]
pub struct CashTransaction {
    pub transaction_id: String,
    pub status: String,
    pub amount_in: Monetary,
    pub amount_out: Monetary,
    pub amount_balance: Monetary,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "end_of_day_balance"}))]
pub struct CountStart {
    /// `intra_day_balance` or `end_of_day_balance`
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"}))]
pub struct CountStarted {
    pub count_id: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"counted_amount": {"value": 245, "currency": "USD"}}))]
pub struct CountRecord {
    pub counted_amount: Monetary,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"discrepancy": false, "expected_amount": {"value": 245, "currency": "USD"}, "discrepancy_amount": {"value": 0, "currency": "USD"}}))]
pub struct CountRecorded {
    pub discrepancy: bool,
    /// Left out for blind counts.
    pub expected_amount: Option<Monetary>,
    pub discrepancy_amount: Option<Monetary>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a", "status": "submitted"}))]
pub struct CountActed {
    pub count_id: String,
    pub status: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"event": "open", "correlation": "transaction", "correlation_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "timestamp": "2026-03-01T10:00:00Z"}))]
pub struct Activity {
    /// `open` or `close`
    pub event: String,
    /// `transaction` or `count`
    pub correlation: String,
    pub correlation_id: String,
    /// RFC 3339
    pub timestamp: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"event_id": "2b1e…"}))]
pub struct ActivityTracked {
    pub event_id: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"float_amount": {"value": 200, "currency": "USD"}}))]
pub struct Activate {
    pub float_amount: Monetary,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "status": "active", "activation_timestamp": "2026-03-01T08:00:00Z", "float_amount": {"value": 200, "currency": "USD"}}))]
pub struct Activated {
    pub cash_drawer_id: String,
    pub status: String,
    pub activation_timestamp: String,
    pub float_amount: Monetary,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"}))]
pub struct Deactivate {
    /// A submitted `end_of_day_balance` count of this activation.
    pub count_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "status": "inactive", "activation_timestamp": "2026-03-01T08:00:00Z", "deactivation_timestamp": "2026-03-01T20:00:00Z"}))]
pub struct Deactivated {
    pub cash_drawer_id: String,
    pub status: String,
    pub activation_timestamp: String,
    pub deactivation_timestamp: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"reports": [{"activation_timestamp": "2026-03-01T08:00:00Z", "open_float": {"value": 200, "currency": "USD"},
    "net_cash_in": {"value": 45, "currency": "USD"}, "net_cash_out": {"value": 0, "currency": "USD"}}],
    "pagination_info": {"count": 1, "total": 1, "offset": 0}}))]
pub struct DailyReports {
    /// One per activation, newest first, with the fields of SPEC §8 (`open_float`, `net_sales`, `net_returns`,
    /// `net_non_sale_cash_in`, `net_non_sale_cash_out`, `net_cash_in`, `net_cash_out`, `end_of_day_count`,
    /// `variance_total`, `deposit_total`, activation and deactivation timestamps).
    pub reports: Vec<Value>,
    /// `{"count", "total", "offset"}`
    pub pagination_info: Value,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "entries": 2}))]
pub struct LedgerVerification {
    pub valid: bool,
    pub entries: i64,
    /// When `valid` is false: the seq of the first row that does not match…
    pub first_invalid_entry: Option<i64>,
    /// …and why.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transactionReport": [], "total": 0}))]
pub struct StoreReport {
    /// camelCase fields as in the seed (`cashDrawerId`, `cashDrawerName`, `cashDrawerStatus`, `currency`, …).
    #[serde(rename = "transactionReport")]
    #[schema(rename = "transactionReport")]
    pub transaction_report: Vec<Value>,
    pub total: i64,
}

// ------------------------------------------------------ shared error answers

/// The error answers every drawer write may give.
#[derive(utoipa::IntoResponses)]
pub enum DrawerWriteErrors {
    #[response(status = 400, description = "Invalid request; the message names the field")]
    Invalid(ErrorBody),
    #[response(status = 401, description = "No or unknown bearer token")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token does not act on this store")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "No such drawer (or store, transaction, count)")]
    NotFound(ErrorBody),
    #[response(status = 409, description = "Not allowed in the current state (inactive or decommissioned drawer, cash management off, \
        finished twice), or the idempotency key was used with another body")]
    Conflict(ErrorBody),
}

/// The error answers every drawer read may give.
#[derive(utoipa::IntoResponses)]
pub enum DrawerReadErrors {
    #[response(status = 400, description = "Invalid query")]
    Invalid(ErrorBody),
    #[response(status = 401, description = "No or unknown bearer token")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token does not act on this store")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(ErrorBody),
}

/// The error answers every admin write may give.
#[derive(utoipa::IntoResponses)]
pub enum AdminWriteErrors {
    #[response(status = 400, description = "Invalid body; the message names the field")]
    Invalid(ErrorBody),
    #[response(status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "Page session without its X-CSRF-Token")]
    Forbidden(ErrorBody),
    #[response(status = 413, description = "Body over 64 KiB")]
    TooLarge(ErrorBody),
}
