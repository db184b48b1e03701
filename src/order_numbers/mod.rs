//! Issued order numbers (SPEC §14): the Postgres record of every number
//! issued to a checkout session, with its expiry and the basket it was
//! issued for, and how a number ends: paid, cancelled by the customer, or
//! expired unpaid. Owns the table `issued_order_numbers`.
//!
//! The row is the arbiter of every race on a number. A payment (the payment
//! writer's statement, `payments::writer`), a cancel and the expiry sweep
//! each change `status` only while it is `issued`, under the row lock, so
//! exactly one of them wins; the cancel and the sweep queue their webhook
//! in the same transaction, so a number that ends unpaid gets exactly one
//! notice, and a paid one none. Redis holds the fast mapping the hooks read
//! (`checkout::store`); a cancel removes it after its commit, and a payment
//! that still finds a cancelled number there is refused by the row.

pub mod render;
pub(crate) mod routes;

pub use routes::routes;

use crate::checkout::Session;
use crate::context::AppContext;
use crate::order_number::{Bucket, OrderNumber};
use crate::webhooks::body::amount;
use crate::webhooks::outbox::{self, NewEvent};
use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Numbers one expiry sweep ends at most.
pub const EXPIRY_BATCH: i64 = 500;
/// How long the record of a number stays after its mapping ended (paid,
/// cancelled, expired, superseded or void alike): long enough for support
/// to answer "what happened to this number?", far longer than any payment
/// retry or sequence rewind after a failover reaches back.
pub const KEEP_ENDED_DAYS: i32 = 30;
/// The lowest sequence values one retention pass looks at.
pub const FORGET_BATCH: i64 = 500;

/// The webhook of a number cancelled by its customer.
pub const CANCELLED_EVENT: &str = "order_number_cancelled";
/// The webhook of a number that expired unpaid.
pub const EXPIRED_EVENT: &str = "order_number_expired";

/// What a number's pre-order was when it was issued: what the notice of a
/// number that ends unpaid tells the shop.
pub struct Snapshot {
    pub total_amount: Decimal,
    pub currency: String,
    /// The basket lines: `sku`, `quantity`, `price` (the line's price, an exact JSON number).
    pub items: Value,
}

impl Snapshot {
    pub fn of(session: &Session) -> Snapshot {
        let items = session
            .lines
            .iter()
            .map(|l| json!({"sku": l.product.sku, "quantity": l.quantity, "price": amount(l.price())}))
            .collect();
        Snapshot { total_amount: session.total_amount(), currency: session.currency().to_string(), items }
    }
}

/// A number drawn and recorded.
pub struct Drawn {
    pub number: OrderNumber,
    /// When its mapping ends (whole seconds).
    pub expires_at: DateTime<Utc>,
}

/// Draws the next number of the durable sequence for `session_id` and
/// records it, live for `ttl_seconds` (or `void` when it will not be mapped),
/// in one statement. `None` when the sequence drew a value recorded already
/// (it went back, after a failover to a standby that had not seen the latest
/// draws): the caller draws again.
pub async fn draw(
    db: &sqlx::PgPool,
    bucket: Bucket,
    session_id: &str,
    ttl_seconds: i64,
    mapped: bool,
    snapshot: &Snapshot,
) -> Result<Option<Drawn>, sqlx::Error> {
    let status = if mapped { "issued" } else { "void" };
    let row = sqlx::query!(
        r#"INSERT INTO issued_order_numbers (sequence, bucket, session_id, status, expires_at, ended_at,
                                            total_amount, currency, items)
           VALUES (nextval('order_number_seq'), $1, $2, $3, date_trunc('second', now()) + $4::int8 * interval '1 second',
                   NULL, $5, $6, $7)
           ON CONFLICT (sequence) DO NOTHING
           RETURNING sequence, expires_at"#,
        i16::try_from(bucket.index()).unwrap_or_default(),
        session_id,
        status,
        ttl_seconds,
        snapshot.total_amount,
        snapshot.currency,
        snapshot.items,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Drawn { number: OrderNumber::issue(r.sequence, bucket), expires_at: r.expires_at }))
}

/// Marks a drawn number that could not be mapped (its session went, or the
/// number was live already) as never issued: it gets no notice.
pub async fn void(db: &sqlx::PgPool, number: &OrderNumber) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE issued_order_numbers SET status = 'void' WHERE sequence = $1 AND bucket = $2 AND status = 'issued'",
        number.sequence(),
        i16::try_from(number.bucket().index()).unwrap_or_default(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// When `number` stops being live, if it is a live number of `session_id`.
pub async fn live_until(
    db: &sqlx::PgPool,
    number: &OrderNumber,
    session_id: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT expires_at FROM issued_order_numbers
         WHERE sequence = $1 AND bucket = $2 AND session_id = $3 AND status = 'issued' AND expires_at > now()",
        number.sequence(),
        i16::try_from(number.bucket().index()).unwrap_or_default(),
        session_id,
    )
    .fetch_optional(db)
    .await
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// Cancelled now; its notice is queued.
    Cancelled,
    /// Paid: it cannot be cancelled.
    Paid,
    /// Not a live number of the session.
    NotFound,
}

