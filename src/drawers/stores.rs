//! Per-store cash configuration and the (global) non-sale transaction types.

use super::auth::Caller;
use super::model::{
    invalid, present, BalanceModification, Denomination, DrawerError, DrawerResult, DrawerType, Flag, NonSaleType,
    RoundingStep, Text256, TypeStatus,
};
use crate::json_body::BodyError;
use crate::money::{Currency, Monetary};
use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::BTreeMap;
use std::fmt;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Ref, Schema};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// `PUT /v0/stores/{store_id}/cash-drawer-config`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "expose_count_expected_amount": true,
    "denominations": {"USD": ["100.00", "50.00", "20.00", "10.00", "5.00", "1.00", "0.25", "0.10", "0.05", "0.01"]},
    "variance_tolerance": {"value": 5, "currency": "USD"}, "cash_rounding": "0.05"}))]
pub struct StoreConfigWrite {
    pub cash_drawer_type: DrawerType,
    /// Transactions and counts need it on.
    pub cash_management_enabled: Flag,
    /// `false` makes counts blind. Left out: unchanged (`true` for a new store).
    pub expose_count_expected_amount: Option<Flag>,
    /// The coins and bills of each currency, for counts by denomination. Left out: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Denominations>)]
    pub denominations: Option<Option<Denominations>>,
    /// The largest count discrepancy (either way) one associate may submit alone; above it `_submit` needs a
    /// manager's `X-Approver-Token`. Applies to the drawers of its currency. Left out: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Monetary>)]
    pub variance_tolerance: Option<Option<Monetary>>,
    /// The change of cash sales is rounded to a multiple of this (halves up). Left out: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RoundingStep>)]
    pub cash_rounding: Option<Option<RoundingStep>>,
}

/// The coins and bills of each currency: `{"USD": ["100.00", …, "0.01"]}`,
/// at least one per currency, no value twice; kept largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Denominations(BTreeMap<String, Vec<Denomination>>);

impl Denominations {
    /// The values configured for `currency`, largest first (empty when none).
    pub fn of(&self, currency: Currency) -> &[Denomination] {
        self.0.get(currency.code()).map(Vec::as_slice).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Denominations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const RULE: &str = "must be an object of currency codes, each with a list of coin and bill values";
        let raw = match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Object(map) => map,
            _ => return Err(de::Error::custom(RULE)),
        };
        if raw.len() > 20 {
            return Err(de::Error::custom("at most 20 currencies"));
        }
        let mut by_currency = BTreeMap::new();
        for (code, values) in raw {
            let currency =
                Currency::try_from(code.as_str()).map_err(|why| de::Error::custom(format!("{code}: {why}")))?;
            let values: Vec<Denomination> = match values {
                serde_json::Value::Array(items) if !items.is_empty() && items.len() <= 30 => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Denomination::deserialize(v).map_err(|e| de::Error::custom(format!("{code}[{i}]: {e}")))
                    })
                    .collect::<Result<_, D::Error>>()?,
                _ => return Err(de::Error::custom(format!("{code}: must be a list of 1 to 30 coin and bill values"))),
            };
            let mut sorted = values.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            sorted.dedup();
            if sorted.len() != values.len() {
                return Err(de::Error::custom(format!("{code}: a value is listed twice")));
            }
            if by_currency.insert(currency.code().to_string(), sorted).is_some() {
                return Err(de::Error::custom(format!("{code}: currency listed twice")));
            }
        }
        Ok(Denominations(by_currency))
    }
}

impl PartialSchema for Denominations {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .additional_properties(Some(AdditionalProperties::RefOr(
                utoipa::openapi::schema::ArrayBuilder::new().items(Denomination::schema()).min_items(Some(1)).into(),
            )))
            .description(Some("Keyed by ISO 4217 code: the coin and bill values of that currency"))
            .examples([serde_json::json!({"USD": ["100.00", "20.00", "5.00", "1.00", "0.25", "0.05", "0.01"]})])
            .into()
    }
}

impl ToSchema for Denominations {}

