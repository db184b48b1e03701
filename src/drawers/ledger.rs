//! The append-only ledger: every money movement of a drawer is one row, never
//! updated or deleted (a trigger refuses both). Each row carries the hash of
//! the drawer's previous row, `hash = sha256(prev_hash ‖ canonical row)`, and
//! the drawer row keeps the chain head, so an edit, insertion or deletion made
//! behind the service's back is found by [`verify`].
//!
//! Appends happen only while the caller holds the drawer row lock
//! (`SELECT … FOR UPDATE`), which serialises the chain per drawer.

use super::model::{now_micros, EntryKind};
use crate::hash_chain::{link as chain_hash, Verification, Walk};
use crate::money::fmt2;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// The chain head of a locked drawer.
#[derive(Debug, Clone)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// One movement to append. `amount` is signed: positive into the drawer.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub drawer_id: &'a str,
    pub store_id: &'a str,
    pub activation_id: Uuid,
    pub entry_type: EntryKind,
    pub transaction_type: &'a str,
    pub source_id: Option<Uuid>,
    pub associate_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub reason_code: Option<&'a str>,
    pub currency: &'a str,
    pub amount: Decimal,
    /// What else the row records (a count's denominations and approver, the
    /// opening check), as the JSON text that is stored and hashed.
    pub details: Option<String>,
}

/// A stored row, as read back for verification.
#[derive(Debug)]
struct Row {
    seq: i64,
    drawer_id: String,
    store_id: String,
    activation_id: Uuid,
    entry_type: String,
    transaction_type: String,
    source_id: Option<Uuid>,
    associate_id: Option<String>,
    order_id: Option<String>,
    reason_code: Option<String>,
    currency: String,
    amount: Decimal,
    created_at: DateTime<Utc>,
    details: Option<String>,
    prev_hash: String,
    hash: String,
}

/// The bytes a row's hash covers: every column but `id` and the hashes, as a
/// JSON array (unambiguous: strings are quoted and escaped, absent is `null`).
/// `details` is a last element only when present, so rows written before it
/// existed hash exactly as they did.
fn canonical(seq: i64, e: &Entry<'_>, created_at: DateTime<Utc>) -> String {
    let mut row = json!([
        e.drawer_id,
        seq,
        e.store_id,
        e.activation_id.to_string(),
        e.entry_type.as_str(),
        e.transaction_type,
        e.source_id.map(|u| u.to_string()),
        e.associate_id,
        e.order_id,
        e.reason_code,
        e.currency,
        // a negative zero would print as "-0.00" here but come back from Postgres as "0.00"
        fmt2(if e.amount.is_zero() { Decimal::ZERO } else { e.amount }),
        created_at.timestamp_micros(),
    ]);
    if let (Some(details), Some(items)) = (e.details.as_deref(), row.as_array_mut()) {
        items.push(details.into());
    }
    row.to_string()
}

/// Appends `entry` after `head` and moves the drawer's head. The caller holds
/// the drawer row lock.
pub async fn append(
    tx: &mut Transaction<'static, Postgres>,
    head: &mut Head,
    entry: &Entry<'_>,
) -> Result<(), sqlx::Error> {
    let seq = head.seq + 1;
    let created_at = now_micros();
    let hash = chain_hash(&head.hash, &canonical(seq, entry, created_at));
    sqlx::query!(
        "INSERT INTO cash_drawer_ledger (drawer_id, seq, store_id, activation_id, entry_type, transaction_type, source_id,
             associate_id, order_id, reason_code, currency, amount, created_at, prev_hash, hash, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        entry.drawer_id,
        seq,
        entry.store_id,
        entry.activation_id,
        entry.entry_type.as_str(),
        entry.transaction_type,
        entry.source_id,
        entry.associate_id,
        entry.order_id,
        entry.reason_code,
        entry.currency,
        entry.amount,
        created_at,
        head.hash,
        hash,
        entry.details.as_deref()
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE cash_drawers SET ledger_seq = $2, ledger_head = $3 WHERE drawer_id = $1",
        entry.drawer_id,
        seq,
        hash
    )
    .execute(&mut **tx)
    .await?;
    *head = Head { seq, hash };
    Ok(())
}

/// The expected cash of an activation: float plus completed cash in minus cash out.
pub async fn expected_balance(
    tx: &mut Transaction<'static, Postgres>,
    activation_id: Uuid,
) -> Result<Decimal, sqlx::Error> {
    // The kinds of `EntryKind::counts_in_balance`, written out: a checked statement is one literal, and a
    // constant list keeps the index-only plan. A test in model.rs holds every list marked so to the enum.
    sqlx::query_scalar!(
        r#"SELECT COALESCE(SUM(amount), 0) AS "balance!" FROM cash_drawer_ledger
           WHERE activation_id = $1
             AND entry_type IN ('float', 'sale', 'return', 'non_sale_in', 'non_sale_out', 'non_sale_neutral', 'count') -- EntryKind::counts_in_balance"#,
        activation_id
    )
    .fetch_one(&mut **tx)
    .await
}

/// Recomputes every hash of `drawer_id`'s chain and compares it with the
/// stored rows and the drawer's head (read in the same snapshot: see
/// `drawers::routes::verify_ledger`).
pub async fn verify(conn: &mut sqlx::PgConnection, drawer_id: &str, head: &Head) -> Result<Verification, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        Row,
        "SELECT seq, drawer_id, store_id, activation_id, entry_type, transaction_type, source_id, associate_id, order_id,
                reason_code, currency, amount, created_at, details, prev_hash, hash
         FROM cash_drawer_ledger WHERE drawer_id = $1 ORDER BY seq",
        drawer_id
    )
    .fetch(conn);
    let mut walk = Walk::default();
    while let Some(row) = rows.try_next().await? {
        // A kind no row of ours has was written behind the service's back.
        let canonical = EntryKind::parse(&row.entry_type).map(|entry_type| {
            let entry = Entry {
                drawer_id: &row.drawer_id,
                store_id: &row.store_id,
                activation_id: row.activation_id,
                entry_type,
                transaction_type: &row.transaction_type,
                source_id: row.source_id,
                associate_id: row.associate_id.as_deref(),
                order_id: row.order_id.as_deref(),
                reason_code: row.reason_code.as_deref(),
                currency: &row.currency,
                amount: row.amount,
                details: row.details.clone(),
            };
            canonical(row.seq, &entry, row.created_at)
        });
        walk.row(row.seq, &row.prev_hash, &row.hash, canonical.as_deref());
    }
    Ok(walk.finish("drawer", head.seq, &head.hash))
}
