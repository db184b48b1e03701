//! Reading stored orders back whole, for invoices, reports and webhook bodies.

use super::vat::{self, VatLine};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;

/// An order as stored, with its lines.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    #[sqlx(skip)]
    pub lines: Vec<StoredLine>,
}

/// One line of a stored order.
#[derive(Debug, Clone, sqlx::FromRow)]
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

const ORDER_COLUMNS: &str = "id, order_number, status, source, shop_id, store_id, customer_id, customer, currency,
    total_amount, shipping_amount, payment_option, shipping_option, staff_id, cash_box_id, is_refund, created_at";

async fn with_lines(db: &PgPool, mut orders: Vec<StoredOrder>) -> Result<Vec<StoredOrder>, sqlx::Error> {
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let lines: Vec<StoredLine> = sqlx::query_as(
        "SELECT order_id, sku, name, quantity, unit_price, tax_rate, discount_amount, total_amount
         FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(&ids)
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
    let order: Option<StoredOrder> = sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    match order {
        Some(order) => Ok(with_lines(db, vec![order]).await?.pop()),
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
    let orders: Vec<StoredOrder> = sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE (shop_id = $1 OR store_id = $1) AND created_at >= $2 AND created_at < $3
         ORDER BY created_at, id"
    ))
    .bind(shop_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    with_lines(db, orders).await
}

/// The latest `limit` orders, newest first, for the operators' page.
pub async fn recent(db: &PgPool, limit: i64) -> Result<Vec<OrderSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id AS order_internal_id, order_number, status, source, shop_id, store_id, currency, total_quantity,
                total_amount, created_at
         FROM orders ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// An order as the operators' page lists it.
#[derive(serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
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
