//! Reports, all derived from the ledger: a drawer's daily reports (one per
//! activation) and a store's transaction report over a time window.
//!
//! Both stay fast as the ledger grows through two indexes: per-activation
//! sums read `(activation_id, entry_type) INCLUDE (amount)` only, and the store
//! report walks `(store_id, [transaction_type,] created_at, id)`.

use super::auth::Caller;
use super::drawer;
use super::model::{invalid, stored_currency, DrawerResult, DrawerStatus, EntryKind, LedgerType};
use crate::money::{exact_number, Amount, Currency, Monetary};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A page of a listing, from the query string.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At least 0; default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// 1 to 100; default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// A query parameter's value, trimmed; empty counts as absent.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Page bounds from the query string: `offset` ≥ 0, `limit` 1..=100 (default 10).
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    pub fn parse(query: &PageQuery) -> DrawerResult<Page> {
        let int = |name: &str, value: &Option<String>, default: i64| -> DrawerResult<i64> {
            match given(value) {
                None => Ok(default),
                Some(raw) => raw.parse::<i64>().map_err(|_| invalid(format!("{name}: must be a whole number"))),
            }
        };
        let offset = int("offset", &query.offset, 0)?;
        let limit = int("limit", &query.limit, 10)?;
        if offset < 0 {
            return Err(invalid("offset: must be at least 0"));
        }
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit: must be between 1 and 100"));
        }
        Ok(Page { offset, limit })
    }
}

struct Activation {
    activation_id: Uuid,
    activated_at: DateTime<Utc>,
    deactivated_at: Option<DateTime<Utc>>,
    opening_count: Option<Decimal>,
    expected_opening: Option<Decimal>,
    approved_by: Option<String>,
}

/// A drawer's daily reports, newest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"reports": [{"activation_timestamp": "2026-03-01T08:00:00Z", "open_float": {"value": 200, "currency": "USD"},
    "net_cash_in": {"value": 45, "currency": "USD"}, "net_cash_out": {"value": 0, "currency": "USD"},
    "net_non_sale_cash_in": {"value": 0, "currency": "USD"}, "net_non_sale_cash_out": {"value": 0, "currency": "USD"},
    "net_sales": {"value": 45, "currency": "USD"}, "net_returns": {"value": 0, "currency": "USD"},
    "expected_amount": {"value": 245, "currency": "USD"}, "variance_total": {"value": 0, "currency": "USD"},
    "end_of_day_count": {"value": 245, "currency": "USD"}, "deposit_total": {"value": -45, "currency": "USD"},
    "deactivation_timestamp": "2026-03-01T20:00:00Z"}],
    "pagination_info": {"count": 1, "total": 1, "offset": 0}}))]
pub struct DailyReports {
    pub reports: Vec<DailyReport>,
    pub pagination_info: PaginationInfo,
}

