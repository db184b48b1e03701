//! The readiness write probe (SPEC §12): `/health/ready` is ready only when
//! a write to the database this instance writes to commits within 2 s. A
//! `SELECT 1` would answer on a standby, and on a promoted node whose commits
//! wait forever for a synchronous standby that is gone.
//!
//! The probe updates the one row of `readiness_probe` on a connection of its
//! own (opened with the pool's current options, so it follows the primary),
//! never on a pooled one: a commit stuck in a synchronous-replication wait
//! would otherwise hold a pool connection. The bound is kept on the client
//! side, because `statement_timeout` does not bound that wait: cancelling it
//! reports success with a warning.
//!
//! Probes are single-flight per instance: a readiness call joins the probe in
//! flight rather than starting another, so a hanging primary never collects
//! one stuck backend per call. A probe is given up after [`GIVE_UP_AFTER`];
//! the next one first cancels the instance's earlier probe backends
//! (`application_name` names the instance), which ends their wait.

use futures_util::future::{BoxFuture, FutureExt, Shared};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::time::Duration;

/// A write that has not committed within this long makes the instance unready.
pub const WRITE_BOUND: Duration = Duration::from_secs(2);

/// A probe still waiting after this long is given up (its connection dropped).
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

type Probe = Shared<BoxFuture<'static, bool>>;

/// The write probe of one instance.
pub struct WriteProbe {
    /// `application_name` of this instance's probe connections.
    name: String,
    in_flight: std::sync::Mutex<Option<Probe>>,
}

impl Default for WriteProbe {
    fn default() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        WriteProbe { name: format!("cashdesk-ready-{}", &id[..12]), in_flight: std::sync::Mutex::new(None) }
    }
}

impl WriteProbe {
    /// True when a write to `db`'s current host commits within [`WRITE_BOUND`].
    pub async fn writes_commit(&self, db: &PgPool) -> bool {
        let probe = {
            let mut slot = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match slot.as_ref() {
                Some(running) if running.peek().is_none() => running.clone(),
                _ => {
                    let options = (*db.connect_options()).clone().application_name(&self.name);
                    let name = self.name.clone();
                    // Spawned so that it runs on after this call has stopped
                    // waiting: its outcome is what the next call joins.
                    let task = tokio::spawn(async move {
                        tokio::time::timeout(GIVE_UP_AFTER, write(options, &name)).await.unwrap_or(false)
                    });
                    let probe = async move { task.await.unwrap_or(false) }.boxed().shared();
                    *slot = Some(probe.clone());
                    probe
                }
            }
        };
        tokio::time::timeout(WRITE_BOUND, probe).await.unwrap_or(false)
    }
}

/// The probe's write.
const PROBE: &str = "UPDATE readiness_probe SET written_at = now() WHERE id = 1";

/// Cancels this instance's earlier probes, then updates the probe row.
async fn write(options: sqlx::postgres::PgConnectOptions, name: &str) -> bool {
    let Ok(mut conn) = options.connect().await else { return false };
    // Only backends running the probe's own statement: behind a transaction
    // pooler a backend that served a probe may serve someone else now.
    let cancelled = sqlx::query!(
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND query = $2 AND state = 'active' AND pid <> pg_backend_pid()",
        name,
        PROBE,
    )
    .fetch_all(&mut conn)
    .await;
    if cancelled.is_err() {
        return false;
    }
    let written = sqlx::query(PROBE).execute(&mut conn).await;
    let committed = matches!(written, Ok(done) if done.rows_affected() == 1);
    let _ = conn.close().await;
    committed
}

/// The state of one dependency, or of the whole instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Ok,
    Unavailable,
}

impl From<bool> for State {
    fn from(ok: bool) -> Self {
        if ok {
            State::Ok
        } else {
            State::Unavailable
        }
    }
}

/// `GET /health/live`
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Liveness {
    pub status: State,
}

/// `GET /health/ready`
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}))]
pub struct Readiness {
    /// `ok` when `postgres` and `redis` are.
    pub status: State,
    pub checks: Checks,
}

/// What readiness looked at.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Checks {
    /// A write to the database this instance writes to commits within 2 s.
    pub postgres: State,
    /// Redis answers `PING` within 2 s.
    pub redis: State,
    /// Only when `DATABASE_READ_URL` is set: the replica answers `SELECT 1`
    /// within 2 s (shown, but not part of `status`: it serves reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres_read: Option<State>,
}
