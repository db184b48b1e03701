//! The HTTP edge of the drawer API: parse, call the domain, map the result.
//! Every POST and PATCH runs in one transaction under its `Idempotency-Key`.

use actix_web::{delete, get, patch, post, put};
use super::auth::Caller;
use super::idempotency::{self, Begun};
use super::model::parse_body;
use super::reports::{self, Page};
use super::{counts, drawer, ledger, stores, transactions};
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::HashMap;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(put_config)
        .service(get_config)
        .service(list_types)
        .service(put_types)
        .service(list_drawers)
        .service(create_drawer)
        .service(get_drawer)
        .service(update_drawer)
        .service(decommission)
        .service(start_sale)
        .service(start_non_sale)
        .service(start_count)
        .service(track_activity)
        .service(activate)
        .service(deactivate)
        .service(daily_reports)
        .service(verify_ledger)
        .service(get_transaction)
        .service(finish_transaction)
        .service(record_count)
        .service(count_action)
        .service(store_report);
}

/// Runs one write in its own transaction under the request's idempotency key:
/// a retry gets the stored answer, and the answer is stored with the effect.
macro_rules! idempotent {
    ($ctx:expr, $req:expr, $caller:expr, $bytes:expr, $status:expr, |$tx:ident| $call:expr) => {{
        let mut w = match idempotency::begin(&$ctx.db, &$req, &$caller, &$bytes).await? {
            Begun::Replay(answer) => return Ok(answer),
            Begun::Fresh(w) => w,
        };
        let $tx = &mut w.tx;
        let out = $call.await?;
        w.finish($status, out).await
    }};
}

type Answer = Result<HttpResponse, ApiError>;

/// A request body, or why it could not be read (too large, cut off).
type Body = Result<web::Bytes, actix_web::Error>;

fn read(body: Body) -> Result<web::Bytes, ApiError> {
    body.map_err(|err| match err.as_response_error().status_code() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        _ => ApiError::bad_request(format!("unreadable body: {err}")),
    })
}

#[utoipa::path(operation_id = "putStoreCashDrawerConfig", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("store_id" = String, Path, description = "The store")),
    request_body(content = doc::StoreConfig, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored configuration"),
        (status = 201, description = "Created: the stored configuration"),
        doc::DrawerWriteErrors,
    ))]
#[put("/v0/stores/{store_id}/cash-drawer-config")]
pub async fn put_config(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>, body: Body) -> Answer {
    let body = parse_body(&read(body)?)?;
    let (created, config) = stores::put_config(&ctx.db, &caller, &path, &body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(config.to_json()))
}

#[utoipa::path(operation_id = "getStoreCashDrawerConfig", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("store_id" = String, Path, description = "The store")),
    responses(
        (status = 200, description = "The configuration"),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/stores/{store_id}/cash-drawer-config")]
pub async fn get_config(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>) -> Answer {
    Ok(HttpResponse::Ok().json(stores::get_config(&ctx.db, &caller, &path).await?.to_json()))
}

#[utoipa::path(operation_id = "listCashDrawerTransactionTypes", tag = "cash drawers",
    security(("associate_token" = [])),
    responses(
        (status = 200, description = "Every non-sale type with its status and reasons"),
        (status = 401, description = "No or unknown bearer token", body = doc::ErrorBody),
    ))]
#[get("/v0/cash-drawer-transaction-types")]
pub async fn list_types(ctx: web::Data<AppContext>, _: Caller) -> Answer {
    Ok(HttpResponse::Ok().json(stores::list_types(&ctx.db).await?))
}

#[utoipa::path(operation_id = "putCashDrawerTransactionTypes", tag = "cash drawers",
    security(("associate_token" = [])),
    request_body(content = doc::TransactionTypes, content_type = "application/json", description = "Admin token only"),
    responses(
        (status = 200, description = "The stored configuration"),
        doc::DrawerWriteErrors,
    ))]
#[put("/v0/cash-drawer-transaction-types")]
pub async fn put_types(ctx: web::Data<AppContext>, caller: Caller, body: Body) -> Answer {
    let body = parse_body(&read(body)?)?;
    Ok(HttpResponse::Ok().json(stores::put_types(&ctx.db, &caller, &body).await?))
}