/// One activation (business day) of a drawer, with the fields of SPEC §8.
/// A drawer still active has the day so far: the last four are null.
#[derive(Serialize, ToSchema)]
pub struct DailyReport {
    pub activation_timestamp: DateTime<Utc>,
    pub open_float: Monetary,
    /// `net_sales` + `net_non_sale_cash_in`
    pub net_cash_in: Monetary,
    /// `net_returns` + `net_non_sale_cash_out`
    pub net_cash_out: Monetary,
    pub net_non_sale_cash_in: Monetary,
    pub net_non_sale_cash_out: Monetary,
    pub net_sales: Monetary,
    /// Positive.
    pub net_returns: Monetary,
    /// `open_float` + `net_cash_in` − `net_cash_out`
    pub expected_amount: Monetary,
    /// `end_of_day_count` − `expected_amount`
    pub variance_total: Option<Monetary>,
    /// The submitted end-of-day count.
    pub end_of_day_count: Option<Monetary>,
    /// −(`end_of_day_count` − `open_float`): the cash taken out for the bank (negative = out).
    pub deposit_total: Option<Monetary>,
    pub deactivation_timestamp: Option<DateTime<Utc>>,
    /// The opening count − the cash the drawer was left with at its last close (`float_amount` on a first
    /// activation); null when it was activated without an `opening_count`.
    pub opening_variance: Option<Monetary>,
    /// The manager who approved the end-of-day count over the store's variance tolerance; null otherwise.
    pub approved_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PaginationInfo {
    /// Reports on this page.
    pub count: usize,
    /// Activations of the drawer in all.
    pub total: i64,
    pub offset: i64,
}

/// One report per activation, newest first, with the seed's fields.
pub async fn daily(db: &PgPool, caller: &Caller, drawer_id: &str, page: &Page) -> DrawerResult<DailyReports> {
    let drawer = drawer::get(db, caller, drawer_id).await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "total!" FROM cash_drawer_activations WHERE drawer_id = $1"#,
        drawer_id
    )
    .fetch_one(db)
    .await?;
    let activations = sqlx::query_as!(
        Activation,
        "SELECT a.activation_id, a.activated_at, a.deactivated_at, a.opening_count, a.expected_opening, c.approved_by
         FROM cash_drawer_activations a LEFT JOIN cash_counts c ON c.count_id = a.end_count_id
         WHERE a.drawer_id = $1 ORDER BY a.activated_at DESC, a.activation_id LIMIT $2 OFFSET $3",
        drawer_id,
        page.limit,
        page.offset
    )
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = activations.iter().map(|a| a.activation_id).collect();
    let sums = sqlx::query!(
        r#"SELECT activation_id, entry_type AS "entry_type: EntryKind", SUM(amount) AS "sum!" FROM cash_drawer_ledger
           WHERE activation_id = ANY($1) GROUP BY activation_id, entry_type"#,
        &ids
    )
    .fetch_all(db)
    .await?;
    let mut by_activation: HashMap<(Uuid, EntryKind), Decimal> = HashMap::new();
    for row in &sums {
        by_activation.insert((row.activation_id, row.entry_type), row.sum);
    }
    let currency = drawer.currency;
    let reports: Vec<DailyReport> = activations
        .iter()
        .map(|a| {
            let sum = |kind: EntryKind| by_activation.get(&(a.activation_id, kind)).copied().unwrap_or_default();
            let open_float = sum(EntryKind::Float);
            let net_sales = sum(EntryKind::Sale);
            let net_returns = -sum(EntryKind::Return);
            let non_sale_in = sum(EntryKind::NonSaleIn);
            let non_sale_out = -sum(EntryKind::NonSaleOut);
            let cash_in = net_sales + non_sale_in;
            let cash_out = net_returns + non_sale_out;
            let expected = open_float + cash_in - cash_out;
            // Closed days end with the variance booked, so the count is the expected amount plus it.
            let end_of_day = a.deactivated_at.map(|_| expected + sum(EntryKind::Reconciliation));
            let money = |v: Decimal| Monetary::new(v, currency);
            DailyReport {
                activation_timestamp: a.activated_at,
                open_float: money(open_float),
                net_cash_in: money(cash_in),
                net_cash_out: money(cash_out),
                net_non_sale_cash_in: money(non_sale_in),
                net_non_sale_cash_out: money(non_sale_out),
                net_sales: money(net_sales),
                net_returns: money(net_returns),
                expected_amount: money(expected),
                variance_total: end_of_day.map(|c| money(c - expected)),
                end_of_day_count: end_of_day.map(money),
                deposit_total: end_of_day.map(|c| money(-(c - open_float))),
                deactivation_timestamp: a.deactivated_at,
                opening_variance: a.opening_count.zip(a.expected_opening).map(|(c, e)| money(c - e)),
                approved_by: a.approved_by.clone(),
            }
        })
        .collect();
    Ok(DailyReports { pagination_info: PaginationInfo { count: reports.len(), total, offset: page.offset }, reports })
}

