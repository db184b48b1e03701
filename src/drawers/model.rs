//! The drawer domain's types and its edge: the field types its request bodies
//! are made of (each parses with serde and documents itself, and a bad value
//! is refused in the field's words), the choices it knows, and its errors.
//! Amounts are [`crate::money::Monetary`] and [`crate::money::Amount`].

use crate::error::ApiError;
use crate::money::{Currency, Monetary};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::ops::Deref;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// What went wrong in the drawer domain, in its own words.
#[derive(Debug, thiserror::Error)]
pub enum DrawerError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// A count over the store's variance tolerance submitted without a manager's approval (409 `approval_required`).
    #[error("{0}")]
    ApprovalRequired(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<DrawerError> for ApiError {
    fn from(err: DrawerError) -> Self {
        match err {
            DrawerError::Invalid(m) => ApiError::validation(m),
            DrawerError::NotFound(m) => ApiError::not_found(m),
            DrawerError::Forbidden(m) => ApiError::forbidden(m),
            DrawerError::Conflict(m) => ApiError::conflict(m),
            DrawerError::ApprovalRequired(m) => {
                ApiError::new(actix_web::http::StatusCode::CONFLICT, "approval_required", m)
            }
            DrawerError::Db(e) => ApiError::from(e),
        }
    }
}

pub type DrawerResult<T> = Result<T, DrawerError>;

pub fn invalid(message: impl Into<String>) -> DrawerError {
    DrawerError::Invalid(message.into())
}

pub fn conflict(message: impl Into<String>) -> DrawerError {
    DrawerError::Conflict(message.into())
}

/// Refuses an amount in another currency than the drawer's.
pub fn in_currency(money: Monetary, currency: Currency, field: &str) -> DrawerResult<Decimal> {
    if money.currency == currency {
        Ok(money.value)
    } else {
        Err(invalid(format!("{field}: currency {} does not match the drawer's {currency}", money.currency)))
    }
}

/// A stored currency code back in its type; a code that is not one (written
/// behind the service's back) is a decoding error of `column`.
pub fn stored_currency(code: String, column: &str) -> Result<Currency, sqlx::Error> {
    Currency::try_from(code).map_err(|why| sqlx::Error::ColumnDecode { index: column.into(), source: why.into() })
}

/// RFC 3339 in UTC with the precision the value has (as chrono's serde writes a `DateTime<Utc>`).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The current time at the microsecond precision Postgres keeps, so a value
/// hashed before it is stored hashes the same when read back.
pub fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// A non-empty string (trimmed) of at most `max` characters; the check every
/// drawer text field has made since part one.
fn bounded_text(value: Value, max: usize) -> Result<String, String> {
    match value {
        Value::Null => Err("is required".into()),
        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= max => {
            let trimmed = s.trim();
            Ok(if trimmed.len() == s.len() { s } else { trimmed.to_string() })
        }
        _ => Err(format!("must be a non-empty string of at most {max} characters")),
    }
}

fn text_schema(max: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(r"\S"))
        .description(Some(format!("A non-empty string (surrounding spaces are trimmed) of at most {max} characters")))
        .into()
}

/// Text fields of a given maximum length: `Text64`, `Text128`, `Text256`.
macro_rules! text_type {
    ($name:ident, $max:literal) => {
        #[doc = concat!("A non-empty string, trimmed, of at most ", stringify!($max), " characters.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                bounded_text(Value::deserialize(deserializer)?, $max).map($name).map_err(D::Error::custom)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text_schema($max)
            }
        }

        impl ToSchema for $name {}
    };
}

text_type!(Text64, 64);
text_type!(Text128, 128);
text_type!(Text256, 256);

/// `true` or `false`, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Bool(b) => Ok(Flag(b)),
            Value::Null => Err(D::Error::custom("is required")),
            _ => Err(D::Error::custom("must be true or false")),
        }
    }
}

impl PartialSchema for Flag {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Boolean).into()
    }
}

impl ToSchema for Flag {}

