//! Secrets: hashing what we only verify, constant-time comparison, random tokens.
//!
//! Operator-chosen passwords (hook credentials) are hashed with Argon2id on
//! write. Verifying Argon2 costs milliseconds, so hook handlers go through a
//! [`VerifiedCache`] that remembers the outcome per settings version, keyed by a
//! keyed digest of the password (never the password itself). Generated tokens
//! (associate tokens, shop keys) carry 256 bits of entropy, so a plain SHA-256
//! is enough to store them.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

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

/// Remembers Argon2 verification outcomes for one settings version, so a
/// credential costs one HMAC and a map lookup on the hot path.
pub struct VerifiedCache {
    key: [u8; 32],
    /// Keyed digest of (username, password) → outcome.
    outcomes: Mutex<HashMap<[u8; 32], bool>>,
}

/// Bound on remembered outcomes; beyond it the cache starts over (wrong
/// passwords from an attacker must not grow memory without limit).
const VERIFIED_CACHE_LIMIT: usize = 10_000;

impl Default for VerifiedCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        VerifiedCache { key, outcomes: Mutex::new(HashMap::new()) }
    }
}

impl VerifiedCache {
    fn cache_key(&self, username: &str, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(&(username.len() as u64).to_le_bytes());
        mac.update(username.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The remembered outcome for this pair, if it was checked before (no Argon2).
    pub fn remembered(&self, username: &str, password: &str) -> Option<bool> {
        let cache_key = self.cache_key(username, password);
        self.outcomes.lock().ok()?.get(&cache_key).copied()
    }

    /// Checks `password` for `username` against the stored `phc` hash, from
    /// memory when this pair was checked before.
    pub fn verify(&self, username: &str, password: &str, phc: &str) -> bool {
        let cache_key = self.cache_key(username, password);
        if let Some(known) = self.outcomes.lock().map(|m| m.get(&cache_key).copied()).ok().flatten() {
            return known;
        }
        let outcome = verify_password(password, phc);
        if let Ok(mut map) = self.outcomes.lock() {
            if map.len() >= VERIFIED_CACHE_LIMIT {
                map.clear();
            }
            map.insert(cache_key, outcome);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip_and_cache() {
        let phc = hash_password("secret").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        let cache = VerifiedCache::default();
        assert!(cache.verify("u", "secret", &phc));
        assert!(cache.verify("u", "secret", &phc));
        assert!(!cache.verify("u", "wrong", &phc));
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
