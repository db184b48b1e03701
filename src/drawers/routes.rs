//! The HTTP edge of the drawer API: parse, call the domain, map the result.
//! Every POST and PATCH runs in one transaction under its `Idempotency-Key`.
//!
//! What each operation reads and answers is documented with the types it
//! really parses and answers with, and with every status it can answer.

use super::auth::Caller;
use super::counts::{self, CashCount, CountActed, CountRecord, CountRecorded, CountStart, CountStarted};
use super::drawer::{
    self, Activate, Activated, Deactivate, Deactivated, Drawer, DrawerCreate, DrawerList, DrawerUpdate,
};
use super::idempotency::{self, idempotent};
use super::ledger;
use super::model::CountAction;
use super::reports::{self, DailyReports, Page, PageQuery, StoreReport, StoreReportQuery};
use super::stores::{self, StoreConfig, StoreConfigWrite, TransactionTypes, TransactionTypesWrite};
use super::transactions::{
    self, Activity, ActivityTracked, CashTransaction, NonSaleStart, SaleStart, SaleStarted, TransactionFinish,
    TransactionStarted,
};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::json_body::{parse_object, read_body, RawBody};
use crate::openapi::Register;
use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, put};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

pub fn routes(cfg: &mut impl Register) {
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
        .service(get_count)
        .service(count_action)
        .service(store_report);
}

type Answer = Result<HttpResponse, ApiError>;

// ------------------------------------------------- what the paths and headers carry

/// `{store_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StorePath {
    /// The store (1 to 256 characters).
    store_id: String,
}

/// `{drawer_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DrawerPath {
    /// The cash drawer's id.
    drawer_id: String,
}

/// `{drawer_id}/transactions/{transaction_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TransactionPath {
    /// The cash drawer's id.
    drawer_id: String,
    /// The transaction (a UUID; anything else is not found).
    transaction_id: String,
}

/// `{drawer_id}/counts/{count_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CountPath {
    /// The cash drawer's id.
    drawer_id: String,
    /// The count (a UUID; anything else is not found).
    count_id: String,
}

/// `{drawer_id}/counts/{count_id}/{action}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CountActionPath {
    /// The cash drawer's id.
    drawer_id: String,
    /// The count (a UUID; anything else is not found).
    count_id: String,
    /// Anything else answers 400.
    #[param(value_type = CountAction, inline)]
    action: String,
}

/// `?store_id=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoreQuery {
    /// The store.
    #[param(value_type = String, min_length = 1)]
    store_id: Option<String>,
}

/// The `Idempotency-Key` header of a write.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// 1 to 255 printable ASCII characters. A retry with the same key and body gets the first answer again
    /// (for 24 hours, with `Idempotent-Replayed: true`); the same key with another body answers 409.
    #[param(rename = "Idempotency-Key", min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    key: Option<String>,
}

/// The `X-Approver-Token` header of `_submit`.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ApproverToken {
    /// Only for `_submit` of a count whose absolute discrepancy exceeds the store's `variance_tolerance`: the
    /// token of a manager of the drawer's store (a second person, not the caller). Missing or not such a
    /// token: 409 `approval_required`.
    #[param(rename = "X-Approver-Token", min_length = 1)]
    approver: Option<String>,
}

/// The header that carries the approving manager's token.
const APPROVER_HEADER: &str = "x-approver-token";

// ------------------------------------------------------------ error answers

/// The answers any drawer operation may give besides its own.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(
        status = 400,
        description = "Invalid body, query, path or Idempotency-Key; the message names the field"
    )]
    Invalid(ErrorBody),
    #[response(status = 401, description = "No or unknown bearer token")]
    Unauthorized(ErrorBody),
    #[response(status = 413, description = "Body over 64 KiB")]
    TooLarge(ErrorBody),
    #[response(status = 503, description = "The database is unavailable; retry shortly")]
    Unavailable(ErrorBody),
}

/// 403 for an associate token of another store.
#[derive(IntoResponses)]
#[response(status = 403, description = "The token does not act on this store")]
#[allow(dead_code)]
pub struct NotYourStore(ErrorBody);

/// 404 for an unknown drawer (or transaction, count).
#[derive(IntoResponses)]
#[response(status = 404, description = "No such drawer (or transaction or count of it)")]
#[allow(dead_code)]
pub struct NoSuchDrawer(ErrorBody);

