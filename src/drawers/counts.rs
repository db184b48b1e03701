//! Cash counts: `started` → record (`recorded`) → `_recount` (`recount`, record
//! again) or `_submit` (`submitted`, final); `_cancel` drops an unfinished one.
//! A count moves no money: it is compared with the ledger's expected amount.

use super::auth::{self, Caller};
use super::drawer::{self, lock_usable, Tx};
use super::ledger::{self, Entry};
use super::model::{
    conflict, in_currency, invalid, CountAction, CountReason, CountState, CountStatus, Denomination, DenominationCount,
    DrawerError, DrawerResult, EntryKind, LedgerType, Quantity,
};
use super::stores::find_config;
use crate::money::{fmt2, Currency, Monetary};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::types::Json;
use sqlx::PgPool;
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
    let (_, activation_id, _) = lock_usable(tx, caller, drawer_id).await?;
    let count_id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO cash_counts (count_id, drawer_id, activation_id, associate_id, reason) VALUES ($1, $2, $3, $4, $5)",
        count_id,
        drawer_id,
        activation_id,
        caller.associate_id(),
        reason.as_str()
    )
    .execute(&mut **tx)
    .await?;
    Ok(CountStarted { count_id })
}

/// The answer for a count id that names no count of the drawer (or no count at all).
fn no_count(drawer_id: &str, count_id: &str) -> DrawerError {
    DrawerError::NotFound(format!("no count {count_id} on cash drawer {drawer_id}"))
}

async fn locked_count(tx: &mut Tx, drawer_id: &str, count_id: &str) -> DrawerResult<(Uuid, Uuid, CountStatus)> {
    let not_found = || no_count(drawer_id, count_id);
    let id = Uuid::parse_str(count_id).map_err(|_| not_found())?;
    let row = sqlx::query!(
        r#"SELECT activation_id, status AS "status: CountStatus" FROM cash_counts
           WHERE count_id = $1 AND drawer_id = $2 FOR UPDATE"#,
        id,
        drawer_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(not_found)?;
    Ok((id, row.activation_id, row.status))
}

/// `PATCH /v0/cash-drawers/{drawer_id}/counts/{count_id}`: the counted
/// amount, or the coins and bills counted (their exact sum is the counted
/// amount), or both when they agree.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"counted_denominations": [{"value": "20.00", "quantity": 12}, {"value": "1.00", "quantity": 5}]}))]
pub struct CountRecord {
    /// The cash in the drawer, at least 0, in the drawer's currency. Required without `counted_denominations`.
    pub counted_amount: Option<Monetary>,
    /// The count by coin and bill: values configured for the drawer's currency in the store's `denominations`,
    /// each at most once, whole quantities of 0 or more.
    #[schema(max_items = 100)]
    pub counted_denominations: Option<Vec<DenominationCount>>,
}

/// What to take to the bank at the end of the day so that the drawer keeps
/// its float in its smaller bills and coins.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"amount": {"value": 140, "currency": "USD"}, "denominations": [{"value": "50.00", "quantity": 2}, {"value": "20.00", "quantity": 2}],
    "remaining_float": {"value": 100, "currency": "USD"}}))]
pub struct SuggestedDeposit {
    /// What the bag holds: 0 when the count is at or below the float.
    pub amount: Monetary,
    /// The coins and bills to put in the bag, largest first.
    pub denominations: Vec<DenominationCount>,
    /// What stays in the drawer: the float when it can be made exactly from what was counted, else the
    /// smallest amount above it the greedy finds (or the whole count when that is below the float).
    pub remaining_float: Monetary,
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
    /// Only for an `end_of_day_balance` count recorded by denomination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_deposit: Option<SuggestedDeposit>,
}