/// A new drawer's id: up to 128 characters, none of them `/`, `?` or `#`
/// (it travels in paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawerId(String);

impl<'de> Deserialize<'de> for DrawerId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = bounded_text(Value::deserialize(deserializer)?, 128).map_err(D::Error::custom)?;
        if id.contains(['/', '?', '#']) {
            return Err(D::Error::custom("must not contain '/', '?' or '#'"));
        }
        Ok(DrawerId(id))
    }
}

impl Deref for DrawerId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialSchema for DrawerId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(128))
            .pattern(Some(r"^[^/?#]*[^/?#\s][^/?#]*$"))
            .description(Some("Up to 128 characters, none of them `/`, `?` or `#`; surrounding spaces are trimmed"))
            .examples([serde_json::json!("4G9OZ")])
            .into()
    }
}

impl ToSchema for DrawerId {}

/// An RFC 3339 date-time given by the client (`2019-10-11T10:11:17Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = bounded_text(Value::deserialize(deserializer)?, 64).map_err(D::Error::custom)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| Rfc3339(t.with_timezone(&Utc)))
            .map_err(|_| D::Error::custom("must be an RFC 3339 date-time"))
    }
}

impl PartialSchema for Rfc3339 {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::DateTime,
            )))
            .max_length(Some(64))
            .examples([serde_json::json!("2019-10-11T10:11:17Z")])
            .into()
    }
}

impl ToSchema for Rfc3339 {}

/// A coin or bill value: a decimal string with at most 2 places, above 0
/// (`"20.00"`, `"0.05"`; an exact JSON number is read too), written back as a
/// two-place string. `"20"` and `"20.00"` are the same denomination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Denomination(pub Decimal);

const DENOMINATION_RULE: &str = "must be a decimal string above 0 with at most 2 places, like \"0.05\"";

/// A positive decimal of at most 2 places from a string or an exact JSON number, else `None`.
fn positive_cents(value: &Value) -> Option<Decimal> {
    let parsed = match value {
        Value::String(text) => crate::money::parse_cents(text),
        Value::Number(number) => {
            crate::money::parse_json_number(&number.to_string()).filter(|v| v.normalize().scale() <= 2)
        }
        _ => None,
    }?;
    (parsed > Decimal::ZERO).then(|| parsed.normalize())
}

impl<'de> Deserialize<'de> for Denomination {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Err(D::Error::custom("is required")),
            value => positive_cents(&value).map(Denomination).ok_or_else(|| D::Error::custom(DENOMINATION_RULE)),
        }
    }
}

impl Serialize for Denomination {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::money::fmt2(self.0))
    }
}

fn cents_schema(description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^\+?[0-9]{1,13}(\.[0-9]{1,2})?$"))
        .description(Some(description))
        .examples([serde_json::json!(example)])
        .into()
}

impl PartialSchema for Denomination {
    fn schema() -> RefOr<Schema> {
        cents_schema("A coin or bill value: a decimal string above 0 with at most 2 places", "20.00")
    }
}

impl ToSchema for Denomination {}

/// The step cash change is rounded to (`"0.05"`): a decimal string above 0
/// with at most 2 places, written back as a two-place string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundingStep(pub Decimal);

impl<'de> Deserialize<'de> for RoundingStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        positive_cents(&value).filter(|step| *step <= Decimal::ONE_HUNDRED).map(RoundingStep).ok_or_else(|| {
            D::Error::custom("must be a decimal string from 0.01 to 100 with at most 2 places, like \"0.05\"")
        })
    }
}

impl Serialize for RoundingStep {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::money::fmt2(self.0))
    }
}

impl PartialSchema for RoundingStep {
    fn schema() -> RefOr<Schema> {
        cents_schema("The step cash change is rounded to (halves up): 0.01 to 100, at most 2 places", "0.05")
    }
}

impl ToSchema for RoundingStep {}

/// How many of one coin or bill: a whole number from 0 to 1,000,000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity(pub u32);

