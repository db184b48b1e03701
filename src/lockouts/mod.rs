//! Failed logins and lockouts (SPEC §11): hooks, and the admin page's sign-in.
//!
//! Every till of a retailer may sign in with the same integration username,
//! and that username is no secret, so failures are never counted against a
//! username as such. They are counted per client address and per (username,
//! client address) pair, per protocol, over a sliding 15-minute window. A
//! subject over its limit is locked out: it gets its protocol's credential
//! error even with the right password until the window passes or an operator
//! clears it (`/admin/api/lockouts/`). A till elsewhere, with an address of
//! its own, never notices.
//!
//! Each subject is two Redis keys under one hash tag per (protocol, address):
//! a sorted set of failure times, and a lock key that exists exactly while
//! the subject is locked (it expires at the unlock time). Checking a lockout
//! is one `EXISTS`, which rides along in the hooks' pre-order lookup.

use crate::context::AppContext;
use crate::secrets::sha256_hex;
use actix_web::HttpRequest;
use chrono::{DateTime, TimeZone, Utc};
use rand::RngCore;
use redis::Script;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Failures are counted over this sliding window.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failed logins of one (username, address) pair within the window that lock it out.
pub const MAX_FAILURES_PER_PAIR: usize = 10;
/// Failed logins from one address within the window (any usernames) that lock it out.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Failed sign-ins of the admin page from one address within the window that lock it out.
pub const MAX_ADMIN_SIGN_IN_FAILURES: usize = 20;
/// Failure times kept per subject: enough to see an attack's size, bounded
/// so a flood from one address cannot grow memory.
const KEPT_FAILURES: usize = 1000;
/// Usernames are shown (and stored beside a lock) cut to this many characters.
const SHOWN_USERNAME_CHARS: usize = 128;

/// Whose logins are counted: each protocol has its own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    CashRegister,
    Ivr,
    /// The admin page's sign-in (by address only: it has no username).
    Admin,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::CashRegister, Protocol::Ivr, Protocol::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::CashRegister => "cash_register",
            Protocol::Ivr => "ivr",
            Protocol::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// Which subject a lock is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Every login from one client address.
    Address,
    /// One username's logins from one client address.
    Pair,
}

/// One login attempt, as failures are counted: its protocol, its client
/// address and the username it named.
pub struct Login {
    protocol: Protocol,
    address: String,
    /// The username cut for display, and a digest of all of it (keys stay
    /// small whatever a client sends).
    username: Option<(String, String)>,
}

impl Login {
    /// A login attempt of `req` (its client address per `TRUSTED_PROXIES`) naming `username`.
    pub fn new(ctx: &AppContext, protocol: Protocol, req: &HttpRequest, username: Option<&str>) -> Self {
        Login::from_address(protocol, ctx.config.trusted_proxies.client_of(req), username)
    }

    pub fn from_address(protocol: Protocol, address: String, username: Option<&str>) -> Self {
        let username = username.map(|u| (u.chars().take(SHOWN_USERNAME_CHARS).collect(), username_digest(u)));
        Login { protocol, address, username }
    }

    fn pair(&self) -> Option<&str> {
        self.username.as_ref().map(|(_, digest)| digest.as_str())
    }

    /// The read that tells whether a subject of this attempt is locked out:
    /// an `EXISTS` of its lock keys (the address's, then the pair's if any).
    /// They share the `{protocol:address}` hash tag, so one slot; the second
    /// value is a key naming that slot, for [`RedisConn::query_in_slot_of`].
    ///
    /// [`RedisConn::query_in_slot_of`]: crate::redis_conn::RedisConn::query_in_slot_of
    pub fn lock_read(&self, ctx: &AppContext) -> (redis::Cmd, String) {
        let protocol = self.protocol.as_str();
        let address_lock = ctx.keys.login_lock(protocol, &self.address, None);
        let mut exists = redis::cmd("EXISTS");
        exists.arg(&address_lock);
        if let Some(pair) = self.pair() {
            exists.arg(ctx.keys.login_lock(protocol, &self.address, Some(pair)));
        }
        (exists, address_lock)
    }
}

fn username_digest(username: &str) -> String {
    sha256_hex(username.as_bytes())[..32].to_string()
}

/// What a lock key holds: who is locked out, for the operators' list.
#[derive(Serialize, Deserialize)]
struct Held {
    protocol: String,
    address: String,
    username: Option<String>,
    pair: Option<String>,
}