/// Why a cancel could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Cancels a live number of `session_id`: the row turns `cancelled` and its
/// notice is queued in one transaction, then the Redis mapping goes, so every
/// hook answers not found. A payment that commits first wins (`Paid`); one
/// that comes later is refused by the row.
pub async fn cancel(ctx: &AppContext, number: &OrderNumber, session_id: &str) -> Result<Cancelled, CancelError> {
    let bucket = i16::try_from(number.bucket().index()).unwrap_or_default();
    let mut tx = ctx.db.begin().await?;
    let ended = sqlx::query!(
        r#"UPDATE issued_order_numbers SET status = 'cancelled', ended_at = now()
           WHERE sequence = $1 AND bucket = $2 AND session_id = $3 AND status = 'issued' AND expires_at > now()
           RETURNING ended_at AS "ended_at!", total_amount, items"#,
        number.sequence(),
        bucket,
        session_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(ended) = ended else {
        drop(tx);
        let status = sqlx::query_scalar!(
            "SELECT status FROM issued_order_numbers WHERE sequence = $1 AND bucket = $2 AND session_id = $3",
            number.sequence(),
            bucket,
            session_id,
        )
        .fetch_optional(&ctx.db)
        .await?;
        return Ok(match status.as_deref() {
            Some("paid") => Cancelled::Paid,
            Some("cancelled") => {
                // Perhaps a cancel whose mapping removal failed after its commit: drop it now.
                crate::checkout::store::drop_order_number(ctx, number, session_id).await?;
                Cancelled::NotFound
            }
            _ => Cancelled::NotFound,
        });
    };
    let payload = notice(CANCELLED_EVENT, number, ended.ended_at, ended.total_amount, ended.items);
    outbox::record(&mut tx, NewEvent { event_type: CANCELLED_EVENT, payload }).await?;
    tx.commit().await?;
    crate::checkout::store::drop_order_number(ctx, number, session_id).await?;
    Ok(Cancelled::Cancelled)
}

/// Ends every live number whose time is up (up to [`EXPIRY_BATCH`]) and
/// queues its notice, in one transaction. Rows a payment or a cancel holds
/// are skipped (they are decided by whoever holds them; a later sweep
/// finds them if they are still live), so each number ends once, on one
/// worker. Answers how many ended.
pub async fn expire_due(ctx: &AppContext) -> anyhow::Result<usize> {
    let mut tx = ctx.db.begin().await.context("failed to begin")?;
    let ended = sqlx::query!(
        r#"UPDATE issued_order_numbers SET status = 'expired', ended_at = expires_at
           WHERE status = 'issued' AND sequence IN (
               SELECT sequence FROM issued_order_numbers
               WHERE status = 'issued' AND expires_at <= now()
               ORDER BY expires_at LIMIT $1
               FOR UPDATE SKIP LOCKED)
           RETURNING sequence, bucket, ended_at AS "ended_at!", total_amount, items"#,
        EXPIRY_BATCH,
    )
    .fetch_all(&mut *tx)
    .await
    .context("failed to end the expired numbers")?;
    for row in &ended {
        let Some(bucket) = Bucket::new(u32::try_from(row.bucket).unwrap_or_default()) else { continue };
        let number = OrderNumber::issue(row.sequence, bucket);
        let payload = notice(EXPIRED_EVENT, &number, row.ended_at, row.total_amount, row.items.clone());
        outbox::record(&mut tx, NewEvent { event_type: EXPIRED_EVENT, payload }).await.context("failed to queue")?;
    }
    tx.commit().await.context("failed to commit the expiry")?;
    if !ended.is_empty() {
        log::info!("{} order numbers expired unpaid; notices queued", ended.len());
    }
    Ok(ended.len())
}

/// Deletes the records of numbers that ended more than [`KEEP_ENDED_DAYS`]
/// ago, among the [`FORGET_BATCH`] lowest sequence values; answers how many.
/// Numbers are drawn in time order, so the oldest records are the lowest
/// sequences, and each pass reads a short range of the primary key rather
/// than the table. A live number is never deleted, however old: the expiry
/// sweep ends it (and queues its notice) first.
pub async fn forget_ended(db: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM issued_order_numbers
         WHERE sequence < (SELECT min(sequence) + $1 FROM issued_order_numbers)
           AND status <> 'issued' AND expires_at < now() - make_interval(days => $2)",
        FORGET_BATCH,
        KEEP_ENDED_DAYS,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// The SPEC §14 body of a number that ended unpaid.
fn notice(event_type: &str, number: &OrderNumber, ended_at: DateTime<Utc>, total: Decimal, items: Value) -> Value {
    json!({
        "type": event_type,
        "orderID": number.as_str(),
        "expiredAt": ended_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "price": amount(total),
        "items": items,
    })
}
