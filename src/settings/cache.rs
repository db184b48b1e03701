//! The in-memory copy of the dynamic settings each instance serves from.

use super::{CASH_REGISTER_AUTH_CONF, ORDER_WEBHOOK_CONF};
use crate::keys::Keys;
use crate::redis_conn::{RedisTarget, Subscription};
use crate::secrets::{constant_time_eq, hash_bounded, server_secret, verify_password, VerifiedCache};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often an instance re-reads the settings even without a notification.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// `CASH_REGISTER_AUTH_CONF` as the hooks use it.
pub struct CashRegisterAuth {
    pub version: i64,
    credentials: Vec<(String, String)>,
    pub installment_enabled: bool,
    pub shipping_sku: Option<String>,
    verified: VerifiedCache,
}

impl CashRegisterAuth {
    fn from_stored(version: i64, value: &Value, verification_key: [u8; 32]) -> Self {
        let credentials = value["credentials"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|c| {
                        Some((c["username"].as_str()?.to_string(), c["password_hash"].as_str()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        CashRegisterAuth {
            version,
            credentials,
            installment_enabled: value["installment_enabled"].as_bool().unwrap_or(false),
            shipping_sku: value["shipping_sku"].as_str().map(str::to_string),
            verified: VerifiedCache::new(verification_key, version),
        }
    }

    /// The stored hash of `username`. Every username is compared in constant
    /// time, so the position of a match leaks nothing.
    fn hash_of(&self, username: &str) -> Option<&str> {
        let mut matched: Option<&str> = None;
        for (user, hash) in &self.credentials {
            if constant_time_eq(user.as_bytes(), username.as_bytes()) {
                matched = Some(hash);
            }
        }
        matched
    }

    /// The keyed digest naming this pair under this settings version.
    pub fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        self.verified.digest(username, password)
    }

    /// True when the pair of `digest` passed verification before on this instance.
    pub fn is_verified(&self, digest: &[u8; 32]) -> bool {
        self.verified.knows(digest)
    }

    /// Waits for the right to verify the pair of `digest` (one request at a time per pair).
    pub async fn turn(&self, digest: [u8; 32]) -> crate::secrets::Turn<'_> {
        self.verified.turn(digest).await
    }

    /// Remembers that the pair of `digest` passed verification (here, or on another instance).
    pub fn remember(&self, digest: [u8; 32]) {
        self.verified.remember(digest);
    }

    /// True when `username`/`password` is one of the active credential
    /// pairs, by Argon2 on the bounded hashing pool (milliseconds of CPU).
    pub async fn verify(&self, username: &str, password: &str) -> bool {
        let matched = self.hash_of(username).map(str::to_string);
        let known_user = matched.is_some();
        let password = password.to_string();
        // An unknown username costs the same verification as a known one, so
        // timing tells nobody which usernames exist.
        let verified =
            hash_bounded(move || verify_password(&password, matched.as_deref().unwrap_or_else(|| unknown_user_hash())))
                .await;
        verified == Some(true) && known_user
    }
}

/// An Argon2 hash no password is checked against for real: what an unknown
/// username is verified against.
fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| crate::secrets::hash_password("no such user").unwrap_or_default());
    &HASH
}

/// One webhook endpoint of `ORDER_WEBHOOK_CONF`.
#[derive(Clone, Debug)]
pub struct WebhookEndpoint {
    pub url: String,
    pub secret: String,
}

/// All dynamic settings at one moment.
#[derive(Default)]
pub struct Snapshot {
    versions: HashMap<String, i64>,
    pub cash_register: Option<Arc<CashRegisterAuth>>,
    pub webhook_endpoints: Arc<Vec<WebhookEndpoint>>,
}

impl Snapshot {
    pub fn version(&self, key: &str) -> Option<i64> {
        self.versions.get(key).copied()
    }
}

/// The shared, refreshable settings cache of one instance.
#[derive(Default)]
pub struct DynamicSettings {
    current: RwLock<Arc<Snapshot>>,
    /// The key of verified-credential digests, shared by every instance
    /// (`server_secrets`), read on the first reload.
    verification_key: OnceLock<[u8; 32]>,
}

/// The `server_secrets` row keying verified-credential digests.
const VERIFICATION_KEY_NAME: &str = "verified_credentials";

