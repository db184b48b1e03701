//! Sales, returns and non-sale transactions: drafts first, then completed
//! (one ledger row) or canceled (none), and the drawer's activity events.

use super::auth::Caller;
use super::drawer::{self, lock_usable, Tx};
use super::ledger::{self, Entry};
use super::model::{
    conflict, in_currency, invalid, stored_currency, ActivityEvent, Correlation, DrawerError, DrawerResult,
    FinishStatus, NonSaleType, Rfc3339, Text128, Text256, Text64, TransactionKind, TransactionStatus,
};
use super::model::{BalanceModification, TypeStatus};
use super::stores::find_type;
use crate::money::{Currency, Monetary};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// A transaction row.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub transaction_id: Uuid,
    pub drawer_id: String,
    pub activation_id: Uuid,
    pub associate_id: Option<String>,
    pub kind: TransactionKind,
    pub transaction_type: String,
    pub reason_code: Option<String>,
    pub order_id: Option<String>,
    pub currency: Currency,
    pub amount_in: Decimal,
    pub amount_out: Decimal,
    pub status: TransactionStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A non-sale's type configuration when it started.
    pub balance_modification: Option<BalanceModification>,
    /// Rounded change − exact change, in a store that rounds cash.
    pub rounding: Option<Decimal>,
}

/// A `cash_transactions` row as the statements below read it (each lists the
/// columns itself: a checked statement is one literal).
struct TransactionRow {
    transaction_id: Uuid,
    drawer_id: String,
    activation_id: Uuid,
    associate_id: Option<String>,
    kind: TransactionKind,
    transaction_type: String,
    reason_code: Option<String>,
    order_id: Option<String>,
    currency: String,
    amount_in: Decimal,
    amount_out: Decimal,
    status: TransactionStatus,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    balance_modification: Option<BalanceModification>,
    rounding: Option<Decimal>,
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = sqlx::Error;
    fn try_from(row: TransactionRow) -> Result<Self, sqlx::Error> {
        Ok(Transaction {
            transaction_id: row.transaction_id,
            drawer_id: row.drawer_id,
            activation_id: row.activation_id,
            associate_id: row.associate_id,
            kind: row.kind,
            transaction_type: row.transaction_type,
            reason_code: row.reason_code,
            order_id: row.order_id,
            currency: stored_currency(row.currency, "currency")?,
            amount_in: row.amount_in,
            amount_out: row.amount_out,
            status: row.status,
            created_at: row.created_at,
            finished_at: row.finished_at,
            balance_modification: row.balance_modification,
            rounding: row.rounding,
        })
    }
}

impl Transaction {
    /// What the transaction does to the drawer's cash: in minus out.
    pub fn balance(&self) -> Decimal {
        self.amount_in - self.amount_out
    }
}

/// A sale, return or non-sale transaction.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "cash_drawer_id": "4G9OZ", "associate_id": "alice",
    "order_id": "A-1", "transaction_type": "sale", "reason": "sale", "reason_code": null, "amount_in": {"value": 50, "currency": "USD"},
    "amount_out": {"value": 5, "currency": "USD"}, "amount_balance": {"value": 45, "currency": "USD"}, "status": "completed",
    "created_at": "2026-03-01T10:00:00Z", "finished_at": "2026-03-01T10:00:05Z"}))]
pub struct CashTransaction {
    #[schema(value_type = String, format = "uuid")]
    pub transaction_id: Uuid,
    pub cash_drawer_id: String,
    /// The associate who started it; null when started with the admin token.
    pub associate_id: Option<String>,
    pub order_id: Option<String>,
    /// `sale` for sales and returns, else the non-sale type.
    pub transaction_type: String,
    /// `sale`, `return`, or the non-sale type.
    pub reason: String,
    pub reason_code: Option<String>,
    /// For a sale, the cash given.
    pub amount_in: Monetary,
    /// For a sale, the change.
    pub amount_out: Monetary,
    /// `amount_in` − `amount_out`.
    pub amount_balance: Monetary,
    pub status: TransactionStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Only in a store with `cash_rounding`, on sales: rounded change − exact change. Negative: the customer got
    /// less change than exact and the store keeps the difference (its gain); positive: the store paid out more
    /// (its loss). `amount_out` is the rounded change, so `amount_balance` is what really moved.
    pub rounding: Option<Monetary>,
}

