//! The shared state every handler and worker uses: connections, caches, metrics.

use crate::config::Settings;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::redis_conn::{RedisConn, RedisPool};
use crate::settings::DynamicSettings;
use std::sync::Arc;

/// Cheap to clone; one per process, shared by the HTTP server and the worker.
#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Settings>,
    /// The primary: every write, and every read whose answer promises
    /// immediacy (credentials, idempotency, payments, orders, today's reports).
    pub db: sqlx::PgPool,
    /// `DATABASE_READ_URL` (the primary's pool when unset): the heavy
    /// read-only paths that may lag a little (past days' sales reports,
    /// catalog exports, drawer reports and ledger checks, admin lists).
    pub read_db: sqlx::PgPool,
    /// The `/health/ready` write probe.
    pub readiness: Arc<crate::health::WriteProbe>,
    /// Multiplexed connection (to one server or a cluster) shared by
    /// background tasks; request handlers get their thread's own through
    /// [`AppContext::redis`].
    pub redis: RedisConn,
    /// Pooled connections for blocking commands (`BLMOVE`) that would stall the multiplexed one.
    pub redis_pool: RedisPool,
    pub keys: Keys,
    pub settings: Arc<DynamicSettings>,
    pub metrics: Arc<Metrics>,
    /// SHA-256 of `ADMIN_TOKEN`, compared in constant time.
    pub admin_token_hash: Option<[u8; 32]>,
    /// Writes accepted payments, batching concurrent ones into one commit.
    pub payments: crate::payments::PaymentWriter,
    /// SHA-256 of the IVR credentials.
    pub ivr_credentials: Option<([u8; 32], [u8; 32])>,
}

thread_local! {
    /// The multiplexed connection of this HTTP worker thread (set when the
    /// worker starts). Its driver task runs on the same thread as the
    /// handlers, so a command costs no hand-off between threads.
    static THREAD_REDIS: std::cell::OnceCell<RedisConn> = const { std::cell::OnceCell::new() };
}

impl AppContext {
    /// A Redis connection for this thread: the HTTP worker's own when there
    /// is one, otherwise the shared one. Cheap to call.
    pub fn redis(&self) -> RedisConn {
        THREAD_REDIS.with(|local| local.get().cloned()).unwrap_or_else(|| self.redis.clone())
    }

    /// Opens this thread's own connection (called once per HTTP worker thread).
    pub async fn open_thread_redis(&self) {
        match RedisConn::open(&self.config.redis_target(), crate::startup::REDIS_TIMEOUTS).await {
            Ok(conn) => THREAD_REDIS.with(|local| {
                let _ = local.set(conn);
            }),
            Err(err) => log::warn!("worker thread uses the shared Redis connection: {err}"),
        }
    }
}
