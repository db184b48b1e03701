//! `GET /api/v1/orders/{order_number}/`

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::money::fmt2;
use crate::openapi::Register;
use actix_web::get;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(get_order);
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
    let Some((o, lines, discounts)) = super::read::whole_by_number(db, order_number).await? else {
        return Ok(None);
    };
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
            .map(|d| OrderDiscountView {
                source: d.source,
                description: d.description,
                amount: fmt2(d.amount),
                affected_basket_items: d.affected_items,
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
