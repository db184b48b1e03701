//! Server configuration from environment variables.
//!
//! Every variable has a default that works on a developer machine; every bad
//! value is reported at once, in one error, so an operator fixes them in one go.

use crate::client_address::TrustedProxies;
use crate::database::DatabaseUrl;
use crate::redis_conn::RedisTarget;
use std::fmt;
use std::net::SocketAddr;

/// A secret read from the environment. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the service needs to start. Passed in, never read from a global,
/// so tests can point an app at its own database, Redis prefix and port.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: one host, or several the way libpq writes them
    /// (`postgres://u@h1:5432,h2:5433/db`): then only a writable primary is used.
    pub database_url: String,
    /// `DATABASE_READ_URL`: a replica for the heavy read-only paths; `None`: the primary.
    pub database_read_url: Option<String>,
    pub redis_url: String,
    /// `REDIS_CLUSTER_URLS`: seed nodes of a Redis Cluster. When not empty,
    /// cashdesk uses the cluster and ignores `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    pub bind: SocketAddr,
    pub redis_key_prefix: String,
    /// Taken out by `startup::connect`, which keeps only its SHA-256.
    pub admin_token: Option<Secret>,
    pub ivr_username: Option<String>,
    /// Taken out by `startup::connect`, which keeps only its SHA-256.
    pub ivr_password: Option<Secret>,
    /// Maximum Postgres connections of this instance.
    pub database_max_connections: u32,
    /// HTTP worker threads (default: one per core).
    pub http_workers: usize,
    /// `PUBLIC_BASE_URL`: how outside systems reach this service, for absolute
    /// links in webhooks (invoice URLs). `None`: `http://{BIND}` once bound.
    pub public_base_url: Option<String>,
    /// `TRUSTED_PROXIES`: the load balancers whose `X-Forwarded-For` names
    /// the client (empty: trust none).
    pub trusted_proxies: TrustedProxies,
    /// `ORDER_NUMBER_TTL_SECONDS`: how long an issued order number lives
    /// (its Redis mapping and its `expires_at`); 24 h, as SPEC §5 says,
    /// unless shortened for a test or a drill.
    pub order_number_ttl_seconds: u64,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/cashdesk";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/0";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "cashdesk:";

