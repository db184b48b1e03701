//! The deposit domain's types: its status, the bodies it reads (unknown
//! fields refused, every error naming its field), the answers it gives, and
//! its errors.

use crate::drawers::DrawerError;
use crate::error::ApiError;
use crate::money::Monetary;
use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// What went wrong with a deposit, in the domain's words.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller may not act on the store (from the drawer API's rules).
    #[error(transparent)]
    Access(#[from] DrawerError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<DepositError> for ApiError {
    fn from(err: DepositError) -> Self {
        match err {
            DepositError::Invalid(m) => ApiError::validation(m),
            DepositError::NotFound(m) => ApiError::not_found(m),
            DepositError::Conflict(m) => ApiError::conflict(m),
            DepositError::Access(e) => ApiError::from(e),
            DepositError::Db(e) => ApiError::from(e),
        }
    }
}

pub type DepositResult<T> = Result<T, DepositError>;

pub fn invalid(message: impl Into<String>) -> DepositError {
    DepositError::Invalid(message.into())
}

pub fn conflict(message: impl Into<String>) -> DepositError {
    DepositError::Conflict(message.into())
}

/// Where a deposit is: `prepared` (bagged in the store), `in_transit` (on its
/// way to the bank), `banked` (the bank counted it; final). Each step is a
/// row of the store ledger with this word as its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    Prepared,
    InTransit,
    Banked,
}

impl DepositStatus {
    pub const ALL: [DepositStatus; 3] = [DepositStatus::Prepared, DepositStatus::InTransit, DepositStatus::Banked];
    const WORDS: &'static str = "prepared, in_transit, banked";

    pub fn as_str(self) -> &'static str {
        match self {
            DepositStatus::Prepared => "prepared",
            DepositStatus::InTransit => "in_transit",
            DepositStatus::Banked => "banked",
        }
    }

    pub fn parse(word: &str) -> Option<DepositStatus> {
        DepositStatus::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// The only status a deposit may move to from this one.
    pub fn next(self) -> Option<DepositStatus> {
        match self {
            DepositStatus::Prepared => Some(DepositStatus::InTransit),
            DepositStatus::InTransit => Some(DepositStatus::Banked),
            DepositStatus::Banked => None,
        }
    }
}

/// Reads a status word (trimmed); anything else is `must be one of …`.
pub fn status_word(raw: &str) -> Result<DepositStatus, String> {
    DepositStatus::parse(raw.trim()).ok_or_else(|| format!("must be one of {}", DepositStatus::WORDS))
}

impl<'de> Deserialize<'de> for DepositStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Err(D::Error::custom("is required")),
            Value::String(word) => status_word(&word).map_err(D::Error::custom),
            _ => Err(D::Error::custom(format!("must be one of {}", DepositStatus::WORDS))),
        }
    }
}

impl PartialSchema for DepositStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(DepositStatus::ALL.map(DepositStatus::as_str)))
            .description(Some(
                "`prepared` (bagged in the store) → `in_transit` (on its way to the bank) → `banked` (final)",
            ))
            .into()
    }
}

impl ToSchema for DepositStatus {}

/// The number printed on the tamper-evident bag: a non-empty string (trimmed) of at most 64 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagNumber(pub String);

impl<'de> Deserialize<'de> for BagNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Err(D::Error::custom("is required")),
            Value::String(s) if !s.trim().is_empty() && s.trim().chars().count() <= 64 => {
                Ok(BagNumber(s.trim().to_string()))
            }
            _ => Err(D::Error::custom("must be a non-empty string of at most 64 characters")),
        }
    }
}

impl PartialSchema for BagNumber {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(64))
            .pattern(Some(r"\S"))
            .description(Some("The bag's number: 1 to 64 characters (surrounding spaces are trimmed)"))
            .examples([serde_json::json!("B-0001")])
            .into()
    }
}

impl ToSchema for BagNumber {}

/// The most counts one deposit may name.
pub const MAX_COUNTS: usize = 100;

/// `POST /v0/stores/{store_id}/deposits`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"value": 1245.5, "currency": "USD"}, "bag_number": "B-0001",
    "count_ids": ["7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"]}))]
pub struct DepositCreate {
    /// What goes into the bag: more than 0, at most 2 decimal places, in the currency of the store's drawers.
    pub amount: Monetary,
    pub bag_number: BagNumber,
    /// The submitted counts (of this store's drawers, in the deposit's currency) the cash comes from; each count
    /// goes into one deposit only. Up to 100; none for cash that was not counted in a drawer.
    #[schema(value_type = Option<Vec<String>>, max_items = 100)]
    pub count_ids: Option<Vec<String>>,
}

