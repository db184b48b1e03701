//! Cash counts: `started` → record (`recorded`) → `_recount` (`recount`, record
//! again) or `_submit` (`submitted`, final); `_cancel` drops an unfinished one.
//! A count moves no money: it is compared with the ledger's expected amount.

use super::auth::Caller;
use super::drawer::{self, lock_usable, Tx};
use super::ledger;
use super::model::{conflict, in_currency, invalid, CountAction, CountReason, CountStatus, DrawerError, DrawerResult};
use super::stores::find_config;
use crate::money::Monetary;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /v0/cash-drawers/{drawer_id}/counts`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "end_of_day_balance"}))]
pub struct CountStart {
    pub reason: CountReason,
}

/// A started count.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"}))]
pub struct CountStarted {
    #[schema(value_type = String, format = "uuid")]
    pub count_id: Uuid,
}

/// Starts a count on an active drawer.
pub async fn start(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &CountStart) -> DrawerResult<CountStarted> {
    let reason = body.reason;
    let (_, activation_id) = lock_usable(tx, caller, drawer_id).await?;
    let count_id = Uuid::new_v4();
    sqlx::query("INSERT INTO cash_counts (count_id, drawer_id, activation_id, associate_id, reason) VALUES ($1, $2, $3, $4, $5)")
        .bind(count_id)
        .bind(drawer_id)
        .bind(activation_id)
        .bind(caller.associate_id())
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    Ok(CountStarted { count_id })
}

async fn locked_count(tx: &mut Tx, drawer_id: &str, count_id: &str) -> DrawerResult<(Uuid, Uuid, CountStatus)> {
    let not_found = || DrawerError::NotFound(format!("no count {count_id} on cash drawer {drawer_id}"));
    let id = Uuid::parse_str(count_id).map_err(|_| not_found())?;
    let row: Option<(Uuid, CountStatus)> = sqlx::query_as(
        "SELECT activation_id, status FROM cash_counts WHERE count_id = $1 AND drawer_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(drawer_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (activation_id, status) = row.ok_or_else(not_found)?;
    Ok((id, activation_id, status))
}

/// `PATCH /v0/cash-drawers/{drawer_id}/counts/{count_id}`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"counted_amount": {"value": 245, "currency": "USD"}}))]
pub struct CountRecord {
    /// The cash in the drawer, at least 0, in the drawer's currency.
    pub counted_amount: Monetary,
}

/// A recorded count: for blind counts only `discrepancy`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"discrepancy": false, "expected_amount": {"value": 245, "currency": "USD"}, "discrepancy_amount": {"value": 0, "currency": "USD"}}))]
pub struct CountRecorded {
    pub discrepancy: bool,
    /// Left out for blind counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_amount: Option<Monetary>,
    /// Counted − expected; left out for blind counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discrepancy_amount: Option<Monetary>,
}

/// Records the counted amount against the expected one. With blind counts
/// (`expose_count_expected_amount: false`) only whether there is a
/// discrepancy is answered; the amounts are kept either way.
pub async fn record(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    count_id: &str,
    body: &CountRecord,
) -> DrawerResult<CountRecorded> {
    let (drawer, activation_id) = lock_usable(tx, caller, drawer_id).await?;
    let counted = in_currency(body.counted_amount, drawer.currency, "counted_amount")?;
    if counted < Decimal::ZERO {
        return Err(invalid("counted_amount.value: must be at least 0"));
    }
    let (id, count_activation, status) = locked_count(tx, drawer_id, count_id).await?;
    if !status.can_record() {
        return Err(conflict(format!(
            "count {count_id} is {}; only a new count or a recount can be recorded",
            status.as_str()
        )));
    }
    if count_activation != activation_id {
        return Err(conflict(format!("count {count_id} belongs to an earlier activation")));
    }
    let expected = ledger::expected_balance(tx, activation_id).await?;
    let discrepancy = counted - expected;
    sqlx::query(
        "UPDATE cash_counts SET status = $6, counted_amount = $2, expected_amount = $3, discrepancy_amount = $4,
             ledger_seq = $5, recorded_at = now() WHERE count_id = $1",
    )
    .bind(id)
    .bind(counted)
    .bind(expected)
    .bind(discrepancy)
    .bind(drawer.ledger_seq)
    .bind(CountStatus::Recorded)
    .execute(&mut **tx)
    .await?;
    let expose = find_config(&mut **tx, &drawer.store_id).await?.map_or(true, |c| c.expose_count_expected_amount);
    let shown = |value| expose.then(|| Monetary::new(value, drawer.currency));
    Ok(CountRecorded {
        discrepancy: !discrepancy.is_zero(),
        expected_amount: shown(expected),
        discrepancy_amount: shown(discrepancy),
    })
}

/// A count's new status.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a", "status": "submitted"}))]
pub struct CountActed {
    #[schema(value_type = String, format = "uuid")]
    pub count_id: Uuid,
    /// `recount`, `submitted` or `canceled`
    pub status: CountStatus,
}

/// `_recount`, `_submit` or `_cancel`; acting on a submitted or canceled count → 409.
pub async fn act(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    count_id: &str,
    action: &str,
) -> DrawerResult<CountActed> {
    let Some(action_kind) = CountAction::parse(action) else {
        return Err(invalid("action: must be _recount, _submit or _cancel"));
    };
    drawer::lock(tx, caller, drawer_id).await?;
    let (id, _, status) = locked_count(tx, drawer_id, count_id).await?;
    let Some(next) = status.after(action_kind) else {
        return Err(conflict(format!("count {count_id} is {}; {action} is not possible", status.as_str())));
    };
    let finished = next.is_final();
    sqlx::query("UPDATE cash_counts SET status = $2, finished_at = CASE WHEN $3 THEN now() END WHERE count_id = $1")
        .bind(id)
        .bind(next)
        .bind(finished)
        .execute(&mut **tx)
        .await?;
    Ok(CountActed { count_id: id, status: next })
}