const QUANTITY_MAX: u64 = 1_000_000;

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rule = || D::Error::custom(format!("must be a whole number from 0 to {QUANTITY_MAX}"));
        match Value::deserialize(deserializer)? {
            Value::Null => Err(D::Error::custom("is required")),
            // the literal text: `12.0` and `1e1` are not written as whole numbers
            Value::Number(n) => n
                .as_str()
                .parse::<u64>()
                .ok()
                .filter(|q| *q <= QUANTITY_MAX)
                .and_then(|q| u32::try_from(q).ok())
                .map(Quantity)
                .ok_or_else(rule),
            _ => Err(rule()),
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(QUANTITY_MAX as f64))
            .description(Some("How many of this coin or bill"))
            .into()
    }
}

impl ToSchema for Quantity {}

/// One line of a count by denomination: `{"value": "20.00", "quantity": 12}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"value": "20.00", "quantity": 12}))]
pub struct DenominationCount {
    pub value: Denomination,
    pub quantity: Quantity,
}

impl DenominationCount {
    pub fn total(&self) -> Decimal {
        self.value.0 * Decimal::from(self.quantity.0)
    }
}

/// For an optional field of a replacing write: left out → `None` (keep what
/// is stored), `null` → `Some(None)` (remove it), a value → `Some(Some(v))`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A closed set of words: an enum that is written as its word, documented as
/// a string enum, stored as Postgres text, and read from a request the way
/// every drawer choice has been read (a non-empty string of at most 64
/// characters, trimmed, then `"<field>: must be one of a, b"`).
macro_rules! choice {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        choice!(@common $(#[doc = $doc])* $name { $($variant = $word),+ });

        impl $name {
            /// Every word, in the order of the SPEC.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// `a, b, c`
            pub fn words() -> String {
                Self::ALL.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let word = bounded_text(Value::deserialize(deserializer)?, 64).map_err(D::Error::custom)?;
                $name::parse(&word).ok_or_else(|| D::Error::custom(format!("must be one of {}", $name::words())))
            }
        }
    };
    // The word exactly as written (no trimming), else `rule`: the transaction type configuration's checks.
    (exactly $rule:literal, $(#[doc = $doc:literal])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        choice!(@common $(#[doc = $doc])* $name { $($variant = $word),+ });

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                match Value::deserialize(deserializer)? {
                    Value::String(word) => $name::parse(&word),
                    _ => None,
                }
                .ok_or_else(|| D::Error::custom($rule))
            }
        }
    };
    (@common $(#[doc = $doc:literal])* $name:ident { $($variant:ident = $word:literal),+ }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        // By hand: utoipa's derive does not see a `serde(rename)` whose word comes from a macro.
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([$($word),+]))
                    .description(Some(concat!($($doc, "\n"),*).trim()))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <String as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let word = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                $name::parse(word).ok_or_else(|| format!("unknown {} {word:?}", stringify!($name)).into())
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    };
}

choice!(
    /// `integrated` or `non_integrated`
    DrawerType { Integrated = "integrated", NonIntegrated = "non_integrated" }
);

choice!(
    /// `inactive` (new, or closed for the day), `active` (open) or `decommissioned` (final)
    DrawerStatus { Inactive = "inactive", Active = "active", Decommissioned = "decommissioned" }
);

choice!(
    /// The non-sale transaction types of seed 002.
    NonSaleType {
        AddToFloat = "add_to_float",
        AddPettyCash = "add_petty_cash",
        TransferIn = "transfer_in",
        AdjustmentIn = "adjustment_in",
        RemovePettyCash = "remove_petty_cash",
        CashPull = "cash_pull",
        TransferOut = "transfer_out",
        AdjustmentOut = "adjustment_out",
        NoSale = "no_sale",
        GiftCardCashOut = "gift_card_cash_out",
    }
);

