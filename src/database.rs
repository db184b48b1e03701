//! Postgres connections: the primary pool (which follows the writable primary
//! when `DATABASE_URL` names several hosts) and the read pool of
//! `DATABASE_READ_URL`.
//!
//! sqlx connects to one host and ignores `target_session_attrs`, so a
//! libpq-style multi-host URL (`postgres://u@h1:5432,h2:5433/db`) is parsed
//! here into one set of connect options per host. The pool always connects
//! with the options of the host believed to be the primary, and three small
//! pieces keep it there:
//! - `after_connect` refuses a new connection to a host that is in recovery or
//!   read-only, so the pool never hands one out;
//! - a follower task keeps one connection of its own to that host and checks
//!   it every second; when the check fails it looks for a writable host (the
//!   others first, in the listed order) and points the pool at it with
//!   `Pool::set_connect_options`;
//! - `before_acquire` drops idle connections opened before that switch (by
//!   their age: no round trip), so no request runs on the old host again.
//!
//! A URL naming one host without `target_session_attrs` keeps the plain pool
//! of before, untouched.

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, PgPool};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long start-up waits for a writable host of a multi-host `DATABASE_URL`.
pub const START_WAIT: Duration = Duration::from_secs(30);

/// How long one host may take to accept a connection and answer the check.
const HOST_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the follower checks that the pool's host is still a writable primary.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Requests wait this long for a pooled connection (also the single-host connect wait).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// True on a server that accepts writes: libpq's `read-write` test (not in
/// recovery, and transactions are not read-only by default).
async fn is_writable(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS "writable!""#
    )
    .fetch_one(conn)
    .await
}

/// A `DATABASE_URL` or `DATABASE_READ_URL`, parsed.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    /// Each host as written (`host:port`), for messages.
    pub hosts: Vec<String>,
    /// The connect options of each host, in the order given.
    pub options: Vec<PgConnectOptions>,
    /// True when only a writable primary will do: several hosts, or
    /// `target_session_attrs=read-write` (or `primary`).
    pub read_write_only: bool,
}

impl DatabaseUrl {
    /// Parses `postgres://[user[:password]@]host[:port][,host[:port]...][/db][?params]`.
    /// `target_session_attrs` may be `read-write` or `primary` (cashdesk
    /// writes, so it needs the primary) or `any` (only with one host).
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or("must be a postgres:// or postgresql:// URL")?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host_list) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (path, query) = match tail.find('?') {
            Some(q) => (&tail[..q], Some(&tail[q + 1..])),
            None => (tail, None),
        };
        let mut attrs = None;
        let mut kept = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("target_session_attrs", value)) => attrs = Some(value.to_string()),
                _ => kept.push(pair),
            }
        }
        let hosts: Vec<String> =
            if host_list.is_empty() { vec![String::new()] } else { host_list.split(',').map(str::to_string).collect() };
        if hosts.len() > 1 && hosts.iter().any(String::is_empty) {
            return Err("names an empty host in its host list".into());
        }
        let read_write_only = match attrs.as_deref() {
            None => hosts.len() > 1,
            Some("read-write" | "primary") => true,
            Some("any") if hosts.len() == 1 => false,
            Some(other) => {
                return Err(format!(
                    "target_session_attrs={other} is not supported: use read-write (cashdesk writes, so it needs the primary)"
                ))
            }
        };
        let query = if kept.is_empty() { String::new() } else { format!("?{}", kept.join("&")) };
        let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        let mut options = Vec::new();
        for host in &hosts {
            if host.contains(['/', '@']) {
                return Err(format!("has an unreadable host {host:?}"));
            }
            let single = format!("postgres://{userinfo}{host}{path}{query}");
            let parsed = PgConnectOptions::from_str(&single).map_err(|_| format!("has an unreadable host {host:?}"))?;
            options.push(parsed);
        }
        let hosts = hosts
            .iter()
            .zip(&options)
            .map(
                |(written, o)| {
                    if written.is_empty() {
                        format!("{}:{}", o.get_host(), o.get_port())
                    } else {
                        written.clone()
                    }
                },
            )
            .collect();
        Ok(DatabaseUrl { hosts, options, read_write_only })
    }
}

