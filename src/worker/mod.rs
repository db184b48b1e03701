//! The background worker: turns accepted payments into orders, ends order
//! numbers whose time is up (`order_numbers::expire_due`) and forgets the
//! records of numbers that ended long ago (`order_numbers::forget_ended`).
//!
//! Jobs are order numbers on the Redis list `jobs:complete`. A job loop moves
//! jobs into its own processing list (a blocking `BLMOVE` for the first, then
//! up to [`JOB_BATCH`] in all without waiting), creates their orders in one
//! database transaction, and only then removes them, so a loop that dies
//! mid-batch leaves its jobs where the reaper finds them: each loop keeps a lease key alive, and the reaper
//! returns the jobs of loops whose lease expired. The sweeper is the safety
//! net under Redis itself: committed payments without an order are queued
//! again, so even a flushed Redis loses nothing.

use crate::context::AppContext;
use crate::orders;
use crate::payments::{self, Claimed};
use anyhow::Context;
use redis::AsyncCommands;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Job loops per worker process.
pub const JOB_LOOPS: usize = 4;
/// Jobs a loop takes and completes together: one commit for all of them.
pub const JOB_BATCH: usize = 64;
/// A loop whose lease is older than this is taken for dead.
pub const LEASE_SECONDS: u64 = 15;
/// Payments without an order are queued again after this long.
pub const SWEEP_AFTER: Duration = Duration::from_secs(15);
/// Payments one sweep queues again at most; also the queue length above
/// which it does not sweep (see [`sweep`]).
pub const SWEEP_BATCH: i64 = 1000;
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
        match take_jobs(&ctx, &worker_id, 1.0, JOB_BATCH).await {
            Ok(jobs) => finish_jobs(&ctx, &worker_id, &jobs).await,
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
    Ok(take_jobs(ctx, worker_id, timeout_seconds, 1).await?.pop())
}

/// Moves up to `max` jobs into `worker_id`'s processing list: waits up to
/// `timeout_seconds` for the first, then takes whatever else is queued
/// without waiting, in one more round trip. Bounded in time even where the
/// connection has no response timeout (a cluster's pooled connections): a
/// move whose answer is lost leaves the job in the processing list, where
/// the loop gives it back (see `job_loop`).
pub async fn take_jobs(
    ctx: &AppContext,
    worker_id: &str,
    timeout_seconds: f64,
    max: usize,
) -> anyhow::Result<Vec<String>> {
    let limit = Duration::from_secs_f64(timeout_seconds) + Duration::from_secs(10);
    tokio::time::timeout(limit, take_jobs_now(ctx, worker_id, timeout_seconds, max))
        .await
        .map_err(|_| anyhow::anyhow!("no answer from Redis within {limit:?}"))?
}

async fn take_jobs_now(
    ctx: &AppContext,
    worker_id: &str,
    timeout_seconds: f64,
    max: usize,
) -> anyhow::Result<Vec<String>> {
    // Both lists carry the `{jobs}` hash tag: one slot, as BLMOVE needs on a cluster.
    let (queue, processing) = (ctx.keys.jobs_complete(), ctx.keys.jobs_processing(worker_id));
    let mut conn = ctx.redis_pool.get().await.context("failed to get a Redis connection")?;
    let first: Option<String> = conn
        .blmove(&queue, &processing, redis::Direction::Right, redis::Direction::Left, timeout_seconds)
        .await
        .context("failed to take a job")?;
    let Some(first) = first else { return Ok(Vec::new()) };
    let mut jobs = vec![first];
    if max > 1 {
        let mut more = redis::pipe();
        for _ in 1..max {
            more.lmove(&queue, &processing, redis::Direction::Right, redis::Direction::Left);
        }
        let taken: Vec<Option<String>> = more.query_async(&mut conn).await.context("failed to take more jobs")?;
        jobs.extend(taken.into_iter().flatten());
    }
    Ok(jobs)
}

