//! Accepting a payment: the durable record written before any till hears
//! "paid", its idempotency, and the completion job that turns it into an order.

mod accept;
mod pending;
pub mod promotions;
mod writer;

pub use accept::{accept, replayed, Offer, Refusal};
pub use pending::{claim, due_again, Claimed};
pub use writer::PaymentWriter;

use crate::context::AppContext;
use redis::AsyncCommands;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

/// Which hook accepted the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CashRegister,
    Ivr,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CashRegister => "cash_register",
            Source::Ivr => "ivr",
        }
    }
}

/// A payment about to be recorded.
pub struct NewPayment {
    pub order_number: String,
    pub session_id: String,
    pub source: Source,
    pub transaction_id: String,
    pub amount: Decimal,
    pub paid_amount: Decimal,
    pub discounted_amount: Option<Decimal>,
    pub promotions: Value,
    /// The pre-order JSON as rendered in the session (`doc`), stored as is.
    pub pre_order: String,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    /// The success answer, kept so a replay gets exactly the same one.
    pub response: Value,
}

/// What became of an attempt to record a payment, or of a look-up for a replay.
#[derive(Debug)]
pub enum Outcome {
    /// Committed now.
    Recorded,
    /// This very transaction was recorded before: its stored answer.
    Replay(Value),
    /// The order number was paid by another transaction.
    PaidByAnother,
    /// The checkout session was paid under another order number.
    SessionAlreadyPaid,
    /// No payment exists for the order number.
    Unpaid,
    /// The order number ended unpaid (cancelled, or expired) before this payment.
    Ended,
}

/// Finds whether `order_number` is paid, and by whom.
pub async fn existing(
    ctx: &AppContext,
    order_number: &str,
    source: Source,
    transaction_id: &str,
) -> Result<Outcome, sqlx::Error> {
    let row =
        sqlx::query!("SELECT source, transaction_id, response FROM payments WHERE order_number = $1", order_number)
            .fetch_optional(&ctx.db)
            .await?;
    Ok(match row {
        None => Outcome::Unpaid,
        Some(r) if r.source == source.as_str() && r.transaction_id == transaction_id => Outcome::Replay(r.response),
        Some(_) => Outcome::PaidByAnother,
    })
}

/// Records the payment and answers once it is committed. The unique
/// constraints on the order number and on the session decide races between
/// instances: exactly one insert wins, and every loser learns who won.
/// Concurrent payments are written together (see [`PaymentWriter`]).
pub async fn record(ctx: &AppContext, payment: NewPayment) -> Result<Outcome, sqlx::Error> {
    ctx.payments.record(payment).await
}

/// Puts the order-completion job of `order_number` on the Redis list. If this
/// fails, the sweeper re-enqueues the payment later: nothing is lost.
pub async fn enqueue(ctx: &AppContext, order_number: &str) {
    let mut redis = ctx.redis();
    match redis.lpush::<_, _, i64>(ctx.keys.jobs_complete(), order_number).await {
        Ok(_) => ctx.metrics.jobs.with_label_values(&["queued"]).inc(),
        Err(err) => log::warn!("completion job for {order_number} not queued ({err}); the sweeper will queue it"),
    }
}

/// An accepted payment as the operators' page lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PaymentSummary {
    pub id: i64,
    pub order_number: String,
    /// `cash_register` or `ivr`.
    pub source: String,
    pub transaction_id: String,
    /// What the till said it took, two decimals.
    #[serde(serialize_with = "crate::money::two_places")]
    #[schema(value_type = String, example = "199.98")]
    pub amount: Decimal,
    /// What was owed after promotions, two decimals.
    #[serde(serialize_with = "crate::money::two_places")]
    #[schema(value_type = String, example = "199.98")]
    pub paid_amount: Decimal,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub store_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the worker made its order; null while pending.
    pub order_created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The latest `limit` accepted payments, newest first, for the operators'
/// page, each with when its order was made (read through `orders::read`).
pub async fn recent(db: &sqlx::PgPool, limit: i64) -> Result<Vec<PaymentSummary>, sqlx::Error> {
    let mut payments = sqlx::query_as!(
        PaymentSummary,
        r#"SELECT id, order_number, source, transaction_id, amount, paid_amount, terminal_code, staff_id, store_id,
                  created_at, NULL::timestamptz AS order_created_at -- filled from the orders below
           FROM payments ORDER BY id DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(db)
    .await?;
    let numbers: Vec<&str> = payments.iter().map(|p| p.order_number.as_str()).collect();
    let ordered = crate::orders::read::created_at_by_number(db, &numbers).await?;
    for payment in &mut payments {
        payment.order_created_at = ordered.get(&payment.order_number).copied();
    }
    Ok(payments)
}
