//! Writing accepted payments in batches: group commit in the service.
//!
//! Each payment row carries its pre-order snapshot, so inserting one costs
//! Postgres a few times what a small row does, and a commit per row caps a
//! busy instance well below what the database can take. Handlers hand their
//! payment to a few writer tasks; each writer takes whatever is queued (up to
//! [`MAX_BATCH`], never waiting for more) and inserts it with one statement,
//! one commit. Every handler still hears its outcome only after that commit,
//! so "paid" is never said early, and an idle instance writes a lone payment
//! at once. A batch the database refuses is written again row by row, so one
//! bad payment fails nobody else (a batch of one decides its outcome the same way). Writers run apart from the requests: a till
//! that hangs up mid-write cannot cancel the commit of the others.

use super::{NewPayment, Outcome};
use crate::order_number::OrderNumber;
use prometheus::Histogram;
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Payments one statement writes at most.
pub const MAX_BATCH: usize = 64;
/// Payments waiting for a writer at most; beyond, handlers wait to queue.
const QUEUE: usize = 1024;

struct Pending {
    payment: NewPayment,
    answer: oneshot::Sender<Result<Outcome, sqlx::Error>>,
}

/// The handle handlers record payments through (cheap to clone).
#[derive(Clone)]
pub struct PaymentWriter {
    queue: mpsc::Sender<Pending>,
}

impl PaymentWriter {
    /// Starts `writers` writer tasks on the current runtime; they end when the
    /// last handle is dropped.
    pub fn start(db: PgPool, writers: usize, batch_sizes: Histogram) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(db.clone(), Arc::clone(&receiver), batch_sizes.clone()));
        }
        PaymentWriter { queue }
    }

    /// Records `payment` and answers once it is committed (or refused).
    pub async fn record(&self, payment: NewPayment) -> Result<Outcome, sqlx::Error> {
        let (answer, outcome) = oneshot::channel();
        self.queue.send(Pending { payment, answer }).await.map_err(|_| sqlx::Error::PoolClosed)?;
        outcome.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

async fn write_batches(db: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>, batch_sizes: Histogram) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        batch_sizes.observe(batch.len() as f64);
        let payments: Vec<&NewPayment> = batch.iter().map(|p| &p.payment).collect();
        match insert_batch(&db, &payments).await {
            Ok(outcomes) => {
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = pending.answer.send(Ok(outcome));
                }
            }
            Err(err) if batch.len() > 1 => {
                log::warn!("{} payments not written together ({err}); writing them one by one", batch.len());
                for pending in batch {
                    let outcome = insert_batch(&db, &[&pending.payment]).await.map(|mut one| one.remove(0));
                    let _ = pending.answer.send(outcome);
                }
            }
            Err(err) => {
                let _ = batch.into_iter().next().map(|p| p.answer.send(Err(err)));
            }
        }
    }
}