/// The counted amount of a record: `counted_amount`, or the exact sum of
/// `counted_denominations` checked against the store's denominations of the
/// drawer's currency (and against `counted_amount` when both are sent). The
/// denominations come back largest first, each value once.
fn counted(
    body: &CountRecord,
    currency: Currency,
    configured: &[Denomination],
) -> DrawerResult<(Decimal, Option<Vec<DenominationCount>>)> {
    let amount = match body.counted_amount {
        Some(money) => {
            let value = in_currency(money, currency, "counted_amount")?;
            if value < Decimal::ZERO {
                return Err(invalid("counted_amount.value: must be at least 0"));
            }
            Some(value)
        }
        None => None,
    };
    let Some(lines) = &body.counted_denominations else {
        return amount
            .map(|a| (a, None))
            .ok_or_else(|| invalid("counted_amount: is required (or counted_denominations)"));
    };
    if configured.is_empty() {
        return Err(invalid(format!(
            "counted_denominations: the store has no denominations configured for {currency}"
        )));
    }
    if lines.len() > 100 {
        return Err(invalid("counted_denominations: at most 100 lines"));
    }
    let mut sorted: Vec<DenominationCount> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if !configured.contains(&line.value) {
            return Err(invalid(format!(
                "counted_denominations[{i}].value: {} is not a {currency} denomination of this store",
                fmt2(line.value.0)
            )));
        }
        if sorted.iter().any(|l| l.value == line.value) {
            return Err(invalid(format!("counted_denominations[{i}].value: {} is listed twice", fmt2(line.value.0))));
        }
        sorted.push(line.clone());
    }
    sorted.sort_unstable_by_key(|line| std::cmp::Reverse(line.value));
    let sum: Decimal = sorted.iter().map(DenominationCount::total).sum();
    if let Some(amount) = amount {
        if amount != sum {
            return Err(invalid(format!(
                "counted_amount: {} does not agree with counted_denominations, which add up to {}",
                fmt2(amount),
                fmt2(sum)
            )));
        }
    }
    Ok((sum, Some(sorted)))
}

/// Splits a count by denomination into what stays and what goes to the bank:
/// answers the bag (largest first), its amount, and what stays.
///
/// What stays is the least amount at or above `float` that the counted pieces
/// can make (the float itself whenever they can make it exactly), and among
/// the ways to make it, the one with the fewest large pieces: coins and small
/// bills make change tomorrow, so the bag gets the large bills. A count at or
/// below the float deposits nothing. The search is an exact subset sum over
/// cents (bitsets of the sums the smallest k values can make, up to float +
/// the largest value); for floats over 10,000 it falls back to a greedy (keep
/// the smallest pieces until the float is reached, then give back the largest
/// ones that are not needed), which may leave more than the least possible.
pub fn suggest_deposit(counted: &[DenominationCount], float: Decimal) -> (Vec<DenominationCount>, Decimal, Decimal) {
    let total: Decimal = counted.iter().map(DenominationCount::total).sum();
    if total <= float {
        return (Vec::new(), Decimal::ZERO, total);
    }
    let mut ascending: Vec<(Denomination, u32)> =
        counted.iter().filter(|l| l.quantity.0 > 0).map(|l| (l.value, l.quantity.0)).collect();
    ascending.sort_unstable_by_key(|(value, _)| *value);
    let keep = least_pieces_over(&ascending, float).unwrap_or_else(|| greedy_keep(&ascending, float));
    let kept: Decimal = ascending.iter().zip(&keep).map(|((value, _), k)| value.0 * Decimal::from(*k)).sum();
    let bag: Vec<DenominationCount> = ascending
        .iter()
        .zip(&keep)
        .rev()
        .filter(|((_, quantity), keep)| quantity > keep)
        .map(|((value, quantity), keep)| DenominationCount { value: *value, quantity: Quantity(quantity - keep) })
        .collect();
    (bag, total - kept, kept)
}

/// Cents of an amount of at most 2 places.
fn cents(value: Decimal) -> Option<usize> {
    (value * Decimal::ONE_HUNDRED).to_usize()
}

