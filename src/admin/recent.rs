//! What the operators' page lists: recent payments, orders, webhook
//! deliveries with their attempts (and replaying one), and cash drawers with
//! today's balance, and store deposits not yet banked. The lists are read from the read replica
//! (`DATABASE_READ_URL`): an operator's list may lag it by a moment; a
//! replay, which writes, goes to the primary.

use super::AdminAuth;
use crate::context::AppContext;
use crate::drawers::DrawerBalance;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::Register;
use crate::orders::read::OrderSummary;
use crate::payments::PaymentSummary;
use crate::webhooks::DeliveryView;
use crate::webhooks::{self, ReplayRefused};
use actix_web::{get, post};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes(cfg: &mut impl Register) {
    cfg.service(payments).service(orders).service(drawers).service(deposits).service(deliveries).service(replay);
}

/// `limit` of a listing: 1 to 500, default 50.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Recent payments, newest first.
#[derive(Serialize, ToSchema)]
pub struct PaymentSummaryList {
    pub payments: Vec<PaymentSummary>,
}

/// Recent orders, newest first.
#[derive(Serialize, ToSchema)]
pub struct OrderSummaryList {
    pub orders: Vec<OrderSummary>,
}

/// Recent webhook deliveries, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

/// Every cash drawer with the cash it should hold now and today's cash in and out.
#[derive(Serialize, ToSchema)]
pub struct DrawerOverviewList {
    /// Start of today (UTC) that `today_cash_in`/`today_cash_out` count from.
    pub day_start: chrono::DateTime<chrono::Utc>,
    pub cash_drawers: Vec<DrawerBalance>,
}

/// Store deposits not yet banked, newest first.
#[derive(Serialize, ToSchema)]
pub struct DepositsNotBanked {
    pub deposits: Vec<crate::deposits::Deposit>,
}

/// A delivery made due again.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "state": "pending"}))]
pub struct ReplayAnswer {
    pub id: i64,
    /// Always `pending`: the dispatcher attempts it on its next pass.
    pub state: String,
}

fn limit(query: &Limit) -> i64 {
    query.limit.unwrap_or(50).clamp(1, 500)
}

/// Recent accepted payments, newest first.
#[utoipa::path(operation_id = "listRecentPayments", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = PaymentSummaryList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/payments/")]
pub async fn payments(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let items = crate::payments::recent(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(PaymentSummaryList { payments: items }))
}

/// Recent orders, newest first.
#[utoipa::path(operation_id = "listRecentOrders", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = OrderSummaryList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/orders/")]
pub async fn orders(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let items = crate::orders::read::recent(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(OrderSummaryList { orders: items }))
}

/// Every cash drawer with the cash it should hold now and today's cash in and out.
#[utoipa::path(operation_id = "listDrawerBalances", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = DrawerOverviewList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/drawers/")]
pub async fn drawers(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let today = chrono::Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let items = crate::drawers::overview(&ctx.read_db, today, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(DrawerOverviewList { day_start: today, cash_drawers: items }))
}

/// Every store's deposits not yet banked (`prepared` or `in_transit`), newest first.
#[utoipa::path(operation_id = "listDepositsNotBanked", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = DepositsNotBanked),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/deposits/")]
pub async fn deposits(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let deposits = crate::deposits::not_banked(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(DepositsNotBanked { deposits }))
}

/// Webhook deliveries, newest first, each with every attempt.
#[utoipa::path(operation_id = "listWebhookDeliveries", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/webhooks/deliveries/")]
pub async fn deliveries(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let deliveries = webhooks::recent_deliveries(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(DeliveryList { deliveries }))
}

/// Replays a delivery that failed or waits for a retry: it is attempted on the dispatcher's next pass.
#[utoipa::path(operation_id = "replayWebhookDelivery", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("delivery_id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Due now", body = ReplayAnswer),
        (status = 404, description = "No such delivery", body = ErrorBody),
        (status = 409, description = "Already delivered, or its URL is no longer configured", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "Page session without its CSRF token", body = ErrorBody),
    ))]
#[post("/admin/api/webhooks/deliveries/{delivery_id}/replay/")]
pub async fn replay(_: AdminAuth, ctx: web::Data<AppContext>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    match webhooks::replay(&ctx.db, &webhooks::endpoint_urls(&ctx), *id).await? {
        Ok(()) => Ok(HttpResponse::Accepted().json(ReplayAnswer { id: *id, state: "pending".into() })),
        Err(ReplayRefused::NotFound) => Err(ApiError::not_found(format!("no webhook delivery {}", *id))),
        Err(ReplayRefused::AlreadyDelivered) => {
            Err(ApiError::conflict(format!("webhook delivery {} was delivered", *id)))
        }
        Err(ReplayRefused::EndpointRemoved(url)) => {
            Err(ApiError::conflict(format!("{url} is no longer in ORDER_WEBHOOK_CONF; add it back to replay")))
        }
    }
}