choice!(
    /// A ledger movement's transaction type: `sale` (sales and returns), `float_adjustment` (the
    /// activation float), `reconciliation` and `end_of_day_withdrawal` (closing the day), a non-sale type,
    /// or `count` (a submitted count by denomination or with a manager's approval; it moves no cash).
    LedgerType {
        Sale = "sale",
        FloatAdjustment = "float_adjustment",
        Reconciliation = "reconciliation",
        EndOfDayWithdrawal = "end_of_day_withdrawal",
        AddToFloat = "add_to_float",
        AddPettyCash = "add_petty_cash",
        TransferIn = "transfer_in",
        AdjustmentIn = "adjustment_in",
        RemovePettyCash = "remove_petty_cash",
        CashPull = "cash_pull",
        TransferOut = "transfer_out",
        AdjustmentOut = "adjustment_out",
        NoSale = "no_sale",
        GiftCardCashOut = "gift_card_cash_out",
        Count = "count",
    }
);

choice!(
    /// Why a count is taken: `intra_day_balance`, or `end_of_day_balance` (the one that closes the day)
    CountReason { IntraDayBalance = "intra_day_balance", EndOfDayBalance = "end_of_day_balance" }
);

choice!(
    /// How a draft ends: `completed` (its cash moves) or `canceled`
    FinishStatus { Completed = "completed", Canceled = "canceled" }
);

choice!(
    /// A sale's or non-sale's state: `draft` until finished, then `completed` (its cash moved) or `canceled`
    TransactionStatus { Draft = "draft", Completed = "completed", Canceled = "canceled" }
);

impl From<FinishStatus> for TransactionStatus {
    fn from(finish: FinishStatus) -> Self {
        match finish {
            FinishStatus::Completed => TransactionStatus::Completed,
            FinishStatus::Canceled => TransactionStatus::Canceled,
        }
    }
}

choice!(
    /// What a transaction is: a `sale`, a `return` (a sale of negative amount) or a `non_sale` movement
    TransactionKind { Sale = "sale", Return = "return", NonSale = "non_sale" }
);

impl TransactionKind {
    /// The ledger row a completed transaction of this kind appends. A
    /// non-sale follows its type's `balance_modification` as it was when the
    /// transaction started; rows from before that was kept (`None`) move cash
    /// out when they pay out (`amount_out`).
    pub fn entry_kind(self, modification: Option<BalanceModification>, cash_out: bool) -> EntryKind {
        match (self, modification) {
            (TransactionKind::Sale, _) => EntryKind::Sale,
            (TransactionKind::Return, _) => EntryKind::Return,
            (TransactionKind::NonSale, Some(BalanceModification::Neutral)) => EntryKind::NonSaleNeutral,
            (TransactionKind::NonSale, Some(BalanceModification::CashOut)) => EntryKind::NonSaleOut,
            (TransactionKind::NonSale, Some(BalanceModification::CashIn)) => EntryKind::NonSaleIn,
            (TransactionKind::NonSale, None) if cash_out => EntryKind::NonSaleOut,
            (TransactionKind::NonSale, None) => EntryKind::NonSaleIn,
        }
    }
}

choice!(
    /// A count's state: `started`, `recorded`, `recount` (may be recorded again), then `submitted` or `canceled`
    CountStatus {
        Started = "started",
        Recorded = "recorded",
        Recount = "recount",
        Submitted = "submitted",
        Canceled = "canceled",
    }
);

/// A count's status as `GET …/counts/{count_id}` shows it (SPEC §13): `open`
/// while a counted amount may be recorded (a new count, or one sent back with
/// `_recount`), `recorded`, `submitted` or `canceled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountState {
    Open,
    Recorded,
    Submitted,
    Canceled,
}

impl From<CountStatus> for CountState {
    fn from(status: CountStatus) -> Self {
        match status {
            CountStatus::Started | CountStatus::Recount => CountState::Open,
            CountStatus::Recorded => CountState::Recorded,
            CountStatus::Submitted => CountState::Submitted,
            CountStatus::Canceled => CountState::Canceled,
        }
    }
}

impl CountStatus {
    /// True when a counted amount may be recorded: a new count or a recount.
    pub fn can_record(self) -> bool {
        matches!(self, CountStatus::Started | CountStatus::Recount)
    }

