//! The hash chain shared by the append-only ledgers (a drawer's, a store's):
//! each row stores the hash of the row before it and its own
//! `hash = sha256(prev_hash ‖ canonical row)`, and the owner (drawer, store)
//! keeps the chain head, so an edit, insertion or deletion made behind the
//! service's back is found by walking the chain again. Each ledger decides
//! what its canonical row is; the chaining and the walk are here.

use crate::secrets::sha256_hex;
use chrono::{DateTime, Utc};

/// The `prev_hash` of a chain's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a row whose canonical form is `canonical`, after `prev_hash`.
pub fn link(prev_hash: &str, canonical: &str) -> String {
    sha256_hex(format!("{prev_hash}{canonical}").as_bytes())
}

/// The current time at the microsecond precision Postgres keeps, so a value
/// hashed before it is stored hashes the same when read back.
pub fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// The outcome of re-checking a chain.
#[derive(Debug, PartialEq, Eq)]
pub struct Verification {
    pub entries: i64,
    /// The seq of the first row that does not match, and why.
    pub first_invalid: Option<(i64, String)>,
}

/// Re-checks a chain row by row, in `seq` order, then against its owner's head.
#[derive(Debug)]
pub struct Walk {
    running: String,
    entries: i64,
    first_invalid: Option<(i64, String)>,
}

impl Default for Walk {
    fn default() -> Self {
        Walk { running: GENESIS.to_string(), entries: 0, first_invalid: None }
    }
}

impl Walk {
    /// One stored row: its `seq`, stored hashes, and its canonical form as
    /// read back (`None` when the row holds what no row of ours can hold,
    /// such as an unknown kind: it was written behind the service's back).
    pub fn row(&mut self, seq: i64, prev_hash: &str, hash: &str, canonical: Option<&str>) {
        self.entries += 1;
        if self.first_invalid.is_none() {
            let mismatch = || (seq, "contents do not match the entry's hash".to_string());
            self.first_invalid = if seq != self.entries {
                Some((seq, format!("expected entry {} here: an entry is missing or was inserted", self.entries)))
            } else if prev_hash != self.running {
                Some((seq, "prev_hash does not match the previous entry".to_string()))
            } else {
                match canonical {
                    Some(canonical) if link(&self.running, canonical) == hash => None,
                    _ => Some(mismatch()),
                }
            };
        }
        self.running = hash.to_string();
    }

    /// The verdict, once every row was fed: a chain that ends elsewhere than
    /// the owner's head (`head_seq`, `head_hash`) lost its tail.
    pub fn finish(mut self, owner: &str, head_seq: i64, head_hash: &str) -> Verification {
        if self.first_invalid.is_none() && (self.entries != head_seq || self.running != head_hash) {
            self.first_invalid = Some((
                self.entries + 1,
                format!("the chain ends at entry {} but the {owner}'s head is entry {head_seq}", self.entries),
            ));
        }
        Verification { entries: self.entries, first_invalid: self.first_invalid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(rows: &[&str]) -> Vec<(i64, String, String, String)> {
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for (i, canonical) in rows.iter().enumerate() {
            let hash = link(&prev, canonical);
            out.push((i as i64 + 1, prev.clone(), hash.clone(), canonical.to_string()));
            prev = hash;
        }
        out
    }

    fn walk(rows: &[(i64, String, String, String)], head: (i64, &str)) -> Verification {
        let mut walk = Walk::default();
        for (seq, prev, hash, canonical) in rows {
            walk.row(*seq, prev, hash, Some(canonical));
        }
        walk.finish("store", head.0, head.1)
    }

    #[test]
    fn an_untouched_chain_is_valid_and_any_edit_is_named_by_its_seq() {
        let rows = chain(&["a", "b", "c"]);
        let head = rows[2].2.clone();
        assert_eq!(walk(&rows, (3, &head)), Verification { entries: 3, first_invalid: None });
        assert_eq!(walk(&[], (0, GENESIS)).first_invalid, None);

        let mut edited = rows.clone();
        edited[1].3 = "B".into();
        assert_eq!(walk(&edited, (3, &head)).first_invalid.unwrap().0, 2);

        let mut gap = rows.clone();
        gap.remove(1);
        assert_eq!(walk(&gap, (3, &head)).first_invalid.unwrap().0, 3);

        let tail_cut = &rows[..2];
        let verdict = walk(tail_cut, (3, &head));
        assert_eq!(verdict.entries, 2);
        assert!(verdict.first_invalid.unwrap().1.contains("store's head is entry 3"));
    }
}
