//! `GET /api/v1/orders/{order_number}/`

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::money::fmt2;
use actix_web::get;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

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

/// An order (SPEC §5): amounts are decimal strings with two places.
#[derive(Serialize, ToSchema)]
pub struct OrderView {
    pub order_number: String,
    pub order_internal_id: i64,
    /// `completed` once paid in full.
    pub status: String,
    /// `cash_register`, `ivr` or `sales_api`.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub currency: String,
    pub shop_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer: Option<Value>,
    pub lines: Vec<OrderLineView>,
    pub discounts: Vec<OrderDiscountView>,
    pub shipping: ShippingView,
    pub billing_address: Option<Value>,
    pub total_quantity: i32,
    pub total_product_amount: String,
    pub total_discount_amount: String,
    pub shipping_amount: String,
    pub total_amount: String,
    pub paid_amount: String,
    pub payment: PaymentView,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub cash_box_id: Option<String>,
    pub is_refund: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineView {
    pub basket_item_id: i32,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: String,
    pub price: String,
    pub tax_rate: String,
    pub discount_amount: String,
    pub total_amount: String,
}

/// A promotion applied at the till.
#[derive(Serialize, ToSchema)]
pub struct OrderDiscountView {
    pub source: String,
    pub description: String,
    pub amount: String,
    /// The basket item ids it applied to.
    pub affected_basket_items: Value,
}

#[derive(Serialize, ToSchema)]
pub struct ShippingView {
    pub option: Option<Value>,
    pub amount: String,
    pub address: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentView {
    pub payment_option: Option<Value>,
    pub transaction_id: Option<String>,
    pub terminal_code: Option<String>,
    pub amount: String,
}

/// The order as the API shows it, or `None` when it does not exist (yet).
pub async fn find(db: &sqlx::PgPool, order_number: &str) -> Result<Option<OrderView>, sqlx::Error> {
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
    Ok(Some(OrderView {
        order_number: o.order_number,
        order_internal_id: o.id,
        status: o.status,
        source: o.source,
        created_at: o.created_at,
        currency: o.currency,
        shop_id: o.shop_id,
        customer_id: o.customer_id,
        customer: o.customer,
        lines: lines
            .into_iter()
            .map(|l| OrderLineView {
                basket_item_id: l.basket_item_id,
                sku: l.sku,
                name: l.name,
                quantity: l.quantity,
                unit_price: fmt2(l.unit_price),
                price: fmt2(l.price),
                tax_rate: fmt2(l.tax_rate),
                discount_amount: fmt2(l.discount_amount),
                total_amount: fmt2(l.total_amount),
            })
            .collect(),
        discounts: discounts
            .into_iter()
            .map(|(source, description, amount, items)| OrderDiscountView {
                source,
                description,
                amount: fmt2(amount),
                affected_basket_items: items,
            })
            .collect(),
        shipping: ShippingView {
            option: o.shipping_option,
            amount: fmt2(o.shipping_amount),
            address: o.shipping_address,
        },
        billing_address: o.billing_address,
        total_quantity: o.total_quantity,
        total_product_amount: fmt2(o.total_product_amount),
        total_discount_amount: fmt2(o.total_discount_amount),
        shipping_amount: fmt2(o.shipping_amount),
        total_amount: fmt2(o.total_amount),
        paid_amount: fmt2(o.paid_amount),
        payment: PaymentView {
            payment_option: o.payment_option,
            transaction_id: o.transaction_id,
            terminal_code: o.terminal_code,
            amount: fmt2(o.paid_amount),
        },
        staff_id: o.staff_id,
        staff_email: o.staff_email,
        store_id: o.store_id,
        cash_box_id: o.cash_box_id,
        is_refund: o.is_refund,
    }))
}

#[utoipa::path(operation_id = "getOrder", tag = "orders",
    params(("order_number" = String, Path, description = "e.g. 0000015933")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order (yet)", body = ErrorBody),
    ))]
#[get("/api/v1/orders/{order_number}/")]
pub async fn get_order(ctx: web::Data<AppContext>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match find(&ctx.db, &path).await? {
        Some(order) => Ok(HttpResponse::Ok().json(order)),
        None => Err(ApiError::not_found(format!("order {} not found", path.as_str()))),
    }
}
