//! Sales, returns and non-sale transactions: drafts first, then completed
//! (one ledger row) or canceled (none), and the drawer's activity events.

use super::auth::Caller;
use super::drawer::{self, lock_usable, Tx};
use super::ledger::{self, Entry};
use super::model::{conflict, invalid, money_json, timestamp, DrawerError, DrawerResult, Fields, NON_SALE_TYPES};
use super::stores::find_type;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// A transaction row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Transaction {
    pub transaction_id: Uuid,
    pub drawer_id: String,
    pub activation_id: Uuid,
    pub associate_id: Option<String>,
    pub kind: String,
    pub transaction_type: String,
    pub reason_code: Option<String>,
    pub order_id: Option<String>,
    pub currency: String,
    pub amount_in: Decimal,
    pub amount_out: Decimal,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "transaction_id, drawer_id, activation_id, associate_id, kind, transaction_type, reason_code, order_id,
    currency, amount_in, amount_out, status, created_at, finished_at";

impl Transaction {
    /// What the transaction does to the drawer's cash: in minus out.
    pub fn balance(&self) -> Decimal {
        self.amount_in - self.amount_out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "transaction_id": self.transaction_id,
            "cash_drawer_id": self.drawer_id,
            "associate_id": self.associate_id,
            "order_id": self.order_id,
            "transaction_type": self.transaction_type,
            "reason": if self.kind == "non_sale" { self.transaction_type.as_str() } else { self.kind.as_str() },
            "reason_code": self.reason_code,
            "amount_in": money_json(self.amount_in, &self.currency),
            "amount_out": money_json(self.amount_out, &self.currency),
            "amount_balance": money_json(self.balance(), &self.currency),
            "status": self.status,
            "created_at": timestamp(self.created_at),
            "finished_at": self.finished_at.map(timestamp),
        })
    }
}

struct Draft<'a> {
    kind: &'a str,
    transaction_type: &'a str,
    reason_code: Option<&'a str>,
    order_id: Option<&'a str>,
    amount_in: Decimal,
    amount_out: Decimal,
}

async fn insert_draft(tx: &mut Tx, caller: &Caller, drawer: &drawer::Drawer, activation_id: Uuid, d: Draft<'_>) -> DrawerResult<Uuid> {
    let transaction_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO cash_transactions (transaction_id, drawer_id, activation_id, associate_id, kind, transaction_type,
             reason_code, order_id, currency, amount_in, amount_out)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(transaction_id)
    .bind(&drawer.drawer_id)
    .bind(activation_id)
    .bind(caller.associate_id())
    .bind(d.kind)
    .bind(d.transaction_type)
    .bind(d.reason_code)
    .bind(d.order_id)
    .bind(&drawer.currency)
    .bind(d.amount_in)
    .bind(d.amount_out)
    .execute(&mut **tx)
    .await?;
    Ok(transaction_id)
}

/// Starts a sale (`amount` > 0) or a return (`amount` < 0) as a draft.
/// `change = given - amount`; a sale paid short is refused.
pub async fn start_sale(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &Value) -> DrawerResult<Value> {
    let f = Fields::of(body)?;
    let order_id = f.required_text("order_id", 256)?;
    let amount = f.required_money("amount")?;
    let given = f.required_money("given")?;
    let (drawer, activation_id) = lock_usable(tx, caller, drawer_id).await?;
    let amount = amount.in_currency(&drawer.currency, "amount")?;
    let given = given.in_currency(&drawer.currency, "given")?;
    if amount.is_zero() {
        return Err(invalid("amount.value: must not be 0 (positive for a sale, negative for a return)"));
    }
    if given < Decimal::ZERO {
        return Err(invalid("given.value: must be at least 0"));
    }
    if amount > Decimal::ZERO && given < amount {
        return Err(invalid("given.value: less than the sale amount"));
    }
    let change = given - amount;
    let kind = if amount > Decimal::ZERO { "sale" } else { "return" };
    let transaction_id = insert_draft(
        tx,
        caller,
        &drawer,
        activation_id,
        Draft { kind, transaction_type: "sale", reason_code: None, order_id: Some(&order_id), amount_in: given, amount_out: change },
    )
    .await?;
    Ok(json!({"transaction_id": transaction_id, "change": money_json(change, &drawer.currency)}))
}