/// A store's cash drawer configuration.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "expose_count_expected_amount": true,
    "denominations": {"USD": ["100.00", "20.00", "5.00", "1.00", "0.25", "0.05", "0.01"]},
    "variance_tolerance": {"value": 5, "currency": "USD"}, "cash_rounding": "0.05"}))]
pub struct StoreConfig {
    pub cash_drawer_type: DrawerType,
    pub cash_management_enabled: bool,
    /// `false`: counts are blind (recording one answers only whether there is a discrepancy).
    pub expose_count_expected_amount: bool,
    pub denominations: Option<Denominations>,
    pub variance_tolerance: Option<Monetary>,
    pub cash_rounding: Option<RoundingStep>,
}

impl StoreConfig {
    /// The tolerance that applies to a drawer of `currency`: none for another currency's drawers.
    pub fn tolerance_for(&self, currency: Currency) -> Option<Decimal> {
        self.variance_tolerance.filter(|t| t.currency == currency).map(|t| t.value)
    }
}

/// The stored row, before its columns are put back into their types.
struct ConfigRow {
    cash_drawer_type: DrawerType,
    cash_management_enabled: bool,
    expose_count_expected_amount: bool,
    denominations: Option<serde_json::Value>,
    variance_tolerance: Option<Decimal>,
    variance_tolerance_currency: Option<String>,
    cash_rounding: Option<Decimal>,
    created: bool,
}

impl TryFrom<ConfigRow> for StoreConfig {
    type Error = sqlx::Error;
    fn try_from(row: ConfigRow) -> Result<Self, sqlx::Error> {
        let decode = |why: String| sqlx::Error::Decode(format!("store_cash_config: {why}").into());
        let denominations = match row.denominations {
            Some(value) => Some(serde_json::from_value(value).map_err(|e| decode(e.to_string()))?),
            None => None,
        };
        let variance_tolerance = match (row.variance_tolerance, row.variance_tolerance_currency) {
            (Some(value), Some(code)) => Some(Monetary::new(value, Currency::try_from(code).map_err(decode)?)),
            _ => None,
        };
        Ok(StoreConfig {
            cash_drawer_type: row.cash_drawer_type,
            cash_management_enabled: row.cash_management_enabled,
            expose_count_expected_amount: row.expose_count_expected_amount,
            denominations,
            variance_tolerance,
            cash_rounding: row.cash_rounding.map(RoundingStep),
        })
    }
}

pub async fn find_config<'e>(
    db: impl sqlx::PgExecutor<'e>,
    store_id: &str,
) -> Result<Option<StoreConfig>, sqlx::Error> {
    let row = sqlx::query_as!(
        ConfigRow,
        r#"SELECT cash_drawer_type AS "cash_drawer_type: DrawerType", cash_management_enabled,
                  expose_count_expected_amount, denominations, variance_tolerance, variance_tolerance_currency,
                  cash_rounding, false AS "created!"
           FROM store_cash_config WHERE store_id = $1"#,
        store_id
    )
    .fetch_optional(db)
    .await?;
    row.map(StoreConfig::try_from).transpose()
}

pub async fn get_config(db: &PgPool, caller: &Caller, store_id: &str) -> DrawerResult<StoreConfig> {
    caller.require_store(store_id)?;
    find_config(db, store_id)
        .await?
        .ok_or_else(|| DrawerError::NotFound(format!("store {store_id} has no cash drawer configuration")))
}

/// Whether the caller may configure `store_id`, checked before its body is read.
pub fn may_configure(caller: &Caller, store_id: &str) -> DrawerResult<()> {
    caller.require_store(store_id)?;
    if store_id.is_empty() || store_id.len() > 256 {
        return Err(invalid("store_id: 1 to 256 characters"));
    }
    Ok(())
}