    /// The status `action` leads to from this one, or `None` when it is not possible.
    pub fn after(self, action: CountAction) -> Option<CountStatus> {
        match (action, self) {
            (CountAction::Recount, CountStatus::Recorded) => Some(CountStatus::Recount),
            (CountAction::Submit, CountStatus::Recorded) => Some(CountStatus::Submitted),
            (CountAction::Cancel, CountStatus::Started | CountStatus::Recorded | CountStatus::Recount) => {
                Some(CountStatus::Canceled)
            }
            _ => None,
        }
    }

    /// True once nothing more can happen to the count.
    pub fn is_final(self) -> bool {
        matches!(self, CountStatus::Submitted | CountStatus::Canceled)
    }
}

choice!(
    /// What a ledger row records: the activation `float`, a `sale` or `return`, a non-sale movement in or out
    /// or a `non_sale_neutral` one (amount 0), a submitted `count` (amount 0, its denominations and approver in
    /// the row's details), and at the close the `reconciliation` (counted − expected) and the `end_of_day_withdrawal`
    EntryKind {
        Float = "float",
        Sale = "sale",
        Return = "return",
        NonSaleIn = "non_sale_in",
        NonSaleOut = "non_sale_out",
        NonSaleNeutral = "non_sale_neutral",
        Count = "count",
        Reconciliation = "reconciliation",
        EndOfDayWithdrawal = "end_of_day_withdrawal",
    }
);

impl EntryKind {
    /// True for the movements that make up a drawer's expected balance; the
    /// other two close the day. The statements that sum a balance write these
    /// kinds out, and a test holds them to this rule.
    #[cfg(test)]
    pub fn counts_in_balance(self) -> bool {
        !self.closes_the_day()
    }

    /// True for the rows written when the day is closed.
    pub fn closes_the_day(self) -> bool {
        matches!(self, EntryKind::Reconciliation | EntryKind::EndOfDayWithdrawal)
    }

    /// The SQL list of the kinds that count in the balance, `('float', 'sale', …)`. The checked statements
    /// write it out (a statement is one literal), each followed by the comment `-- EntryKind::counts_in_balance`;
    /// a test holds every such list to this one.
    #[cfg(test)]
    pub fn balance_kinds_sql() -> String {
        let kinds: Vec<String> =
            EntryKind::ALL.iter().filter(|k| k.counts_in_balance()).map(|k| format!("'{}'", k.as_str())).collect();
        format!("({})", kinds.join(", "))
    }
}

choice!(
    /// `open` or `close`
    ActivityEvent { Open = "open", Close = "close" }
);

choice!(
    /// What the drawer was opened or closed for: a `transaction` or a `count`
    Correlation { Transaction = "transaction", Count = "count" }
);

choice!(exactly "must be configured or not_allowed",
    /// Whether a non-sale type may be used: `configured` or `not_allowed`
    TypeStatus { Configured = "configured", NotAllowed = "not_allowed" }
);

choice!(exactly "must be cash_in, cash_out or neutral",
    /// Which way a non-sale type moves cash: `cash_in`, `cash_out`, or `neutral` (no money moves, e.g. `no_sale`)
    BalanceModification { CashIn = "cash_in", CashOut = "cash_out", Neutral = "neutral" }
);

choice!(
    /// An associate's role: `associate`, or `manager` (may approve a count over the store's variance tolerance)
    AssociateRole { Associate = "associate", Manager = "manager" }
);

