//! Reading stored orders back whole, for invoices, reports and webhook bodies.

use super::vat::{self, VatLine};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;

/// An order as stored, with its lines.
#[derive(Debug, Clone)]
pub struct StoredOrder {
    pub id: i64,
    pub order_number: String,
    pub status: String,
    pub source: String,
    pub shop_id: Option<String>,
    pub store_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer: Option<Value>,
    pub currency: String,
    pub total_amount: Decimal,
    pub shipping_amount: Decimal,
    pub payment_option: Option<Value>,
    pub shipping_option: Option<Value>,
    pub staff_id: Option<i64>,
    pub cash_box_id: Option<String>,
    pub is_refund: bool,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<StoredLine>,
}

/// One line of a stored order.
#[derive(Debug, Clone)]
pub struct StoredLine {
    pub order_id: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
    pub discount_amount: Decimal,
    /// After the line's discount; VAT included.
    pub total_amount: Decimal,
}

impl StoredOrder {
    /// VAT per rate of the product lines (see [`vat`] for the rule).
    pub fn vat_lines(&self) -> Vec<VatLine> {
        vat::breakdown(self.lines.iter().map(|l| (l.tax_rate, l.total_amount)))
    }

    pub fn vat_total(&self) -> Decimal {
        self.vat_lines().iter().map(|v| v.vat).sum()
    }

    /// The name of the payment option, if the order has one.
    pub fn payment_method(&self) -> String {
        self.payment_option.as_ref().and_then(|p| p["name"].as_str()).unwrap_or_default().to_string()
    }

    /// The customer's name, if known.
    pub fn client_name(&self) -> String {
        self.customer.as_ref().and_then(|c| c["name"].as_str()).unwrap_or_default().to_string()
    }
}

/// The `orders` columns of a [`StoredOrder`], as the statements read them.
struct OrderHead {
    id: i64,
    order_number: String,
    status: String,
    source: String,
    shop_id: Option<String>,
    store_id: Option<String>,
    customer_id: Option<String>,
    customer: Option<Value>,
    currency: String,
    total_amount: Decimal,
    shipping_amount: Decimal,
    payment_option: Option<Value>,
    shipping_option: Option<Value>,
    staff_id: Option<i64>,
    cash_box_id: Option<String>,
    is_refund: bool,
    created_at: DateTime<Utc>,
}

impl OrderHead {
    fn without_lines(self) -> StoredOrder {
        StoredOrder {
            id: self.id,
            order_number: self.order_number,
            status: self.status,
            source: self.source,
            shop_id: self.shop_id,
            store_id: self.store_id,
            customer_id: self.customer_id,
            customer: self.customer,
            currency: self.currency,
            total_amount: self.total_amount,
            shipping_amount: self.shipping_amount,
            payment_option: self.payment_option,
            shipping_option: self.shipping_option,
            staff_id: self.staff_id,
            cash_box_id: self.cash_box_id,
            is_refund: self.is_refund,
            created_at: self.created_at,
            lines: Vec::new(),
        }
    }
}

async fn with_lines(db: &PgPool, heads: Vec<OrderHead>) -> Result<Vec<StoredOrder>, sqlx::Error> {
    let mut orders: Vec<StoredOrder> = heads.into_iter().map(OrderHead::without_lines).collect();
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let lines = sqlx::query_as!(
        StoredLine,
        "SELECT order_id, sku, name, quantity, unit_price, tax_rate, discount_amount, total_amount
         FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no",
        &ids[..],
    )
    .fetch_all(db)
    .await?;
    for line in lines {
        if let Some(order) = orders.iter_mut().find(|o| o.id == line.order_id) {
            order.lines.push(line);
        }
    }
    Ok(orders)
}

/// The order with internal id `id`.
pub async fn by_id(db: &PgPool, id: i64) -> Result<Option<StoredOrder>, sqlx::Error> {
    let head = sqlx::query_as!(
        OrderHead,
        "SELECT id, order_number, status, source, shop_id, store_id, customer_id, customer, currency, total_amount,
                shipping_amount, payment_option, shipping_option, staff_id, cash_box_id, is_refund, created_at
         FROM orders WHERE id = $1",
        id,
    )
    .fetch_optional(db)
    .await?;
    match head {
        Some(head) => Ok(with_lines(db, vec![head]).await?.pop()),
        None => Ok(None),
    }
}