/// Counts one failure against each subject of an attempt and locks those
/// that reached their limit. The clock is Redis's, shared by every instance.
/// KEYS: per subject its failures set and lock key; ARGV: window (ms), failure
/// times kept, this attempt's unique member, then per subject its limit and
/// what its lock holds. Answers 1 when a subject is (now) locked.
static RECORD_FAILURE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local window, kept = tonumber(ARGV[1]), tonumber(ARGV[2])
          local locked = 0
          for i = 1, #KEYS, 2 do
            local failures, lock = KEYS[i], KEYS[i + 1]
            local limit, held = tonumber(ARGV[3 + i]), ARGV[4 + i]
            redis.call('ZADD', failures, now, ARGV[3])
            redis.call('ZREMRANGEBYSCORE', failures, '-inf', now - window)
            local n = redis.call('ZCARD', failures)
            if n > kept then
              redis.call('ZREMRANGEBYRANK', failures, 0, n - kept - 1)
              n = kept
            end
            redis.call('PEXPIRE', failures, window)
            if n >= limit then
              local oldest = redis.call('ZRANGE', failures, -limit, -limit, 'WITHSCORES')
              redis.call('SET', lock, held, 'PXAT', tonumber(oldest[2]) + window)
              locked = 1
            end
          end
          return locked",
    )
});

/// The limits of each subject of `protocol`: (address, pair).
fn limits(protocol: Protocol) -> (usize, usize) {
    match protocol {
        Protocol::Admin => (MAX_ADMIN_SIGN_IN_FAILURES, MAX_FAILURES_PER_PAIR),
        Protocol::CashRegister | Protocol::Ivr => (MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_PAIR),
    }
}

/// Counts one failed login. A Redis failure is logged, not passed on: the
/// caller is refusing the login anyway.
pub async fn record_failure(ctx: &AppContext, login: &Login) {
    if login.protocol != Protocol::Admin {
        ctx.metrics.hook_login_failures.with_label_values(&[login.protocol.as_str()]).inc();
    }
    let protocol = login.protocol.as_str();
    let (address_limit, pair_limit) = limits(login.protocol);
    let mut member = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut member);
    let held = |pair: Option<&str>| {
        serde_json::to_string(&Held {
            protocol: protocol.to_string(),
            address: login.address.clone(),
            username: pair.and(login.username.as_ref().map(|(shown, _)| shown.clone())),
            pair: pair.map(str::to_string),
        })
        .unwrap_or_default()
    };
    let mut invocation = RECORD_FAILURE.prepare_invoke();
    invocation
        .key(ctx.keys.login_failures(protocol, &login.address, None))
        .key(ctx.keys.login_lock(protocol, &login.address, None))
        .arg(WINDOW_SECONDS * 1000)
        .arg(KEPT_FAILURES)
        .arg(hex::encode(member))
        .arg(address_limit)
        .arg(held(None));
    if let Some(pair) = login.pair() {
        invocation
            .key(ctx.keys.login_failures(protocol, &login.address, Some(pair)))
            .key(ctx.keys.login_lock(protocol, &login.address, Some(pair)))
            .arg(pair_limit)
            .arg(held(Some(pair)));
    }
    if let Err(err) = invocation.invoke_async::<i64>(&mut ctx.redis()).await {
        log::warn!("failed login not counted: {err}");
    }
}

/// True when a subject of `login` is locked out (for paths that do not run
/// the pre-order lookup, which checks the same keys in its round trip).
pub async fn is_locked(ctx: &AppContext, login: &Login) -> redis::RedisResult<bool> {
    let (exists, slot_key) = login.lock_read(ctx);
    let locked: i64 = ctx.redis().query_in_slot_of(exists, &slot_key).await?;
    Ok(locked > 0)
}

/// True when a subject of `login` is locked out, and then the attempt is
/// counted as one more failure (refusals of a locked subject count, so one
/// that keeps guessing stays locked). For the answers that would otherwise
/// tell a locked-out caller its password was right.
pub async fn refuse_if_locked(ctx: &AppContext, login: &Login) -> redis::RedisResult<bool> {
    let locked = is_locked(ctx, login).await?;
    if locked {
        record_failure(ctx, login).await;
    }
    Ok(locked)
}

/// A locked-out subject, as operators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lockout {
    /// `cash_register`, `ivr` or `admin` (the admin page's sign-in).
    pub protocol: String,
    /// Names the lock in `DELETE /admin/api/lockouts/{protocol}/{subject}/`:
    /// `addr:<address>` or `pair:<username digest>:<address>`.
    pub subject: String,
    pub kind: SubjectKind,
    /// The client address.
    pub address: String,
    /// The username of a pair (cut to 128 characters); null for an address.
    pub username: Option<String>,
    /// Failed logins of this subject in the last 15 minutes.
    pub failures: usize,
    /// When the subject unlocks unless more failures come (RFC 3339, UTC).
    pub unlocks_at: DateTime<Utc>,
}

