//! Every Redis key the service uses, built in one place so the configured
//! prefix is always applied and a reader can find each key's shape here.
//!
//! The layout works on one Redis and on a Redis Cluster alike. In a cluster
//! every command, pipeline and script must touch a single hash slot, so keys
//! used together share a hash tag (the part in `{…}`, which alone decides
//! the slot):
//! - a checkout session, its set of order numbers and every order number
//!   issued for it carry the tag of the session's bucket, `{s042}`: the
//!   session scripts (save, register, forget) touch one slot, and the order
//!   number itself names the bucket (`order_number.rs`), so the till's
//!   look-up finds the slot from the number alone. 1,000 buckets spread the
//!   sessions over every primary;
//! - the job lists, leases and the set of job loops share `{jobs}`, so
//!   `BLMOVE` between lists and the lease pipeline touch one slot;
//! - the failed-login keys of one protocol and client address (the
//!   address's failures and lock, and each username's at that address)
//!   share `{<protocol>:<address>}`, so counting one attempt is one script
//!   on one slot, and logins from different addresses spread out;
//! - everything else is one key per command.
//!
//! The prefix comes first (every key starts with it, SPEC §2), so it must
//! hold no brace (checked in `config.rs`).

use crate::order_number::{Bucket, OrderNumber};

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
        format!("{}{{s{}}}:checkout:{}", self.prefix, Bucket::of_session(session_id), session_id)
    }

    /// The set of order numbers issued for one checkout session.
    pub fn checkout_numbers(&self, session_id: &str) -> String {
        format!("{}{{s{}}}:checkout_numbers:{}", self.prefix, Bucket::of_session(session_id), session_id)
    }

    /// Hash of one order number, for exactly 24 hours: `sid`, `fp0` and a
    /// mirror of its session's fields (see `checkout::store`). In its
    /// session's slot, through the bucket the number carries.
    pub fn order_number(&self, order_number: &OrderNumber) -> String {
        format!("{}{{s{}}}:order_number:{}", self.prefix, order_number.bucket(), order_number)
    }

    /// The list of order-completion jobs waiting for a worker.
    pub fn jobs_complete(&self) -> String {
        format!("{}{{jobs}}:complete", self.prefix)
    }

    /// The jobs one worker has taken and not yet finished.
    pub fn jobs_processing(&self, worker_id: &str) -> String {
        format!("{}{{jobs}}:processing:{}", self.prefix, worker_id)
    }

    /// Present while the worker is alive; a reaper returns the jobs of a worker without one.
    pub fn worker_lease(&self, worker_id: &str) -> String {
        format!("{}{{jobs}}:lease:{}", self.prefix, worker_id)
    }

    /// The set of worker ids that may hold jobs.
    pub fn workers(&self) -> String {
        format!("{}{{jobs}}:workers", self.prefix)
    }

    /// Pub/sub channel announcing dynamic-settings changes (a sharded
    /// channel on a cluster: it lives in its own slot's shard).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash tag of a key, as Redis Cluster reads it.
    fn tag(key: &str) -> &str {
        let open = key.find('{').expect("a hash tag");
        let close = open + key[open..].find('}').expect("a closed hash tag");
        &key[open + 1..close]
    }

    #[test]
    fn a_session_and_its_order_numbers_share_a_slot_and_jobs_share_another() {
        let keys = Keys::new("cashdesk:");
        let session = "9f86d081884c7d659a2feaa0c55ad015";
        let number = OrderNumber::issue(17, Bucket::of_session(session));
        let together = [keys.checkout(session), keys.checkout_numbers(session), keys.order_number(&number)];
        assert!(together.iter().all(|k| k.starts_with("cashdesk:") && tag(k) == tag(&together[0])), "{together:?}");
        assert_eq!(tag(&together[0]), format!("s{}", Bucket::of_session(session)));
        let jobs = [keys.jobs_complete(), keys.jobs_processing("w1"), keys.worker_lease("w1"), keys.workers()];
        assert!(jobs.iter().all(|k| k.starts_with("cashdesk:") && tag(k) == "jobs"), "{jobs:?}");
        let other = "0000000000000000000000000000beef";
        assert_ne!(tag(&keys.checkout(other)), tag(&keys.checkout(session)), "sessions spread over buckets");
    }
}
