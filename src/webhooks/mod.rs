//! Webhooks (SPEC §9): events written to the Postgres outbox in the
//! transaction that causes them, delivered at least once to the endpoints of
//! `ORDER_WEBHOOK_CONF`, signed per Standard Webhooks, retried with backoff
//! for 24 h, every attempt kept for the operators.

pub mod body;
pub mod dispatcher;
pub mod outbox;
pub mod signing;

pub use dispatcher::{deliver_due, message_id, run, DeliveryRun};

use crate::context::AppContext;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// The distinct endpoint URLs of `ORDER_WEBHOOK_CONF` as configured now,
/// sorted: an event gets one delivery per URL.
pub fn endpoint_urls(ctx: &AppContext) -> Vec<String> {
    let mut urls: Vec<String> = ctx.settings.snapshot().webhook_endpoints.iter().map(|e| e.url.clone()).collect();
    urls.sort();
    urls.dedup();
    urls
}

/// A delivery as the operators see it, with its attempts. `state`:
/// `pending`, `delivered`, `gone` (410), `expired` (24 h passed), `endpoint_removed`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub url: String,
    pub state: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub attempt_log: Vec<AttemptView>,
}

/// One recorded attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    #[serde(skip)]
    pub delivery_id: i64,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
}

/// The latest `limit` deliveries, newest first, each with its attempts.
pub async fn recent_deliveries(db: &PgPool, limit: i64) -> Result<Vec<DeliveryView>, sqlx::Error> {
    let mut deliveries: Vec<DeliveryView> = sqlx::query!(
        "SELECT d.id, d.event_id, o.event_type, d.url, d.state, d.attempts, d.created_at, d.next_attempt_at,
                d.finished_at, d.last_error
         FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.event_id
         ORDER BY d.id DESC LIMIT $1",
        limit,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|d| DeliveryView {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        url: d.url,
        state: d.state,
        attempts: d.attempts,
        created_at: d.created_at,
        next_attempt_at: d.next_attempt_at,
        finished_at: d.finished_at,
        last_error: d.last_error,
        attempt_log: Vec::new(),
    })
    .collect();
    let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
    let attempts = sqlx::query_as!(
        AttemptView,
        "SELECT delivery_id, attempted_at, status_code, latency_ms, error, response_snippet
         FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY id",
        &ids[..],
    )
    .fetch_all(db)
    .await?;
    for a in attempts {
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == a.delivery_id) {
            d.attempt_log.push(a);
        }
    }
    Ok(deliveries)
}

/// Why a delivery was not replayed.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplayRefused {
    NotFound,
    AlreadyDelivered,
    /// Its URL is no longer in `ORDER_WEBHOOK_CONF`: there is no secret to sign with.
    EndpointRemoved(String),
}

/// Makes a delivery that failed (or is waiting for a retry) due now, for the
/// operators' "replay" button. The next dispatcher pass attempts it; a failure
/// is retried only within the delivery's original 24 h window, so a replay of
/// an expired delivery is one more attempt. Delivery stays at least once: a
/// replay racing an attempt in progress may deliver twice (same `webhook-id`).
pub async fn replay(
    db: &PgPool,
    configured_urls: &[String],
    id: i64,
) -> Result<Result<(), ReplayRefused>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row = sqlx::query!("SELECT url, state FROM webhook_deliveries WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?;
    let refused = match &row {
        None => Some(ReplayRefused::NotFound),
        Some(r) if r.state == "delivered" => Some(ReplayRefused::AlreadyDelivered),
        Some(r) if !configured_urls.contains(&r.url) => Some(ReplayRefused::EndpointRemoved(r.url.clone())),
        Some(_) => None,
    };
    if let Some(refused) = refused {
        return Ok(Err(refused));
    }
    sqlx::query!(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), finished_at = NULL WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}