/// 409 for a write the drawer's state does not allow.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "Not allowed in the current state (the drawer inactive, active or decommissioned, cash management off, \
        a transaction or count already finished, …), or the Idempotency-Key was used with another body or its first \
        request is still running"
)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

// --------------------------------------------------------------- store level

#[utoipa::path(operation_id = "putStoreCashDrawerConfig", tag = "cash drawers",
    security(("associate_token" = [])),
    params(StorePath),
    request_body = StoreConfigWrite,
    responses(
        (status = 200, description = "Updated: the stored configuration", body = StoreConfig),
        (status = 201, description = "Created: the stored configuration", body = StoreConfig),
        Refusals, NotYourStore,
    ))]
#[put("/v0/stores/{store_id}/cash-drawer-config")]
pub async fn put_config(
    ctx: web::Data<AppContext>,
    caller: Caller,
    path: web::Path<StorePath>,
    body: RawBody,
) -> Answer {
    stores::may_configure(&caller, &path.store_id)?;
    let body: StoreConfigWrite = parse_object(&read_body(body)?)?;
    let (created, config) = stores::put_config(&ctx.db, &path.store_id, &body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(config))
}

#[utoipa::path(operation_id = "getStoreCashDrawerConfig", tag = "cash drawers",
    security(("associate_token" = [])),
    params(StorePath),
    responses(
        (status = 200, description = "The configuration", body = StoreConfig),
        (status = 404, description = "The store has no cash drawer configuration", body = ErrorBody),
        Refusals, NotYourStore,
    ))]
#[get("/v0/stores/{store_id}/cash-drawer-config")]
pub async fn get_config(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<StorePath>) -> Answer {
    Ok(HttpResponse::Ok().json(stores::get_config(&ctx.db, &caller, &path.store_id).await?))
}

#[utoipa::path(operation_id = "listCashDrawerTransactionTypes", tag = "cash drawers",
    security(("associate_token" = [])),
    responses(
        (status = 200, description = "Every non-sale type with its status and reasons", body = TransactionTypes),
        Refusals,
    ))]
#[get("/v0/cash-drawer-transaction-types")]
pub async fn list_types(ctx: web::Data<AppContext>, _: Caller) -> Answer {
    Ok(HttpResponse::Ok().json(stores::list_types(&ctx.db).await?))
}

#[utoipa::path(operation_id = "putCashDrawerTransactionTypes", tag = "cash drawers",
    security(("associate_token" = [])),
    request_body(content = TransactionTypesWrite, description = "The whole configuration (admin token only); types left out become `not_allowed`"),
    responses(
        (status = 200, description = "The stored configuration", body = TransactionTypes),
        (status = 403, description = "Not the admin token", body = ErrorBody),
        Refusals,
    ))]
#[put("/v0/cash-drawer-transaction-types")]
pub async fn put_types(ctx: web::Data<AppContext>, caller: Caller, body: RawBody) -> Answer {
    caller.require_admin()?;
    let body: TransactionTypesWrite = parse_object(&read_body(body)?)?;
    Ok(HttpResponse::Ok().json(stores::put_types(&ctx.db, body).await?))
}

#[utoipa::path(operation_id = "getCashTransactionsReport", tag = "cash drawers",
    security(("associate_token" = [])),
    params(StoreReportQuery),
    responses(
        (status = 200, description = "The store's ledger movements in the window, oldest first", body = StoreReport),
        Refusals, NotYourStore,
    ))]
#[get("/v0/cash-transactions/report")]
pub async fn store_report(ctx: web::Data<AppContext>, caller: Caller, query: web::Query<StoreReportQuery>) -> Answer {
    let db = if reports::ends_before_today(&query) { &ctx.read_db } else { &ctx.db };
    Ok(HttpResponse::Ok().json(reports::store(db, &caller, &query).await?))
}

// ------------------------------------------------------------------- drawers

#[utoipa::path(operation_id = "listCashDrawers", tag = "cash drawers",
    security(("associate_token" = [])),
    params(StoreQuery),
    responses(
        (status = 200, description = "The store's drawers (decommissioned left out)", body = DrawerList),
        Refusals, NotYourStore,
    ))]
#[get("/v0/cash-drawers")]
pub async fn list_drawers(ctx: web::Data<AppContext>, caller: Caller, query: web::Query<StoreQuery>) -> Answer {
    Ok(HttpResponse::Ok().json(drawer::list(&ctx.db, &caller, query.store_id.as_deref()).await?))
}