/// Adds or replaces a store's configuration (after [`may_configure`]); `true`
/// when it was created. The optional settings keep their value when left out
/// and are removed by `null`.
pub async fn put_config(db: &PgPool, store_id: &str, body: &StoreConfigWrite) -> DrawerResult<(bool, StoreConfig)> {
    if let Some(Some(tolerance)) = body.variance_tolerance {
        if tolerance.value < Decimal::ZERO {
            return Err(invalid("variance_tolerance.value: must be at least 0"));
        }
    }
    // For each optional setting: whether the body names it, and its new value.
    let denominations = body.denominations.as_ref().map(|d| d.as_ref().map(Json));
    let tolerance = body.variance_tolerance.map(|t| t.map(|t| (t.value, t.currency.code().to_string())));
    let rounding = body.cash_rounding.map(|r| r.map(|r| r.0));
    // `xmax = 0` only on a freshly inserted row: tells create (201) from update (200)
    let row = sqlx::query_as!(
        ConfigRow,
        r#"INSERT INTO store_cash_config AS c (store_id, cash_drawer_type, cash_management_enabled, expose_count_expected_amount,
             denominations, variance_tolerance, variance_tolerance_currency, cash_rounding)
         VALUES ($1, $2, $3, COALESCE($4, true), $6, $8, $9, $11)
         ON CONFLICT (store_id) DO UPDATE SET cash_drawer_type = EXCLUDED.cash_drawer_type,
             cash_management_enabled = EXCLUDED.cash_management_enabled,
             expose_count_expected_amount = COALESCE($4, c.expose_count_expected_amount),
             denominations = CASE WHEN $5 THEN EXCLUDED.denominations ELSE c.denominations END,
             variance_tolerance = CASE WHEN $7 THEN EXCLUDED.variance_tolerance ELSE c.variance_tolerance END,
             variance_tolerance_currency = CASE WHEN $7 THEN EXCLUDED.variance_tolerance_currency
                                               ELSE c.variance_tolerance_currency END,
             cash_rounding = CASE WHEN $10 THEN EXCLUDED.cash_rounding ELSE c.cash_rounding END,
             updated_at = now()
         RETURNING cash_drawer_type AS "cash_drawer_type: DrawerType", cash_management_enabled,
             expose_count_expected_amount, denominations, variance_tolerance, variance_tolerance_currency, cash_rounding,
             (xmax = 0) AS "created!""#,
        store_id,
        body.cash_drawer_type.as_str(),
        body.cash_management_enabled.0,
        body.expose_count_expected_amount.map(|f| f.0),
        denominations.is_some(),
        denominations.flatten() as _,
        tolerance.is_some(),
        tolerance.clone().flatten().map(|t| t.0),
        tolerance.flatten().map(|t| t.1),
        rounding.is_some(),
        rounding.flatten()
    )
    .fetch_one(db)
    .await?;
    let created = row.created;
    Ok((created, row.try_into()?))
}

/// A reason a non-sale type may be used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = TransactionTypeReason, example = json!({"code": "post_office", "label": "Post office"}))]
pub struct Reason {
    pub code: String,
    pub label: String,
}

/// One non-sale type's configuration row.
#[derive(Debug, Clone)]
pub struct TypeConfig {
    pub transaction_type: NonSaleType,
    pub status: TypeStatus,
    pub balance_modification: Option<BalanceModification>,
    pub reasons: Json<Vec<Reason>>,
}

impl TypeConfig {
    /// True when `code` is one of this type's reason codes.
    pub fn has_reason(&self, code: &str) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    pub fn has_reasons(&self) -> bool {
        !self.reasons.is_empty()
    }
}

pub async fn find_type(
    tx: &mut Transaction<'static, Postgres>,
    transaction_type: NonSaleType,
) -> Result<Option<TypeConfig>, sqlx::Error> {
    sqlx::query_as!(
        TypeConfig,
        r#"SELECT transaction_type AS "transaction_type: NonSaleType", status AS "status: TypeStatus",
                  balance_modification AS "balance_modification: BalanceModification",
                  reasons AS "reasons: Json<Vec<Reason>>"
           FROM cash_transaction_types WHERE transaction_type = $1"#,
        transaction_type.as_str()
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Every non-sale type, in the seed's shape: `{"transaction_types": {type: {"status", "configuration"?}}}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_types": {"add_to_float": {"status": "not_allowed"},
    "remove_petty_cash": {"status": "configured", "configuration": {"balance_modification": "cash_out",
        "reasons": [{"code": "post_office", "label": "Post office"}]}}}}))]
