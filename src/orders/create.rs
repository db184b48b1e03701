//! Writing an order, its lines, discounts and webhook events in one transaction.

use crate::money::dec;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{Postgres, Transaction};

/// One order line to write.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub basket_item_id: i32,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
    pub discount_amount: Decimal,
}

impl NewLine {
    pub fn price(&self) -> Decimal {
        self.unit_price * Decimal::from(self.quantity)
    }
}

/// One applied discount to write.
#[derive(Debug, Clone)]
pub struct NewDiscount {
    pub source: String,
    pub description: String,
    pub amount: Decimal,
    pub affected_items: Value,
}

/// Everything an order is made of.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    pub order_number: String,
    pub source: String,
    pub payment_id: Option<i64>,
    pub shop_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer: Option<Value>,
    pub currency: String,
    pub lines: Vec<NewLine>,
    pub discounts: Vec<NewDiscount>,
    pub shipping_amount: Decimal,
    pub payment_option: Option<Value>,
    pub shipping_option: Option<Value>,
    pub shipping_address: Option<Value>,
    pub billing_address: Option<Value>,
    pub paid_amount: Decimal,
    pub transaction_id: Option<String>,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub cash_box_id: Option<String>,
    pub is_refund: bool,
    pub created_at: Option<DateTime<Utc>>,
}

impl NewOrder {
    pub fn total_product_amount(&self) -> Decimal {
        self.lines.iter().map(NewLine::price).sum()
    }
    pub fn total_discount_amount(&self) -> Decimal {
        self.lines.iter().map(|l| l.discount_amount).sum()
    }
    pub fn total_amount(&self) -> Decimal {
        self.total_product_amount() - self.total_discount_amount() + self.shipping_amount
    }
}

/// Writes `order` unless an order with its number exists. Answers the new
/// order's internal id, or `None` when it existed (a job delivered twice).
/// The lines, discounts and the order's `validated` and `terminated` webhook
/// events go in with it: one statement (data-modifying CTEs), so a worker
/// writing a batch of orders pays one round trip per order.
pub async fn insert(tx: &mut Transaction<'_, Postgres>, order: &NewOrder) -> Result<Option<i64>, sqlx::Error> {
    let paid_in_full = order.paid_amount >= order.total_amount();
    let (lines, discounts) = (&order.lines, &order.discounts);
    sqlx::query_scalar(
        "WITH o AS (
             INSERT INTO orders (order_number, status, source, payment_id, shop_id, customer_id, customer, currency,
                 total_quantity, total_product_amount, total_discount_amount, shipping_amount, total_amount, paid_amount,
                 payment_option, shipping_option, shipping_address, billing_address, transaction_id, terminal_code,
                 staff_id, staff_email, store_id, cash_box_id, is_refund, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 $21, $22, $23, $24, $25, COALESCE($26, now()))
             ON CONFLICT (order_number) DO NOTHING
             RETURNING id, order_number),
         lines AS (
             INSERT INTO order_lines (order_id, line_no, basket_item_id, sku, name, quantity, unit_price, price,
                 tax_rate, discount_amount, total_amount)
             SELECT o.id, t.* FROM o, UNNEST($27::int[], $28::int[], $29::text[], $30::text[], $31::int[],
                 $32::numeric[], $33::numeric[], $34::numeric[], $35::numeric[], $36::numeric[]) AS t),
         discounts AS (
             INSERT INTO order_discounts (order_id, position, source, description, amount, affected_items)
             SELECT o.id, d.* FROM o, UNNEST($37::int[], $38::text[], $39::text[], $40::numeric[], $41::jsonb[]) AS d),
         events AS (
             INSERT INTO webhook_outbox (event_type, payload)
             SELECT e.type, jsonb_build_object('order_id', o.id, 'order_number', o.order_number)
             FROM o, UNNEST(ARRAY['validated', 'terminated']) WITH ORDINALITY AS e(type, position)
             ORDER BY e.position)
         SELECT id FROM o",
    )
    .bind(&order.order_number)
    .bind(if paid_in_full { "completed" } else { "pending_payment" })
    .bind(&order.source)
    .bind(order.payment_id)
    .bind(&order.shop_id)
    .bind(&order.customer_id)
    .bind(&order.customer)
    .bind(&order.currency)
    .bind(lines.iter().map(|l| l.quantity).sum::<i32>())
    .bind(order.total_product_amount())
    .bind(order.total_discount_amount())
    .bind(order.shipping_amount)
    .bind(order.total_amount())
    .bind(order.paid_amount)
    .bind(&order.payment_option)
    .bind(&order.shipping_option)
    .bind(&order.shipping_address)
    .bind(&order.billing_address)
    .bind(&order.transaction_id)
    .bind(&order.terminal_code)
    .bind(order.staff_id)
    .bind(&order.staff_email)
    .bind(&order.store_id)
    .bind(&order.cash_box_id)
    .bind(order.is_refund)
    .bind(order.created_at)
    .bind((1..=lines.len() as i32).collect::<Vec<i32>>())
    .bind(lines.iter().map(|l| l.basket_item_id).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.unit_price).collect::<Vec<_>>())
    .bind(lines.iter().map(NewLine::price).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.tax_rate).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.discount_amount).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.price() - l.discount_amount).collect::<Vec<_>>())
    .bind((1..=discounts.len() as i32).collect::<Vec<i32>>())
    .bind(discounts.iter().map(|d| d.source.as_str()).collect::<Vec<_>>())
    .bind(discounts.iter().map(|d| d.description.as_str()).collect::<Vec<_>>())
    .bind(discounts.iter().map(|d| d.amount).collect::<Vec<_>>())
    .bind(discounts.iter().map(|d| &d.affected_items).collect::<Vec<_>>())
    .fetch_optional(&mut **tx)
    .await
}