#[utoipa::path(operation_id = "listCashDrawers", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("store_id" = String, Query, description = "The store")),
    responses(
        (status = 200, description = "The store's drawers (decommissioned left out)", body = doc::DrawerList),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-drawers")]
pub async fn list_drawers(ctx: web::Data<AppContext>, caller: Caller, query: web::Query<HashMap<String, String>>) -> Answer {
    Ok(HttpResponse::Ok().json(drawer::list(&ctx.db, &caller, query.get("store_id").map(String::as_str)).await?))
}

#[utoipa::path(operation_id = "createCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::DrawerCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "The new (inactive) drawer", body = doc::Drawer),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers")]
pub async fn create_drawer(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::CREATED, |tx| async {
        Ok::<_, ApiError>(drawer::create(tx, &caller, &body).await?.to_json())
    })
}

#[utoipa::path(operation_id = "getCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id")),
    responses(
        (status = 200, description = "The drawer", body = doc::Drawer),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-drawers/{drawer_id}")]
pub async fn get_drawer(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>) -> Answer {
    Ok(HttpResponse::Ok().json(drawer::get(&ctx.db, &caller, &path).await?.to_json()))
}

#[utoipa::path(operation_id = "updateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::DrawerUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The drawer", body = doc::Drawer),
        doc::DrawerWriteErrors,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}")]
pub async fn update_drawer(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| async {
        Ok::<_, ApiError>(drawer::update(tx, &caller, &path, &body).await?.to_json())
    })
}

#[utoipa::path(operation_id = "decommissionCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id")),
    responses(
        (status = 204, description = "Decommissioned"),
        doc::DrawerWriteErrors,
    ))]
