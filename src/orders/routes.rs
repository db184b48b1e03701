//! `GET /api/v1/orders/{order_number}/`

use actix_web::get;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::money::fmt2;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_order);
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    order_number: String,
    status: String,
    source: String,
    shop_id: Option<String>,
    customer_id: Option<String>,
    customer: Option<Value>,
    currency: String,
    total_quantity: i32,
    total_product_amount: Decimal,
    total_discount_amount: Decimal,
    shipping_amount: Decimal,
    total_amount: Decimal,
    paid_amount: Decimal,
    payment_option: Option<Value>,
    shipping_option: Option<Value>,
    shipping_address: Option<Value>,
    billing_address: Option<Value>,
    transaction_id: Option<String>,
    terminal_code: Option<String>,
    staff_id: Option<i64>,
    staff_email: Option<String>,
    store_id: Option<String>,
    cash_box_id: Option<String>,
    is_refund: bool,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    basket_item_id: i32,
    sku: String,
    name: String,
    quantity: i32,
    unit_price: Decimal,
    price: Decimal,
    tax_rate: Decimal,
    discount_amount: Decimal,
    total_amount: Decimal,
}

/// The order as the API shows it, or `None` when it does not exist (yet).
pub async fn find(db: &sqlx::PgPool, order_number: &str) -> Result<Option<Value>, sqlx::Error> {
    let Some(o) = sqlx::query_as::<_, OrderRow>("SELECT * FROM orders WHERE order_number = $1")
        .bind(order_number)
        .fetch_optional(db)
        .await?
    else {
        return Ok(None);
    };
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT basket_item_id, sku, name, quantity, unit_price, price, tax_rate, discount_amount, total_amount
         FROM order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(o.id)
    .fetch_all(db)
    .await?;
    let discounts: Vec<(String, String, Decimal, Value)> = sqlx::query_as(
        "SELECT source, description, amount, affected_items FROM order_discounts WHERE order_id = $1 ORDER BY position",
    )
    .bind(o.id)
    .fetch_all(db)
    .await?;
    Ok(Some(json!({
        "order_number": o.order_number,
        "order_internal_id": o.id,
        "status": o.status,
        "source": o.source,
        "created_at": o.created_at,
        "currency": o.currency,
        "shop_id": o.shop_id,
        "customer_id": o.customer_id,
        "customer": o.customer,
        "lines": lines.iter().map(|l| json!({
            "basket_item_id": l.basket_item_id, "sku": l.sku, "name": l.name, "quantity": l.quantity,
            "unit_price": fmt2(l.unit_price), "price": fmt2(l.price), "tax_rate": fmt2(l.tax_rate),
            "discount_amount": fmt2(l.discount_amount), "total_amount": fmt2(l.total_amount),
        })).collect::<Vec<_>>(),
        "discounts": discounts.iter().map(|(source, description, amount, items)| json!({
            "source": source, "description": description, "amount": fmt2(*amount), "affected_basket_items": items,
        })).collect::<Vec<_>>(),
        "shipping": {
            "option": o.shipping_option, "amount": fmt2(o.shipping_amount), "address": o.shipping_address,
        },
        "billing_address": o.billing_address,
        "total_quantity": o.total_quantity,
        "total_product_amount": fmt2(o.total_product_amount),
        "total_discount_amount": fmt2(o.total_discount_amount),
        "shipping_amount": fmt2(o.shipping_amount),
        "total_amount": fmt2(o.total_amount),
        "paid_amount": fmt2(o.paid_amount),
        "payment": {
            "payment_option": o.payment_option, "transaction_id": o.transaction_id,
            "terminal_code": o.terminal_code, "amount": fmt2(o.paid_amount),
        },
        "staff_id": o.staff_id,
        "staff_email": o.staff_email,
        "store_id": o.store_id,
        "cash_box_id": o.cash_box_id,
        "is_refund": o.is_refund,
    })))
}

#[utoipa::path(operation_id = "getOrder", tag = "orders",
    params(("order_number" = String, Path, description = "e.g. 0000015933")),
    responses(
        (status = 200, description = "The order", body = doc::Order),
        (status = 404, description = "No such order (yet)", body = doc::ErrorBody),
    ))]
#[get("/api/v1/orders/{order_number}/")]
pub async fn get_order(ctx: web::Data<AppContext>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match find(&ctx.db, &path).await? {
        Some(order) => Ok(HttpResponse::Ok().json(order)),
        None => Err(ApiError::not_found(format!("order {} not found", path.as_str()))),
    }
}