/// The payment columns an order is built from.
#[derive(Debug, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: i64,
    pub order_number: String,
    pub session_id: String,
    pub source: String,
    pub transaction_id: String,
    pub paid_amount: Decimal,
    pub promotions: Value,
    pub pre_order: Value,
    pub terminal_code: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub order_created_at: Option<DateTime<Utc>>,
}

fn text_decimal(v: &Value) -> Decimal {
    v.as_str().map(dec).unwrap_or_default()
}

fn non_null(v: &Value) -> Option<Value> {
    (!v.is_null()).then(|| v.clone())
}

/// Builds the order of a payment from the pre-order snapshot taken when the
/// payment was accepted, with the POS promotions spread over its lines.
pub fn from_payment(p: &PaymentRow) -> NewOrder {
    let doc = &p.pre_order;
    let mut line_discounts: std::collections::HashMap<i64, Decimal> = std::collections::HashMap::new();
    let mut discounts = Vec::new();
    for promo in p.promotions.as_array().into_iter().flatten() {
        for pair in promo["allocation"].as_array().into_iter().flatten() {
            if let (Some(item), Some(amount)) = (pair[0].as_i64(), pair[1].as_str()) {
                *line_discounts.entry(item).or_default() += dec(amount);
            }
        }
        discounts.push(NewDiscount {
            source: "cash_register".to_string(),
            description: promo["description"].as_str().unwrap_or_default().to_string(),
            amount: text_decimal(&promo["benefit_amount"]),
            affected_items: promo["affected_basket_items"].clone(),
        });
    }
    let lines = doc["basket"]["basketitem_set"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let id = item["id"].as_i64().unwrap_or_default();
            NewLine {
                basket_item_id: id as i32,
                sku: item["product"]["sku"].as_str().unwrap_or_default().to_string(),
                name: item["product"]["name"].as_str().unwrap_or_default().to_string(),
                quantity: item["quantity"].as_i64().unwrap_or_default() as i32,
                unit_price: text_decimal(&item["unit_price"]),
                tax_rate: text_decimal(&item["tax_rate"]),
                discount_amount: line_discounts.get(&id).copied().unwrap_or_default(),
            }
        })
        .collect();
    NewOrder {
        order_number: p.order_number.clone(),
        source: p.source.clone(),
        payment_id: Some(p.id),
        currency: doc["currency_type_label"].as_str().unwrap_or_default().to_string(),
        lines,
        discounts,
        shipping_amount: text_decimal(&doc["shipping_amount"]),
        payment_option: non_null(&doc["payment_option"]),
        shipping_option: non_null(&doc["shipping_option"]),
        shipping_address: non_null(&doc["shipping_address"]),
        billing_address: non_null(&doc["billing_address"]),
        paid_amount: p.paid_amount,
        transaction_id: Some(p.transaction_id.clone()),
        terminal_code: p.terminal_code.clone(),
        staff_id: p.staff_id,
        staff_email: p.staff_email.clone(),
        store_id: p.store_id.clone(),
        ..NewOrder::default()
    }
}