#[utoipa::path(operation_id = "createCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(IdempotencyKey),
    request_body = DrawerCreate,
    responses(
        (status = 201, description = "The new (inactive) drawer", body = Drawer),
        (status = 409, description = "A drawer with this id exists, or the Idempotency-Key was used with another body \
            or its first request is still running", body = ErrorBody),
        Refusals, NotYourStore,
    ))]
#[post("/v0/cash-drawers")]
pub async fn create_drawer(ctx: web::Data<AppContext>, req: HttpRequest, caller: Caller, bytes: RawBody) -> Answer {
    let bytes = read_body(bytes)?;
    let body: DrawerCreate = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::CREATED, |tx| drawer::create(tx, &caller, &body))
}

#[utoipa::path(operation_id = "getCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath),
    responses(
        (status = 200, description = "The drawer", body = Drawer),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[get("/v0/cash-drawers/{drawer_id}")]
pub async fn get_drawer(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<DrawerPath>) -> Answer {
    Ok(HttpResponse::Ok().json(drawer::get(&ctx.db, &caller, &path.drawer_id).await?))
}

#[utoipa::path(operation_id = "updateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = DrawerUpdate,
    responses(
        (status = 200, description = "The drawer", body = Drawer),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}")]
pub async fn update_drawer(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: DrawerUpdate = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| drawer::update(tx, &caller, &path.drawer_id, &body))
}

