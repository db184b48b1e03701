//! Reports, all derived from the ledger: a drawer's daily reports (one per
//! activation) and a store's transaction report over a time window.
//!
//! Both stay fast as the ledger grows through two indexes: per-activation
//! sums read `(activation_id, entry_type) INCLUDE (amount)` only, and the store
//! report walks `(store_id, [transaction_type,] created_at, id)`.

use super::auth::Caller;
use super::drawer;
use super::model::{invalid, money_json, number, timestamp, DrawerResult, NON_SALE_TYPES, REPORT_TYPES};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// Page bounds from the query string: `offset` ≥ 0, `limit` 1..=100 (default 10).
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    pub fn parse(query: &HashMap<String, String>) -> DrawerResult<Page> {
        let int = |name: &str, default: i64| -> DrawerResult<i64> {
            match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Ok(default),
                Some(raw) => raw.parse::<i64>().map_err(|_| invalid(format!("{name}: must be a whole number"))),
            }
        };
        let offset = int("offset", 0)?;
        let limit = int("limit", 10)?;
        if offset < 0 {
            return Err(invalid("offset: must be at least 0"));
        }
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit: must be between 1 and 100"));
        }
        Ok(Page { offset, limit })
    }
}

#[derive(sqlx::FromRow)]
struct Activation {
    activation_id: Uuid,
    activated_at: DateTime<Utc>,
    deactivated_at: Option<DateTime<Utc>>,
}

/// One report per activation, newest first, with the seed's fields.
pub async fn daily(db: &PgPool, caller: &Caller, drawer_id: &str, page: &Page) -> DrawerResult<Value> {
    let drawer = drawer::get(db, caller, drawer_id).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM cash_drawer_activations WHERE drawer_id = $1")
        .bind(drawer_id)
        .fetch_one(db)
        .await?;
    let activations: Vec<Activation> = sqlx::query_as(
        "SELECT activation_id, activated_at, deactivated_at FROM cash_drawer_activations
         WHERE drawer_id = $1 ORDER BY activated_at DESC, activation_id LIMIT $2 OFFSET $3",
    )
    .bind(drawer_id)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = activations.iter().map(|a| a.activation_id).collect();
    let sums: Vec<(Uuid, String, Decimal)> = sqlx::query_as(
        "SELECT activation_id, entry_type, SUM(amount) FROM cash_drawer_ledger
         WHERE activation_id = ANY($1) GROUP BY activation_id, entry_type",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut by_activation: HashMap<(Uuid, &str), Decimal> = HashMap::new();
    for (id, kind, sum) in &sums {
        by_activation.insert((*id, kind.as_str()), *sum);
    }
    let currency = drawer.currency.as_str();
    let reports: Vec<Value> = activations
        .iter()
        .map(|a| {
            let sum = |kind: &str| by_activation.get(&(a.activation_id, kind)).copied().unwrap_or_default();
            let open_float = sum("float");
            let net_sales = sum("sale");
            let net_returns = -sum("return");
            let non_sale_in = sum("non_sale_in");
            let non_sale_out = -sum("non_sale_out");
            let cash_in = net_sales + non_sale_in;
            let cash_out = net_returns + non_sale_out;
            let expected = open_float + cash_in - cash_out;
            // Closed days end with the variance booked, so the count is the expected amount plus it.
            let end_of_day = a.deactivated_at.map(|_| expected + sum("reconciliation"));
            let money = |v: Decimal| money_json(v, currency);
            json!({
                "activation_timestamp": timestamp(a.activated_at),
                "open_float": money(open_float),
                "net_cash_in": money(cash_in),
                "net_cash_out": money(cash_out),
                "net_non_sale_cash_in": money(non_sale_in),
                "net_non_sale_cash_out": money(non_sale_out),
                "net_sales": money(net_sales),
                "net_returns": money(net_returns),
                "expected_amount": money(expected),
                "variance_total": end_of_day.map(|c| money(c - expected)),
                "end_of_day_count": end_of_day.map(money),
                "deposit_total": end_of_day.map(|c| money(-(c - open_float))),
                "deactivation_timestamp": a.deactivated_at.map(timestamp),
            })
        })
        .collect();
    Ok(json!({
        "reports": reports,
        "pagination_info": {"count": reports.len(), "total": total, "offset": page.offset},
    }))
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    drawer_id: String,
    store_id: String,
    entry_type: String,
    transaction_type: String,
    associate_id: Option<String>,
    associate_name: Option<String>,
    order_id: Option<String>,
    reason_code: Option<String>,
    currency: String,
    amount: Decimal,
    created_at: DateTime<Utc>,
    drawer_name: String,
}

/// True when the store report asked for ends before today (UTC): a past
/// period, which the read replica may serve. Today's report, or a query
/// that does not parse (answered 400 all the same), stays on the primary.
pub fn ends_before_today(query: &HashMap<String, String>) -> bool {
    let today = Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    query
        .get("end-time")
        .and_then(|raw| DateTime::parse_from_rfc3339(raw.trim()).ok())
        .is_some_and(|end| end.with_timezone(&Utc) < today)
}

/// The ledger movements of a store in `[start-time, end-time]`, oldest first.
pub async fn store(db: &PgPool, caller: &Caller, query: &HashMap<String, String>) -> DrawerResult<Value> {
    let text = |name: &str| query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let store_id = text("store-id").ok_or_else(|| invalid("store-id: query parameter is required"))?;
    let time = |name: &str| -> DrawerResult<DateTime<Utc>> {
        let raw = text(name).ok_or_else(|| invalid(format!("{name}: query parameter is required (RFC 3339)")))?;
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(format!("{name}: must be an RFC 3339 date-time like 2022-01-01T00:00:00Z")))
    };
    let (start, end) = (time("start-time")?, time("end-time")?);
    if end < start {
        return Err(invalid("end-time: must not be before start-time"));
    }
    let page = Page::parse(query)?;
    let transaction_type = text("transaction-type");
    if let Some(t) = transaction_type {
        if !REPORT_TYPES.contains(&t) && !NON_SALE_TYPES.contains(&t) {
            return Err(invalid(format!("transaction-type: unknown type {t}")));
        }
    }
    caller.require_store(store_id)?;
    // Two fixed statements rather than an optional filter, so each plans onto its own index.
    let filter = if transaction_type.is_some() { "AND l.transaction_type = $4" } else { "AND $4::text IS NULL" };
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM cash_drawer_ledger l WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3 {filter}"
    ))
    .bind(store_id)
    .bind(start)
    .bind(end)
    .bind(transaction_type)
    .fetch_one(db)
    .await?;
    let rows: Vec<ReportRow> = sqlx::query_as(&format!(
        "SELECT l.drawer_id, l.store_id, l.entry_type, l.transaction_type, l.associate_id, a.name AS associate_name,
                l.order_id, l.reason_code, l.currency, l.amount, l.created_at, d.name AS drawer_name
         FROM cash_drawer_ledger l
         JOIN cash_drawers d ON d.drawer_id = l.drawer_id
         LEFT JOIN associates a ON a.associate_id = l.associate_id
         WHERE l.store_id = $1 AND l.created_at BETWEEN $2 AND $3 {filter}
         ORDER BY l.created_at, l.id LIMIT $5 OFFSET $6"
    ))
    .bind(store_id)
    .bind(start)
    .bind(end)
    .bind(transaction_type)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?;
    let report: Vec<Value> = rows
        .iter()
        .map(|r| {
            // The drawer's status when the movement happened: closing entries end the day.
            let status = if matches!(r.entry_type.as_str(), "reconciliation" | "end_of_day_withdrawal") { "inactive" } else { "active" };
            json!({
                "cashDrawerStatus": status,
                "cashDrawerName": r.drawer_name,
                "cashDrawerId": r.drawer_id,
                "currency": r.currency,
                "createdAt": timestamp(r.created_at),
                "transactionType": r.transaction_type,
                "associateId": r.associate_id.as_deref().unwrap_or(""),
                "associateName": r.associate_name.as_deref().unwrap_or(""),
                "orderId": r.order_id.as_deref().unwrap_or(""),
                "externalOrderId": "",
                "reasonCode": r.reason_code.as_deref().unwrap_or(""),
                "amountBalance": number(r.amount),
                "storeId": r.store_id,
            })
        })
        .collect();
    Ok(json!({"transactionReport": report, "total": total}))
}