/// Every subject locked out now, on every protocol.
pub async fn list(ctx: &AppContext) -> redis::RedisResult<Vec<Lockout>> {
    let mut redis = ctx.redis();
    // Every primary of a cluster holds some of the locks.
    let lock_keys = crate::redis_conn::scan(&redis, &ctx.keys.login_locks_pattern(), Some(10_000)).await?;
    let window_ms = WINDOW_SECONDS * 1000;
    let mut out = Vec::with_capacity(lock_keys.len());
    for lock_key in lock_keys {
        let (held, unlocks_at_ms): (Option<String>, Option<i64>) =
            redis::pipe().get(&lock_key).cmd("PEXPIRETIME").arg(&lock_key).query_async(&mut redis).await?;
        let (Some(held), Some(unlocks_at_ms)) =
            (held.and_then(|h| serde_json::from_str::<Held>(&h).ok()), unlocks_at_ms)
        else {
            continue; // unlocked meanwhile, or not ours
        };
        let failures_key = ctx.keys.login_failures(&held.protocol, &held.address, held.pair.as_deref());
        let failures: usize = redis::cmd("ZCOUNT")
            .arg(&failures_key)
            .arg(Utc::now().timestamp_millis() - window_ms)
            .arg("+inf")
            .query_async(&mut redis)
            .await?;
        let Some(unlocks_at) = Utc.timestamp_millis_opt(unlocks_at_ms).single() else { continue };
        let (kind, subject) = match &held.pair {
            Some(pair) => (SubjectKind::Pair, format!("pair:{pair}:{}", held.address)),
            None => (SubjectKind::Address, format!("addr:{}", held.address)),
        };
        out.push(Lockout {
            protocol: held.protocol,
            subject,
            kind,
            address: held.address,
            username: held.username,
            failures,
            unlocks_at,
        });
    }
    out.sort_by_key(|lockout| std::cmp::Reverse(lockout.unlocks_at));
    Ok(out)
}

/// Clears one subject (`addr:<address>` or `pair:<digest>:<address>`):
/// its lock and its failures. Answers false when nothing was recorded.
pub async fn clear(ctx: &AppContext, protocol: Protocol, subject: &str) -> redis::RedisResult<bool> {
    let Some((address, pair)) = parse_subject(subject) else { return Ok(false) };
    let protocol = protocol.as_str();
    let removed: i64 = redis::cmd("DEL")
        .arg(ctx.keys.login_lock(protocol, address, pair))
        .arg(ctx.keys.login_failures(protocol, address, pair))
        .query_async(&mut ctx.redis())
        .await?;
    Ok(removed > 0)
}

/// (address, pair digest) of a subject as [`Lockout::subject`] writes it.
fn parse_subject(subject: &str) -> Option<(&str, Option<&str>)> {
    let valid_address = |a: &str| a == "unknown" || a.parse::<std::net::IpAddr>().is_ok();
    if let Some(address) = subject.strip_prefix("addr:") {
        return valid_address(address).then_some((address, None));
    }
    let (pair, address) = subject.strip_prefix("pair:")?.split_once(':')?;
    let valid_pair = pair.len() == 32 && pair.bytes().all(|b| b.is_ascii_hexdigit());
    (valid_pair && valid_address(address)).then_some((address, Some(pair)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_read_back_as_they_are_written() {
        assert_eq!(parse_subject("addr:127.0.0.2"), Some(("127.0.0.2", None)));
        assert_eq!(parse_subject("addr:2001:db8::1"), Some(("2001:db8::1", None)));
        let digest = username_digest("cashier01");
        assert_eq!(parse_subject(&format!("pair:{digest}:::1")), Some(("::1", Some(digest.as_str()))));
        assert_eq!(parse_subject("addr:not-an-address"), None);
        assert_eq!(parse_subject("user:cashier01"), None);
        assert_eq!(parse_subject("pair:xyz:127.0.0.1"), None);
    }

    #[test]
    fn usernames_of_any_length_make_small_keys() {
        let long = "x".repeat(70_000);
        let login = Login::from_address(Protocol::Ivr, "127.0.0.1".into(), Some(&long));
        let (shown, digest) = login.username.as_ref().unwrap();
        assert_eq!(shown.chars().count(), SHOWN_USERNAME_CHARS);
        assert_eq!(digest.len(), 32);
    }
}