impl From<Transaction> for CashTransaction {
    fn from(t: Transaction) -> Self {
        let money = |value| Monetary::new(value, t.currency);
        CashTransaction {
            transaction_id: t.transaction_id,
            amount_in: money(t.amount_in),
            amount_out: money(t.amount_out),
            amount_balance: money(t.balance()),
            reason: match t.kind {
                TransactionKind::NonSale => t.transaction_type.clone(),
                kind => kind.as_str().to_string(),
            },
            cash_drawer_id: t.drawer_id,
            associate_id: t.associate_id,
            order_id: t.order_id,
            transaction_type: t.transaction_type,
            reason_code: t.reason_code,
            status: t.status,
            created_at: t.created_at,
            finished_at: t.finished_at,
            rounding: t.rounding.map(money),
        }
    }
}

struct Draft<'a> {
    kind: TransactionKind,
    transaction_type: &'a str,
    reason_code: Option<&'a str>,
    order_id: Option<&'a str>,
    amount_in: Decimal,
    amount_out: Decimal,
    balance_modification: Option<BalanceModification>,
    rounding: Option<Decimal>,
}

async fn insert_draft(
    tx: &mut Tx,
    caller: &Caller,
    drawer: &drawer::Drawer,
    activation_id: Uuid,
    d: Draft<'_>,
) -> DrawerResult<Uuid> {
    let transaction_id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO cash_transactions (transaction_id, drawer_id, activation_id, associate_id, kind, transaction_type,
             reason_code, order_id, currency, amount_in, amount_out, balance_modification, rounding)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        transaction_id,
        drawer.drawer_id,
        activation_id,
        caller.associate_id(),
        d.kind.as_str(),
        d.transaction_type,
        d.reason_code,
        d.order_id,
        drawer.currency.code(),
        d.amount_in,
        d.amount_out,
        d.balance_modification.map(BalanceModification::as_str),
        d.rounding
    )
    .execute(&mut **tx)
    .await?;
    Ok(transaction_id)
}

/// `POST /v0/cash-drawers/{drawer_id}/transactions`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "A-1", "amount": {"value": 45, "currency": "USD"}, "given": {"value": 50, "currency": "USD"}}))]
pub struct SaleStart {
    pub order_id: Text256,
    /// Positive for a sale, negative for a return; not 0.
    pub amount: Monetary,
    /// The cash handed over: at least the amount of a sale; 0 or more for a return.
    pub given: Monetary,
}

/// A started sale and the change to give.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "change": {"value": 5, "currency": "USD"}}))]
pub struct SaleStarted {
    #[schema(value_type = String, format = "uuid")]
    pub transaction_id: Uuid,
    /// The change to hand over (rounded in a store with `cash_rounding`).
    pub change: Monetary,
    /// Only in a store with `cash_rounding`, on sales: rounded change − exact change (negative: the store's gain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounding: Option<Monetary>,
}

/// `change` rounded to the nearest multiple of `step`, halves up (away from
/// zero; change is never negative): 9.97 → 9.95, 9.98 → 10.00 with 0.05.
pub fn round_change(change: Decimal, step: Decimal) -> Decimal {
    let steps = (change / step).round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    (steps * step).round_dp(2)
}

