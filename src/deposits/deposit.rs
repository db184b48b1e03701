//! Deposits: `prepared` (from submitted counts, in a numbered bag) →
//! `in_transit` → `banked` (with what the bank counted). Each step appends a
//! row to the store ledger and updates the deposit's row in one transaction,
//! under the store's chain-head lock; the status change is also conditional
//! on the status it was read with, so two concurrent steps cannot both win.

use super::ledger::{self, Entry, Tx};
use super::model::{
    conflict, invalid, Deposit, DepositCreate, DepositError, DepositList, DepositPagination, DepositResult,
    DepositStatus, DepositUpdate, MAX_COUNTS,
};
use crate::drawers::{self, Caller, Page};
use crate::error::unique_violation;
use crate::money::{Currency, Monetary};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A deposit's row.
struct Row {
    deposit_id: Uuid,
    store_id: String,
    bag_number: String,
    currency: String,
    amount: Decimal,
    count_ids: Vec<Uuid>,
    status: String,
    banked_amount: Option<Decimal>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    in_transit_at: Option<DateTime<Utc>>,
    banked_at: Option<DateTime<Utc>>,
}

fn corrupt(what: String) -> DepositError {
    DepositError::Db(sqlx::Error::Decode(what.into()))
}

impl TryFrom<Row> for Deposit {
    type Error = DepositError;

    fn try_from(row: Row) -> DepositResult<Deposit> {
        let currency = Currency::try_from(row.currency.as_str())
            .map_err(|_| corrupt(format!("deposit {} has currency {:?}", row.deposit_id, row.currency)))?;
        let status = DepositStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("deposit {} has status {:?}", row.deposit_id, row.status)))?;
        let money = |value| Monetary::new(value, currency);
        Ok(Deposit {
            deposit_id: row.deposit_id,
            store_id: row.store_id,
            status,
            amount: money(row.amount),
            bag_number: row.bag_number,
            count_ids: row.count_ids,
            banked_amount: row.banked_amount.map(money),
            variance: row.banked_amount.map(|banked| money(banked - row.amount)),
            created_by: row.created_by,
            created_at: row.created_at,
            in_transit_at: row.in_transit_at,
            banked_at: row.banked_at,
        })
    }
}

fn no_store(store_id: &str) -> DepositError {
    DepositError::NotFound(format!("store {store_id} has no cash drawer configuration"))
}

fn no_deposit(store_id: &str, deposit_id: &str) -> DepositError {
    DepositError::NotFound(format!("no deposit {deposit_id} in store {store_id}"))
}

/// 403 unless the caller acts on the store, 404 unless the store is configured.
async fn require_store(conn: &mut PgConnection, caller: &Caller, store_id: &str) -> DepositResult<drawers::StoreCash> {
    caller.require_store(store_id)?;
    drawers::store_cash(conn, store_id).await?.ok_or_else(|| no_store(store_id))
}