/// Starts a non-sale transaction of a configured type with one of its reasons;
/// the type's `balance_modification` says whether `amount_in` or `amount_out` applies.
pub async fn start_non_sale(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &Value) -> DrawerResult<Value> {
    let f = Fields::of(body)?;
    let transaction_type = f.choice("transaction_type", &NON_SALE_TYPES)?;
    let reason_code = f.text("reason_code", 128)?;
    let amount_in = f.money("amount_in")?;
    let amount_out = f.money("amount_out")?;
    let (drawer, activation_id) = lock_usable(tx, caller, drawer_id).await?;
    let config = find_type(tx, &transaction_type)
        .await?
        .filter(|t| t.status == "configured")
        .ok_or_else(|| conflict(format!("transaction type {transaction_type} is not configured")))?;
    match &reason_code {
        Some(code) if !config.has_reason(code) => {
            return Err(invalid(format!("reason_code: {code} is not a reason of {transaction_type}")));
        }
        None if config.has_reasons() => return Err(invalid(format!("reason_code: is required for {transaction_type}"))),
        _ => {}
    }
    let cash_in = config.balance_modification.as_deref() == Some("cash_in");
    let (field, money, other, other_field) = if cash_in {
        ("amount_in", amount_in, amount_out, "amount_out")
    } else {
        ("amount_out", amount_out, amount_in, "amount_in")
    };
    if other.is_some() {
        return Err(invalid(format!("{other_field}: {transaction_type} moves cash the other way; send {field}")));
    }
    let value = money.ok_or_else(|| invalid(format!("{field}: is required for {transaction_type}")))?.in_currency(&drawer.currency, field)?;
    if value < Decimal::ZERO {
        return Err(invalid(format!("{field}.value: must be at least 0")));
    }
    let (amount_in, amount_out) = if cash_in { (value, Decimal::ZERO) } else { (Decimal::ZERO, value) };
    let transaction_id = insert_draft(
        tx,
        caller,
        &drawer,
        activation_id,
        Draft { kind: "non_sale", transaction_type: &transaction_type, reason_code: reason_code.as_deref(), order_id: None, amount_in, amount_out },
    )
    .await?;
    Ok(json!({ "transaction_id": transaction_id }))
}

async fn find(db: impl sqlx::PgExecutor<'_>, drawer_id: &str, transaction_id: &str, lock: bool) -> DrawerResult<Transaction> {
    let not_found = || DrawerError::NotFound(format!("no transaction {transaction_id} on cash drawer {drawer_id}"));
    let id = Uuid::parse_str(transaction_id).map_err(|_| not_found())?;
    let sql = format!(
        "SELECT {COLUMNS} FROM cash_transactions WHERE transaction_id = $1 AND drawer_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as(&sql).bind(id).bind(drawer_id).fetch_optional(db).await?.ok_or_else(not_found)
}

pub async fn get(db: &PgPool, caller: &Caller, drawer_id: &str, transaction_id: &str) -> DrawerResult<Value> {
    drawer::get(db, caller, drawer_id).await?;
    Ok(find(db, drawer_id, transaction_id, false).await?.to_json())
}

/// Completes (appending its ledger row) or cancels a draft; a finished
/// transaction cannot be finished again (409).
pub async fn finish(tx: &mut Tx, caller: &Caller, drawer_id: &str, transaction_id: &str, body: &Value) -> DrawerResult<Value> {
    let status = Fields::of(body)?.choice("status", &["completed", "canceled"])?;
    let drawer = drawer::lock(tx, caller, drawer_id).await?;
    let t = find(&mut **tx, drawer_id, transaction_id, true).await?;
    if t.status != "draft" {
        return Err(conflict(format!("transaction {transaction_id} is already {}", t.status)));
    }
    if status == "completed" {
        let activation_id = drawer::require_usable(tx, &drawer).await?;
        if activation_id != t.activation_id {
            return Err(conflict("the drawer was closed since this transaction started; start a new one"));
        }
        let mut head = drawer.head();
        let entry_type = match t.kind.as_str() {
            "non_sale" if t.amount_out > Decimal::ZERO => "non_sale_out",
            "non_sale" => "non_sale_in",
            other => other,
        };
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
                currency: &t.currency,
                amount: t.balance(),
            },
        )
        .await?;
    }
    let finished: Transaction = sqlx::query_as(&format!(
        "UPDATE cash_transactions SET status = $2, finished_at = now() WHERE transaction_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(t.transaction_id)
    .bind(&status)
    .fetch_one(&mut **tx)
    .await?;
    Ok(finished.to_json())
}

/// Records that the drawer was physically opened or closed for a transaction
/// or count of this drawer (404 when there is no such transaction or count).
pub async fn track_activity(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &Value) -> DrawerResult<Value> {
    let f = Fields::of(body)?;
    let occurred_at = f.timestamp("timestamp")?;
    let event = f.choice("event", &["open", "close"])?;
    let correlation = f.choice("correlation", &["transaction", "count"])?;
    let correlation_id = f.required_text("correlation_id", 64)?;
    drawer::get(&mut **tx, caller, drawer_id).await?;
    let not_found = || DrawerError::NotFound(format!("no {correlation} {correlation_id} on cash drawer {drawer_id}"));
    let id = Uuid::parse_str(&correlation_id).map_err(|_| not_found())?;
    let table = if correlation == "transaction" { "cash_transactions WHERE transaction_id" } else { "cash_counts WHERE count_id" };
    let exists: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table} = $1 AND drawer_id = $2)"))
        .bind(id)
        .bind(drawer_id)
        .fetch_one(&mut **tx)
        .await?;
    if !exists {
        return Err(not_found());
    }
    let event_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO cash_drawer_events (event_id, drawer_id, event, correlation, correlation_id, occurred_at, associate_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event_id)
    .bind(drawer_id)
    .bind(&event)
    .bind(&correlation)
    .bind(id)
    .bind(occurred_at)
    .bind(caller.associate_id())
    .execute(&mut **tx)
    .await?;
    Ok(json!({ "event_id": event_id }))
}
