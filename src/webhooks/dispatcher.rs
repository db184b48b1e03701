//! Delivering outbox events to the configured endpoints, at least once.
//!
//! 1. Fan-out: each new outbox event gets one delivery row per endpoint URL
//!    configured at that moment (`ORDER_WEBHOOK_CONF`).
//! 2. Claim: due deliveries are taken with `FOR UPDATE SKIP LOCKED` and their
//!    `next_attempt_at` pushed forward by [`LEASE`], so many dispatchers share
//!    the work and one that dies mid-attempt leaves the delivery due again.
//! 3. Attempt: a signed `POST`, [`ATTEMPT_TIMEOUT`] at most; the attempt is
//!    recorded, then the delivery is finished or rescheduled.
//!
//! Every time comes from the `now` passed in, so tests drive retries without
//! sleeping.

use super::{body, signing};
use crate::context::AppContext;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use tokio_util::sync::CancellationToken;

/// Deliveries are retried for this long after the event was fanned out.
pub const RETRY_WINDOW: Duration = Duration::hours(24);
/// A claimed delivery is due again after this long if its dispatcher died.
/// Longer than a pass can hold it (see [`QUEUE_TIME`]).
pub const LEASE: Duration = Duration::minutes(5);
/// One pass spends at most about this long on one endpoint (plus one
/// attempt); what it could not get to is released for the next pass.
const QUEUE_TIME: std::time::Duration = std::time::Duration::from_secs(30);
/// The delay before the first retry; it doubles with each failure…
const FIRST_RETRY: Duration = Duration::seconds(10);
/// …up to this.
const LONGEST_RETRY: Duration = Duration::hours(2);
/// One attempt, connection included, takes at most this long.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often the background loop looks for due deliveries.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
const BATCH: i64 = 50;
const SNIPPET_BYTES: usize = 512;

/// What one [`deliver_due`] pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRun {
    pub attempted: usize,
    pub delivered: usize,
}

/// One claimed delivery.
#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: i64,
    event_id: i64,
    url: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    event_type: String,
    payload: Value,
}

/// How one delivery went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// The endpoint answered, not with success.
    Refused,
    /// No answer (connection failed, timed out): the endpoint's other
    /// deliveries in this pass are released rather than waited on.
    Unreachable,
}

/// The outcome of one HTTP attempt.
#[derive(Debug, Default)]
struct Attempt {
    status: Option<u16>,
    latency_ms: i32,
    error: Option<String>,
    snippet: Option<String>,
    retry_after: Option<Duration>,
}

/// The stable `webhook-id` of an event: the same on every retry.
pub fn message_id(event_id: i64) -> String {
    format!("msg_{event_id}")
}

/// The wait before retry number `failures` (1 = after the first failure):
/// exponential, capped, with ±25 % jitter (`jitter` in `[0, 1)`) so that
/// receivers coming back up are not hit by every dispatcher at once.
pub fn backoff(failures: i32, jitter: f64) -> Duration {
    let doublings = failures.clamp(1, 20) - 1;
    let base = (FIRST_RETRY * 2i32.pow(doublings as u32)).min(LONGEST_RETRY);
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::milliseconds((base.num_milliseconds() as f64 * factor) as i64)
}

/// The `Retry-After` header: delay seconds or an HTTP date.
fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(Duration::seconds(seconds.clamp(0, RETRY_WINDOW.num_seconds())));
    }
    DateTime::parse_from_rfc2822(value).ok().map(|at| (at.with_timezone(&Utc) - now).max(Duration::zero()))
}

fn client() -> anyhow::Result<&'static reqwest::Client> {
    // One connection pool per process; the client holds no per-app state.
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let built = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cashdesk-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("failed to build the webhook HTTP client")?;
    Ok(CLIENT.get_or_init(|| built))
}