/// The count ids of a body: UUIDs, each once, at most [`MAX_COUNTS`].
fn count_ids(raw: &[String], store_id: &str) -> DepositResult<Vec<Uuid>> {
    if raw.len() > MAX_COUNTS {
        return Err(invalid(format!("count_ids: at most {MAX_COUNTS} counts")));
    }
    let mut ids = Vec::with_capacity(raw.len());
    for (i, text) in raw.iter().enumerate() {
        let id = Uuid::parse_str(text.trim())
            .map_err(|_| invalid(format!("count_ids[{i}]: no count {text:?} on a cash drawer of store {store_id}")))?;
        if ids.contains(&id) {
            return Err(invalid(format!("count_ids[{i}]: count {id} is named twice")));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Prepares a deposit: checks the amount and the counts, appends the
/// `prepared` row to the store ledger and records the deposit.
pub async fn create(tx: &mut Tx, caller: &Caller, store_id: &str, body: &DepositCreate) -> DepositResult<Deposit> {
    let store = require_store(tx, caller, store_id).await?;
    let amount = body.amount;
    if amount.value <= Decimal::ZERO {
        return Err(invalid("amount.value: must be more than 0"));
    }
    if !store.currencies.contains(&amount.currency) {
        return Err(invalid(format!(
            "amount.currency: {} is not the currency of any cash drawer of store {store_id}",
            amount.currency
        )));
    }
    let ids = count_ids(body.count_ids.as_deref().unwrap_or_default(), store_id)?;
    // Locked before the counts are read, so one count cannot go into two deposits at once.
    let mut head = ledger::lock(tx, store_id).await?;
    let counts = drawers::counts_of_store(tx, store_id, &ids).await?;
    for (i, id) in ids.iter().enumerate() {
        let Some(count) = counts.iter().find(|c| c.count_id == *id) else {
            return Err(invalid(format!("count_ids[{i}]: no count {id} on a cash drawer of store {store_id}")));
        };
        if count.currency != amount.currency.code() {
            return Err(invalid(format!(
                "count_ids[{i}]: count {id} of cash drawer {} is in {}, the deposit in {}",
                count.drawer_id, count.currency, amount.currency
            )));
        }
        if !count.submitted || count.counted_amount.is_none() {
            return Err(conflict(format!("count {id} is not submitted; only submitted counts can be deposited")));
        }
    }
    let taken = sqlx::query!(
        "SELECT count_id, deposit_id FROM store_deposit_counts WHERE count_id = ANY($1) ORDER BY count_id LIMIT 1",
        &ids
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(taken) = taken {
        return Err(conflict(format!("count {} is already in deposit {}", taken.count_id, taken.deposit_id)));
    }

    let deposit_id = Uuid::new_v4();
    let bag_number = body.bag_number.0.as_str();
    let created_at = ledger::append(
        tx,
        &mut head,
        &Entry {
            store_id,
            entry_type: DepositStatus::Prepared,
            deposit_id,
            bag_number: Some(bag_number),
            count_ids: &ids,
            currency: amount.currency.code(),
            amount: Some(amount.value),
            associate_id: caller.associate_id(),
        },
    )
    .await?;
    let row = sqlx::query_as!(
        Row,
        "INSERT INTO store_deposits (deposit_id, store_id, bag_number, currency, amount, count_ids, status, created_by,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at",
        deposit_id,
        store_id,
        bag_number,
        amount.currency.code(),
        amount.value,
        &ids,
        DepositStatus::Prepared.as_str(),
        caller.associate_id(),
        created_at
    )
    .fetch_one(&mut **tx)
    .await?;
    let recorded = sqlx::query!(
        "INSERT INTO store_deposit_counts (count_id, deposit_id) SELECT unnest($1::uuid[]), $2",
        &ids,
        deposit_id
    )
    .execute(&mut **tx)
    .await;
    match recorded {
        Err(err) if unique_violation(&err).as_deref() == Some("store_deposit_counts_count_key") => {
            return Err(conflict("one of these counts is already in another deposit"));
        }
        other => other?,
    };
    row.try_into()
}

/// Moves a deposit one step on: `in_transit`, then `banked` with the bank's amount.
pub async fn update(
    tx: &mut Tx,
    caller: &Caller,
    store_id: &str,
    deposit_id: &str,
    body: &DepositUpdate,
) -> DepositResult<Deposit> {
    caller.require_store(store_id)?;
    let banked = match (body.status, body.banked_amount) {
        (DepositStatus::Banked, None) => return Err(invalid("banked_amount: is required with status banked")),
        (DepositStatus::Banked, Some(amount)) if amount.value < Decimal::ZERO => {
            return Err(invalid("banked_amount.value: must be at least 0"))
        }
        (DepositStatus::Banked, Some(amount)) => Some(amount),
        (_, Some(_)) => return Err(invalid("banked_amount: only with status banked")),
        (_, None) => None,
    };
    let id = Uuid::parse_str(deposit_id).map_err(|_| no_deposit(store_id, deposit_id))?;
    let mut head = ledger::lock(tx, store_id).await?;
    let current: Deposit = sqlx::query_as!(
        Row,
        "SELECT deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at
         FROM store_deposits WHERE deposit_id = $1 AND store_id = $2 FOR UPDATE",
        id,
        store_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| no_deposit(store_id, deposit_id))?
    .try_into()?;
    let currency = current.amount.currency;
    if let Some(amount) = banked.filter(|a| a.currency != currency) {
        return Err(invalid(format!(
            "banked_amount.currency: {} does not match the deposit's {currency}",
            amount.currency
        )));
    }
    match current.status.next() {
        Some(next) if next == body.status => {}
        Some(next) => {
            return Err(conflict(format!(
                "deposit {id} is {}; its next status can only be {}",
                current.status.as_str(),
                next.as_str()
            )))
        }
        None => return Err(conflict(format!("deposit {id} is banked; it can no longer change"))),
    }
    let at = ledger::append(
        tx,
        &mut head,
        &Entry {
            store_id,
            entry_type: body.status,
            deposit_id: id,
            bag_number: None,
            count_ids: &[],
            currency: currency.code(),
            amount: banked.map(|a| a.value),
            associate_id: caller.associate_id(),
        },
    )
    .await?;
    let row = sqlx::query_as!(
        Row,
        "UPDATE store_deposits SET status = $3, banked_amount = $4,
             in_transit_at = CASE WHEN $3 = 'in_transit' THEN $5 ELSE in_transit_at END,
             banked_at = CASE WHEN $3 = 'banked' THEN $5 ELSE banked_at END
         WHERE deposit_id = $1 AND status = $2
         RETURNING deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at",
        id,
        current.status.as_str(),
        body.status.as_str(),
        banked.map(|a| a.value),
        at
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| conflict(format!("deposit {id} changed meanwhile; read it again")))?;
    row.try_into()
}

/// One deposit of the store.
pub async fn get(db: &PgPool, caller: &Caller, store_id: &str, deposit_id: &str) -> DepositResult<Deposit> {
    caller.require_store(store_id)?;
    let id = Uuid::parse_str(deposit_id).map_err(|_| no_deposit(store_id, deposit_id))?;
    sqlx::query_as!(
        Row,
        "SELECT deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at
         FROM store_deposits WHERE deposit_id = $1 AND store_id = $2",
        id,
        store_id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| no_deposit(store_id, deposit_id))?
    .try_into()
}

/// The store's deposits, newest first, optionally of one status.
pub async fn list(
    db: &PgPool,
    caller: &Caller,
    store_id: &str,
    status: Option<DepositStatus>,
    page: &Page,
) -> DepositResult<DepositList> {
    let mut conn = db.acquire().await?;
    require_store(&mut conn, caller, store_id).await?;
    let status = status.map(DepositStatus::as_str);
    let rows = sqlx::query_as!(
        Row,
        "SELECT deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at
         FROM store_deposits WHERE store_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, deposit_id LIMIT $3 OFFSET $4",
        store_id,
        status,
        page.limit,
        page.offset
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "total!" FROM store_deposits WHERE store_id = $1 AND ($2::text IS NULL OR status = $2)"#,
        store_id,
        status
    )
    .fetch_one(&mut *conn)
    .await?;
    let deposits = rows.into_iter().map(Deposit::try_from).collect::<DepositResult<Vec<_>>>()?;
    Ok(DepositList {
        pagination_info: DepositPagination { count: deposits.len(), total, offset: page.offset, limit: page.limit },
        deposits,
    })
}

/// Every store's deposits not yet banked, newest first (the admin page's list).
pub async fn not_banked(db: &PgPool, limit: i64) -> DepositResult<Vec<Deposit>> {
    sqlx::query_as!(
        Row,
        "SELECT deposit_id, store_id, bag_number, currency, amount, count_ids, status, banked_amount, created_by,
             created_at, in_transit_at, banked_at
         FROM store_deposits WHERE status <> 'banked' ORDER BY created_at DESC, deposit_id LIMIT $1",
        limit
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Deposit::try_from)
    .collect()
}

/// Re-checks the store's ledger chain against its head, both read in one snapshot.
pub async fn verify(db: &PgPool, caller: &Caller, store_id: &str) -> DepositResult<crate::hash_chain::Verification> {
    let mut tx = db.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    require_store(&mut tx, caller, store_id).await?;
    let head = ledger::head(&mut tx, store_id).await?;
    let outcome = ledger::verify(&mut tx, store_id, &head).await?;
    tx.commit().await?;
    Ok(outcome)
}