/// How many of each (ascending) piece to keep for the least sum ≥ `float`,
/// with as few of each larger piece as that sum allows; `None` when the float
/// is too large for the tables.
fn least_pieces_over(ascending: &[(Denomination, u32)], float: Decimal) -> Option<Vec<u32>> {
    const MAX_CENTS: usize = 1_000_000;
    let target = cents(float)?;
    let largest = cents(ascending.last()?.0 .0)?;
    let cap = target.checked_add(largest)?;
    if cap > MAX_CENTS {
        return None;
    }
    let units: Vec<usize> = ascending.iter().map(|(value, _)| cents(value.0)).collect::<Option<_>>()?;
    // reachable[k]: the sums (bit s = s cents) the k smallest values can make
    let words = cap / 64 + 1;
    let mut reachable: Vec<Vec<u64>> = Vec::with_capacity(ascending.len() + 1);
    let mut bits = vec![0u64; words];
    bits[0] = 1;
    reachable.push(bits.clone());
    for ((_, quantity), unit) in ascending.iter().zip(&units) {
        // 1, 2, 4, … pieces and the rest: any count up to `quantity` is a subset of these groups
        let (mut left, mut size) = (*quantity as usize, 1usize);
        while left > 0 {
            let take = size.min(left);
            or_shifted(&mut bits, unit * take);
            left -= take;
            size = size.saturating_mul(2);
        }
        reachable.push(bits.clone());
    }
    let has = |bits: &[u64], sum: usize| (bits[sum / 64] >> (sum % 64)) & 1 == 1;
    let mut rest = (target..=cap).find(|&sum| has(&bits, sum))?;
    // From the largest value down, keep as few as still lets the smaller ones make the rest.
    let mut keep = vec![0u32; ascending.len()];
    for k in (0..ascending.len()).rev() {
        let (unit, quantity) = (units[k], ascending[k].1 as usize);
        let pieces = (0..=quantity.min(rest / unit)).find(|&j| has(&reachable[k], rest - j * unit))?;
        keep[k] = pieces as u32;
        rest -= pieces * unit;
    }
    Some(keep)
}

/// `bits |= bits << shift`, in place, each source bit used once (a 0/1 step).
fn or_shifted(bits: &mut [u64], shift: usize) {
    let (words, offset) = (shift / 64, shift % 64);
    for i in (words..bits.len()).rev() {
        let j = i - words;
        let mut moved = bits[j] << offset;
        if offset > 0 && j > 0 {
            moved |= bits[j - 1] >> (64 - offset);
        }
        bits[i] |= moved;
    }
}

/// Keeps the smallest pieces until the float is reached, then gives back the
/// largest kept pieces that are not needed to stay at or above it.
fn greedy_keep(ascending: &[(Denomination, u32)], float: Decimal) -> Vec<u32> {
    let mut keep = vec![0u32; ascending.len()];
    let mut kept = Decimal::ZERO;
    for ((value, quantity), keep) in ascending.iter().zip(keep.iter_mut()) {
        let need = float - kept;
        if need <= Decimal::ZERO {
            break;
        }
        *keep = (need / value.0).ceil().to_u32().unwrap_or(u32::MAX).min(*quantity);
        kept += value.0 * Decimal::from(*keep);
    }
    for ((value, _), keep) in ascending.iter().zip(keep.iter_mut()).rev() {
        while *keep > 0 && kept - value.0 >= float {
            *keep -= 1;
            kept -= value.0;
        }
    }
    keep
}