choice!(
    /// What to do with a recorded count: `_recount` (record it again), `_submit` (final) or `_cancel`
    CountAction { Recount = "_recount", Submit = "_submit", Cancel = "_cancel" }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_body::{parse_as, BodyError};

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        id: DrawerId,
        name: Option<Text256>,
        kind: DrawerType,
        at: Option<Rfc3339>,
    }

    fn invalid(json: &str) -> String {
        match parse_as::<Body>(json.as_bytes()) {
            Err(BodyError::Invalid(why)) => why,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn text_and_choices_are_refused_in_the_words_of_part_one() {
        let body: Body = parse_as(br#"{"id": " D1 ", "name": null, "kind": " integrated ", "extra": 1}"#).unwrap();
        assert_eq!(&*body.id, "D1");
        assert!(body.name.is_none());
        assert_eq!(body.kind, DrawerType::Integrated);
        for (json, why) in [
            (r#"{"kind": "integrated"}"#, "id: is required"),
            (r#"{"id": null, "kind": "integrated"}"#, "id: is required"),
            (r#"{"id": "  ", "kind": "integrated"}"#, "id: must be a non-empty string of at most 128 characters"),
            (r#"{"id": 7, "kind": "integrated"}"#, "id: must be a non-empty string of at most 128 characters"),
            (r#"{"id": "a/b", "kind": "integrated"}"#, "id: must not contain '/', '?' or '#'"),
            (r#"{"id": "D1", "kind": "shoebox"}"#, "kind: must be one of integrated, non_integrated"),
            (r#"{"id": "D1", "kind": 1}"#, "kind: must be a non-empty string of at most 64 characters"),
            (r#"{"id": "D1", "kind": "integrated", "at": "yesterday"}"#, "at: must be an RFC 3339 date-time"),
        ] {
            assert_eq!(invalid(json), why, "{json}");
        }
        let long = format!(r#"{{"id": "D1", "kind": "integrated", "name": "{}"}}"#, "é".repeat(257));
        assert_eq!(invalid(&long), "name: must be a non-empty string of at most 256 characters");
        let ok = format!(r#"{{"id": "D1", "kind": "integrated", "name": "{}"}}"#, "é".repeat(256));
        assert!(parse_as::<Body>(ok.as_bytes()).is_ok());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_named_so() {
        let why = |bytes: &[u8]| crate::json_body::parse_object::<Body>(bytes).unwrap_err();
        assert_eq!(why(b" [1, 2]").message, "body must be a JSON object");
        assert_eq!(why(b"[1, 2]").code, "validation_error");
        assert_eq!(why(b"{\"id\": ").code, "bad_request");
        assert_eq!(why(b"{}").message, "id: is required");
    }

    #[test]
    fn choices_are_stored_and_written_as_their_words() {
        assert_eq!(serde_json::to_string(&NonSaleType::GiftCardCashOut).unwrap(), r#""gift_card_cash_out""#);
        assert_eq!(NonSaleType::ALL.len(), 10);
        assert_eq!(CountAction::parse("_submit"), Some(CountAction::Submit));
        assert_eq!(LedgerType::parse("no_sale"), Some(LedgerType::NoSale));
        // the document lists the words the API writes
        let schema = serde_json::to_value(TypeStatus::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["configured", "not_allowed"]));
        assert_eq!(serde_json::to_value(TypeStatus::NotAllowed).unwrap(), "not_allowed");
    }

    #[test]
    fn the_balance_kinds_written_out_in_the_statements_are_the_enums() {
        const MARK: &str = " -- EntryKind::counts_in_balance";
        let expected = format!("entry_type IN {}{MARK}", EntryKind::balance_kinds_sql());
        let mut marked = 0;
        for source in [include_str!("ledger.rs"), include_str!("reports.rs")] {
            for line in source.lines().filter(|line| line.contains(MARK) && !line.trim_start().starts_with("//")) {
                assert!(line.contains(&expected), "{line}\n should contain {expected}");
                marked += 1;
            }
        }
        // expected_balance and the overview's balance
        assert_eq!(marked, 2);
    }

    #[test]
    fn timestamps_are_written_as_chrono_serialises_them() {
        for raw in ["2019-10-11T10:11:17Z", "2019-10-11T10:11:17.500Z", "2026-03-01T08:00:00.123456Z"] {
            let at = DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc);
            assert_eq!(serde_json::to_value(at).unwrap(), Value::String(timestamp(at)));
            assert_eq!(timestamp(at), raw);
        }
    }
}