/// `GET /v0/cash-transactions/report`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoreReportQuery {
    /// The store.
    #[serde(rename = "store-id")]
    #[param(value_type = String, min_length = 1)]
    pub store_id: Option<String>,
    /// The window's start (RFC 3339, inclusive).
    #[serde(rename = "start-time")]
    #[param(value_type = String, format = DateTime)]
    pub start_time: Option<String>,
    /// The window's end (RFC 3339, inclusive), not before `start-time`.
    #[serde(rename = "end-time")]
    #[param(value_type = String, format = DateTime)]
    pub end_time: Option<String>,
    /// At least 0; default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// 1 to 100; default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Only movements of this type.
    #[serde(rename = "transaction-type")]
    #[param(value_type = Option<LedgerType>, inline)]
    pub transaction_type: Option<String>,
}

/// A store's ledger movements in a window, oldest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transactionReport": [{"cashDrawerStatus": "active", "cashDrawerName": "Front till", "cashDrawerId": "4G9OZ",
    "currency": "USD", "createdAt": "2026-03-01T10:00:05Z", "transactionType": "sale", "associateId": "alice", "associateName": "Alice",
    "orderId": "A-1", "externalOrderId": "", "reasonCode": "", "amountBalance": 45, "storeId": "store-1"}], "total": 1}))]
pub struct StoreReport {
    #[serde(rename = "transactionReport")]
    pub transaction_report: Vec<StoreReportEntry>,
    /// Every movement that matches, over all pages.
    pub total: i64,
}

/// One ledger movement, with the seed's camelCase fields; absent texts are `""`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreReportEntry {
    /// `cashDrawerStatus`: the drawer's status when the movement happened, `active`, or `inactive` for
    /// the movements that close the day (`reconciliation`, `end_of_day_withdrawal`).
    #[serde(rename = "cashDrawerStatus", serialize_with = "status_when")]
    #[schema(value_type = DrawerStatus)]
    entry_type: EntryKind,
    pub cash_drawer_name: String,
    pub cash_drawer_id: String,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    /// A [`LedgerType`] word.
    pub transaction_type: String,
    pub associate_id: String,
    pub associate_name: String,
    pub order_id: String,
    /// Always `""`.
    pub external_order_id: &'static str,
    pub reason_code: String,
    /// Positive into the drawer, negative out.
    #[serde(serialize_with = "exact_number")]
    #[schema(value_type = Amount)]
    pub amount_balance: Decimal,
    pub store_id: String,
}

/// A store report row as the statements read it.
struct StoreReportRow {
    drawer_id: String,
    store_id: String,
    entry_type: EntryKind,
    transaction_type: String,
    associate_id: String,
    associate_name: String,
    order_id: String,
    reason_code: String,
    currency: String,
    amount: Decimal,
    created_at: DateTime<Utc>,
    drawer_name: String,
}

impl TryFrom<StoreReportRow> for StoreReportEntry {
    type Error = sqlx::Error;
    fn try_from(row: StoreReportRow) -> Result<Self, sqlx::Error> {
        Ok(StoreReportEntry {
            entry_type: row.entry_type,
            cash_drawer_name: row.drawer_name,
            cash_drawer_id: row.drawer_id,
            currency: stored_currency(row.currency, "currency")?,
            created_at: row.created_at,
            transaction_type: row.transaction_type,
            associate_id: row.associate_id,
            associate_name: row.associate_name,
            order_id: row.order_id,
            external_order_id: "",
            reason_code: row.reason_code,
            amount_balance: row.amount,
            store_id: row.store_id,
        })
    }
}

fn status_when<S: serde::Serializer>(entry_type: &EntryKind, serializer: S) -> Result<S::Ok, S::Error> {
    (if entry_type.closes_the_day() { DrawerStatus::Inactive } else { DrawerStatus::Active }).serialize(serializer)
}

/// True when the store report asked for ends before today (UTC): a past
/// period, which the read replica may serve. Today's report, or a query
/// that does not parse (answered 400 all the same), stays on the primary.
pub fn ends_before_today(query: &StoreReportQuery) -> bool {
    let today = Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    query
        .end_time
        .as_deref()
        .and_then(|raw| DateTime::parse_from_rfc3339(raw.trim()).ok())
        .is_some_and(|end| end.with_timezone(&Utc) < today)
}