#[utoipa::path(operation_id = "decommissionCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath),
    responses(
        (status = 204, description = "Decommissioned"),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[delete("/v0/cash-drawers/{drawer_id}")]
pub async fn decommission(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<DrawerPath>) -> Answer {
    let mut tx = ctx.db.begin().await?;
    drawer::decommission(&mut tx, &caller, &path.drawer_id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(operation_id = "activateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = Activate,
    responses(
        (status = 200, description = "Active; cashBox_open webhook queued", body = Activated),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/_activate")]
pub async fn activate(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: Activate = parse_object(&bytes)?;
    let answer = idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| drawer::activate(
        tx,
        &caller,
        &path.drawer_id,
        &body
    ));
    // Once a business day per drawer is often enough to keep the key table small.
    if let Err(err) = idempotency::prune(&ctx.db).await {
        log::warn!("failed to prune idempotency keys: {err}");
    }
    answer
}

#[utoipa::path(operation_id = "deactivateCashDrawer", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = Deactivate,
    responses(
        (status = 200, description = "Inactive; cashBox_close webhook queued", body = Deactivated),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/_deactivate")]
pub async fn deactivate(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: Deactivate = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| drawer::deactivate(tx, &caller, &path.drawer_id, &body))
}

#[utoipa::path(operation_id = "listCashDrawerDailyReports", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, PageQuery),
    responses(
        (status = 200, description = "One report per activation, newest first", body = DailyReports),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/reports")]
pub async fn daily_reports(
    ctx: web::Data<AppContext>,
    caller: Caller,
    path: web::Path<DrawerPath>,
    query: web::Query<PageQuery>,
) -> Answer {
    let page = Page::parse(&query)?;
    Ok(HttpResponse::Ok().json(reports::daily(&ctx.read_db, &caller, &path.drawer_id, &page).await?))
}

/// Whether a drawer's hash chain matches its rows.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"valid": false, "entries": 12, "first_invalid_entry": 7, "reason": "contents do not match the entry's hash"}))]
pub struct LedgerVerification {
    pub valid: bool,
    /// Rows in the drawer's ledger.
    pub entries: i64,
    /// Only when not valid: the seq of the first row that does not match…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_invalid_entry: Option<i64>,
    /// …and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[utoipa::path(operation_id = "verifyCashDrawerLedger", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath),
    responses(
        (status = 200, description = "Whether the hash chain matches", body = LedgerVerification),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/ledger/verify")]
pub async fn verify_ledger(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<DrawerPath>) -> Answer {
    // The head and the chain from one snapshot: a sale committed between two
    // separate reads would look like a broken chain. Read-only, so a replica serves it.
    let mut tx = ctx.read_db.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let drawer = drawer::get(&mut *tx, &caller, &path.drawer_id).await?;
    let outcome = ledger::verify(&mut tx, &drawer.drawer_id, &drawer.head()).await?;
    tx.commit().await?;
    let (first_invalid_entry, reason) = outcome.first_invalid.unzip();
    Ok(HttpResponse::Ok().json(LedgerVerification {
        valid: reason.is_none(),
        entries: outcome.entries,
        first_invalid_entry,
        reason,
    }))
}

// ---------------------------------------------------- transactions and counts

#[utoipa::path(operation_id = "startCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = SaleStart,
    responses(
        (status = 200, description = "A draft transaction and the change to give", body = SaleStarted),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/transactions")]
pub async fn start_sale(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: SaleStart = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::start_sale(
        tx,
        &caller,
        &path.drawer_id,
        &body
    ))
}

#[utoipa::path(operation_id = "startCashDrawerNonSaleTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = NonSaleStart,
    responses(
        (status = 200, description = "A draft transaction", body = TransactionStarted),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/non-sale-transactions")]
pub async fn start_non_sale(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: NonSaleStart = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::start_non_sale(
        tx,
        &caller,
        &path.drawer_id,
        &body
    ))
}

#[utoipa::path(operation_id = "getCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(TransactionPath),
    responses(
        (status = 200, description = "The transaction", body = CashTransaction),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}")]
pub async fn get_transaction(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<TransactionPath>) -> Answer {
    Ok(HttpResponse::Ok().json(transactions::get(&ctx.db, &caller, &path.drawer_id, &path.transaction_id).await?))
}

#[utoipa::path(operation_id = "finishCashDrawerTransaction", tag = "cash drawers",
    security(("associate_token" = [])),
    params(TransactionPath, IdempotencyKey),
    request_body = TransactionFinish,
    responses(
        (status = 200, description = "The finished transaction", body = CashTransaction),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}")]
pub async fn finish_transaction(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<TransactionPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: TransactionFinish = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::finish(
        tx,
        &caller,
        &path.drawer_id,
        &path.transaction_id,
        &body
    ))
}

#[utoipa::path(operation_id = "trackCashDrawerActivity", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = Activity,
    responses(
        (status = 200, description = "Recorded", body = ActivityTracked),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/activities")]
pub async fn track_activity(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: Activity = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| transactions::track_activity(
        tx,
        &caller,
        &path.drawer_id,
        &body
    ))
}

#[utoipa::path(operation_id = "startCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(DrawerPath, IdempotencyKey),
    request_body = CountStart,
    responses(
        (status = 200, description = "A started count", body = CountStarted),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/counts")]
pub async fn start_count(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DrawerPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: CountStart = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::start(tx, &caller, &path.drawer_id, &body))
}

#[utoipa::path(operation_id = "recordCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(CountPath, IdempotencyKey),
    request_body = CountRecord,
    responses(
        (status = 200, description = "The discrepancy (only that for blind counts)", body = CountRecorded),
        Refusals, NotYourStore, NoSuchDrawer, Conflict,
    ))]
#[patch("/v0/cash-drawers/{drawer_id}/counts/{count_id}")]
pub async fn record_count(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CountPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: CountRecord = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::record(
        tx,
        &caller,
        &path.drawer_id,
        &path.count_id,
        &body
    ))
}

#[utoipa::path(operation_id = "getCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(CountPath),
    responses(
        (status = 200, description = "The count (expected and discrepancy amounts left out for blind counts)", body = CashCount),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[get("/v0/cash-drawers/{drawer_id}/counts/{count_id}")]
pub async fn get_count(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<CountPath>) -> Answer {
    Ok(HttpResponse::Ok().json(counts::get(&ctx.db, &caller, &path.drawer_id, &path.count_id).await?))
}

#[utoipa::path(operation_id = "actOnCashDrawerCount", tag = "cash drawers",
    security(("associate_token" = [])),
    params(CountActionPath, IdempotencyKey, ApproverToken),
    responses(
        (status = 200, description = "The count's new status", body = CountActed),
        (status = 409, description = "The count is already submitted or canceled (or the action is not possible in its \
            status), the Idempotency-Key was used with another body or its first request is still running, or \
            (`error_code` `approval_required`) a `_submit` over the store's variance tolerance without a manager's \
            X-Approver-Token", body = ErrorBody),
        Refusals, NotYourStore, NoSuchDrawer,
    ))]
#[post("/v0/cash-drawers/{drawer_id}/counts/{count_id}/{action}")]
pub async fn count_action(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CountActionPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let approver = match req.headers().get(APPROVER_HEADER) {
        Some(value) => Some(
            value
                .to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::validation("X-Approver-Token: printable ASCII"))?,
        ),
        None => None,
    };
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| counts::act(
        tx,
        &caller,
        &path.drawer_id,
        &path.count_id,
        &path.action,
        approver.as_deref()
    ))
}
