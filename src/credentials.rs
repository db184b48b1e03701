//! Hook credentials (SPEC §3, §11): is this (username, password) allowed in?
//!
//! Cash register pairs are Argon2 hashes in `CASH_REGISTER_AUTH_CONF`.
//! Checking one costs milliseconds of CPU, so a pair that passed once under
//! the current settings version is admitted again without hashing, on every
//! instance: this instance remembers it in memory, and the outcome is shared
//! through Redis under a keyed digest of (version, username, password)
//! (`keys::verified_credentials`), never the password. A settings change
//! makes new digests, so old outcomes are never consulted again. Pairs not
//! seen before wait for the bounded hashing pool, and a locked-out caller is
//! refused before any hashing: guessing stays cheap for us and slow for them.
//!
//! The IVR credentials are server settings held as SHA-256 digests.

use crate::context::AppContext;
use crate::lockouts::{self, Login};
use crate::secrets::{constant_time_eq, sha256};

/// How long a shared verification outcome is kept (a pair unused for longer costs one hashing again).
const SHARED_OUTCOME_SECONDS: u64 = 24 * 3600;

/// True when `username`/`password` is an active `CASH_REGISTER_AUTH_CONF`
/// pair and, for a pair this instance has not verified before, `login` is
/// not locked out. (A pair verified before is not checked for a lockout here:
/// the pre-order lookup that follows reads the lock in its round trip.)
pub async fn cash_register(ctx: &AppContext, login: &Login, username: &str, password: &str) -> bool {
    let snapshot = ctx.settings.snapshot();
    let Some(conf) = snapshot.cash_register.as_ref() else { return false };
    let digest = conf.digest(username, password);
    if conf.is_verified(&digest) {
        return true;
    }
    // A burst of requests with one new pair verifies it once: the others
    // wait for this turn, then find the pair remembered.
    let _turn = conf.turn(digest).await;
    if conf.is_verified(&digest) {
        return true;
    }
    let shared_key = ctx.keys.verified_credentials(&hex::encode(digest));
    let mut redis = ctx.redis();
    let exists = redis::cmd("EXISTS").arg(&shared_key).clone();
    let (locked, shared) = tokio::join!(lockouts::is_locked(ctx, login), exists.query_async::<i64>(&mut redis));
    match locked {
        Ok(false) => {}
        Ok(true) => return false,
        // Redis is unreachable: the caller's lock cannot be read. Checking
        // the password is still right: a till with the right one then gets
        // the retry answer of the look-up, not a misleading credential error,
        // and the hashing stays bounded.
        Err(err) => log::warn!("lockout check failed: {err}"),
    }
    if shared.unwrap_or(0) == 1 {
        conf.remember(digest);
        return true;
    }
    ctx.metrics.password_verifications.inc();
    if !conf.verify(username, password).await {
        return false;
    }
    conf.remember(digest);
    let stored: redis::RedisResult<()> =
        redis::cmd("SET").arg(&shared_key).arg(1).arg("EX").arg(SHARED_OUTCOME_SECONDS).query_async(&mut redis).await;
    if let Err(err) = stored {
        log::warn!("verified credentials not shared: {err}");
    }
    true
}

/// True when the credentials are `IVR_USERNAME`/`IVR_PASSWORD` (compared as
/// digests, in constant time; no IVR credentials configured admits nobody).
pub fn ivr(ctx: &AppContext, username: &str, password: &str) -> bool {
    match &ctx.ivr_credentials {
        Some((user_hash, password_hash)) => {
            let user_ok = constant_time_eq(&sha256(username.as_bytes()), user_hash);
            let password_ok = constant_time_eq(&sha256(password.as_bytes()), password_hash);
            user_ok & password_ok
        }
        None => false,
    }
}
