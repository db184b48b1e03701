//! Drawers and their state machine: `inactive` → `_activate` (float) →
//! `active` → `_deactivate` (submitted end-of-day count) → `inactive`;
//! `DELETE` → `decommissioned`, final.

use super::auth::Caller;
use super::ledger::{self, Entry, Head};
use super::model::{
    conflict, in_currency, invalid, present, stored_currency, timestamp, CountReason, CountStatus, DrawerError,
    DrawerId, DrawerResult, DrawerStatus, DrawerType, EntryKind, LedgerType, Text256, Text64,
};
use super::stores::{find_config, StoreConfig};
use crate::error::unique_violation;
use crate::money::{exact_number, fmt2, Amount, Currency, Monetary};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use utoipa::ToSchema;
use uuid::Uuid;

pub type Tx = Transaction<'static, Postgres>;

/// A drawer: its row, and (without the ledger bookkeeping) how the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "name": "Front till", "currency": "USD", "float": 200, "status": "active", "type": "integrated", "store_id": "store-1",
    "cash_limit": {"value": 1000, "currency": "USD"}, "over_limit": false}))]
pub struct Drawer {
    #[serde(rename = "cash_drawer_id")]
    pub drawer_id: String,
    pub name: String,
    pub currency: Currency,
    /// The default float of the next activation.
    #[serde(rename = "float", serialize_with = "exact_number")]
    #[schema(value_type = Amount)]
    pub float_amount: Decimal,
    pub status: DrawerStatus,
    #[serde(rename = "type")]
    pub drawer_type: DrawerType,
    pub store_id: String,
    /// Above this expected balance the drawer is over its limit; null: no limit.
    pub cash_limit: Option<Monetary>,
    /// True once a completed transaction took the expected balance above `cash_limit` (a `cashBox_limit`
    /// webhook was sent), until the balance is back at the limit or below.
    pub over_limit: bool,
    #[serde(skip)]
    pub current_activation_id: Option<Uuid>,
    #[serde(skip)]
    pub ledger_seq: i64,
    #[serde(skip)]
    pub ledger_head: String,
}

/// A `cash_drawers` row as the statements below read it (each lists the
/// columns itself: a checked statement is one literal).
struct DrawerRow {
    drawer_id: String,
    store_id: String,
    name: String,
    currency: String,
    float_amount: Decimal,
    drawer_type: DrawerType,
    status: DrawerStatus,
    current_activation_id: Option<Uuid>,
    ledger_seq: i64,
    ledger_head: String,
    cash_limit: Option<Decimal>,
    over_limit: bool,
}

impl TryFrom<DrawerRow> for Drawer {
    type Error = sqlx::Error;
    fn try_from(row: DrawerRow) -> Result<Self, sqlx::Error> {
        let currency = stored_currency(row.currency, "currency")?;
        Ok(Drawer {
            drawer_id: row.drawer_id,
            name: row.name,
            currency,
            float_amount: row.float_amount,
            status: row.status,
            drawer_type: row.drawer_type,
            store_id: row.store_id,
            cash_limit: row.cash_limit.map(|value| Monetary::new(value, currency)),
            over_limit: row.over_limit,
            current_activation_id: row.current_activation_id,
            ledger_seq: row.ledger_seq,
            ledger_head: row.ledger_head,
        })
    }
}

impl Drawer {
    pub fn head(&self) -> Head {
        Head { seq: self.ledger_seq, hash: self.ledger_head.clone() }
    }

    /// The open activation of an active drawer; 409 otherwise.
    pub fn active_activation(&self) -> DrawerResult<Uuid> {
        match (self.status, self.current_activation_id) {
            (DrawerStatus::Active, Some(id)) => Ok(id),
            (DrawerStatus::Decommissioned, _) => {
                Err(conflict(format!("cash drawer {} is decommissioned", self.drawer_id)))
            }
            _ => Err(conflict(format!("cash drawer {} is not active", self.drawer_id))),
        }
    }
}

