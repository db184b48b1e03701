//! Every Redis key the service uses, built in one place so the configured
//! prefix is always applied and a reader can find each key's shape here.
//!
//! Keys that one script touches together could later share a hash tag for
//! Redis Cluster (see docs/ARCHITECTURE.md); today one Redis is assumed.

/// Builds keys under the deployment's `REDIS_KEY_PREFIX`.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Keys { prefix: prefix.into() }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Hash holding one checkout session: `doc`, `state`, `ptype`, `fp`, `card`, `ivr`.
    pub fn checkout(&self, session_id: &str) -> String {
        format!("{}checkout:{}", self.prefix, session_id)
    }

    /// The set of order numbers issued for one checkout session.
    pub fn checkout_numbers(&self, session_id: &str) -> String {
        format!("{}checkout_numbers:{}", self.prefix, session_id)
    }

    /// Hash of one order number, for exactly 24 hours: `sid`, `fp0` and a
    /// mirror of its session's fields (see `checkout::store`).
    pub fn order_number(&self, order_number: &str) -> String {
        format!("{}{}", self.order_number_prefix(), order_number)
    }

    /// The prefix of order-number keys, for scripts that walk a session's numbers.
    pub fn order_number_prefix(&self) -> String {
        format!("{}order_number:", self.prefix)
    }

    /// The list of order-completion jobs waiting for a worker.
    pub fn jobs_complete(&self) -> String {
        format!("{}jobs:complete", self.prefix)
    }

    /// The jobs one worker has taken and not yet finished.
    pub fn jobs_processing(&self, worker_id: &str) -> String {
        format!("{}jobs:processing:{}", self.prefix, worker_id)
    }

    /// Present while the worker is alive; a reaper returns the jobs of a worker without one.
    pub fn worker_lease(&self, worker_id: &str) -> String {
        format!("{}jobs:lease:{}", self.prefix, worker_id)
    }

    /// The set of worker ids that may hold jobs.
    pub fn workers(&self) -> String {
        format!("{}jobs:workers", self.prefix)
    }

    /// Pub/sub channel announcing dynamic-settings changes.
    pub fn settings_channel(&self) -> String {
        format!("{}settings", self.prefix)
    }

    /// Failed logins of one subject over the last 15 minutes, a sorted set of
    /// attempt times: of a client address, or with `pair` (the username's
    /// digest) of a (username, address) pair. Both subjects of one address
    /// share a hash tag, so one attempt touches one slot.
    pub fn login_failures(&self, protocol: &str, address: &str, pair: Option<&str>) -> String {
        format!("{}login:{{{}:{}}}:failures{}", self.prefix, protocol, address, pair_suffix(pair))
    }

    /// Present while a subject of [`Keys::login_failures`] is locked out,
    /// expiring when it unlocks; holds who it is (protocol, address, username).
    pub fn login_lock(&self, protocol: &str, address: &str, pair: Option<&str>) -> String {
        format!("{}login:{{{}:{}}}:lock{}", self.prefix, protocol, address, pair_suffix(pair))
    }

    /// A `SCAN` pattern matching every [`Keys::login_lock`] key.
    pub fn login_locks_pattern(&self) -> String {
        format!("{}login:*:lock*", glob_escape(&self.prefix))
    }

    /// A credential pair that passed verification under one settings version,
    /// named by a keyed digest of (version, username, password): every
    /// instance then admits it without hashing the password again.
    pub fn verified_credentials(&self, digest_hex: &str) -> String {
        format!("{}verified:{}", self.prefix, digest_hex)
    }

    /// One signed-in operator session of the admin page, named by the
    /// SHA-256 of its cookie value (so a Redis dump holds no usable session);
    /// holds the session's CSRF token, expires with the session.
    pub fn admin_session(&self, session_id_sha256: &str) -> String {
        format!("{}admin_session:{}", self.prefix, session_id_sha256)
    }
}

fn pair_suffix(pair: Option<&str>) -> String {
    pair.map(|digest| format!(":{digest}")).unwrap_or_default()
}

/// `text` with the characters `SCAN MATCH` treats as wildcards escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
