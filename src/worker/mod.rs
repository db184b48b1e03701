//! The background worker: turns accepted payments into orders.
//!
//! Jobs are order numbers on the Redis list `jobs:complete`. A job loop moves
//! one at a time into its own processing list (`BLMOVE`), creates the order,
//! and only then removes it, so a loop that dies mid-job leaves the job where
//! the reaper finds it: each loop keeps a lease key alive, and the reaper
//! returns the jobs of loops whose lease expired. The sweeper is the safety
//! net under Redis itself: committed payments without an order are queued
//! again, so even a flushed Redis loses nothing.

use crate::context::AppContext;
use crate::orders::{self, PaymentRow};
use anyhow::Context;
use deadpool_redis::redis::AsyncCommands;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Job loops per worker process.
pub const JOB_LOOPS: usize = 4;
/// A loop whose lease is older than this is taken for dead.
pub const LEASE_SECONDS: u64 = 15;
/// Payments without an order are queued again after this long.
pub const SWEEP_AFTER: Duration = Duration::from_secs(15);
/// How often the reaper and the sweeper run.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(5);

/// Starts the job loops and the housekeeping loop, all stopping on `stop`
/// after the job in hand.
pub fn spawn(ctx: AppContext, stop: CancellationToken) -> Vec<(&'static str, JoinHandle<()>)> {
    let mut handles = Vec::new();
    for _ in 0..JOB_LOOPS {
        handles.push(("completion job loop", tokio::spawn(job_loop(ctx.clone(), stop.clone()))));
    }
    handles.push(("completion housekeeping", tokio::spawn(housekeeping(ctx.clone(), stop.clone()))));
    handles.push(("webhook dispatcher", tokio::spawn(crate::webhooks::run(ctx, stop))));
    handles
}

async fn job_loop(ctx: AppContext, stop: CancellationToken) {
    let worker_id = uuid::Uuid::new_v4().simple().to_string();
    let mut lease_renewed: Option<Instant> = None;
    while !stop.is_cancelled() {
        if lease_renewed.map_or(true, |t| t.elapsed() > Duration::from_secs(LEASE_SECONDS / 3)) {
            match renew_lease(&ctx, &worker_id).await {
                Ok(()) => lease_renewed = Some(Instant::now()),
                Err(err) => {
                    log::warn!("worker {worker_id}: cannot renew lease: {err:#}");
                    tokio::select! { _ = stop.cancelled() => break, _ = tokio::time::sleep(Duration::from_secs(1)) => {} }
                    continue;
                }
            }
        }
        match take_job(&ctx, &worker_id, 1.0).await {
            Ok(Some(order_number)) => finish_job(&ctx, &worker_id, &order_number).await,
            Ok(None) => {}
            Err(err) => {
                log::warn!("worker {worker_id}: cannot take a job: {err:#}");
                // The move may have happened with its answer lost: give back what we hold.
                if let Err(err) = return_jobs(&ctx, &worker_id).await {
                    log::warn!("worker {worker_id}: jobs left for the reaper: {err:#}");
                }
                tokio::select! { _ = stop.cancelled() => break, _ = tokio::time::sleep(Duration::from_secs(1)) => {} }
            }
        }
    }
    if let Err(err) = retire(&ctx, &worker_id).await {
        log::warn!("worker {worker_id}: jobs left for the reaper: {err:#}");
    }
}

async fn renew_lease(ctx: &AppContext, worker_id: &str) -> anyhow::Result<()> {
    let mut conn = ctx.redis_pool.get().await.context("failed to get a Redis connection")?;
    redis::pipe()
        .sadd(ctx.keys.workers(), worker_id)
        .set_ex(ctx.keys.worker_lease(worker_id), 1, LEASE_SECONDS)
        .query_async::<()>(&mut conn)
        .await
        .context("failed to renew the lease")
}

/// Moves the next job into `worker_id`'s processing list, waiting up to
/// `timeout_seconds`. A blocking command, so it uses a pooled connection.
pub async fn take_job(ctx: &AppContext, worker_id: &str, timeout_seconds: f64) -> anyhow::Result<Option<String>> {
    let mut conn = ctx.redis_pool.get().await.context("failed to get a Redis connection")?;
    let job: Option<String> = conn
        .blmove(
            ctx.keys.jobs_complete(),
            ctx.keys.jobs_processing(worker_id),
            redis::Direction::Right,
            redis::Direction::Left,
            timeout_seconds,
        )
        .await
        .context("failed to take a job")?;
    Ok(job)
}

/// Processes a taken job and removes it from the processing list. A job that
/// fails is dropped from the list: its payment still has no order, so the
/// sweeper queues it again after [`SWEEP_AFTER`] (a natural back-off).
async fn finish_job(ctx: &AppContext, worker_id: &str, order_number: &str) {
    match create_order(ctx, order_number).await {
        Ok(_) => ctx.metrics.jobs.with_label_values(&["processed"]).inc(),
        Err(err) => {
            ctx.metrics.jobs.with_label_values(&["retried"]).inc();
            log::error!("order {order_number} not created yet (will retry): {err:#}");
        }
    }
    let mut redis = ctx.redis();
    if let Err(err) = redis.lrem::<_, _, i64>(ctx.keys.jobs_processing(worker_id), 1, order_number).await {
        log::warn!("job {order_number} stays in the processing list of {worker_id}: {err}");
    }
}

/// Gives back what a stopping loop still holds and removes its lease.
async fn retire(ctx: &AppContext, worker_id: &str) -> anyhow::Result<()> {
    return_jobs(ctx, worker_id).await?;
    let mut redis = ctx.redis();
    redis::pipe()
        .del(ctx.keys.worker_lease(worker_id))
        .srem(ctx.keys.workers(), worker_id)
        .query_async::<()>(&mut redis)
        .await?;
    Ok(())
}

