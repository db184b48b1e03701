//! The store ledger: every step of every deposit of a store is one row, never
//! updated or deleted (a trigger refuses both), chained per store with
//! [`crate::hash_chain`] like a drawer's ledger. `store_ledger_heads` keeps
//! each store's chain head; appends happen only while the caller holds that
//! row's lock ([`lock`]), which serialises the chain per store.

use super::model::DepositStatus;
use crate::hash_chain::{link, now_micros, Verification, Walk};
use crate::money::fmt2;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

pub type Tx = Transaction<'static, Postgres>;

/// The chain head of a locked store.
#[derive(Debug, Clone)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// Locks `store_id`'s chain head for the rest of `tx` (creating it on the
/// store's first deposit): every deposit write of a store goes through here.
pub async fn lock(tx: &mut Tx, store_id: &str) -> Result<Head, sqlx::Error> {
    sqlx::query!("INSERT INTO store_ledger_heads (store_id) VALUES ($1) ON CONFLICT DO NOTHING", store_id)
        .execute(&mut **tx)
        .await?;
    let row =
        sqlx::query!("SELECT ledger_seq, ledger_head FROM store_ledger_heads WHERE store_id = $1 FOR UPDATE", store_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(Head { seq: row.ledger_seq, hash: row.ledger_head })
}

/// The head as last committed (for verification, read in the chain's snapshot).
pub async fn head(conn: &mut PgConnection, store_id: &str) -> Result<Head, sqlx::Error> {
    let row = sqlx::query!("SELECT ledger_seq, ledger_head FROM store_ledger_heads WHERE store_id = $1", store_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map_or_else(
        || Head { seq: 0, hash: crate::hash_chain::GENESIS.to_string() },
        |r| Head { seq: r.ledger_seq, hash: r.ledger_head },
    ))
}

/// One step of a deposit. `amount` is the deposit's amount when `prepared`,
/// the banked amount when `banked`, none when `in_transit`.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub store_id: &'a str,
    pub entry_type: DepositStatus,
    pub deposit_id: Uuid,
    pub bag_number: Option<&'a str>,
    pub count_ids: &'a [Uuid],
    pub currency: &'a str,
    pub amount: Option<Decimal>,
    pub associate_id: Option<&'a str>,
}

/// The bytes a row's hash covers: every column but `id` and the hashes, as a
/// JSON array (strings quoted and escaped, absent is `null`).
fn canonical(seq: i64, e: &Entry<'_>, created_at: DateTime<Utc>) -> String {
    json!([
        e.store_id,
        seq,
        e.entry_type.as_str(),
        e.deposit_id.to_string(),
        e.bag_number,
        e.count_ids.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        e.currency,
        // a negative zero would print as "-0.00" but come back from Postgres as "0.00"
        e.amount.map(|a| fmt2(if a.is_zero() { Decimal::ZERO } else { a })),
        e.associate_id,
        created_at.timestamp_micros(),
    ])
    .to_string()
}

/// Appends `entry` after `head` and moves the store's head; answers the
/// row's time. The caller holds the head's lock.
pub async fn append(tx: &mut Tx, head: &mut Head, entry: &Entry<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    let seq = head.seq + 1;
    let created_at = now_micros();
    let hash = link(&head.hash, &canonical(seq, entry, created_at));
    sqlx::query!(
        "INSERT INTO store_ledger (store_id, seq, entry_type, deposit_id, bag_number, count_ids, currency, amount,
             associate_id, created_at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        entry.store_id,
        seq,
        entry.entry_type.as_str(),
        entry.deposit_id,
        entry.bag_number,
        entry.count_ids,
        entry.currency,
        entry.amount,
        entry.associate_id,
        created_at,
        head.hash,
        hash,
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE store_ledger_heads SET ledger_seq = $2, ledger_head = $3 WHERE store_id = $1",
        entry.store_id,
        seq,
        hash
    )
    .execute(&mut **tx)
    .await?;
    *head = Head { seq, hash };
    Ok(created_at)
}

/// Recomputes every hash of `store_id`'s chain and compares it with the
/// stored rows and `head` (read in the same snapshot by the caller).
pub async fn verify(conn: &mut PgConnection, store_id: &str, head: &Head) -> Result<Verification, sqlx::Error> {
    let mut rows = sqlx::query!(
        "SELECT seq, store_id, entry_type, deposit_id, bag_number, count_ids, currency, amount, associate_id,
                created_at, prev_hash, hash
         FROM store_ledger WHERE store_id = $1 ORDER BY seq",
        store_id
    )
    .fetch(conn);
    let mut walk = Walk::default();
    while let Some(row) = rows.try_next().await? {
        // A kind no row of ours has was written behind the service's back.
        let canonical = DepositStatus::parse(&row.entry_type).map(|entry_type| {
            let entry = Entry {
                store_id: &row.store_id,
                entry_type,
                deposit_id: row.deposit_id,
                bag_number: row.bag_number.as_deref(),
                count_ids: &row.count_ids,
                currency: &row.currency,
                amount: row.amount,
                associate_id: row.associate_id.as_deref(),
            };
            canonical(row.seq, &entry, row.created_at)
        });
        walk.row(row.seq, &row.prev_hash, &row.hash, canonical.as_deref());
    }
    Ok(walk.finish("store", head.seq, &head.hash))
}