/// Reads a drawer the caller may see: 404 unknown, 403 another store's.
pub async fn get<'e>(db: impl sqlx::PgExecutor<'e>, caller: &Caller, drawer_id: &str) -> DrawerResult<Drawer> {
    let row = sqlx::query_as!(
        DrawerRow,
        r#"SELECT drawer_id, store_id, name, currency, float_amount, drawer_type AS "drawer_type: DrawerType",
                  status AS "status: DrawerStatus", current_activation_id, ledger_seq, ledger_head, cash_limit, over_limit
           FROM cash_drawers WHERE drawer_id = $1"#,
        drawer_id
    )
    .fetch_optional(db)
    .await?;
    let drawer = row.map(Drawer::try_from).transpose()?;
    let drawer = drawer.ok_or_else(|| DrawerError::NotFound(format!("no cash drawer {drawer_id}")))?;
    caller.require_store(&drawer.store_id)?;
    Ok(drawer)
}

/// Locks a drawer row for the rest of `tx`: every write to a drawer goes
/// through here, which serialises them and keeps the ledger chain linear.
pub async fn lock(tx: &mut Tx, caller: &Caller, drawer_id: &str) -> DrawerResult<Drawer> {
    let row = sqlx::query_as!(
        DrawerRow,
        r#"SELECT drawer_id, store_id, name, currency, float_amount, drawer_type AS "drawer_type: DrawerType",
                  status AS "status: DrawerStatus", current_activation_id, ledger_seq, ledger_head, cash_limit, over_limit
           FROM cash_drawers WHERE drawer_id = $1 FOR UPDATE"#,
        drawer_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let drawer = row.map(Drawer::try_from).transpose()?;
    let drawer = drawer.ok_or_else(|| DrawerError::NotFound(format!("no cash drawer {drawer_id}")))?;
    caller.require_store(&drawer.store_id)?;
    Ok(drawer)
}

/// Locks an active drawer of a store with cash management on (409 otherwise)
/// and answers its open activation and the store's configuration (read for
/// the check, so callers need not read it again).
pub async fn lock_usable(tx: &mut Tx, caller: &Caller, drawer_id: &str) -> DrawerResult<(Drawer, Uuid, StoreConfig)> {
    let drawer = lock(tx, caller, drawer_id).await?;
    let (activation, config) = require_usable(tx, &drawer).await?;
    Ok((drawer, activation, config))
}

/// The checks of [`lock_usable`] on a drawer already locked.
pub async fn require_usable(tx: &mut Tx, drawer: &Drawer) -> DrawerResult<(Uuid, StoreConfig)> {
    let activation = drawer.active_activation()?;
    let config = require_cash_management(tx, &drawer.store_id).await?;
    Ok((activation, config))
}

async fn require_cash_management(tx: &mut Tx, store_id: &str) -> DrawerResult<StoreConfig> {
    match find_config(&mut **tx, store_id).await? {
        Some(c) if c.cash_management_enabled => Ok(c),
        _ => Err(conflict(format!("cash management is not enabled for store {store_id}"))),
    }
}

/// A store's drawers.
#[derive(Serialize, ToSchema)]
pub struct DrawerList {
    pub cash_drawers: Vec<Drawer>,
}

/// The drawers of a store, decommissioned ones left out.
pub async fn list(db: &PgPool, caller: &Caller, store_id: Option<&str>) -> DrawerResult<DrawerList> {
    let store_id =
        store_id.filter(|s| !s.is_empty()).ok_or_else(|| invalid("store_id: query parameter is required"))?;
    caller.require_store(store_id)?;
    let rows = sqlx::query_as!(
        DrawerRow,
        r#"SELECT drawer_id, store_id, name, currency, float_amount, drawer_type AS "drawer_type: DrawerType",
                  status AS "status: DrawerStatus", current_activation_id, ledger_seq, ledger_head, cash_limit, over_limit
           FROM cash_drawers WHERE store_id = $1 AND status <> 'decommissioned' ORDER BY drawer_id"#,
        store_id
    )
    .fetch_all(db)
    .await?;
    let drawers = rows.into_iter().map(Drawer::try_from).collect::<Result<_, _>>()?;
    Ok(DrawerList { cash_drawers: drawers })
}

/// `POST /v0/cash-drawers`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "name": "Front till", "currency": "USD", "float": 200, "store_id": "store-1", "type": "integrated"}))]
pub struct DrawerCreate {
    pub cash_drawer_id: DrawerId,
    pub name: Text256,
    pub currency: Currency,
    /// The default float of its activations, at least 0.
    pub float: Amount,
    pub store_id: Text256,
    #[serde(rename = "type")]
    pub drawer_type: DrawerType,
    /// Optional: the expected balance above which the drawer is over its limit (at least 0, the drawer's currency).
    pub cash_limit: Option<Monetary>,
}

/// A cash limit in the drawer's currency, at least 0.
fn limit_value(limit: Monetary, currency: Currency) -> DrawerResult<Decimal> {
    let value = in_currency(limit, currency, "cash_limit")?;
    if value < Decimal::ZERO {
        return Err(invalid("cash_limit.value: must be at least 0"));
    }
    Ok(value)
}

/// Adds a drawer (inactive). A `cash_drawer_id` already used anywhere → 409.
pub async fn create(tx: &mut Tx, caller: &Caller, body: &DrawerCreate) -> DrawerResult<Drawer> {
    let drawer_id: &str = &body.cash_drawer_id;
    let float = body.float.0;
    if float < Decimal::ZERO {
        return Err(invalid("float: must be at least 0"));
    }
    let cash_limit = body.cash_limit.map(|limit| limit_value(limit, body.currency)).transpose()?;
    let store_id: &str = &body.store_id;
    caller.require_store(store_id)?;
    let inserted = sqlx::query_as!(
        DrawerRow,
        r#"INSERT INTO cash_drawers (drawer_id, store_id, name, currency, float_amount, drawer_type, cash_limit)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING drawer_id, store_id, name, currency, float_amount, drawer_type AS "drawer_type: DrawerType",
                     status AS "status: DrawerStatus", current_activation_id, ledger_seq, ledger_head, cash_limit,
                     over_limit"#,
        drawer_id,
        store_id,
        &*body.name,
        body.currency.code(),
        float,
        body.drawer_type.as_str(),
        cash_limit
    )
    .fetch_one(&mut **tx)
    .await;
    match inserted {
        Ok(row) => Ok(row.try_into()?),
        Err(e) if unique_violation(&e).as_deref() == Some("cash_drawers_pkey") => {
            Err(conflict(format!("cash drawer {drawer_id} already exists")))
        }
        Err(e) => Err(e.into()),
    }
}

/// `PATCH /v0/cash-drawers/{drawer_id}`: at least one of them.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Front till", "float": 250, "cash_limit": {"value": 1000, "currency": "USD"}}))]
pub struct DrawerUpdate {
    pub name: Option<Text256>,
    /// The default float of later activations, at least 0.
    pub float: Option<Amount>,
    /// The cash limit (at least 0, the drawer's currency); `null` removes it. A new limit is compared with the
    /// balance when the next transaction completes.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Monetary>)]
    pub cash_limit: Option<Option<Monetary>>,
}

/// Renames a drawer, changes its default float (used by later activations) or its cash limit.
pub async fn update(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &DrawerUpdate) -> DrawerResult<Drawer> {
    let name = body.name.as_deref();
    let float = body.float.map(|a| a.0);
    if name.is_none() && float.is_none() && body.cash_limit.is_none() {
        return Err(invalid("name or float: at least one is required (or cash_limit)"));
    }
    if float.is_some_and(|v| v < Decimal::ZERO) {
        return Err(invalid("float: must be at least 0"));
    }
    let drawer = lock(tx, caller, drawer_id).await?;
    if drawer.status == DrawerStatus::Decommissioned {
        return Err(conflict(format!("cash drawer {drawer_id} is decommissioned")));
    }
    let cash_limit = match body.cash_limit {
        Some(Some(limit)) => Some(limit_value(limit, drawer.currency)?),
        _ => None,
    };
    // Removing the limit ends any crossing; a changed one is checked by the next completed transaction.
    let row = sqlx::query_as!(
        DrawerRow,
        r#"UPDATE cash_drawers SET name = COALESCE($2, name), float_amount = COALESCE($3, float_amount),
               cash_limit = CASE WHEN $4 THEN $5 ELSE cash_limit END,
               over_limit = CASE WHEN $4 AND $5::numeric IS NULL THEN false ELSE over_limit END, updated_at = now()
           WHERE drawer_id = $1
           RETURNING drawer_id, store_id, name, currency, float_amount, drawer_type AS "drawer_type: DrawerType",
                     status AS "status: DrawerStatus", current_activation_id, ledger_seq, ledger_head, cash_limit,
                     over_limit"#,
        drawer_id,
        name,
        float,
        body.cash_limit.is_some(),
        cash_limit
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_into()?)
}

/// Decommissions an inactive drawer; its ledger and reports stay readable.
pub async fn decommission(tx: &mut Tx, caller: &Caller, drawer_id: &str) -> DrawerResult<()> {
    let drawer = lock(tx, caller, drawer_id).await?;
    match drawer.status {
        DrawerStatus::Active => Err(conflict(format!("cash drawer {drawer_id} is active; deactivate it first"))),
        DrawerStatus::Decommissioned => Err(conflict(format!("cash drawer {drawer_id} is already decommissioned"))),
        DrawerStatus::Inactive => {
            sqlx::query!(
                "UPDATE cash_drawers SET status = 'decommissioned', updated_at = now() WHERE drawer_id = $1",
                drawer_id
            )
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    }
}

/// `POST /v0/cash-drawers/{drawer_id}/_activate`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"float_amount": {"value": 200, "currency": "USD"}}))]
pub struct Activate {
    /// The cash the day starts with, at least 0, in the drawer's currency.
    pub float_amount: Monetary,
    /// Optional: the cash counted in the drawer as it opens (at least 0, the drawer's currency), checked against
    /// what the drawer was left with at its last close (`float_amount` for a first activation).
    pub opening_count: Option<Monetary>,
}

/// An activated drawer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "status": "active", "activation_timestamp": "2026-03-01T08:00:00Z", "float_amount": {"value": 200, "currency": "USD"},
    "expected_opening": {"value": 200, "currency": "USD"}, "opening_variance": {"value": -5, "currency": "USD"}}))]
