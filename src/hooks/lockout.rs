//! Failed hook logins, counted in Redis per username and per client address.
//!
//! A subject over its limit within the window is locked out: it gets the
//! hook's credential error even with the right password, until the window
//! passes or an operator clears it (`/admin/api/lockouts/`). The check rides
//! along in the pre-order lookup pipeline, so the hot path stays one round trip.

use crate::context::AppContext;
use actix_web::HttpRequest;

/// Failures are counted over this window (seconds).
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failed logins of one username within the window before it is locked out.
pub const MAX_FAILURES_PER_USER: i64 = 20;
/// Failed logins from one client address within the window before it is locked out.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;

/// The two counters a login attempt is judged by.
pub struct Subjects {
    pub user_key: String,
    pub address_key: String,
}

impl Subjects {
    pub fn new(ctx: &AppContext, protocol: &str, username: Option<&str>, req: &HttpRequest) -> Self {
        let address = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
        // Usernames are bounded so a hostile one cannot make huge keys.
        let user: String = username.unwrap_or("").chars().take(128).collect();
        Subjects {
            user_key: ctx.keys.login_failures(protocol, &format!("user:{user}")),
            address_key: ctx.keys.login_failures(protocol, &format!("addr:{address}")),
        }
    }
}

/// Counts one failed login against both subjects.
pub async fn record_failure(ctx: &AppContext, subjects: &Subjects) {
    let mut redis = ctx.redis();
    let counted = redis::pipe()
        .incr(&subjects.user_key, 1)
        .ignore()
        .cmd("EXPIRE")
        .arg(&subjects.user_key)
        .arg(WINDOW_SECONDS)
        .arg("NX")
        .ignore()
        .incr(&subjects.address_key, 1)
        .ignore()
        .cmd("EXPIRE")
        .arg(&subjects.address_key)
        .arg(WINDOW_SECONDS)
        .arg("NX")
        .ignore()
        .query_async::<()>(&mut redis)
        .await;
    if let Err(err) = counted {
        log::warn!("failed login not counted: {err}");
    }
}

/// True when either subject is over its limit (for paths that do not run the lookup script).
pub async fn is_locked(ctx: &AppContext, subjects: &Subjects) -> bool {
    let mut redis = ctx.redis();
    let counts: Result<(Option<i64>, Option<i64>), _> =
        redis::cmd("MGET").arg(&subjects.user_key).arg(&subjects.address_key).query_async(&mut redis).await;
    match counts {
        Ok((user, address)) => over_limit(user, address),
        Err(err) => {
            log::warn!("lockout check failed ({err}); not locking out");
            false
        }
    }
}

pub fn over_limit(user: Option<i64>, address: Option<i64>) -> bool {
    user.unwrap_or(0) >= MAX_FAILURES_PER_USER || address.unwrap_or(0) >= MAX_FAILURES_PER_ADDRESS
}
