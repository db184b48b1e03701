//! The HTTP edge of deposits: parse, call the domain, map the result. Auth,
//! error answers and `Idempotency-Key` work as on the drawer API's routes.

use super::deposit;
use super::model::{status_word, Deposit, DepositCreate, DepositList, DepositStatus, DepositUpdate};
use crate::context::AppContext;
use crate::drawers::idempotency::idempotent;
use crate::drawers::routes::{IdempotencyKey, LedgerVerification, NotYourStore, Refusals};
use crate::drawers::{Caller, Page, PageQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json_body::{parse_object, read_body, RawBody};
use crate::openapi::Register;
use actix_web::http::StatusCode;
use actix_web::{get, patch, post};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, IntoResponses};

pub fn routes(cfg: &mut impl Register) {
    cfg.service(create_deposit)
        .service(list_deposits)
        .service(get_deposit)
        .service(update_deposit)
        .service(verify_store_ledger);
}

type Answer = Result<HttpResponse, ApiError>;

/// `{store_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StorePath {
    /// The store.
    store_id: String,
}

/// `{store_id}/deposits/{deposit_id}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DepositPath {
    /// The store.
    store_id: String,
    /// The deposit (a UUID; anything else is not found).
    deposit_id: String,
}

/// `?status=&offset=&limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepositQuery {
    /// Only deposits with this status.
    #[param(value_type = Option<DepositStatus>)]
    status: Option<String>,
    /// At least 0; default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// 1 to 100; default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// 404 for a store without cash drawer configuration, or a deposit not of it.
#[derive(IntoResponses)]
#[response(status = 404, description = "The store has no cash drawer configuration, or no such deposit in it")]
#[allow(dead_code)]
pub struct NoSuchDeposit(ErrorBody);

/// 409 for a step the deposit's state does not allow.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "Not allowed in the current state (a step out of order, a change after `banked`, a count not \
        submitted or already deposited), or the Idempotency-Key was used with another body or its first request \
        is still running"
)]
#[allow(dead_code)]
pub struct DepositConflict(ErrorBody);

#[utoipa::path(operation_id = "createStoreDeposit", tag = "deposits",
    security(("associate_token" = [])),
    params(StorePath, IdempotencyKey),
    request_body = DepositCreate,
    responses(
        (status = 201, description = "The prepared deposit; its `prepared` row is in the store ledger", body = Deposit),
        Refusals, NotYourStore, NoSuchDeposit, DepositConflict,
    ))]
#[post("/v0/stores/{store_id}/deposits")]
pub async fn create_deposit(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<StorePath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: DepositCreate = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::CREATED, |tx| deposit::create(tx, &caller, &path.store_id, &body))
}

#[utoipa::path(operation_id = "listStoreDeposits", tag = "deposits",
    security(("associate_token" = [])),
    params(StorePath, DepositQuery),
    responses(
        (status = 200, description = "The store's deposits, newest first", body = DepositList),
        Refusals, NotYourStore, NoSuchDeposit,
    ))]
#[get("/v0/stores/{store_id}/deposits")]
pub async fn list_deposits(
    ctx: web::Data<AppContext>,
    caller: Caller,
    path: web::Path<StorePath>,
    query: web::Query<DepositQuery>,
) -> Answer {
    let page = Page::parse(&PageQuery { offset: query.offset.clone(), limit: query.limit.clone() })?;
    let status = match query.status.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(raw) => Some(status_word(raw).map_err(|why| ApiError::validation(format!("status: {why}")))?),
    };
    Ok(HttpResponse::Ok().json(deposit::list(&ctx.db, &caller, &path.store_id, status, &page).await?))
}

#[utoipa::path(operation_id = "getStoreDeposit", tag = "deposits",
    security(("associate_token" = [])),
    params(DepositPath),
    responses(
        (status = 200, description = "The deposit", body = Deposit),
        Refusals, NotYourStore, NoSuchDeposit,
    ))]
#[get("/v0/stores/{store_id}/deposits/{deposit_id}")]
pub async fn get_deposit(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<DepositPath>) -> Answer {
    Ok(HttpResponse::Ok().json(deposit::get(&ctx.db, &caller, &path.store_id, &path.deposit_id).await?))
}

#[utoipa::path(operation_id = "updateStoreDeposit", tag = "deposits",
    security(("associate_token" = [])),
    params(DepositPath, IdempotencyKey),
    request_body = DepositUpdate,
    responses(
        (status = 200, description = "The deposit at its new step (with `variance` once banked)", body = Deposit),
        Refusals, NotYourStore, NoSuchDeposit, DepositConflict,
    ))]
#[patch("/v0/stores/{store_id}/deposits/{deposit_id}")]
pub async fn update_deposit(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DepositPath>,
    bytes: RawBody,
) -> Answer {
    let bytes = read_body(bytes)?;
    let body: DepositUpdate = parse_object(&bytes)?;
    idempotent!(ctx, req, caller, bytes, StatusCode::OK, |tx| deposit::update(
        tx,
        &caller,
        &path.store_id,
        &path.deposit_id,
        &body
    ))
}

#[utoipa::path(operation_id = "verifyStoreLedger", tag = "deposits",
    security(("associate_token" = [])),
    params(StorePath),
    responses(
        (status = 200, description = "Whether the store ledger's hash chain matches its rows", body = LedgerVerification),
        Refusals, NotYourStore,
        (status = 404, description = "The store has no cash drawer configuration", body = ErrorBody),
    ))]
#[get("/v0/stores/{store_id}/ledger/verify")]
pub async fn verify_store_ledger(ctx: web::Data<AppContext>, caller: Caller, path: web::Path<StorePath>) -> Answer {
    // Read-only in one snapshot, so a replica serves it.
    let outcome = deposit::verify(&ctx.read_db, &caller, &path.store_id).await?;
    let (first_invalid_entry, reason) = outcome.first_invalid.unzip();
    Ok(HttpResponse::Ok().json(LedgerVerification {
        valid: reason.is_none(),
        entries: outcome.entries,
        first_invalid_entry,
        reason,
    }))
}