/// Records the counted amount against the expected one. With blind counts
/// (`expose_count_expected_amount: false`) only whether there is a
/// discrepancy is answered; the amounts are kept either way. An end-of-day
/// count by denomination also answers the suggested deposit.
pub async fn record(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    count_id: &str,
    body: &CountRecord,
) -> DrawerResult<CountRecorded> {
    let (drawer, activation_id, config) = lock_usable(tx, caller, drawer_id).await?;
    let configured = config.denominations.as_ref().map_or(&[][..], |d| d.of(drawer.currency));
    let (counted, denominations) = counted(body, drawer.currency, configured)?;
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
    let reason = sqlx::query_scalar!(
        r#"UPDATE cash_counts SET status = $6, counted_amount = $2, expected_amount = $3, discrepancy_amount = $4,
               ledger_seq = $5, counted_denominations = $7, recorded_at = now() WHERE count_id = $1
           RETURNING reason AS "reason: CountReason""#,
        id,
        counted,
        expected,
        discrepancy,
        drawer.ledger_seq,
        CountStatus::Recorded.as_str(),
        denominations.as_ref().map(Json) as _
    )
    .fetch_one(&mut **tx)
    .await?;
    let expose = config.expose_count_expected_amount;
    let money = |value| Monetary::new(value, drawer.currency);
    let shown = |value| expose.then(|| money(value));
    let suggested_deposit = match (&denominations, reason) {
        (Some(lines), CountReason::EndOfDayBalance) => {
            let (bag, amount, remaining) = suggest_deposit(lines, drawer.float_amount);
            Some(SuggestedDeposit { amount: money(amount), denominations: bag, remaining_float: money(remaining) })
        }
        _ => None,
    };
    Ok(CountRecorded {
        discrepancy: !discrepancy.is_zero(),
        expected_amount: shown(expected),
        discrepancy_amount: shown(discrepancy),
        suggested_deposit,
    })
}

/// `GET /v0/cash-drawers/{drawer_id}/counts/{count_id}`
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a", "reason": "end_of_day_balance", "status": "submitted",
    "counted_amount": {"value": 245, "currency": "USD"}, "counted_denominations": [{"value": "20.00", "quantity": 12}, {"value": "5.00", "quantity": 1}],
    "expected_amount": {"value": 250, "currency": "USD"}, "discrepancy_amount": {"value": -5, "currency": "USD"}, "approved_by": null}))]
pub struct CashCount {
    #[schema(value_type = String, format = "uuid")]
    pub count_id: Uuid,
    pub reason: CountReason,
    pub status: CountState,
    /// Null until recorded.
    pub counted_amount: Option<Monetary>,
    /// Null unless recorded by denomination.
    pub counted_denominations: Option<Vec<DenominationCount>>,
    /// Left out for blind counts; null until recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable)]
    pub expected_amount: Option<Option<Monetary>>,
    /// Counted − expected; left out for blind counts; null until recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable)]
    pub discrepancy_amount: Option<Option<Monetary>>,
    /// The manager who approved submitting it over the store's variance tolerance.
    pub approved_by: Option<String>,
}