/// The orders of shop (store) `shop_id` created in `[from, to)`, from any
/// source: sales recorded by the shop and orders paid at its tills.
pub async fn of_shop_between(
    db: &PgPool,
    shop_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StoredOrder>, sqlx::Error> {
    let heads = sqlx::query_as!(
        OrderHead,
        "SELECT id, order_number, status, source, shop_id, store_id, customer_id, customer, currency, total_amount,
                shipping_amount, payment_option, shipping_option, staff_id, cash_box_id, is_refund, created_at
         FROM orders
         WHERE (shop_id = $1 OR store_id = $1) AND created_at >= $2 AND created_at < $3
         ORDER BY created_at, id",
        shop_id,
        from,
        to,
    )
    .fetch_all(db)
    .await?;
    with_lines(db, heads).await
}

/// The latest `limit` orders, newest first, for the operators' page.
pub async fn recent(db: &PgPool, limit: i64) -> Result<Vec<OrderSummary>, sqlx::Error> {
    sqlx::query_as!(
        OrderSummary,
        "SELECT id AS order_internal_id, order_number, status, source, shop_id, store_id, currency, total_quantity,
                total_amount, created_at
         FROM orders ORDER BY id DESC LIMIT $1",
        limit,
    )
    .fetch_all(db)
    .await
}

/// When the orders of `order_numbers` were created, for those that exist.
pub async fn created_at_by_number(
    db: &PgPool,
    order_numbers: &[&str],
) -> Result<HashMap<String, DateTime<Utc>>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT order_number, created_at FROM orders WHERE order_number = ANY($1)",
        order_numbers as &[&str],
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.order_number, r.created_at)).collect())
}

/// An order as the API shows it (see `routes::find`): every column.
pub(super) struct OrderRow {
    pub id: i64,
    pub order_number: String,
    pub status: String,
    pub source: String,
    pub shop_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer: Option<Value>,
    pub currency: String,
    pub total_quantity: i32,
    pub total_product_amount: Decimal,
    pub total_discount_amount: Decimal,
    pub shipping_amount: Decimal,
    pub total_amount: Decimal,
    pub paid_amount: Decimal,
    pub payment_option: Option<Value>,
    pub shipping_option: Option<Value>,
    pub shipping_address: Option<Value>,
    pub billing_address: Option<Value>,
    pub transaction_id: Option<String>,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub cash_box_id: Option<String>,
    pub is_refund: bool,
    pub created_at: DateTime<Utc>,
}

/// A line as the API shows it.
pub(super) struct LineRow {
    pub basket_item_id: i32,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Decimal,
    pub price: Decimal,
    pub tax_rate: Decimal,
    pub discount_amount: Decimal,
    pub total_amount: Decimal,
}

/// A discount as the API shows it.
pub(super) struct DiscountRow {
    pub source: String,
    pub description: String,
    pub amount: Decimal,
    pub affected_items: Value,
}

/// The order numbered `order_number` with its lines and discounts, every
/// column, or `None` when it does not exist (yet).
pub(super) async fn whole_by_number(
    db: &PgPool,
    order_number: &str,
) -> Result<Option<(OrderRow, Vec<LineRow>, Vec<DiscountRow>)>, sqlx::Error> {
    let Some(order) = sqlx::query_as!(
        OrderRow,
        "SELECT id, order_number, status, source, shop_id, customer_id, customer, currency, total_quantity,
                total_product_amount, total_discount_amount, shipping_amount, total_amount, paid_amount,
                payment_option, shipping_option, shipping_address, billing_address, transaction_id, terminal_code,
                staff_id, staff_email, store_id, cash_box_id, is_refund, created_at
         FROM orders WHERE order_number = $1",
        order_number,
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let lines = sqlx::query_as!(
        LineRow,
        "SELECT basket_item_id, sku, name, quantity, unit_price, price, tax_rate, discount_amount, total_amount
         FROM order_lines WHERE order_id = $1 ORDER BY line_no",
        order.id,
    )
    .fetch_all(db)
    .await?;
    let discounts = sqlx::query_as!(
        DiscountRow,
        "SELECT source, description, amount, affected_items FROM order_discounts WHERE order_id = $1 ORDER BY position",
        order.id,
    )
    .fetch_all(db)
    .await?;
    Ok(Some((order, lines, discounts)))
}

/// An order as the operators' page lists it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub order_internal_id: i64,
    pub order_number: String,
    pub status: String,
    /// `cash_register`, `ivr` or `sales_api`.
    pub source: String,
    pub shop_id: Option<String>,
    pub store_id: Option<String>,
    pub currency: String,
    pub total_quantity: i32,
    #[serde(serialize_with = "crate::money::two_places")]
    #[schema(value_type = String, example = "199.98")]
    pub total_amount: Decimal,
    pub created_at: DateTime<Utc>,
}