pub struct TransactionTypes {
    pub transaction_types: TypeStates,
}

/// Each of the ten non-sale types, in the seed's order.
pub struct TypeStates(Vec<(NonSaleType, TransactionTypeState)>);

/// A non-sale type's status, with its configuration when `configured`.
#[derive(Serialize, ToSchema)]
pub struct TransactionTypeState {
    pub status: TypeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<TransactionTypeConfig>,
}

#[derive(Serialize, ToSchema)]
pub struct TransactionTypeConfig {
    pub balance_modification: BalanceModification,
    pub reasons: Vec<Reason>,
}

impl Serialize for TypeStates {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(kind, state)| (kind.as_str(), state)))
    }
}

/// An object with one property per non-sale type, each `T`.
fn by_type_schema<T: ToSchema>(all_required: bool) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .description(Some("Keyed by non-sale transaction type"));
    for kind in NonSaleType::ALL {
        object = object.property(kind.as_str(), Ref::from_schema_name(T::name()));
        if all_required {
            object = object.required(kind.as_str());
        }
    }
    object.into()
}

impl PartialSchema for TypeStates {
    fn schema() -> RefOr<Schema> {
        by_type_schema::<TransactionTypeState>(true)
    }
}

impl ToSchema for TypeStates {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((TransactionTypeState::name().into(), TransactionTypeState::schema()));
        TransactionTypeState::schemas(schemas);
    }
}

/// `{"transaction_types": {type: {"status", "configuration"?}}}`, as listed.
pub async fn list_types(db: &PgPool) -> DrawerResult<TransactionTypes> {
    let rows = sqlx::query_as!(
        TypeConfig,
        r#"SELECT transaction_type AS "transaction_type: NonSaleType", status AS "status: TypeStatus",
                  balance_modification AS "balance_modification: BalanceModification",
                  reasons AS "reasons: Json<Vec<Reason>>"
           FROM cash_transaction_types"#
    )
    .fetch_all(db)
    .await?;
    let states = NonSaleType::ALL
        .iter()
        .map(|&kind| {
            let configured = rows.iter().find(|r| r.transaction_type == kind && r.status == TypeStatus::Configured);
            let state = match configured {
                Some(TypeConfig { balance_modification: Some(modification), reasons, .. }) => TransactionTypeState {
                    status: TypeStatus::Configured,
                    configuration: Some(TransactionTypeConfig {
                        balance_modification: *modification,
                        reasons: reasons.0.clone(),
                    }),
                },
                _ => TransactionTypeState { status: TypeStatus::NotAllowed, configuration: None },
            };
            (kind, state)
        })
        .collect();
    Ok(TransactionTypes { transaction_types: TypeStates(states) })
}

/// `PUT /v0/cash-drawer-transaction-types`: the whole configuration, in the
/// list's own shape. Types left out become `not_allowed`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_types": {"no_sale": {"status": "configured", "configuration": {"balance_modification": "cash_in",
    "reasons": [{"code": "post_office", "label": "Post office"}]}}}}))]
pub struct TransactionTypesWrite {
    pub transaction_types: TypeWrites,
}

/// The types a configuration names, in its order; an unknown type is refused
/// as `transaction_types.<name>: unknown type (known: …)`.
pub struct TypeWrites(Vec<(NonSaleType, TransactionTypeWrite)>);

#[derive(Deserialize, ToSchema)]
pub struct TransactionTypeWrite {
    pub status: TypeStatus,
    /// Required when `configured`; not read otherwise.
    #[schema(value_type = Option<TransactionTypeConfigWrite>)]
    configuration: Option<serde_json::Value>,
}