pub struct Activated {
    pub cash_drawer_id: String,
    /// `active`
    pub status: DrawerStatus,
    pub activation_timestamp: DateTime<Utc>,
    pub float_amount: Monetary,
    /// Only with an `opening_count`: the float the drawer was left with at its last close (its end-of-day count
    /// plus its `deposit_total`), or `float_amount` for a first activation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_opening: Option<Monetary>,
    /// Only with an `opening_count`: `opening_count` − `expected_opening`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening_variance: Option<Monetary>,
}

/// The cash `drawer_id` was left with at its last close: every ledger row of
/// its last closed activation summed (float, movements, the variance booked
/// and the cash taken out at the close); `None` before its first close.
async fn left_at_last_close(tx: &mut Tx, drawer_id: &str) -> Result<Option<Decimal>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT (SELECT COALESCE(SUM(l.amount), 0) FROM cash_drawer_ledger l WHERE l.activation_id = a.activation_id)
                  AS "left!"
           FROM cash_drawer_activations a
           WHERE a.drawer_id = $1 AND a.deactivated_at IS NOT NULL
           ORDER BY a.activated_at DESC, a.activation_id LIMIT 1"#,
        drawer_id
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Opens a business day with `float_amount` in the drawer: a `float` ledger
/// row and a `cashBox_open` webhook event, in the caller's transaction.
pub async fn activate(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &Activate) -> DrawerResult<Activated> {
    let drawer = lock(tx, caller, drawer_id).await?;
    match drawer.status {
        DrawerStatus::Active => return Err(conflict(format!("cash drawer {drawer_id} is already active"))),
        DrawerStatus::Decommissioned => return Err(conflict(format!("cash drawer {drawer_id} is decommissioned"))),
        DrawerStatus::Inactive => {}
    }
    let float = in_currency(body.float_amount, drawer.currency, "float_amount")?;
    if float < Decimal::ZERO {
        return Err(invalid("float_amount.value: must be at least 0"));
    }
    let opening_count = match body.opening_count {
        Some(money) => {
            let value = in_currency(money, drawer.currency, "opening_count")?;
            if value < Decimal::ZERO {
                return Err(invalid("opening_count.value: must be at least 0"));
            }
            Some(value)
        }
        None => None,
    };
    require_cash_management(tx, &drawer.store_id).await?;
    let expected_opening = match opening_count {
        Some(_) => Some(left_at_last_close(tx, drawer_id).await?.unwrap_or(float)),
        None => None,
    };
    let activation_id = Uuid::new_v4();
    let opened: DateTime<Utc> = sqlx::query_scalar!(
        "INSERT INTO cash_drawer_activations (activation_id, drawer_id, activated_at, activated_by, opening_count,
             expected_opening)
         VALUES ($1, $2, now(), $3, $4, $5) RETURNING activated_at",
        activation_id,
        drawer_id,
        caller.associate_id(),
        opening_count,
        expected_opening
    )
    .fetch_one(&mut **tx)
    .await?;
    // The opening check travels in the float's ledger row, so the report's variance can be rebuilt from the ledger.
    let details = opening_count.zip(expected_opening).map(|(counted, expected)| {
        json!({"opening_count": fmt2(counted), "expected_opening": fmt2(expected)}).to_string()
    });
    sqlx::query!(
        "UPDATE cash_drawers SET status = 'active', current_activation_id = $2, updated_at = now() WHERE drawer_id = $1",
        drawer_id,
        activation_id
    )
    .execute(&mut **tx)
    .await?;
    let mut head = drawer.head();
    ledger::append(
        tx,
        &mut head,
        &Entry {
            drawer_id,
            store_id: &drawer.store_id,
            activation_id,
            entry_type: EntryKind::Float,
            transaction_type: LedgerType::FloatAdjustment.as_str(),
            source_id: Some(activation_id),
            associate_id: caller.associate_id(),
            order_id: None,
            reason_code: None,
            currency: drawer.currency.code(),
            amount: float,
            details,
        },
    )
    .await?;
    outbox(tx, "cashBox_open", drawer_id, opened, None, float).await?;
    let money = |value| Monetary::new(value, drawer.currency);
    Ok(Activated {
        cash_drawer_id: drawer.drawer_id.clone(),
        status: DrawerStatus::Active,
        activation_timestamp: opened,
        float_amount: money(float),
        expected_opening: expected_opening.map(money),
        opening_variance: opening_count.zip(expected_opening).map(|(counted, expected)| money(counted - expected)),
    })
}

