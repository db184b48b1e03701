//! What the operators' page lists: recent payments, orders, webhook
//! deliveries with their attempts (and replaying one), and cash drawers with
//! today's balance. The lists are read from the read replica
//! (`DATABASE_READ_URL`): an operator's list may lag it by a moment; a
//! replay, which writes, goes to the primary.

use actix_web::{get, post};
use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use doc::{DeliveryList, DrawerOverviewList, ErrorBody, Limit, OrderSummaryList, PaymentSummaryList};
use utoipa_actix_web::service_config::ServiceConfig;
use crate::webhooks::{self, ReplayRefused};
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(payments)
        .service(orders)
        .service(drawers)
        .service(deliveries)
        .service(replay);
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
pub async fn payments(_: AdminAuth, ctx: web::Data<AppContext>, query: web::Query<Limit>) -> Result<HttpResponse, ApiError> {
    let items = crate::payments::recent(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(json!({ "payments": items })))
}

/// Recent orders, newest first.
#[utoipa::path(operation_id = "listRecentOrders", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = OrderSummaryList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/orders/")]
pub async fn orders(_: AdminAuth, ctx: web::Data<AppContext>, query: web::Query<Limit>) -> Result<HttpResponse, ApiError> {
    let items = crate::orders::read::recent(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(json!({ "orders": items })))
}

/// Every cash drawer with the cash it should hold now and today's cash in and out.
#[utoipa::path(operation_id = "listDrawerBalances", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = DrawerOverviewList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/drawers/")]
pub async fn drawers(_: AdminAuth, ctx: web::Data<AppContext>, query: web::Query<Limit>) -> Result<HttpResponse, ApiError> {
    let today = chrono::Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let items = crate::drawers::overview(&ctx.read_db, today, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(json!({ "day_start": today, "cash_drawers": items })))
}

/// Webhook deliveries, newest first, each with every attempt.
#[utoipa::path(operation_id = "listWebhookDeliveries", tag = "admin", security(("admin_token" = []), ("admin_session" = [])),
    params(Limit),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
    ))]
#[get("/admin/api/webhooks/deliveries/")]
pub async fn deliveries(_: AdminAuth, ctx: web::Data<AppContext>, query: web::Query<Limit>) -> Result<HttpResponse, ApiError> {
    let deliveries = webhooks::recent_deliveries(&ctx.read_db, limit(&query)).await?;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": deliveries })))
}

/// Replays a delivery that failed or waits for a retry: it is attempted on the dispatcher's next pass.
#[utoipa::path(operation_id = "replayWebhookDelivery", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("delivery_id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Due now", body = doc::ReplayAnswer),
        (status = 404, description = "No such delivery", body = ErrorBody),
        (status = 409, description = "Already delivered, or its URL is no longer configured", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "Page session without its CSRF token", body = ErrorBody),
    ))]
#[post("/admin/api/webhooks/deliveries/{delivery_id}/replay/")]
pub async fn replay(_: AdminAuth, ctx: web::Data<AppContext>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    match webhooks::replay(&ctx.db, &webhooks::endpoint_urls(&ctx), *id).await? {
        Ok(()) => Ok(HttpResponse::Accepted().json(json!({"id": *id, "state": "pending"}))),
        Err(ReplayRefused::NotFound) => Err(ApiError::not_found(format!("no webhook delivery {}", *id))),
        Err(ReplayRefused::AlreadyDelivered) => Err(ApiError::conflict(format!("webhook delivery {} was delivered", *id))),
        Err(ReplayRefused::EndpointRemoved(url)) => {
            Err(ApiError::conflict(format!("{url} is no longer in ORDER_WEBHOOK_CONF; add it back to replay")))
        }
    }
}
