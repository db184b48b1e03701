//! Secrets: hashing what we only verify, constant-time comparison, random tokens.
//!
//! Operator-chosen passwords (hook credentials) are hashed with Argon2id on
//! write. Verifying Argon2 costs milliseconds of CPU, so it runs on a bounded
//! pool ([`hash_bounded`]), and hook handlers remember the pairs that passed
//! per settings version ([`VerifiedCache`], keyed by a keyed digest of the
//! pair, never the password itself). Generated tokens
//! (associate tokens, shop keys) carry 256 bits of entropy, so a plain SHA-256
//! is enough to store them.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// Hex SHA-256 of `value`.
pub fn sha256_hex(value: &[u8]) -> String {
    hex::encode(Sha256::digest(value))
}

/// SHA-256 of `value`.
pub fn sha256(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A new random token with `prefix`, e.g. `cdk_assoc_…`: 32 random bytes, hex.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Argon2id hash of `password` in PHC string form.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("failed to hash password: {e}"))
}

/// Checks `password` against an Argon2 PHC hash (slow by design).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Runs slow password hashing on the blocking pool, at most one job per core
/// at a time: a flood of passwords never checked before queues here instead
/// of starving the async workers that serve the tills. `None` if the job panicked.
pub async fn hash_bounded<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static PERMITS: LazyLock<Semaphore> =
        LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())));
    let _permit = PERMITS.acquire().await.ok()?;
    tokio::task::spawn_blocking(job).await.ok()
}

/// Credential pairs that passed verification under one settings version,
/// named by a keyed digest of (version, username, password), never by the
/// password itself. Only successes are kept: a flood of wrong passwords
/// cannot push the tills' pairs out.
pub struct VerifiedCache {
    key: [u8; 32],
    version: i64,
    verified: Mutex<HashSet<[u8; 32]>>,
    /// Pairs being verified now, so a burst of requests with one pair (a
    /// restarted instance, every till at opening time) hashes it once.
    in_flight: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
}

/// The right to verify one pair, held by one request at a time.
pub struct Turn<'a> {
    cache: &'a VerifiedCache,
    digest: [u8; 32],
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.cache.in_flight.lock() {
            // Held by the map and by us only: nobody waits, the entry goes.
            if in_flight.get(&self.digest).is_some_and(|turn| Arc::strong_count(turn) <= 2) {
                in_flight.remove(&self.digest);
            }
        }
    }
}

/// Bound on remembered pairs; beyond it the cache starts over.
const VERIFIED_CACHE_LIMIT: usize = 10_000;

impl VerifiedCache {
    /// A cache for settings `version`, with the digest `key` every instance shares.
    pub fn new(key: [u8; 32], version: i64) -> Self {
        VerifiedCache { key, version, verified: Mutex::new(HashSet::new()), in_flight: Mutex::new(HashMap::new()) }
    }

    /// Waits until no other request is verifying the pair of `digest`, then
    /// holds that right until the turn is dropped.
    pub async fn turn(&self, digest: [u8; 32]) -> Turn<'_> {
        let lock = match self.in_flight.lock() {
            Ok(mut in_flight) => Arc::clone(in_flight.entry(digest).or_default()),
            Err(_) => Arc::default(),
        };
        Turn { cache: self, digest, _held: lock.lock_owned().await }
    }

    /// The keyed digest naming this pair under this settings version.
    pub fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(&self.version.to_le_bytes());
        mac.update(&(username.len() as u64).to_le_bytes());
        mac.update(username.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when the pair of `digest` was verified before (no Argon2 needed).
    pub fn knows(&self, digest: &[u8; 32]) -> bool {
        self.verified.lock().is_ok_and(|set| set.contains(digest))
    }

    pub fn remember(&self, digest: [u8; 32]) {
        if let Ok(mut set) = self.verified.lock() {
            if set.len() >= VERIFIED_CACHE_LIMIT {
                set.clear();
            }
            set.insert(digest);
        }
    }
}

/// The server-wide secret `name`, created on first use and shared by every
/// instance through Postgres (no configuration to keep in step).
pub async fn server_secret(db: &sqlx::PgPool, name: &str) -> Result<Vec<u8>, sqlx::Error> {
    let existing =
        sqlx::query_scalar!("SELECT value FROM server_secrets WHERE name = $1", name).fetch_optional(db).await?;
    if let Some(value) = existing {
        return Ok(value);
    }
    let mut fresh = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut fresh);
    sqlx::query!(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        &fresh[..]
    )
    .execute(db)
    .await?;
    // Another instance may have won the race: read what was kept.
    sqlx::query_scalar!("SELECT value FROM server_secrets WHERE name = $1", name).fetch_one(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let phc = hash_password("secret").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("secret", &phc));
        assert!(!verify_password("wrong", &phc));
    }

    #[test]
    fn verified_pairs_are_named_per_version_and_pair() {
        let cache = VerifiedCache::new([7; 32], 3);
        let digest = cache.digest("u", "secret");
        assert!(!cache.knows(&digest));
        cache.remember(digest);
        assert!(cache.knows(&digest));
        assert_ne!(digest, cache.digest("u", "secre"), "another password");
        assert_ne!(cache.digest("us", "ecret"), cache.digest("u", "secret"), "the split between the two matters");
        assert_ne!(digest, VerifiedCache::new([7; 32], 4).digest("u", "secret"), "another settings version");
        assert_ne!(digest, VerifiedCache::new([8; 32], 3).digest("u", "secret"), "another key");
    }

    #[tokio::test]
    async fn one_request_at_a_time_verifies_a_pair_and_the_turns_are_forgotten() {
        let cache = VerifiedCache::new([7; 32], 3);
        let digest = cache.digest("u", "secret");
        let first = cache.turn(digest).await;
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), cache.turn(digest)).await;
        assert!(waiting.is_err(), "a second turn waits for the first");
        let other = cache.turn(cache.digest("u", "other")).await;
        drop((first, other));
        assert!(cache.in_flight.lock().unwrap().is_empty());
        let _again = cache.turn(digest).await;
    }

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = random_token("t_");
        assert!(a.starts_with("t_") && a.len() == 66);
        assert_ne!(a, random_token("t_"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