impl DynamicSettings {
    /// The settings in force now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().map(|s| Arc::clone(&s)).unwrap_or_default()
    }

    /// Re-reads the table; parts whose version did not change are kept as they
    /// are (with their verification caches).
    pub async fn reload(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, Value, i64)> = sqlx::query!("SELECT key, value, version FROM dynamic_settings")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.key, r.value, r.version))
            .collect();
        let verification_key = match self.verification_key.get() {
            Some(key) => *key,
            None => {
                let stored = server_secret(pool, VERIFICATION_KEY_NAME).await?;
                *self.verification_key.get_or_init(|| crate::secrets::sha256(&stored))
            }
        };
        let old = self.snapshot();
        let mut next =
            Snapshot { versions: HashMap::new(), cash_register: None, webhook_endpoints: Arc::new(Vec::new()) };
        for (key, value, version) in rows {
            let unchanged = old.version(&key) == Some(version);
            match key.as_str() {
                CASH_REGISTER_AUTH_CONF => {
                    next.cash_register = match (&old.cash_register, unchanged) {
                        (Some(kept), true) => Some(Arc::clone(kept)),
                        _ => Some(Arc::new(CashRegisterAuth::from_stored(version, &value, verification_key))),
                    };
                }
                ORDER_WEBHOOK_CONF => {
                    let endpoints = value["endpoints"]
                        .as_array()
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(|e| {
                                    Some(WebhookEndpoint {
                                        url: e["url"].as_str()?.to_string(),
                                        secret: e["secret"].as_str()?.to_string(),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    next.webhook_endpoints = Arc::new(endpoints);
                }
                _ => {}
            }
            next.versions.insert(key, version);
        }
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(next);
        }
        Ok(())
    }

    /// Keeps this cache fresh until `stop`: reloads on every change
    /// notification and every [`REFRESH_INTERVAL`] regardless.
    pub async fn follow(self: Arc<Self>, pool: PgPool, redis: RedisTarget, keys: Keys, stop: CancellationToken) {
        let channel = keys.settings_channel();
        while !stop.is_cancelled() {
            let mut pubsub = match Subscription::open(&redis, &channel, Duration::from_secs(5)).await {
                Ok(p) => Some(p),
                Err(err) => {
                    log::warn!("settings notifications unavailable ({err}); refreshing every {REFRESH_INTERVAL:?}");
                    None
                }
            };
            // Anything changed while we were not subscribed is picked up here.
            if let Err(err) = self.reload(&pool).await {
                log::warn!("failed to reload dynamic settings: {err}");
            }
            let mut ticker = tokio::time::interval(REFRESH_INTERVAL);
            ticker.tick().await;
            loop {
                let message = async {
                    match pubsub.as_mut() {
                        Some(p) => p.next_message().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticker.tick() => {}
                    got = message => if got.is_none() {
                        log::warn!("settings notification connection closed; reconnecting");
                        break;
                    },
                }
                if let Err(err) = self.reload(&pool).await {
                    log::warn!("failed to reload dynamic settings: {err}");
                }
                if pubsub.is_none() {
                    break; // try to subscribe again
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown username is verified against a stand-in hash of the same
    /// algorithm, version and cost as a stored one, so it costs the same work
    /// (asserted on the hashes, not on a stopwatch: timings on a shared
    /// machine say more about the neighbours than about the code).
    #[tokio::test]
    async fn an_unknown_username_costs_the_same_verification_as_a_wrong_password() {
        use argon2::password_hash::PasswordHash;
        let hash = crate::secrets::hash_password("right").unwrap();
        let stored = PasswordHash::new(&hash).unwrap();
        let stand_in = PasswordHash::new(unknown_user_hash()).unwrap();
        assert_eq!(stand_in.algorithm, stored.algorithm);
        assert_eq!(stand_in.version, stored.version);
        assert_eq!(stand_in.params, stored.params, "the stand-in hash must cost what a stored one costs");
        let value = serde_json::json!({"credentials": [{"username": "cashier01", "password_hash": hash}]});
        let auth = CashRegisterAuth::from_stored(1, &value, [1; 32]);
        assert!(!auth.verify("cashier01", "wrong-1").await);
        assert!(!auth.verify("nobody", "wrong-1").await);
        assert!(auth.verify("cashier01", "right").await);
        assert!(!auth.verify("nobody", "right").await);
        assert!(!auth.verify("nobody", "no such user").await, "the stand-in hash admits nobody");
    }
}