/// Completes taken jobs and removes them from the processing list. A job
/// whose order cannot be created is dropped from the list all the same: its
/// payment still has no order, so the sweeper queues it again after
/// [`SWEEP_AFTER`] (a natural back-off).
async fn finish_jobs(ctx: &AppContext, worker_id: &str, jobs: &[String]) {
    if jobs.is_empty() {
        return;
    }
    let numbers: Vec<&str> = jobs.iter().map(String::as_str).collect();
    if let Err(err) = create_orders(ctx, &numbers).await {
        // One bad payment must not hold up the others: take them one by one.
        log::warn!("{} orders not created together ({err:#}); creating them one by one", numbers.len());
        for number in &numbers {
            if let Err(err) = create_orders(ctx, &[number]).await {
                ctx.metrics.jobs.with_label_values(&["retried"]).inc();
                log::error!("order {number} not created yet (will retry): {err:#}");
            }
        }
    }
    let mut done = redis::pipe();
    for job in jobs {
        done.lrem(ctx.keys.jobs_processing(worker_id), 1, job).ignore();
    }
    if let Err(err) = done.query_async::<()>(&mut ctx.redis()).await {
        log::warn!("{} jobs stay in the processing list of {worker_id}: {err}", jobs.len());
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

/// Creates the orders of paid `order_numbers` in one transaction,
/// idempotently: a job delivered twice finds its order and changes nothing.
/// Then drops the paid pre-orders from Redis. Answers how many orders were
/// created now.
pub async fn create_orders(ctx: &AppContext, order_numbers: &[&str]) -> anyhow::Result<usize> {
    let mut tx = ctx.db.begin().await.context("failed to begin")?;
    let payments = payments::claim(&mut tx, order_numbers).await.context("failed to claim the payments")?;
    if payments.len() < order_numbers.len() {
        for number in order_numbers.iter().filter(|n| !payments.iter().any(|p| p.order_number == **n)) {
            log::warn!("completion job for {number}, which has no payment; dropped");
        }
    }
    let unordered: Vec<&Claimed> = payments.iter().filter(|p| p.pending).collect();
    let new_orders = unordered
        .iter()
        .map(|p| orders::from_payment(p).map_err(|e| anyhow::anyhow!("payment {}: {e}", p.order_number)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let webhook_urls = crate::webhooks::endpoint_urls(ctx);
    orders::insert_all(&mut tx, &new_orders, &webhook_urls).await.context("failed to write the orders")?;
    tx.commit().await.context("failed to commit the orders")?;

    let now = chrono::Utc::now();
    for payment in &unordered {
        let lag = (now - payment.created_at).num_milliseconds().max(0) as f64 / 1000.0;
        ctx.metrics.completion_lag.observe(lag);
    }
    ctx.metrics.jobs.with_label_values(&["processed"]).inc_by(order_numbers.len() as u64);
    let paid: Vec<(&str, &str)> = payments.iter().map(|p| (p.order_number.as_str(), p.session_id.as_str())).collect();
    crate::checkout::store::forget(ctx, &paid).await.context("failed to drop the paid pre-orders")?;
    Ok(unordered.len())
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

/// Queues again every payment that has had no order for `older_than`, up to
/// [`SWEEP_BATCH`] per call. Does nothing while more than that many jobs are
/// queued: a backlog is being worked, and a payment that waited
/// `older_than` most likely has its job in it, so queuing it again would
/// only add a duplicate to the work that is already behind. Lost jobs are
/// found once the backlog is down.
pub async fn sweep(ctx: &AppContext, older_than: Duration) -> anyhow::Result<usize> {
    let mut redis = ctx.redis();
    let queued: i64 = redis.llen(ctx.keys.jobs_complete()).await.context("failed to read the queue length")?;
    if queued > SWEEP_BATCH {
        log::debug!("sweep skipped: {queued} jobs queued");
        return Ok(0);
    }
    let numbers = payments::due_again(&ctx.db, older_than, SWEEP_BATCH)
        .await
        .context("failed to find payments without orders")?;
    if numbers.is_empty() {
        return Ok(0);
    }
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
        // Numbers that ended unpaid get their notice within a minute (SPEC §14).
        if let Err(err) = crate::order_numbers::expire_due(&ctx).await {
            log::warn!("order number expiry: {err:#}");
        }
        if let Err(err) = crate::order_numbers::forget_ended(&ctx.db).await {
            log::warn!("order number retention: {err}");
        }
    }
}

/// Processes every queued job now, in this task; answers how many. For tests
/// and operators: deterministic, no sleeping.
pub async fn run_pending_jobs(ctx: &AppContext) -> anyhow::Result<usize> {
    let worker_id = format!("drain-{}", uuid::Uuid::new_v4().simple());
    renew_lease(ctx, &worker_id).await?;
    let mut done = 0;
    loop {
        let jobs = take_jobs(ctx, &worker_id, 0.01, JOB_BATCH).await?;
        if jobs.is_empty() {
            break;
        }
        finish_jobs(ctx, &worker_id, &jobs).await;
        done += jobs.len();
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