/// `PATCH /v0/stores/{store_id}/deposits/{deposit_id}`: the next step.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "banked", "banked_amount": {"value": 1245.5, "currency": "USD"}}))]
pub struct DepositUpdate {
    /// `in_transit` after `prepared`, then `banked`; any other order (or any change after `banked`) answers 409.
    pub status: DepositStatus,
    /// What the bank counted (at least 0, in the deposit's currency): required with `banked`, refused otherwise.
    pub banked_amount: Option<Monetary>,
}

/// A deposit, as its ledger rows make it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"deposit_id": "3b0e2c55-6d0a-4f57-a3c1-0a7f2b9d4e11", "store_id": "store-1", "status": "banked",
    "amount": {"value": 1245.5, "currency": "USD"}, "bag_number": "B-0001",
    "count_ids": ["7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"], "banked_amount": {"value": 1240.5, "currency": "USD"},
    "variance": {"value": -5, "currency": "USD"}, "created_by": "alice", "created_at": "2026-03-01T20:05:00Z",
    "in_transit_at": "2026-03-02T09:00:00Z", "banked_at": "2026-03-02T11:30:00Z"}))]
pub struct Deposit {
    #[schema(value_type = String, format = "uuid")]
    pub deposit_id: Uuid,
    pub store_id: String,
    pub status: DepositStatus,
    pub amount: Monetary,
    pub bag_number: String,
    #[schema(value_type = Vec<String>)]
    pub count_ids: Vec<Uuid>,
    /// What the bank counted; null until `banked`.
    pub banked_amount: Option<Monetary>,
    /// `banked_amount` − `amount`; null until `banked`.
    pub variance: Option<Monetary>,
    /// The associate who prepared it (null for the admin token).
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub in_transit_at: Option<DateTime<Utc>>,
    pub banked_at: Option<DateTime<Utc>>,
}

/// A page of a store's deposits, newest first.
#[derive(Serialize, ToSchema)]
pub struct DepositList {
    pub deposits: Vec<Deposit>,
    pub pagination_info: DepositPagination,
}

#[derive(Serialize, ToSchema)]
pub struct DepositPagination {
    /// Deposits on this page.
    pub count: usize,
    /// Deposits matching the filter in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_body::{parse_as, BodyError};

    fn invalid<T: serde::de::DeserializeOwned>(json: &str) -> String {
        match parse_as::<T>(json.as_bytes()) {
            Err(BodyError::Invalid(why)) => why,
            Err(other) => panic!("{json}: {other:?}"),
            Ok(_) => panic!("{json}: accepted"),
        }
    }

    #[test]
    fn bodies_name_the_field_that_is_wrong() {
        let amount = r#""amount": {"value": 5, "currency": "USD"}"#;
        assert_eq!(invalid::<DepositCreate>(&format!("{{{amount}}}")), "bag_number: is required");
        assert_eq!(
            invalid::<DepositCreate>(&format!(r#"{{{amount}, "bag_number": "  "}}"#)),
            "bag_number: must be a non-empty string of at most 64 characters"
        );
        assert_eq!(
            invalid::<DepositCreate>(&format!(r#"{{{amount}, "bag_number": "B", "bag": 1}}"#)),
            "bag: unknown field (allowed: amount, bag_number, count_ids)"
        );
        assert_eq!(
            invalid::<DepositUpdate>(r#"{"status": "lost"}"#),
            "status: must be one of prepared, in_transit, banked"
        );
        assert_eq!(invalid::<DepositUpdate>(r#"{}"#), "status: is required");
        let update: DepositUpdate = parse_as(br#"{"status": " in_transit ", "banked_amount": null}"#).unwrap();
        assert_eq!(update.status, DepositStatus::InTransit);
        assert!(update.banked_amount.is_none());
    }

    #[test]
    fn a_deposit_moves_only_forward_one_step_at_a_time() {
        assert_eq!(DepositStatus::Prepared.next(), Some(DepositStatus::InTransit));
        assert_eq!(DepositStatus::InTransit.next(), Some(DepositStatus::Banked));
        assert_eq!(DepositStatus::Banked.next(), None);
        assert_eq!(serde_json::to_value(DepositStatus::InTransit).unwrap(), "in_transit");
    }
}