impl TransactionTypeWrite {
    /// The configuration of a `configured` type, read only then (as always:
    /// a `not_allowed` type's configuration is ignored); `at` is its path.
    fn configuration(self, at: &str) -> DrawerResult<TransactionTypeConfigWrite> {
        let raw = self.configuration.ok_or_else(|| invalid(format!("{at}: is required")))?;
        if !raw.is_object() {
            return Err(invalid(format!("{at}: must be an object {{\"balance_modification\", \"reasons\"}}")));
        }
        // Within an object every error names its field: `balance_modification: …`.
        crate::json_body::from_value(raw).map_err(|err| match err {
            BodyError::Invalid(why) | BodyError::Malformed(why) => invalid(format!("{at}.{why}")),
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct TransactionTypeConfigWrite {
    pub balance_modification: BalanceModification,
    /// Codes are unique within a type; none: the type needs no reason code.
    pub reasons: Option<Vec<ReasonWrite>>,
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonWrite {
    pub code: Text256,
    pub label: Text256,
}

const TYPES_RULE: &str = "must be an object keyed by transaction type";

impl<'de> Deserialize<'de> for TypeWrites {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TypeWritesVisitor)
    }
}

struct TypeWritesVisitor;

impl<'de> Visitor<'de> for TypeWritesVisitor {
    type Value = TypeWrites;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object keyed by transaction type")
    }

    fn visit_unit<E: de::Error>(self) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TypeWrites, E> {
        Err(E::custom(TYPES_RULE))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<TypeWrites, A::Error> {
        Err(de::Error::custom(TYPES_RULE))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypeWrites, A::Error> {
        let mut types = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match NonSaleType::parse(&key) {
                Some(kind) => types.push((kind, map.next_value::<TransactionTypeWrite>()?)),
                // serde_json's `arbitrary_precision` hands a bare number over as a map with one private key.
                None if key.starts_with("$serde_json::private") => return Err(de::Error::custom(TYPES_RULE)),
                // Refused from inside the key's value, so the error's path names the key.
                None => match map.next_value_seed(UnknownType)? {},
            }
        }
        Ok(TypeWrites(types))
    }
}

struct UnknownType;

impl<'de> DeserializeSeed<'de> for UnknownType {
    type Value = std::convert::Infallible;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        de::IgnoredAny::deserialize(deserializer)?;
        Err(de::Error::custom(format!("unknown type (known: {})", NonSaleType::words())))
    }
}

impl PartialSchema for TypeWrites {
    fn schema() -> RefOr<Schema> {
        by_type_schema::<TransactionTypeWrite>(false)
    }
}

impl ToSchema for TypeWrites {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((TransactionTypeWrite::name().into(), TransactionTypeWrite::schema()));
        TransactionTypeWrite::schemas(schemas);
    }
}

/// Replaces the whole configuration with `body`. Admin only (the caller checks
/// [`Caller::require_admin`] before reading the body).
pub async fn put_types(db: &PgPool, body: TransactionTypesWrite) -> DrawerResult<TransactionTypes> {
    let mut parsed = Vec::new();
    for (kind, entry) in body.transaction_types.0 {
        let at = |field: &str| format!("transaction_types.{}.{field}", kind.as_str());
        let status = entry.status;
        let (modification, reasons) = match status {
            TypeStatus::NotAllowed => (None, Vec::new()),
            TypeStatus::Configured => {
                let config = entry.configuration(&at("configuration"))?;
                let mut reasons: Vec<Reason> = Vec::new();
                for reason in config.reasons.into_iter().flatten() {
                    if reasons.iter().any(|r| r.code == *reason.code) {
                        return Err(invalid(format!(
                            "{}: duplicate code {}",
                            at("configuration.reasons"),
                            &*reason.code
                        )));
                    }
                    reasons.push(Reason { code: reason.code.into(), label: reason.label.into() });
                }
                (Some(config.balance_modification), reasons)
            }
        };
        parsed.push((kind, status, modification, reasons));
    }
    let mut tx = db.begin().await?;
    sqlx::query!(
        "UPDATE cash_transaction_types SET status = 'not_allowed', balance_modification = NULL, reasons = '[]'"
    )
    .execute(&mut *tx)
    .await?;
    for (kind, status, modification, reasons) in &parsed {
        sqlx::query!(
            "UPDATE cash_transaction_types SET status = $2, balance_modification = $3, reasons = $4
             WHERE transaction_type = $1",
            kind.as_str(),
            status.as_str(),
            modification.map(BalanceModification::as_str),
            Json(reasons) as _
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    list_types(db).await
}