/// Starts a sale (`amount` > 0) or a return (`amount` < 0) as a draft.
/// `change = given - amount`, rounded in a store with `cash_rounding` (a
/// sale's change only: a return pays back exactly); a sale paid short is refused.
pub async fn start_sale(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &SaleStart) -> DrawerResult<SaleStarted> {
    let (drawer, activation_id, config) = lock_usable(tx, caller, drawer_id).await?;
    let amount = in_currency(body.amount, drawer.currency, "amount")?;
    let given = in_currency(body.given, drawer.currency, "given")?;
    if amount.is_zero() {
        return Err(invalid("amount.value: must not be 0 (positive for a sale, negative for a return)"));
    }
    if given < Decimal::ZERO {
        return Err(invalid("given.value: must be at least 0"));
    }
    if amount > Decimal::ZERO && given < amount {
        return Err(invalid("given.value: less than the sale amount"));
    }
    let exact_change = given - amount;
    let kind = if amount > Decimal::ZERO { TransactionKind::Sale } else { TransactionKind::Return };
    let step = match kind {
        TransactionKind::Sale => config.cash_rounding,
        _ => None,
    };
    let change = step.map_or(exact_change, |step| round_change(exact_change, step.0));
    let rounding = step.map(|_| change - exact_change);
    let transaction_id = insert_draft(
        tx,
        caller,
        &drawer,
        activation_id,
        Draft {
            kind,
            transaction_type: "sale",
            reason_code: None,
            order_id: Some(&body.order_id),
            amount_in: given,
            amount_out: change,
            balance_modification: None,
            rounding,
        },
    )
    .await?;
    let money = |value| Monetary::new(value, drawer.currency);
    Ok(SaleStarted { transaction_id, change: money(change), rounding: rounding.map(money) })
}

/// `POST /v0/cash-drawers/{drawer_id}/non-sale-transactions`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_type": "no_sale", "reason_code": "post_office", "amount_in": {"value": 10, "currency": "USD"}}))]
pub struct NonSaleStart {
    /// A configured non-sale type.
    pub transaction_type: NonSaleType,
    /// One of that type's reason codes; required when it has any.
    pub reason_code: Option<Text128>,
    /// For a `cash_in` type, at least 0; for a `neutral` type, left out or 0.
    pub amount_in: Option<Monetary>,
    /// For a `cash_out` type, at least 0; for a `neutral` type, left out or 0.
    pub amount_out: Option<Monetary>,
}

/// A started transaction.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "11a96e22-0275-418d-9035-7c5ad4b6050e"}))]
pub struct TransactionStarted {
    #[schema(value_type = String, format = "uuid")]
    pub transaction_id: Uuid,
}

/// Starts a non-sale transaction of a configured type with one of its reasons;
/// the type's `balance_modification` says whether `amount_in` or `amount_out` applies.
pub async fn start_non_sale(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    body: &NonSaleStart,
) -> DrawerResult<TransactionStarted> {
    let transaction_type = body.transaction_type.as_str();
    let reason_code = body.reason_code.as_deref();
    let (drawer, activation_id, _) = lock_usable(tx, caller, drawer_id).await?;
    let config = find_type(tx, body.transaction_type)
        .await?
        .filter(|t| t.status == TypeStatus::Configured)
        .ok_or_else(|| conflict(format!("transaction type {transaction_type} is not configured")))?;
    match reason_code {
        Some(code) if !config.has_reason(code) => {
            return Err(invalid(format!("reason_code: {code} is not a reason of {transaction_type}")));
        }
        None if config.has_reasons() => {
            return Err(invalid(format!("reason_code: is required for {transaction_type}")))
        }
        _ => {}
    }
    let modification = config
        .balance_modification
        .ok_or_else(|| conflict(format!("transaction type {transaction_type} is not configured")))?;
    let (amount_in, amount_out) = match modification {
        BalanceModification::Neutral => {
            // Neutral: the drawer opens, no money moves; an amount other than zero is a mistake.
            for (field, money) in [("amount_in", body.amount_in), ("amount_out", body.amount_out)] {
                if let Some(money) = money {
                    if !in_currency(money, drawer.currency, field)?.is_zero() {
                        return Err(invalid(format!(
                            "{field}.value: {transaction_type} is neutral and moves no cash; must be 0 or left out"
                        )));
                    }
                }
            }
            (Decimal::ZERO, Decimal::ZERO)
        }
        BalanceModification::CashIn | BalanceModification::CashOut => {
            let cash_in = modification == BalanceModification::CashIn;
            let (field, money, other, other_field) = if cash_in {
                ("amount_in", body.amount_in, body.amount_out, "amount_out")
            } else {
                ("amount_out", body.amount_out, body.amount_in, "amount_in")
            };
            if other.is_some() {
                return Err(invalid(format!(
                    "{other_field}: {transaction_type} moves cash the other way; send {field}"
                )));
            }
            let money = money.ok_or_else(|| invalid(format!("{field}: is required for {transaction_type}")))?;
            let value = in_currency(money, drawer.currency, field)?;
            if value < Decimal::ZERO {
                return Err(invalid(format!("{field}.value: must be at least 0")));
            }
            if cash_in {
                (value, Decimal::ZERO)
            } else {
                (Decimal::ZERO, value)
            }
        }
    };
    let transaction_id = insert_draft(
        tx,
        caller,
        &drawer,
        activation_id,
        Draft {
            kind: TransactionKind::NonSale,
            transaction_type,
            reason_code,
            order_id: None,
            amount_in,
            amount_out,
            balance_modification: Some(modification),
            rounding: None,
        },
    )
    .await?;
    Ok(TransactionStarted { transaction_id })
}