/// All configuration problems found, one per line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let var = |name: &str, default: &str| {
            lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
        };
        let optional = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = var("DATABASE_URL", DEFAULT_DATABASE_URL);
        if let Err(why) = DatabaseUrl::parse(&database_url) {
            errors.push(format!("DATABASE_URL {why} (got {:?})", redact_url(&database_url)));
        }
        let database_read_url = optional("DATABASE_READ_URL").map(|u| u.trim().to_string());
        if let Some(url) = &database_read_url {
            match DatabaseUrl::parse(url) {
                Err(why) => errors.push(format!("DATABASE_READ_URL {why} (got {:?})", redact_url(url))),
                Ok(parsed) if parsed.hosts.len() > 1 => errors.push(format!(
                    "DATABASE_READ_URL must name one host (a replica, or a balancer in front of replicas) (got {:?})",
                    redact_url(url)
                )),
                Ok(_) => {}
            }
        }
        let redis_url = var("REDIS_URL", DEFAULT_REDIS_URL);
        if !["redis://", "rediss://", "unix://", "redis+unix://"].iter().any(|s| redis_url.starts_with(s)) {
            errors.push(format!(
                "REDIS_URL must be a redis://, rediss:// or unix:// URL (got {:?})",
                redact_url(&redis_url)
            ));
        }
        let redis_cluster_urls: Vec<String> = optional("REDIS_CLUSTER_URLS")
            .map(|urls| urls.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        for url in &redis_cluster_urls {
            if let Err(why) = check_cluster_url(url) {
                errors.push(format!("REDIS_CLUSTER_URLS: {why} (got {:?})", redact_url(url)));
            }
        }
        let bind_raw = var("BIND", DEFAULT_BIND);
        let bind = match bind_raw.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                errors.push(format!("BIND must be an address like 127.0.0.1:8080 (got {bind_raw:?})"));
                None
            }
        };
        let redis_key_prefix = lookup("REDIS_KEY_PREFIX").unwrap_or_else(|| DEFAULT_REDIS_KEY_PREFIX.to_string());
        if redis_key_prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push("REDIS_KEY_PREFIX must not contain spaces or control characters".to_string());
        }
        if redis_key_prefix.contains(['{', '}']) {
            // A brace would start a Redis Cluster hash tag and move keys that
            // must share a slot apart (see keys.rs).
            errors.push("REDIS_KEY_PREFIX must not contain { or }".to_string());
        }
        let admin_token = optional("ADMIN_TOKEN").map(Secret::new);
        if let Some(token) = &admin_token {
            if token.expose().len() < 16 {
                errors.push("ADMIN_TOKEN must be at least 16 characters long".to_string());
            }
        }
        let ivr_username = optional("IVR_USERNAME");
        let ivr_password = optional("IVR_PASSWORD").map(Secret::new);
        if ivr_username.is_some() != ivr_password.is_some() {
            errors.push("IVR_USERNAME and IVR_PASSWORD must be set together".to_string());
        }
        let max_raw = var("DATABASE_MAX_CONNECTIONS", "20");
        let database_max_connections = match max_raw.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                errors.push(format!("DATABASE_MAX_CONNECTIONS must be a number from 1 to 1000 (got {max_raw:?})"));
                20
            }
        };

        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers_raw = var("HTTP_WORKERS", &cores.to_string());
        let http_workers = match workers_raw.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => n,
            _ => {
                errors.push(format!("HTTP_WORKERS must be a number from 1 to 256 (got {workers_raw:?})"));
                cores
            }
        };

        let public_base_url = optional("PUBLIC_BASE_URL").map(|u| u.trim().trim_end_matches('/').to_string());
        if let Some(url) = &public_base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace) {
                errors.push(format!("PUBLIC_BASE_URL must be an http:// or https:// URL (got {url:?})"));
            }
        }

        let trusted_proxies =
            TrustedProxies::parse(&lookup("TRUSTED_PROXIES").unwrap_or_default()).unwrap_or_else(|err| {
                errors.push(err);
                TrustedProxies::default()
            });

        let ttl_raw = var("ORDER_NUMBER_TTL_SECONDS", &crate::checkout::store::ORDER_NUMBER_TTL_SECONDS.to_string());
        let order_number_ttl_seconds = match ttl_raw.parse::<u64>() {
            Ok(n) if (1..=crate::checkout::store::ORDER_NUMBER_TTL_SECONDS).contains(&n) => n,
            _ => {
                errors.push(format!("ORDER_NUMBER_TTL_SECONDS must be a number from 1 to 86400 (got {ttl_raw:?})"));
                crate::checkout::store::ORDER_NUMBER_TTL_SECONDS
            }
        };

        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Settings {
            database_url,
            database_read_url,
            redis_url,
            redis_cluster_urls,
            bind: bind.expect("checked above"),
            redis_key_prefix,
            admin_token,
            ivr_username,
            ivr_password,
            database_max_connections,
            http_workers,
            public_base_url,
            trusted_proxies,
            order_number_ttl_seconds,
        })
    }

    /// The Redis this instance uses: the cluster when `REDIS_CLUSTER_URLS` is set.
    pub fn redis_target(&self) -> RedisTarget {
        if self.redis_cluster_urls.is_empty() {
            RedisTarget::Single(self.redis_url.clone())
        } else {
            RedisTarget::Cluster(self.redis_cluster_urls.clone())
        }
    }

    /// Where Redis is, for messages (passwords hidden).
    pub fn redis_description(&self) -> String {
        if self.redis_cluster_urls.is_empty() {
            redact_url(&self.redis_url)
        } else {
            format!(
                "the Redis Cluster of {}",
                self.redis_cluster_urls.iter().map(|u| redact_url(u)).collect::<Vec<_>>().join(",")
            )
        }
    }

    /// The base of absolute links to this service, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{}", self.bind))
    }
}