/// Fans out new outbox events, then attempts every delivery due at `now`.
pub async fn deliver_due(ctx: &AppContext, now: DateTime<Utc>) -> anyhow::Result<DeliveryRun> {
    fan_out(ctx, now).await?;
    let mut run = DeliveryRun::default();
    loop {
        let mut claimed = claim(ctx, now).await?;
        if claimed.is_empty() {
            return Ok(run);
        }
        let full_batch = claimed.len() as i64 == BATCH;
        claimed.sort_by_key(|c| (c.event_id, c.id));
        // Endpoints are served concurrently; each gets its events in order.
        let mut by_url: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
        for c in claimed {
            by_url.entry(c.url.clone()).or_default().push(c);
        }
        let results = futures_util::future::join_all(by_url.into_values().map(|queue| async move {
            let mut done = DeliveryRun::default();
            let started = std::time::Instant::now();
            let mut queue = queue.into_iter();
            for delivery in queue.by_ref() {
                done.attempted += 1;
                match deliver_one(ctx, &delivery, now).await {
                    Ok(Outcome::Delivered) => done.delivered += 1,
                    Ok(Outcome::Refused) => {}
                    Ok(Outcome::Unreachable) => break,
                    Err(err) => log::warn!("webhook delivery {} stays due after its lease: {err:#}", delivery.id),
                }
                if started.elapsed() > QUEUE_TIME {
                    break;
                }
            }
            let rest: Vec<i64> = queue.map(|d| d.id).collect();
            if let Err(err) = release(ctx, &rest, now).await {
                log::warn!("{} webhook deliveries stay due after their lease: {err:#}", rest.len());
            }
            done
        }))
        .await;
        for r in results {
            run.attempted += r.attempted;
            run.delivered += r.delivered;
        }
        if !full_batch {
            return Ok(run);
        }
    }
}

/// Creates the deliveries of outbox events not fanned out yet. Events that
/// arrive while no endpoint is configured are marked and not delivered.
/// (Order events skip this step: `orders::insert_all` writes them fanned out,
/// with their deliveries, in the order's own statement.)
async fn fan_out(ctx: &AppContext, now: DateTime<Utc>) -> anyhow::Result<()> {
    let urls = super::endpoint_urls(ctx);
    loop {
        let mut tx = ctx.db.begin().await.context("failed to begin")?;
        let ids: Vec<i64> = sqlx::query_scalar!(
            "UPDATE webhook_outbox SET fanned_out_at = $1
             WHERE id IN (SELECT id FROM webhook_outbox WHERE fanned_out_at IS NULL
                          ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
             RETURNING id",
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .context("failed to take new outbox events")?;
        if !ids.is_empty() && !urls.is_empty() {
            sqlx::query!(
                "INSERT INTO webhook_deliveries (event_id, url, created_at, next_attempt_at)
                 SELECT e, u, $3, $3 FROM unnest($1::bigint[]) AS e CROSS JOIN unnest($2::text[]) AS u
                 ON CONFLICT (event_id, url) DO NOTHING",
                &ids[..],
                &urls[..],
                now,
            )
            .execute(&mut *tx)
            .await
            .context("failed to create deliveries")?;
        }
        tx.commit().await.context("failed to commit the fan-out")?;
        if ids.len() < 1000 {
            return Ok(());
        }
    }
}

/// Gives claimed deliveries back without an attempt, due just after `now`
/// (so not again in the same pass).
async fn release(ctx: &AppContext, ids: &[i64], now: DateTime<Utc>) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = ANY($1) AND state = 'pending'",
        ids,
        now + Duration::seconds(1),
    )
    .execute(&ctx.db)
    .await
    .context("failed to release deliveries")?;
    Ok(())
}

async fn claim(ctx: &AppContext, now: DateTime<Utc>) -> anyhow::Result<Vec<Claimed>> {
    sqlx::query_as!(
        Claimed,
        "UPDATE webhook_deliveries d SET next_attempt_at = $2
         FROM webhook_outbox o
         WHERE o.id = d.event_id
           AND d.id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                        ORDER BY next_attempt_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.event_id, d.url, d.attempts, d.created_at, o.event_type, o.payload",
        now,
        now + LEASE,
        BATCH,
    )
    .fetch_all(&ctx.db)
    .await
    .context("failed to claim due deliveries")
}