async fn find(
    db: impl sqlx::PgExecutor<'_>,
    drawer_id: &str,
    transaction_id: &str,
    lock: bool,
) -> DrawerResult<Transaction> {
    let not_found = || DrawerError::NotFound(format!("no transaction {transaction_id} on cash drawer {drawer_id}"));
    let id = Uuid::parse_str(transaction_id).map_err(|_| not_found())?;
    // Two fixed statements, the one that completes or cancels a draft locking its row.
    let row = if lock {
        sqlx::query_as!(
            TransactionRow,
            r#"SELECT transaction_id, drawer_id, activation_id, associate_id, kind AS "kind: TransactionKind",
                      transaction_type, reason_code, order_id, currency, amount_in, amount_out,
                      status AS "status: TransactionStatus", created_at, finished_at,
                      balance_modification AS "balance_modification: BalanceModification", rounding
               FROM cash_transactions WHERE transaction_id = $1 AND drawer_id = $2 FOR UPDATE"#,
            id,
            drawer_id
        )
        .fetch_optional(db)
        .await?
    } else {
        sqlx::query_as!(
            TransactionRow,
            r#"SELECT transaction_id, drawer_id, activation_id, associate_id, kind AS "kind: TransactionKind",
                      transaction_type, reason_code, order_id, currency, amount_in, amount_out,
                      status AS "status: TransactionStatus", created_at, finished_at,
                      balance_modification AS "balance_modification: BalanceModification", rounding
               FROM cash_transactions WHERE transaction_id = $1 AND drawer_id = $2"#,
            id,
            drawer_id
        )
        .fetch_optional(db)
        .await?
    };
    Ok(row.ok_or_else(not_found)?.try_into()?)
}

pub async fn get(db: &PgPool, caller: &Caller, drawer_id: &str, transaction_id: &str) -> DrawerResult<CashTransaction> {
    drawer::get(db, caller, drawer_id).await?;
    Ok(find(db, drawer_id, transaction_id, false).await?.into())
}

/// `PATCH /v0/cash-drawers/{drawer_id}/transactions/{transaction_id}`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "completed"}))]
pub struct TransactionFinish {
    pub status: FinishStatus,
}