/// Where the primary pool connects, shared by its hooks and its follower.
struct Primary {
    url: DatabaseUrl,
    /// Index of the host the pool connects to.
    current: AtomicUsize,
    /// When the pool last moved to another host, in ms since `epoch`.
    switched_ms: AtomicU64,
    epoch: Instant,
}

impl Primary {
    fn switched_at(&self) -> Instant {
        self.epoch + Duration::from_millis(self.switched_ms.load(Ordering::Acquire))
    }

    /// Opens a connection to host `i` and answers it if the host is writable.
    async fn open_writable(&self, i: usize) -> Result<PgConnection, String> {
        let attempt = async {
            let mut conn = self.url.options[i].connect().await.map_err(|e| short_error(&e))?;
            match is_writable(&mut conn).await {
                Ok(true) => Ok(conn),
                Ok(false) => Err("read-only (a standby, or default_transaction_read_only)".to_string()),
                Err(e) => Err(short_error(&e)),
            }
        };
        tokio::time::timeout(HOST_TIMEOUT, attempt)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", HOST_TIMEOUT.as_secs())))
    }

    /// Tries every host once, starting with the one after `after` (so a
    /// failed host is tried last), and answers the first writable one with a
    /// connection to it, or why each host was refused.
    async fn find(&self, after: usize) -> Result<(usize, PgConnection), String> {
        let n = self.url.hosts.len();
        let mut reasons = Vec::new();
        for k in 1..=n {
            let i = (after + k) % n;
            match self.open_writable(i).await {
                Ok(conn) => return Ok((i, conn)),
                Err(reason) => reasons.push(format!("{} ({reason})", self.url.hosts[i])),
            }
        }
        Err(reasons.join(", "))
    }

    /// Points `pool` at host `i`; connections opened before now are dropped when next acquired.
    fn switch_to(&self, pool: &PgPool, i: usize) {
        pool.set_connect_options(self.url.options[i].clone());
        self.current.store(i, Ordering::Release);
        let now = self.epoch.elapsed().as_millis() as u64;
        self.switched_ms.store(now, Ordering::Release);
    }
}