/// One count of a drawer the caller may see.
pub async fn get(db: &PgPool, caller: &Caller, drawer_id: &str, count_id: &str) -> DrawerResult<CashCount> {
    let drawer = drawer::get(db, caller, drawer_id).await?;
    let not_found = || no_count(drawer_id, count_id);
    let id = Uuid::parse_str(count_id).map_err(|_| not_found())?;
    let row = sqlx::query!(
        r#"SELECT reason AS "reason: CountReason", status AS "status: CountStatus", counted_amount,
                  counted_denominations AS "counted_denominations: Json<Vec<DenominationCount>>", expected_amount,
                  discrepancy_amount, approved_by
           FROM cash_counts WHERE count_id = $1 AND drawer_id = $2"#,
        id,
        drawer_id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(not_found)?;
    let expose = find_config(db, &drawer.store_id).await?.map_or(true, |c| c.expose_count_expected_amount);
    let money = |value: Option<Decimal>| value.map(|v| Monetary::new(v, drawer.currency));
    Ok(CashCount {
        count_id: id,
        reason: row.reason,
        status: row.status.into(),
        counted_amount: money(row.counted_amount),
        counted_denominations: row.counted_denominations.map(|Json(lines)| lines),
        expected_amount: expose.then(|| money(row.expected_amount)),
        discrepancy_amount: expose.then(|| money(row.discrepancy_amount)),
        approved_by: row.approved_by,
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

/// The recorded facts of a count that `_submit` needs.
struct Recorded {
    activation_id: Uuid,
    status: CountStatus,
    counted_amount: Option<Decimal>,
    discrepancy_amount: Option<Decimal>,
    counted_denominations: Option<Json<Vec<DenominationCount>>>,
    ledger_seq: Option<i64>,
}

/// `_recount`, `_submit` or `_cancel`; acting on a submitted or canceled count → 409.
///
/// `_submit` of a count whose absolute discrepancy exceeds the store's
/// `variance_tolerance` (for the drawer's currency) needs `approver_token`: an
/// active manager's token of the drawer's store, not the caller's own (409
/// `approval_required` otherwise). The approver is kept on the count. A count
/// recorded by denomination or approved by a manager is written to the ledger
/// when submitted: a `count` row of amount 0 whose details hold the counted
/// amount, the denominations and the approver.
pub async fn act(
    tx: &mut Tx,
    caller: &Caller,
    drawer_id: &str,
    count_id: &str,
    action: &str,
    approver_token: Option<&str>,
) -> DrawerResult<CountActed> {
    let Some(action_kind) = CountAction::parse(action) else {
        return Err(invalid("action: must be _recount, _submit or _cancel"));
    };
    let drawer = drawer::lock(tx, caller, drawer_id).await?;
    let (id, _, status) = locked_count(tx, drawer_id, count_id).await?;
    let Some(next) = status.after(action_kind) else {
        return Err(conflict(format!("count {count_id} is {}; {action} is not possible", status.as_str())));
    };
    let approved_by =
        if next == CountStatus::Submitted { submit(tx, caller, &drawer, id, approver_token).await? } else { None };
    let finished = next.is_final();
    sqlx::query!(
        "UPDATE cash_counts SET status = $2, finished_at = CASE WHEN $3 THEN now() END, approved_by = $4
         WHERE count_id = $1",
        id,
        next.as_str(),
        finished,
        approved_by
    )
    .execute(&mut **tx)
    .await?;
    Ok(CountActed { count_id: id, status: next })
}

/// The approval check and ledger row of `_submit`; answers the approver.
async fn submit(
    tx: &mut Tx,
    caller: &Caller,
    drawer: &drawer::Drawer,
    id: Uuid,
    approver_token: Option<&str>,
) -> DrawerResult<Option<String>> {
    let count = sqlx::query_as!(
        Recorded,
        r#"SELECT activation_id, status AS "status: CountStatus", counted_amount, discrepancy_amount,
                  counted_denominations AS "counted_denominations: Json<Vec<DenominationCount>>", ledger_seq
           FROM cash_counts WHERE count_id = $1"#,
        id
    )
    .fetch_one(&mut **tx)
    .await?;
    debug_assert_eq!(count.status, CountStatus::Recorded);
    let tolerance = find_config(&mut **tx, &drawer.store_id).await?.and_then(|c| c.tolerance_for(drawer.currency));
    let discrepancy = count.discrepancy_amount.unwrap_or_default();
    let approved_by = match tolerance {
        Some(tolerance) if discrepancy.abs() > tolerance => {
            let needed = |why: &str| {
                DrawerError::ApprovalRequired(format!(
                    "the discrepancy of {} exceeds the store's variance tolerance of {}; {why}",
                    fmt2(discrepancy),
                    fmt2(tolerance)
                ))
            };
            let token = approver_token
                .ok_or_else(|| needed("send X-Approver-Token with the token of a manager of this store"))?;
            let manager = auth::manager_of(&mut **tx, token, &drawer.store_id)
                .await?
                .ok_or_else(|| needed("X-Approver-Token is not the token of a manager of this store"))?;
            if caller.associate_id() == Some(manager.as_str()) {
                return Err(needed("the approver must be a second person, not the associate submitting"));
            }
            Some(manager)
        }
        _ => None,
    };
    let denominations = count.counted_denominations.map(|Json(lines)| lines);
    if denominations.is_none() && approved_by.is_none() {
        return Ok(None);
    }
    let details = json!({
        "counted_amount": count.counted_amount.map(fmt2),
        "counted_denominations": denominations,
        "approved_by": approved_by,
    })
    .to_string();
    let mut head = drawer.head();
    ledger::append(
        tx,
        &mut head,
        &Entry {
            drawer_id: &drawer.drawer_id,
            store_id: &drawer.store_id,
            activation_id: count.activation_id,
            entry_type: EntryKind::Count,
            transaction_type: LedgerType::Count.as_str(),
            source_id: Some(id),
            associate_id: caller.associate_id(),
            order_id: None,
            reason_code: None,
            currency: drawer.currency.code(),
            amount: Decimal::ZERO,
            details: Some(details),
        },
    )
    .await?;
    // The count row moved no cash: a count that was current stays current (the close compares ledger positions).
    if count.ledger_seq == Some(drawer.ledger_seq) {
        sqlx::query!("UPDATE cash_counts SET ledger_seq = $2 WHERE count_id = $1", id, head.seq)
            .execute(&mut **tx)
            .await?;
    }
    Ok(approved_by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::dec;

    fn lines(pieces: &[(&str, u32)]) -> Vec<DenominationCount> {
        pieces.iter().map(|(v, q)| DenominationCount { value: Denomination(dec(v)), quantity: Quantity(*q) }).collect()
    }

    fn split(pieces: &[(&str, u32)], float: &str) -> (Vec<(String, u32)>, String, String) {
        let (bag, amount, kept) = suggest_deposit(&lines(pieces), dec(float));
        (bag.iter().map(|l| (fmt2(l.value.0), l.quantity.0)).collect(), fmt2(amount), fmt2(kept))
    }

    #[test]
    fn the_bag_gets_the_large_bills_and_the_drawer_keeps_exactly_the_float_when_it_can() {
        let (bag, amount, kept) = split(&[("50.00", 2), ("20.00", 2), ("5.00", 1), ("1.00", 10), ("0.25", 4)], "100");
        assert_eq!((amount.as_str(), kept.as_str()), ("56.00", "100.00"));
        // as few large pieces as the exact float allows stay: 50 + 2×20 + 9×1 + 4×0.25 = 100
        assert_eq!(bag, vec![("50.00".to_string(), 1), ("5.00".to_string(), 1), ("1.00".to_string(), 1)]);
        // a greedy alone would keep 20+20+20+50 = 110: the search finds two 50s
        let (bag, amount, kept) = split(&[("50.00", 2), ("20.00", 3)], "100");
        assert_eq!((amount.as_str(), kept.as_str()), ("60.00", "100.00"));
        assert_eq!(bag, vec![("20.00".to_string(), 3)]);
    }

    #[test]
    fn without_the_pieces_for_the_exact_float_the_least_above_it_stays() {
        let (bag, amount, kept) = split(&[("50.00", 3)], "80");
        assert_eq!((amount.as_str(), kept.as_str()), ("50.00", "100.00"));
        assert_eq!(bag, vec![("50.00".to_string(), 1)]);
        let (_, amount, kept) = split(&[("20.00", 5), ("0.05", 3)], "30.10");
        assert_eq!((amount.as_str(), kept.as_str()), ("60.15", "40.00"));
    }

    #[test]
    fn a_count_at_or_below_the_float_deposits_nothing() {
        assert_eq!(split(&[("20.00", 4)], "100"), (vec![], "0.00".to_string(), "80.00".to_string()));
        assert_eq!(split(&[("20.00", 5)], "100"), (vec![], "0.00".to_string(), "100.00".to_string()));
        assert_eq!(split(&[], "100"), (vec![], "0.00".to_string(), "0.00".to_string()));
    }

    #[test]
    fn a_float_too_large_for_the_table_falls_back_to_the_greedy() {
        let (_, amount, kept) = split(&[("100.00", 1000), ("1.00", 10)], "60000");
        // greedy: ten 1s, then 600 hundreds; the 1s are given back

        assert_eq!((amount.as_str(), kept.as_str()), ("40010.00", "60000.00"));
    }
}