/// Attempts `delivery` and records the outcome.
async fn deliver_one(ctx: &AppContext, delivery: &Claimed, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
    let secrets: Vec<String> = ctx
        .settings
        .snapshot()
        .webhook_endpoints
        .iter()
        .filter(|e| e.url == delivery.url)
        .map(|e| e.secret.clone())
        .collect();
    if secrets.is_empty() {
        finish(ctx, delivery.id, "endpoint_removed", now, Some("endpoint no longer configured")).await?;
        return Ok(Outcome::Refused);
    }
    let (attempt, sent) = match body::render(ctx, &delivery.event_type, &delivery.payload).await {
        Ok(body) => (post(delivery, &secrets, body, now).await, true),
        Err(err) => (Attempt { error: Some(format!("cannot render the event: {err:#}")), ..Attempt::default() }, false),
    };
    let delivered = attempt.status.is_some_and(|s| (200..300).contains(&s));
    let failures = delivery.attempts + 1;
    let deadline = delivery.created_at + RETRY_WINDOW;
    let (state, next) = if delivered {
        ("delivered", now)
    } else if attempt.status == Some(410) {
        ("gone", now)
    } else {
        let wait = attempt
            .retry_after
            .unwrap_or_else(|| backoff(failures, rand::thread_rng().gen()))
            .max(Duration::seconds(1));
        match now + wait {
            next if next <= deadline => ("pending", next),
            // One last try at the end of the window, then give up.
            _ if now < deadline => ("pending", deadline),
            _ => ("expired", now),
        }
    };
    let mut tx = ctx.db.begin().await.context("failed to begin")?;
    sqlx::query!(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, error, response_snippet)
         VALUES ($1, $2, $3, $4, $5, $6)",
        delivery.id,
        now,
        attempt.status.map(i32::from),
        attempt.latency_ms,
        attempt.error,
        attempt.snippet,
    )
    .execute(&mut *tx)
    .await
    .context("failed to record the attempt")?;
    let last_error =
        attempt.error.clone().or_else(|| attempt.status.filter(|_| !delivered).map(|s| format!("HTTP {s}")));
    sqlx::query!(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, state = $2, next_attempt_at = $3,
             finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4::timestamptz END, last_error = $5
         WHERE id = $1",
        delivery.id,
        state,
        next,
        now,
        last_error,
    )
    .execute(&mut *tx)
    .await
    .context("failed to update the delivery")?;
    tx.commit().await.context("failed to commit the attempt")?;
    if delivered {
        return Ok(Outcome::Delivered);
    }
    log::info!("webhook {} to {}: attempt {failures} failed, now {state}", message_id(delivery.event_id), delivery.url);
    Ok(if sent && attempt.status.is_none() { Outcome::Unreachable } else { Outcome::Refused })
}

async fn finish(ctx: &AppContext, id: i64, state: &str, now: DateTime<Utc>, why: Option<&str>) -> anyhow::Result<()> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET state = $2, finished_at = $3, last_error = $4 WHERE id = $1",
        id,
        state,
        now,
        why,
    )
    .execute(&ctx.db)
    .await
    .context("failed to finish the delivery")?;
    Ok(())
}

async fn post(delivery: &Claimed, secrets: &[String], body: String, now: DateTime<Utc>) -> Attempt {
    let msg_id = message_id(delivery.event_id);
    let timestamp = now.timestamp();
    let signature = signing::signature_header(secrets, &msg_id, timestamp, body.as_bytes());
    let client = match client() {
        Ok(c) => c,
        Err(err) => return Attempt { error: Some(format!("{err:#}")), ..Attempt::default() },
    };
    let started = std::time::Instant::now();
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let mut attempt = Attempt::default();
    match sent {
        Ok(mut res) => {
            attempt.status = Some(res.status().as_u16());
            attempt.retry_after =
                res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, now));
            let mut snippet = Vec::new();
            while snippet.len() < SNIPPET_BYTES {
                match res.chunk().await {
                    Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            snippet.truncate(SNIPPET_BYTES);
            attempt.snippet = (!snippet.is_empty()).then(|| String::from_utf8_lossy(&snippet).into_owned());
        }
        // The error's Display names the kind (timeout, connect) without secrets.
        Err(err) => attempt.error = Some(describe(&err)),
    }
    attempt.latency_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    attempt
}

fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The dispatcher loop of `serve` and `worker`: a pass every second until `stop`.
pub async fn run(ctx: AppContext, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! { _ = stop.cancelled() => return, _ = ticker.tick() => {} }
        // A pass in progress finishes its attempts before the loop stops.
        if let Err(err) = deliver_due(&ctx, Utc::now()).await {
            log::warn!("webhook dispatcher: {err:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff(1, 0.5), Duration::seconds(10));
        assert_eq!(backoff(2, 0.5), Duration::seconds(20));
        assert_eq!(backoff(1, 0.0), Duration::milliseconds(7500));
        assert_eq!(backoff(1, 0.999_999).num_seconds(), 12);
        assert_eq!(backoff(30, 0.5), LONGEST_RETRY);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::seconds(30)));
        assert_eq!(retry_after("soon", now), None);
    }
}