#[delete("/v0/cash-drawers/{drawer_id}")]
pub async fn decommission(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>) -> Answer {
    let mut tx = ctx.db.begin().await?;
    drawer::decommission(&mut tx, &caller, &path).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(operation_id = "startCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::SaleStart, content_type = "application/json"),
    responses(
        (status = 200, description = "A draft transaction and the change to give", body = doc::SaleStarted),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/transactions")]
pub async fn start_sale(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::start_sale(tx, &caller, &path, &body))
}

#[utoipa::path(operation_id = "startCashDrawerNonSaleTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::NonSaleStart, content_type = "application/json"),
    responses(
        (status = 200, description = "A draft transaction", body = doc::TransactionStarted),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/non-sale-transactions")]
pub async fn start_non_sale(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::start_non_sale(tx, &caller, &path, &body))
}

#[utoipa::path(operation_id = "startCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::CountStart, content_type = "application/json"),
    responses(
        (status = 200, description = "A started count", body = doc::CountStarted),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/counts")]
pub async fn start_count(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::start(tx, &caller, &path, &body))
}

#[utoipa::path(operation_id = "trackCashDrawerActivity", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::Activity, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = doc::ActivityTracked),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/activities")]
pub async fn track_activity(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::track_activity(tx, &caller, &path, &body))
}

#[utoipa::path(operation_id = "activateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::Activate, content_type = "application/json"),
    responses(
        (status = 200, description = "Active; cashBox_open webhook queued", body = doc::Activated),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/_activate")]
pub async fn activate(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    let answer = idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| drawer::activate(tx, &caller, &path, &body));
    // Once a business day per drawer is often enough to keep the key table small.
    if let Err(err) = idempotency::prune(&ctx.db).await {
        log::warn!("failed to prune idempotency keys: {err}");
    }
    answer
}

#[utoipa::path(operation_id = "deactivateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::Deactivate, content_type = "application/json"),
    responses(
        (status = 200, description = "Inactive; the day's report; cashBox_close webhook queued"),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/_deactivate")]
pub async fn deactivate(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<String>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| drawer::deactivate(tx, &caller, &path, &body))
}

#[utoipa::path(operation_id = "listCashDrawerDailyReports", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("offset" = Option<i64>, Query, description = "At least 0"), ("limit" = Option<i64>, Query, description = "1 to 100, default 10")),
    responses(
        (status = 200, description = "One report per activation, newest first", body = doc::DailyReports),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/reports")]
pub async fn daily_reports(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>, query: web::Query<HashMap<String, String>>) -> Answer {
    let page = Page::parse(&query)?;
    Ok(HttpResponse::Ok().json(reports::daily(&ctx.read_db, &caller, &path, &page).await?))
}

#[utoipa::path(operation_id = "verifyCashDrawerLedger", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id")),
    responses(
        (status = 200, description = "Whether the hash chain matches", body = doc::LedgerVerification),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/ledger/verify")]
pub async fn verify_ledger(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<String>) -> Answer {
    // The head and the chain from one snapshot: a sale committed between two
    // separate reads would look like a broken chain. Read-only, so a replica serves it.
    let mut tx = ctx.read_db.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let drawer = drawer::get(&mut *tx, &caller, &path).await?;
    let outcome = ledger::verify(&mut tx, &drawer.drawer_id, &drawer.head()).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(match outcome.first_invalid {
        None => json!({"valid": true, "entries": outcome.entries}),
        Some((seq, reason)) => json!({
            "valid": false,
            "entries": outcome.entries,
            "first_invalid_entry": seq,
            "reason": reason,
        }),
    }))
}

#[utoipa::path(operation_id = "getCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("transaction_id" = String, Path, description = "The transaction")),
    responses(
        (status = 200, description = "The transaction", body = doc::CashTransaction),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}")]
pub async fn get_transaction(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<(String, String)>) -> Answer {
    let (drawer_id, transaction_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(transactions::get(&ctx.db, &caller, &drawer_id, &transaction_id).await?))
}

#[utoipa::path(operation_id = "finishCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("transaction_id" = String, Path, description = "The transaction"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::TransactionFinish, content_type = "application/json"),
    responses(
        (status = 200, description = "The finished transaction", body = doc::CashTransaction),
        doc::DrawerWriteErrors,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}")]
pub async fn finish_transaction(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<(String, String)>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let (drawer_id, transaction_id) = path.into_inner();
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::finish(tx, &caller, &drawer_id, &transaction_id, &body))
}

#[utoipa::path(operation_id = "recordCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("count_id" = String, Path, description = "The count"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    request_body(content = doc::CountRecord, content_type = "application/json"),
    responses(
        (status = 200, description = "The discrepancy (only that for blind counts)", body = doc::CountRecorded),
        doc::DrawerWriteErrors,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}/counts/{count_id}")]
pub async fn record_count(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<(String, String)>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let (drawer_id, count_id) = path.into_inner();
    let body = parse_body(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::record(tx, &caller, &drawer_id, &count_id, &body))
}

#[utoipa::path(operation_id = "actOnCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("drawer_id" = String, Path, description = "The cash drawer's id"), ("count_id" = String, Path, description = "The count"), ("action" = String, Path, description = "_recount, _submit or _cancel"), ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer again (24 h); another body with the key gets 409")),
    responses(
        (status = 200, description = "The count's new status", body = doc::CountActed),
        doc::DrawerWriteErrors,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/counts/{count_id}/{action}")]
pub async fn count_action(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, path: web::Path<(String, String, String)>, bytes: Body) -> Answer {
    let bytes = read(bytes)?;
    let (drawer_id, count_id, action) = path.into_inner();
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::act(tx, &caller, &drawer_id, &count_id, &action))
}

#[utoipa::path(operation_id = "getCashTransactionsReport", tag = "cash drawers",
    security(("associate_token" = [])),
    params(("store-id" = String, Query, description = "The store"), ("start-time" = Option<String>, Query, description = "RFC 3339"), ("end-time" = Option<String>, Query, description = "RFC 3339"), ("offset" = Option<i64>, Query, description = "At least 0"), ("limit" = Option<i64>, Query, description = "At most 100"), ("transaction-type" = Option<String>, Query, description = "Only this type")),
    responses(
        (status = 200, description = "Transactions in the window", body = doc::StoreReport),
        doc::DrawerReadErrors,
    ))]
#[get("/v0/cash-transactions/report")]
pub async fn store_report(ctx: web::Data<AppContext>, caller: Caller, query: web::Query<HashMap<String, String>>) -> Answer {
    let db = if reports::ends_before_today(&query) { &ctx.read_db } else { &ctx.db };
    Ok(HttpResponse::Ok().json(reports::store(db, &caller, &query).await?))
}