/// `POST /v0/cash-drawers/{drawer_id}/_deactivate`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"count_id": "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a"}))]
pub struct Deactivate {
    /// A submitted `end_of_day_balance` count of this activation, recorded after the last movement.
    pub count_id: Text64,
}

/// A drawer closed for the day.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "status": "inactive", "activation_timestamp": "2026-03-01T08:00:00Z", "deactivation_timestamp": "2026-03-01T20:00:00Z"}))]
pub struct Deactivated {
    pub cash_drawer_id: String,
    /// `inactive`
    pub status: DrawerStatus,
    pub activation_timestamp: DateTime<Utc>,
    pub deactivation_timestamp: DateTime<Utc>,
}

/// Closes the business day with a submitted end-of-day count of this
/// activation. The count's variance (`reconciliation`) and the cash taken out
/// for the bank, leaving the float (`end_of_day_withdrawal`), are appended to
/// the ledger, and a `cashBox_close` event goes to the outbox.
pub async fn deactivate(tx: &mut Tx, caller: &Caller, drawer_id: &str, body: &Deactivate) -> DrawerResult<Deactivated> {
    let count_id: &str = &body.count_id;
    let count_uuid =
        Uuid::parse_str(count_id).map_err(|_| DrawerError::NotFound(format!("no count {count_id} on this drawer")))?;
    let drawer = lock(tx, caller, drawer_id).await?;
    let activation_id = drawer.active_activation()?;
    let count = sqlx::query!(
        r#"SELECT activation_id, reason AS "reason: CountReason", status AS "status: CountStatus", counted_amount,
                  ledger_seq
           FROM cash_counts WHERE count_id = $1 AND drawer_id = $2"#,
        count_uuid,
        drawer_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| DrawerError::NotFound(format!("no count {count_id} on this drawer")))?;
    if count.reason != CountReason::EndOfDayBalance {
        return Err(conflict("deactivation needs an end_of_day_balance count"));
    }
    if count.status != CountStatus::Submitted {
        return Err(conflict(format!("count {count_id} is {}, not submitted", count.status.as_str())));
    }
    if count.activation_id != activation_id {
        return Err(conflict(format!("count {count_id} belongs to an earlier activation")));
    }
    if count.ledger_seq != Some(drawer.ledger_seq) {
        return Err(conflict("cash moved since this count was recorded; count again"));
    }
    let counted = count.counted_amount.ok_or_else(|| conflict("the count has no counted amount"))?;
    let expected = ledger::expected_balance(tx, activation_id).await?;
    let open_float: Decimal = sqlx::query_scalar!(
        r#"SELECT COALESCE(SUM(amount), 0) AS "open_float!" FROM cash_drawer_ledger
           WHERE activation_id = $1 AND entry_type = 'float'"#,
        activation_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let mut head = drawer.head();
    let closing =
        [(EntryKind::Reconciliation, counted - expected), (EntryKind::EndOfDayWithdrawal, open_float - counted)];
    for (kind, amount) in closing {
        if amount.is_zero() {
            continue;
        }
        ledger::append(
            tx,
            &mut head,
            &Entry {
                drawer_id,
                store_id: &drawer.store_id,
                activation_id,
                entry_type: kind,
                transaction_type: kind.as_str(),
                source_id: Some(count_uuid),
                associate_id: caller.associate_id(),
                order_id: None,
                reason_code: None,
                currency: drawer.currency.code(),
                amount,
                details: None,
            },
        )
        .await?;
    }
    let day = sqlx::query!(
        r#"UPDATE cash_drawer_activations SET deactivated_at = now(), deactivated_by = $2, end_count_id = $3
           WHERE activation_id = $1 RETURNING activated_at, deactivated_at AS "deactivated_at!""#,
        activation_id,
        caller.associate_id(),
        count_uuid
    )
    .fetch_one(&mut **tx)
    .await?;
    let (opened, closed) = (day.activated_at, day.deactivated_at);
    // The cash above the float went to the bank: whatever crossing there was has ended.
    sqlx::query!(
        "UPDATE cash_drawers SET status = 'inactive', current_activation_id = NULL, over_limit = false, updated_at = now()
         WHERE drawer_id = $1",
        drawer_id
    )
    .execute(&mut **tx)
    .await?;
    outbox(tx, "cashBox_close", drawer_id, opened, Some(closed), expected).await?;
    Ok(Deactivated {
        cash_drawer_id: drawer.drawer_id,
        status: DrawerStatus::Inactive,
        activation_timestamp: opened,
        deactivation_timestamp: closed,
    })
}

/// After a completed transaction of the locked `drawer`: when it took the
/// expected balance above the drawer's cash limit, sets `over_limit` and
/// queues one `cashBox_limit` webhook; when the balance is back at the limit or
/// below, clears the flag, so the next crossing is announced again. The flag
/// is read and written under the drawer row lock, in the transaction that
/// appended the ledger row: concurrent sales announce a crossing once.
pub async fn check_cash_limit(tx: &mut Tx, drawer: &Drawer, activation_id: Uuid) -> Result<(), sqlx::Error> {
    let Some(limit) = drawer.cash_limit else { return Ok(()) };
    let balance = ledger::expected_balance(tx, activation_id).await?;
    let over = balance > limit.value;
    if over == drawer.over_limit {
        return Ok(());
    }
    sqlx::query!("UPDATE cash_drawers SET over_limit = $2 WHERE drawer_id = $1", drawer.drawer_id, over)
        .execute(&mut **tx)
        .await?;
    if over {
        let payload = json!({
            "type": "cashBox_limit",
            "cashBoxID": drawer.drawer_id,
            "Total": Amount(balance),
            "limit": Amount(limit.value),
        });
        let event = crate::webhooks::outbox::NewEvent { event_type: "cashBox_limit", payload };
        crate::webhooks::outbox::record(tx, event).await?;
    }
    Ok(())
}

/// The webhook event for the dispatcher, which sends `payload` as it is.
async fn outbox(
    tx: &mut Tx,
    event: &str,
    drawer_id: &str,
    opened: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
    total: Decimal,
) -> Result<(), sqlx::Error> {
    let payload = json!({
        "type": event,
        "cashBoxID": drawer_id,
        "opened": timestamp(opened),
        "closed": closed.map(timestamp),
        "Total": Amount(total),
    });
    crate::webhooks::outbox::record(tx, crate::webhooks::outbox::NewEvent { event_type: event, payload }).await
}