/// The error of a connection attempt, without the driver's decorations.
fn short_error(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// Connects the primary pool. A single-host URL connects as it always did
/// (failing after [`ACQUIRE_TIMEOUT`]); a multi-host one waits up to
/// [`START_WAIT`] for a writable host, then fails with one line naming every
/// host and why it was refused, and otherwise starts the follower.
pub async fn connect_primary(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let url = DatabaseUrl::parse(database_url).map_err(|e| anyhow::anyhow!("DATABASE_URL {e}"))?;
    let base =
        PgPoolOptions::new().max_connections(max_connections).min_connections(1).acquire_timeout(ACQUIRE_TIMEOUT);
    if !url.read_write_only {
        return base
            .connect_with(url.options[0].clone())
            .await
            .with_context(|| format!("cannot reach Postgres at {}", crate::config::redact_url(database_url)));
    }

    let primary =
        Arc::new(Primary { url, current: AtomicUsize::new(0), switched_ms: AtomicU64::new(0), epoch: Instant::now() });
    let deadline = Instant::now() + START_WAIT;
    let n = primary.url.hosts.len();
    let (first, conn) = loop {
        match primary.find(n - 1).await {
            Ok(found) => break found,
            Err(reasons) if Instant::now() >= deadline => {
                anyhow::bail!(
                    "cannot reach a writable Postgres primary within {} s; tried {reasons}",
                    START_WAIT.as_secs()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    primary.current.store(first, Ordering::Release);
    let on_connect = Arc::clone(&primary);
    let on_acquire = Arc::clone(&primary);
    let pool = base
        .after_connect(move |conn, _| {
            let primary = Arc::clone(&on_connect);
            Box::pin(async move {
                if is_writable(conn).await? {
                    return Ok(());
                }
                let host = &primary.url.hosts[primary.current.load(Ordering::Acquire)];
                Err(sqlx::Error::Configuration(format!("{host} is read-only: not the primary").into()))
            })
        })
        .before_acquire(move |_, meta| {
            let opened = Instant::now().checked_sub(meta.age);
            let fresh = opened.is_some_and(|t| t >= on_acquire.switched_at());
            Box::pin(async move { Ok(fresh) })
        })
        .connect_lazy_with(primary.url.options[first].clone());
    log::info!("Postgres primary is {}", primary.url.hosts[first]);
    tokio::spawn(follow(pool.clone(), primary, conn));
    Ok(pool)
}

/// Keeps `pool` on the writable primary: checks the host every second on a
/// connection of its own (so a busy pool cannot delay the check), and when
/// the check fails, moves the pool to the first writable host it finds.
/// Ends when the pool is closed.
async fn follow(pool: PgPool, primary: Arc<Primary>, conn: PgConnection) {
    let mut conn = Some(conn);
    let mut last_failure = String::new();
    loop {
        tokio::time::sleep(FOLLOW_EVERY).await;
        if pool.is_closed() {
            return;
        }
        if let Some(c) = conn.as_mut() {
            if let Ok(Ok(true)) = tokio::time::timeout(HOST_TIMEOUT, is_writable(c)).await {
                continue;
            }
            // Dropped, not closed: the host may be gone, and closing would wait on it.
            conn = None;
        }
        let current = primary.current.load(Ordering::Acquire);
        match primary.find(current).await {
            Ok((i, c)) => {
                if i != current {
                    log::warn!(
                        "Postgres primary moved from {} to {}",
                        primary.url.hosts[current],
                        primary.url.hosts[i]
                    );
                    primary.switch_to(&pool, i);
                }
                last_failure.clear();
                conn = Some(c);
            }
            Err(reasons) => {
                if reasons != last_failure {
                    log::error!("no writable Postgres primary: {reasons}");
                    last_failure = reasons;
                }
            }
        }
    }
}

/// Connects the read pool of `DATABASE_READ_URL` (one host: a replica, or a
/// balancer in front of replicas).
pub async fn connect_read(read_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let url = DatabaseUrl::parse(read_url).map_err(|e| anyhow::anyhow!("DATABASE_READ_URL {e}"))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(url.options[0].clone())
        .await
        .with_context(|| {
            format!("cannot reach Postgres (DATABASE_READ_URL) at {}", crate::config::redact_url(read_url))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_host_url_keeps_the_plain_pool() {
        let url = DatabaseUrl::parse("postgres://u:pw@db.example:6432/cashdesk?sslmode=disable").unwrap();
        assert_eq!(url.hosts, ["db.example:6432"]);
        assert!(!url.read_write_only);
        assert_eq!(url.options[0].get_host(), "db.example");
        assert_eq!(url.options[0].get_port(), 6432);
        assert_eq!(url.options[0].get_database(), Some("cashdesk"));
    }

    #[test]
    fn a_libpq_multi_host_url_gives_one_option_set_per_host() {
        let url = DatabaseUrl::parse(
            "postgresql://u:p%40ss@h1:5432,h2:5433,h3/cashdesk?target_session_attrs=read-write&application_name=x",
        )
        .unwrap();
        assert_eq!(url.hosts, ["h1:5432", "h2:5433", "h3"]);
        assert!(url.read_write_only);
        let ports: Vec<u16> = url.options.iter().map(|o| o.get_port()).collect();
        assert_eq!(ports, [5432, 5433, 5432]);
        assert!(url.options.iter().all(|o| o.get_database() == Some("cashdesk") && o.get_username() == "u"));
    }

    #[test]
    fn several_hosts_need_the_primary_even_without_target_session_attrs() {
        assert!(DatabaseUrl::parse("postgres://u@[::1]:5432,127.0.0.1:5433/db").unwrap().read_write_only);
        assert!(DatabaseUrl::parse("postgres://u@h1/db?target_session_attrs=read-write").unwrap().read_write_only);
        assert!(DatabaseUrl::parse("postgres://u@h1/db?target_session_attrs=primary").unwrap().read_write_only);
    }

    #[test]
    fn bad_multi_host_urls_are_refused_with_a_reason() {
        for bad in [
            "mysql://h1,h2/db",
            "postgres://u@h1,,h2/db",
            "postgres://u@h1:notaport,h2/db",
            "postgres://u@h1,h2/db?target_session_attrs=read-only",
            "postgres://u@h1,h2/db?target_session_attrs=any",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