/// A cluster seed node must be a `redis://` or `rediss://` URL of a host
/// (cluster nodes have only database 0).
fn check_cluster_url(url: &str) -> Result<(), &'static str> {
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err("each seed node must be a redis:// or rediss:// URL");
    }
    match redis::IntoConnectionInfo::into_connection_info(url) {
        Ok(info) if info.redis_settings().db() == 0 => Ok(()),
        Ok(_) => Err("a cluster has only database 0"),
        Err(_) => Err("not a valid Redis URL"),
    }
}

/// Hides the password part of a URL so configuration errors can be printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_on_a_developer_machine() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert_eq!(s.redis_key_prefix, "cashdesk:");
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let err = Settings::from_lookup(|name| match name {
            "DATABASE_URL" => Some("mysql://x".into()),
            "REDIS_URL" => Some("http://x".into()),
            "BIND" => Some("nowhere".into()),
            "IVR_USERNAME" => Some("ivr".into()),
            "TRUSTED_PROXIES" => Some("10.0.0.0/8,10.0.0.0/40".into()),
            _ => None,
        })
        .unwrap_err();
        let text = err.to_string();
        for name in ["DATABASE_URL", "REDIS_URL", "BIND", "IVR_USERNAME", "TRUSTED_PROXIES"] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert_eq!(err.0.len(), 5);
    }

    #[test]
    fn redis_cluster_urls_replace_redis_url_and_bad_ones_are_reported() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.redis_target(), RedisTarget::Single(DEFAULT_REDIS_URL.to_string()));
        let s = Settings::from_lookup(|n| {
            (n == "REDIS_CLUSTER_URLS").then(|| " redis://10.0.0.1:7000, redis://10.0.0.2:7001,".into())
        })
        .unwrap();
        assert_eq!(
            s.redis_target(),
            RedisTarget::Cluster(vec!["redis://10.0.0.1:7000".to_string(), "redis://10.0.0.2:7001".to_string()])
        );
        let err = Settings::from_lookup(|n| match n {
            "REDIS_CLUSTER_URLS" => Some("redis://ok:7000,http://nope:7001,redis://db:7002/3".into()),
            "REDIS_KEY_PREFIX" => Some("app{x}:".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
        assert!(err.0[0].contains("REDIS_CLUSTER_URLS") && err.0[0].contains("http://nope:7001"), "{err}");
        assert!(err.0[1].contains("database 0"), "{err}");
        assert!(err.0[2].contains("REDIS_KEY_PREFIX"), "{err}");
    }

    #[test]
    fn public_base_url_defaults_to_the_bind_address_and_must_be_http() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.public_base_url(), "http://127.0.0.1:8080");
        let s = Settings::from_lookup(|n| (n == "PUBLIC_BASE_URL").then(|| "https://pay.example.com/".into())).unwrap();
        assert_eq!(s.public_base_url(), "https://pay.example.com");
        let err = Settings::from_lookup(|n| (n == "PUBLIC_BASE_URL").then(|| "pay.example.com".into())).unwrap_err();
        assert!(err.to_string().contains("PUBLIC_BASE_URL"));
    }

    #[test]
    fn database_urls_may_name_several_hosts_but_the_read_url_only_one() {
        let s = Settings::from_lookup(|n| match n {
            "DATABASE_URL" => Some("postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write".into()),
            "DATABASE_READ_URL" => Some("postgres://u@replica:5432/db".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.database_read_url.as_deref(), Some("postgres://u@replica:5432/db"));
        assert!(Settings::from_lookup(|_| None).unwrap().database_read_url.is_none());
        let err = Settings::from_lookup(|n| match n {
            "DATABASE_URL" => Some("postgres://u@h1,h2/db?target_session_attrs=read-only".into()),
            "DATABASE_READ_URL" => Some("postgres://u@r1,r2/db".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(err.0[0].starts_with("DATABASE_URL") && err.0[1].starts_with("DATABASE_READ_URL"), "{err}");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h1:5432,h2:5433/db"), "postgres://u:***@h1:5432,h2:5433/db");
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
    }
}
