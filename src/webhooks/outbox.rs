//! The outbox: the only writer of `webhook_outbox`. Other modules record
//! their events here, inside their own transaction, so an event commits (or
//! rolls back) with the change that caused it.

use serde_json::Value;
use sqlx::{Postgres, Transaction};

/// An event to record: its type (`validated`, `cashBox_open`, ...) and the
/// payload the body is rendered from (see `webhooks::body`).
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub event_type: &'a str,
    pub payload: Value,
}

/// Records one event; the dispatcher fans it out to the endpoints configured
/// when it runs.
pub async fn record(tx: &mut Transaction<'_, Postgres>, event: NewEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO webhook_outbox (event_type, payload) VALUES ($1, $2)", event.event_type, event.payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records `events` already fanned out: with one delivery per URL of
/// `webhook_urls` (the endpoints configured now, `webhooks::endpoint_urls`),
/// so the dispatcher's fan-out never has to touch them. One statement for
/// the whole batch (the worker records two events per order it creates);
/// the events get their ids in the order given, which is the order each
/// endpoint receives them in.
pub async fn record_fanned_out(
    tx: &mut Transaction<'_, Postgres>,
    events: &[NewEvent<'_>],
    webhook_urls: &[String],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let types: Vec<&str> = events.iter().map(|e| e.event_type).collect();
    let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
    sqlx::query!(
        "WITH events AS (
             INSERT INTO webhook_outbox (event_type, payload, fanned_out_at)
             SELECT e.event_type, e.payload, now()
             FROM UNNEST($1::text[], $2::jsonb[]) WITH ORDINALITY AS e(event_type, payload, n)
             ORDER BY e.n
             RETURNING id)
         INSERT INTO webhook_deliveries (event_id, url, created_at, next_attempt_at)
         SELECT events.id, url, now(), now() FROM events CROSS JOIN UNNEST($3::text[]) AS url",
        &types as &[&str],
        &payloads as &[&Value],
        webhook_urls,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