/// Completes (appending its ledger row) or cancels a draft; a finished
/// transaction cannot be finished again (409).
pub async fn finish(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    transaction_id: &str,
    body: &TransactionFinish,
) -> DrawerResult<CashTransaction> {
    let status = body.status;
    let drawer = drawer::lock(tx, caller, drawer_id).await?;
    let t = find(&mut **tx, drawer_id, transaction_id, true).await?;
    if t.status != TransactionStatus::Draft {
        return Err(conflict(format!("transaction {transaction_id} is already {}", t.status.as_str())));
    }
    if status == FinishStatus::Completed {
        let (activation_id, _) = drawer::require_usable(tx, &drawer).await?;
        if activation_id != t.activation_id {
            return Err(conflict("the drawer was closed since this transaction started; start a new one"));
        }
        let mut head = drawer.head();
        let entry_type = t.kind.entry_kind(t.balance_modification, t.amount_out > Decimal::ZERO);
        ledger::append(
            tx,
            &mut head,
            &Entry {
                drawer_id,
                store_id: &drawer.store_id,
                activation_id,
                entry_type,
                transaction_type: &t.transaction_type,
                source_id: Some(t.transaction_id),
                associate_id: t.associate_id.as_deref(),
                order_id: t.order_id.as_deref(),
                reason_code: t.reason_code.as_deref(),
                currency: t.currency.code(),
                amount: t.balance(),
                details: None,
            },
        )
        .await?;
        drawer::check_cash_limit(tx, &drawer, activation_id).await?;
    }
    let finished: Transaction = sqlx::query_as!(
        TransactionRow,
        r#"UPDATE cash_transactions SET status = $2, finished_at = now() WHERE transaction_id = $1
           RETURNING transaction_id, drawer_id, activation_id, associate_id, kind AS "kind: TransactionKind",
                     transaction_type, reason_code, order_id, currency, amount_in, amount_out,
                     status AS "status: TransactionStatus", created_at, finished_at,
                     balance_modification AS "balance_modification: BalanceModification", rounding"#,
        t.transaction_id,
        TransactionStatus::from(status).as_str()
    )
    .fetch_one(&mut **tx)
    .await?
    .try_into()?;
    Ok(finished.into())
}

/// `POST /v0/cash-drawers/{drawer_id}/activities`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"event": "open", "correlation": "transaction", "correlation_id": "11a96e22-0275-418d-9035-7c5ad4b6050e", "timestamp": "2026-03-01T10:00:00Z"}))]
pub struct Activity {
    /// When the drawer was opened or closed.
    pub timestamp: Rfc3339,
    pub event: ActivityEvent,
    pub correlation: Correlation,
    /// The id of a transaction or count of this drawer.
    pub correlation_id: Text64,
}

/// A recorded drawer event.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"event_id": "2b1e6a0c-9d7f-4e3a-8c51-6f0e2d4b7a19"}))]
pub struct ActivityTracked {
    #[schema(value_type = String, format = "uuid")]
    pub event_id: Uuid,
}

/// Records that the drawer was physically opened or closed for a transaction
/// or count of this drawer (404 when there is no such transaction or count).
pub async fn track_activity(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    body: &Activity,
) -> DrawerResult<ActivityTracked> {
    let occurred_at = body.timestamp.0;
    let correlation = body.correlation.as_str();
    let correlation_id: &str = &body.correlation_id;
    drawer::get(&mut **tx, caller, drawer_id).await?;
    let not_found = || DrawerError::NotFound(format!("no {correlation} {correlation_id} on cash drawer {drawer_id}"));
    let id = Uuid::parse_str(correlation_id).map_err(|_| not_found())?;
    let exists = match body.correlation {
        Correlation::Transaction => sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM cash_transactions WHERE transaction_id = $1 AND drawer_id = $2) AS "exists!""#,
            id,
            drawer_id
        )
        .fetch_one(&mut **tx)
        .await?,
        Correlation::Count => sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM cash_counts WHERE count_id = $1 AND drawer_id = $2) AS "exists!""#,
            id,
            drawer_id
        )
        .fetch_one(&mut **tx)
        .await?,
    };
    if !exists {
        return Err(not_found());
    }
    let event_id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO cash_drawer_events (event_id, drawer_id, event, correlation, correlation_id, occurred_at, associate_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        event_id,
        drawer_id,
        body.event.as_str(),
        correlation,
        id,
        occurred_at,
        caller.associate_id()
    )
    .execute(&mut **tx)
    .await?;
    Ok(ActivityTracked { event_id })
}