/// Inserts `payments` with one statement; answers each one's outcome, in order.
async fn insert_batch(db: &PgPool, payments: &[&NewPayment]) -> Result<Vec<Outcome>, sqlx::Error> {
    // Rows that meet an existing order number or session are skipped, not
    // refused: the unique constraints still decide every race.
    // Each new payment waits for its order in `pending_orders`, written in
    // the same statement.
    let order_number: Vec<&str> = payments.iter().map(|p| p.order_number.as_str()).collect();
    let session_id: Vec<&str> = payments.iter().map(|p| p.session_id.as_str()).collect();
    let source: Vec<&str> = payments.iter().map(|p| p.source.as_str()).collect();
    let transaction_id: Vec<&str> = payments.iter().map(|p| p.transaction_id.as_str()).collect();
    let amount: Vec<Decimal> = payments.iter().map(|p| p.amount).collect();
    let paid_amount: Vec<Decimal> = payments.iter().map(|p| p.paid_amount).collect();
    let discounted_amount: Vec<Option<Decimal>> = payments.iter().map(|p| p.discounted_amount).collect();
    let promotions: Vec<String> = payments.iter().map(|p| p.promotions.to_string()).collect();
    let pre_order: Vec<&str> = payments.iter().map(|p| p.pre_order.as_str()).collect();
    let terminal_code: Vec<Option<&str>> = payments.iter().map(|p| p.terminal_code.as_deref()).collect();
    let staff_id: Vec<Option<i64>> = payments.iter().map(|p| p.staff_id).collect();
    let staff_email: Vec<Option<&str>> = payments.iter().map(|p| p.staff_email.as_deref()).collect();
    let store_id: Vec<Option<&str>> = payments.iter().map(|p| p.store_id.as_deref()).collect();
    let response: Vec<String> = payments.iter().map(|p| p.response.to_string()).collect();
    // The issued number each payment is for (`issued_order_numbers`, owned by
    // `order_numbers`): a payment is written only while its number is still
    // issued, under the row's lock, so a cancel or the expiry sweep that
    // ended the number first wins, and one that comes later finds it paid.
    // Numbers without a row (issued before the table) are paid as before.
    let sequence: Vec<Option<i64>> =
        payments.iter().map(|p| OrderNumber::parse(&p.order_number).map(|n| n.sequence())).collect();
    // `as` marks the arrays of borrowed or optional elements for the macro,
    // which cannot type-check those itself; the casts fix their types.
    let inserted = sqlx::query!(
        r#"WITH offered AS (
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[],
                                  $7::numeric[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::text[],
                                  $13::text[], $14::text[], $15::int8[])
                  AS p(o, s, src, t, a, pa, da, pr, po, tc, si, se, st, r, seq)),
         issued AS (
             SELECT i.sequence, i.status FROM issued_order_numbers i
             WHERE i.sequence IN (SELECT seq FROM offered)
             ORDER BY i.sequence
             FOR UPDATE),
         paid AS (
             INSERT INTO payments (order_number, session_id, source, transaction_id, amount, paid_amount,
                 discounted_amount, promotions, pre_order, terminal_code, staff_id, staff_email, store_id, response)
             SELECT o, s, src, t, a, pa, da, pr::json, po::json, tc, si, se, st, r::json
             FROM offered
             WHERE NOT EXISTS (SELECT 1 FROM issued WHERE issued.sequence = offered.seq AND issued.status <> 'issued')
             ON CONFLICT DO NOTHING
             RETURNING id, order_number, session_id, source, transaction_id),
         pending AS (INSERT INTO pending_orders (payment_id) SELECT id FROM paid),
         settled AS (
             -- The paid number, and the other live numbers of its session, whose basket is sold now.
             UPDATE issued_order_numbers i
             SET status = CASE WHEN i.sequence IS NOT DISTINCT FROM won.seq THEN 'paid' ELSE 'superseded' END
             FROM (SELECT DISTINCT paid.session_id, offered.seq
                   FROM paid JOIN offered ON offered.o = paid.order_number AND offered.src = paid.source
                                          AND offered.t = paid.transaction_id) AS won
             WHERE i.session_id = won.session_id AND i.status = 'issued')
         SELECT order_number AS "order_number!", source AS "source!", transaction_id AS "transaction_id!" FROM paid"#,
        &order_number as &[&str],
        &session_id as &[&str],
        &source as &[&str],
        &transaction_id as &[&str],
        &amount[..],
        &paid_amount[..],
        &discounted_amount as &[Option<Decimal>],
        &promotions[..],
        &pre_order as &[&str],
        &terminal_code as &[Option<&str>],
        &staff_id as &[Option<i64>],
        &staff_email as &[Option<&str>],
        &store_id as &[Option<&str>],
        &response[..],
        &sequence as &[Option<i64>],
    )
    .fetch_all(db)
    .await?;

    // Which of the batch won its row; each winner claimed once (a till that
    // sent the same payment twice at once gets one Recorded, one Replay).
    let mut winners: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for row in &inserted {
        *winners.entry((&row.order_number, &row.source, &row.transaction_id)).or_default() += 1;
    }
    let mut outcomes = Vec::with_capacity(payments.len());
    let mut losers = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        match winners.get_mut(&(p.order_number.as_str(), p.source.as_str(), p.transaction_id.as_str())) {
            Some(left) if *left > 0 => {
                *left -= 1;
                outcomes.push(Outcome::Recorded);
            }
            _ => {
                outcomes.push(Outcome::Unpaid);
                losers.push(i);
            }
        }
    }
    if losers.is_empty() {
        return Ok(outcomes);
    }
    // The others learn who holds their order number; none means their session
    // was paid under another number.
    let numbers: Vec<&str> = losers.iter().map(|&i| payments[i].order_number.as_str()).collect();
    let holders = sqlx::query!(
        "SELECT order_number, source, transaction_id, response FROM payments WHERE order_number = ANY($1)",
        &numbers as &[&str],
    )
    .fetch_all(db)
    .await?;
    // Those without a holder: their number ended (cancelled or expired)
    // first, or their session was paid under another number.
    let unheld: Vec<i64> = losers
        .iter()
        .filter(|&&i| !holders.iter().any(|h| h.order_number == payments[i].order_number))
        .filter_map(|&i| sequence[i])
        .collect();
    let ended = if unheld.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar!(
            "SELECT sequence FROM issued_order_numbers WHERE sequence = ANY($1) AND status IN ('cancelled', 'expired')",
            &unheld[..],
        )
        .fetch_all(db)
        .await?
    };
    for i in losers {
        let p = payments[i];
        outcomes[i] = match holders.iter().find(|h| h.order_number == p.order_number) {
            Some(h) if h.source == p.source.as_str() && h.transaction_id == p.transaction_id => {
                Outcome::Replay(h.response.clone())
            }
            Some(_) => Outcome::PaidByAnother,
            None if sequence[i].is_some_and(|s| ended.contains(&s)) => Outcome::Ended,
            None => Outcome::SessionAlreadyPaid,
        };
    }
    Ok(outcomes)
}
