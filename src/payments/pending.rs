//! Payments waiting for their order (`pending_orders`, written with the
//! payment by the writer): claimed by the worker that creates the order, and
//! found again by the sweeper when their job was lost.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

/// A payment as the worker reads it to build its order.
#[derive(Debug)]
pub struct Claimed {
    pub id: i64,
    pub order_number: String,
    pub session_id: String,
    pub source: String,
    pub transaction_id: String,
    pub paid_amount: Decimal,
    /// The applied POS promotions, as stored (JSON text).
    pub promotions: String,
    /// The pre-order snapshot taken when the payment was accepted, as
    /// rendered (JSON text).
    pub pre_order: String,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Still waiting for its order (claimed by this transaction).
    pub pending: bool,
}

/// Reads the payments of `order_numbers`, claiming those still waiting for
/// their order: claiming deletes the pending row, so the claim commits with
/// the orders `tx` writes. The row locks make concurrent deliveries of one
/// job take turns (the later one finds no row and creates nothing); taking
/// them in id order keeps two batches from deadlocking. Payments already
/// ordered are read too (`pending` false), so that their pre-orders are
/// dropped from Redis again if that failed before.
pub async fn claim(tx: &mut Transaction<'_, Postgres>, order_numbers: &[&str]) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"WITH claimed AS (
             DELETE FROM pending_orders WHERE payment_id IN (
                 SELECT payment_id FROM pending_orders
                 WHERE payment_id IN (SELECT id FROM payments WHERE order_number = ANY($1))
                 ORDER BY payment_id FOR UPDATE)
             RETURNING payment_id)
         SELECT p.id, p.order_number, p.session_id, p.source, p.transaction_id, p.paid_amount,
                p.promotions::text AS "promotions!", p.pre_order::text AS "pre_order!", p.terminal_code, p.staff_id,
                p.staff_email, p.store_id, p.created_at, claimed.payment_id IS NOT NULL AS "pending!"
         FROM payments p LEFT JOIN claimed ON claimed.payment_id = p.id
         WHERE p.order_number = ANY($1)"#,
        order_numbers as &[&str],
    )
    .fetch_all(&mut **tx)
    .await
}

/// Marks up to `limit` payments that have waited for their order at least
/// `older_than` since they were last queued as queued now, and answers their
/// order numbers, oldest payment first. Rows another sweeper holds are
/// skipped.
pub async fn due_again(db: &PgPool, older_than: Duration, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "WITH due AS (
             UPDATE pending_orders SET enqueued_at = now()
             WHERE payment_id IN (SELECT payment_id FROM pending_orders
                                  WHERE enqueued_at <= now() - make_interval(secs => $1)
                                  ORDER BY payment_id LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING payment_id)
         SELECT p.order_number FROM payments p JOIN due ON due.payment_id = p.id ORDER BY p.id",
        older_than.as_secs_f64(),
        limit,
    )
    .fetch_all(db)
    .await
}