/// The ledger movements of a store in `[start-time, end-time]`, oldest first.
pub async fn store(db: &PgPool, caller: &Caller, query: &StoreReportQuery) -> DrawerResult<StoreReport> {
    let store_id = given(&query.store_id).ok_or_else(|| invalid("store-id: query parameter is required"))?;
    let time = |name: &str, value: &Option<String>| -> DrawerResult<DateTime<Utc>> {
        let raw = given(value).ok_or_else(|| invalid(format!("{name}: query parameter is required (RFC 3339)")))?;
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(format!("{name}: must be an RFC 3339 date-time like 2022-01-01T00:00:00Z")))
    };
    let (start, end) = (time("start-time", &query.start_time)?, time("end-time", &query.end_time)?);
    if end < start {
        return Err(invalid("end-time: must not be before start-time"));
    }
    let page = Page::parse(&PageQuery { offset: query.offset.clone(), limit: query.limit.clone() })?;
    let transaction_type = given(&query.transaction_type);
    if let Some(t) = transaction_type {
        if LedgerType::parse(t).is_none() {
            return Err(invalid(format!("transaction-type: unknown type {t}")));
        }
    }
    caller.require_store(store_id)?;
    // Two fixed statements each, with and without the type, rather than an optional filter: each plans onto
    // its own index, `(store_id, transaction_type, created_at, id)` or `(store_id, created_at, id)`.
    let (total, rows) = match transaction_type {
        Some(transaction_type) => {
            let total = sqlx::query_scalar!(
                r#"SELECT count(*) AS "total!" FROM cash_drawer_ledger l
                   WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3 AND l.transaction_type = $4"#,
                store_id,
                start,
                end,
                transaction_type
            )
            .fetch_one(db)
            .await?;
            let rows = sqlx::query_as!(
                StoreReportRow,
                r#"SELECT l.drawer_id, l.store_id, l.entry_type AS "entry_type: EntryKind", l.transaction_type,
                          COALESCE(l.associate_id, '') AS "associate_id!", COALESCE(a.name, '') AS "associate_name!",
                          COALESCE(l.order_id, '') AS "order_id!", COALESCE(l.reason_code, '') AS "reason_code!",
                          l.currency, l.amount, l.created_at, d.name AS "drawer_name!"
                   FROM cash_drawer_ledger l
                   JOIN cash_drawers d ON d.drawer_id = l.drawer_id
                   LEFT JOIN associates a ON a.associate_id = l.associate_id
                   WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3 AND l.transaction_type = $4
                   ORDER BY l.created_at, l.id LIMIT $5 OFFSET $6"#,
                store_id,
                start,
                end,
                transaction_type,
                page.limit,
                page.offset
            )
            .fetch_all(db)
            .await?;
            (total, rows)
        }
        None => {
            let total = sqlx::query_scalar!(
                r#"SELECT count(*) AS "total!" FROM cash_drawer_ledger l
                   WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3"#,
                store_id,
                start,
                end
            )
            .fetch_one(db)
            .await?;
            let rows = sqlx::query_as!(
                StoreReportRow,
                r#"SELECT l.drawer_id, l.store_id, l.entry_type AS "entry_type: EntryKind", l.transaction_type,
                          COALESCE(l.associate_id, '') AS "associate_id!", COALESCE(a.name, '') AS "associate_name!",
                          COALESCE(l.order_id, '') AS "order_id!", COALESCE(l.reason_code, '') AS "reason_code!",
                          l.currency, l.amount, l.created_at, d.name AS "drawer_name!"
                   FROM cash_drawer_ledger l
                   JOIN cash_drawers d ON d.drawer_id = l.drawer_id
                   LEFT JOIN associates a ON a.associate_id = l.associate_id
                   WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3
                   ORDER BY l.created_at, l.id LIMIT $4 OFFSET $5"#,
                store_id,
                start,
                end,
                page.limit,
                page.offset
            )
            .fetch_all(db)
            .await?;
            (total, rows)
        }
    };
    let transaction_report = rows.into_iter().map(StoreReportEntry::try_from).collect::<Result<_, _>>()?;
    Ok(StoreReport { transaction_report, total })
}

