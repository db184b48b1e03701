//! The shared state every handler and worker uses: connections, caches, metrics.

use crate::config::Settings;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::settings::DynamicSettings;
use std::sync::Arc;

/// Cheap to clone; one per process, shared by the HTTP server and the worker.
#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Settings>,
    pub db: sqlx::PgPool,
    /// Multiplexed connection for request paths: one socket, pipelined commands.
    pub redis: redis::aio::ConnectionManager,
    /// Pooled connections for blocking commands (`BLMOVE`) that would stall the multiplexed one.
    pub redis_pool: deadpool_redis::Pool,
    pub keys: Keys,
    pub settings: Arc<DynamicSettings>,
    pub metrics: Arc<Metrics>,
    /// SHA-256 of `ADMIN_TOKEN`, compared in constant time.
    pub admin_token_hash: Option<[u8; 32]>,
    /// SHA-256 of the IVR credentials.
    pub ivr_credentials: Option<([u8; 32], [u8; 32])>,
}