async fn return_jobs(ctx: &AppContext, worker_id: &str) -> anyhow::Result<usize> {
    let mut redis = ctx.redis();
    let mut returned = 0;
    loop {
        let job: Option<String> = redis
            .lmove(
                ctx.keys.jobs_processing(worker_id),
                ctx.keys.jobs_complete(),
                redis::Direction::Right,
                redis::Direction::Right,
            )
            .await?;
        if job.is_none() {
            return Ok(returned);
        }
        returned += 1;
    }
}

/// Creates the order of a paid `order_number`, idempotently: a job delivered
/// twice finds the order and changes nothing. Then drops the pre-order from
/// Redis. Answers whether an order was created now.
pub async fn create_order(ctx: &AppContext, order_number: &str) -> anyhow::Result<bool> {
    let mut tx = ctx.db.begin().await.context("failed to begin")?;
    // The row lock makes concurrent deliveries of one job take turns.
    let payment: Option<PaymentRow> = sqlx::query_as(
        "SELECT id, order_number, session_id, source, transaction_id, paid_amount, promotions, pre_order, terminal_code,
                staff_id, staff_email, store_id, created_at, order_created_at
         FROM payments WHERE order_number = $1 FOR UPDATE",
    )
    .bind(order_number)
    .fetch_optional(&mut *tx)
    .await
    .context("failed to read the payment")?;
    let Some(payment) = payment else {
        log::warn!("completion job for {order_number}, which has no payment; dropped");
        return Ok(false);
    };
    let created = if payment.order_created_at.is_none() {
        orders::insert(&mut tx, &orders::from_payment(&payment)).await.context("failed to write the order")?;
        sqlx::query("UPDATE payments SET order_created_at = now() WHERE id = $1")
            .bind(payment.id)
            .execute(&mut *tx)
            .await
            .context("failed to mark the payment")?;
        true
    } else {
        false
    };
    tx.commit().await.context("failed to commit the order")?;
    if created {
        let lag = (chrono::Utc::now() - payment.created_at).num_milliseconds().max(0) as f64 / 1000.0;
        ctx.metrics.completion_lag.observe(lag);
    }
    crate::checkout::store::forget(ctx, order_number, &payment.session_id).await.context("failed to drop the paid pre-order")?;
    Ok(created)
}

/// Returns the jobs of loops whose lease expired to the main list.
pub async fn reap(ctx: &AppContext) -> anyhow::Result<usize> {
    let mut redis = ctx.redis();
    let workers: Vec<String> = redis.smembers(ctx.keys.workers()).await?;
    let mut returned = 0;
    for worker_id in workers {
        let alive: bool = redis.exists(ctx.keys.worker_lease(&worker_id)).await?;
        if !alive {
            returned += return_jobs(ctx, &worker_id).await?;
            redis.srem::<_, _, ()>(ctx.keys.workers(), &worker_id).await?;
        }
    }
    if returned > 0 {
        log::warn!("returned {returned} jobs of dead workers to the queue");
    }
    Ok(returned)
}

/// Queues again every payment that has had no order for `older_than`.
pub async fn sweep(ctx: &AppContext, older_than: Duration) -> anyhow::Result<usize> {
    let numbers: Vec<String> = sqlx::query_scalar(
        "UPDATE payments SET enqueued_at = now()
         WHERE id IN (SELECT id FROM payments
                      WHERE order_created_at IS NULL AND enqueued_at <= now() - make_interval(secs => $1)
                      ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
         RETURNING order_number",
    )
    .bind(older_than.as_secs_f64())
    .fetch_all(&ctx.db)
    .await
    .context("failed to find payments without orders")?;
    if numbers.is_empty() {
        return Ok(0);
    }
    let mut redis = ctx.redis();
    redis.rpush::<_, _, i64>(ctx.keys.jobs_complete(), &numbers).await.context("failed to queue swept jobs")?;
    ctx.metrics.jobs.with_label_values(&["requeued"]).inc_by(numbers.len() as u64);
    log::warn!("queued {} payments without orders again", numbers.len());
    Ok(numbers.len())
}

async fn housekeeping(ctx: AppContext, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tokio::select! { _ = stop.cancelled() => return, _ = ticker.tick() => {} }
        if let Err(err) = reap(&ctx).await {
            log::warn!("reaper: {err:#}");
        }
        if let Err(err) = sweep(&ctx, SWEEP_AFTER).await {
            log::warn!("sweeper: {err:#}");
        }
    }
}

/// Processes every queued job now, in this task; answers how many. For tests
/// and operators: deterministic, no sleeping.
pub async fn run_pending_jobs(ctx: &AppContext) -> anyhow::Result<usize> {
    let worker_id = format!("drain-{}", uuid::Uuid::new_v4().simple());
    renew_lease(ctx, &worker_id).await?;
    let mut done = 0;
    while let Some(order_number) = take_job(ctx, &worker_id, 0.01).await? {
        finish_job(ctx, &worker_id, &order_number).await;
        done += 1;
    }
    retire(ctx, &worker_id).await?;
    Ok(done)
}

/// Updates the queue-depth gauge (called when metrics are scraped).
pub async fn refresh_queue_depth(ctx: &AppContext) {
    let mut redis = ctx.redis();
    if let Ok(depth) = redis.llen::<_, i64>(ctx.keys.jobs_complete()).await {
        ctx.metrics.queue_depth.set(depth);
    }
}