/// A drawer on the operators' page: the cash it should hold now and today's
/// completed cash in and out.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"cash_drawer_id": "4G9OZ", "store_id": "store-1", "name": "Front till", "status": "active",
    "float": {"value": 200, "currency": "USD"}, "activated_at": "2026-03-01T08:00:00Z", "balance": {"value": 245, "currency": "USD"},
    "today_cash_in": {"value": 45, "currency": "USD"}, "today_cash_out": {"value": 0, "currency": "USD"}, "currency": "USD"}))]
pub struct DrawerBalance {
    pub cash_drawer_id: String,
    pub store_id: String,
    pub name: String,
    pub status: DrawerStatus,
    /// The default float of the next activation.
    pub float: Monetary,
    /// The open activation's start; null when inactive.
    pub activated_at: Option<DateTime<Utc>>,
    /// The cash an active drawer should hold now (float plus completed movements); null when inactive.
    pub balance: Option<Monetary>,
    pub today_cash_in: Monetary,
    pub today_cash_out: Monetary,
    pub currency: Currency,
    /// The drawer's cash limit; null: none.
    pub cash_limit: Option<Monetary>,
    /// True while a completed transaction has left the balance above the cash limit.
    pub over_limit: bool,
}

/// Every drawer with the cash it should hold now (active drawers: float plus
/// completed movements of the open activation) and today's completed cash in
/// and out (UTC day, float and day-closing entries left out), for the
/// operators' page.
pub async fn overview(db: &PgPool, day_start: DateTime<Utc>, limit: i64) -> Result<Vec<DrawerBalance>, sqlx::Error> {
    // The balance's list of kinds is `EntryKind::counts_in_balance` written out (see `ledger::expected_balance`).
    let rows = sqlx::query!(
        r#"SELECT d.drawer_id, d.store_id, d.name, d.currency, d.status AS "status: DrawerStatus", d.float_amount,
                  a.activated_at AS "activated_at?",
                  CASE WHEN d.status = 'active' THEN
                      (SELECT COALESCE(SUM(l.amount), 0) FROM cash_drawer_ledger l
                       WHERE l.activation_id = d.current_activation_id AND l.entry_type IN ('float', 'sale', 'return', 'non_sale_in', 'non_sale_out', 'non_sale_neutral', 'count') -- EntryKind::counts_in_balance
                      )
                  END AS balance,
                  (SELECT COALESCE(SUM(l.amount), 0) FROM cash_drawer_ledger l
                   WHERE l.drawer_id = d.drawer_id AND l.created_at >= $1 AND l.entry_type IN ('sale', 'non_sale_in'))
                      AS "cash_in!",
                  (SELECT COALESCE(-SUM(l.amount), 0) FROM cash_drawer_ledger l
                   WHERE l.drawer_id = d.drawer_id AND l.created_at >= $1 AND l.entry_type IN ('return', 'non_sale_out'))
                      AS "cash_out!",
                  d.cash_limit, d.over_limit
           FROM cash_drawers d LEFT JOIN cash_drawer_activations a ON a.activation_id = d.current_activation_id
           ORDER BY d.store_id, d.drawer_id LIMIT $2"#,
        day_start,
        limit
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let currency = Currency::try_from(row.currency.as_str()).map_err(|why| {
                sqlx::Error::Decode(format!("cash_drawers.currency of {}: {why}", row.drawer_id).into())
            })?;
            let money = |value| Monetary::new(value, currency);
            Ok(DrawerBalance {
                cash_drawer_id: row.drawer_id,
                store_id: row.store_id,
                name: row.name,
                status: row.status,
                float: money(row.float_amount),
                activated_at: row.activated_at,
                balance: row.balance.map(money),
                today_cash_in: money(row.cash_in),
                today_cash_out: money(row.cash_out),
                currency,
                cash_limit: row.cash_limit.map(money),
                over_limit: row.over_limit,
            })
        })
        .collect()
}