/// Every drawer with the cash it should hold now (active drawers: float plus
/// completed movements of the open activation) and today's completed cash in
/// and out (UTC day, float and day-closing entries left out), for the
/// operators' page.
pub async fn overview(db: &PgPool, day_start: DateTime<Utc>, limit: i64) -> Result<Vec<Value>, sqlx::Error> {
    type Row = (String, String, String, String, String, Decimal, Option<DateTime<Utc>>, Option<Decimal>, Decimal, Decimal);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT d.drawer_id, d.store_id, d.name, d.currency, d.status, d.float_amount, a.activated_at,
                CASE WHEN d.status = 'active' THEN
                    (SELECT COALESCE(SUM(l.amount), 0) FROM cash_drawer_ledger l
                     WHERE l.activation_id = d.current_activation_id AND l.entry_type IN {BALANCE_TYPES})
                END AS balance,
                (SELECT COALESCE(SUM(l.amount), 0) FROM cash_drawer_ledger l
                 WHERE l.drawer_id = d.drawer_id AND l.created_at >= $1 AND l.entry_type IN ('sale', 'non_sale_in')),
                (SELECT COALESCE(-SUM(l.amount), 0) FROM cash_drawer_ledger l
                 WHERE l.drawer_id = d.drawer_id AND l.created_at >= $1 AND l.entry_type IN ('return', 'non_sale_out'))
         FROM cash_drawers d LEFT JOIN cash_drawer_activations a ON a.activation_id = d.current_activation_id
         ORDER BY d.store_id, d.drawer_id LIMIT $2",
        BALANCE_TYPES = super::ledger::BALANCE_TYPES
    ))
    .bind(day_start)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, store_id, name, currency, status, float, activated_at, balance, cash_in, cash_out)| {
            json!({
                "cash_drawer_id": id, "store_id": store_id, "name": name, "status": status,
                "float": money_json(float, &currency),
                "activated_at": activated_at.map(timestamp),
                "balance": balance.map(|b| money_json(b, &currency)),
                "today_cash_in": money_json(cash_in, &currency),
                "today_cash_out": money_json(cash_out, &currency),
                "currency": currency,
            })
        })
        .collect())
}
