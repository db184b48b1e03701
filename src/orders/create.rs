//! Writing an order, its lines, discounts and webhook events in one transaction.

use crate::payments::Claimed;
use crate::webhooks::outbox::{self, NewEvent};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::{Postgres, Transaction};
use std::borrow::Cow;
use std::collections::HashMap;

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
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    order: &NewOrder,
    webhook_urls: &[String],
) -> Result<Option<i64>, sqlx::Error> {
    Ok(insert_all(tx, std::slice::from_ref(order), webhook_urls).await?.pop().flatten())
}

/// Writes each of `orders` unless an order with its number exists, with its
/// lines, discounts and its `validated` and `terminated` webhook events,
/// already fanned out: one delivery per URL of `webhook_urls` (the endpoints
/// configured now, `webhooks::endpoint_urls`). Answers, in the same order,
/// each new order's internal id, or `None` for one that existed (a job
/// delivered twice). Two statements for the whole batch, whatever its size:
/// Postgres spends more setting up a statement than writing a row, so the
/// worker's batches are written set-wise (lines and discounts flattened, each
/// naming its order by position), then the events of the orders created go
/// to the outbox in one more statement (`webhooks::outbox`, which owns it).
pub async fn insert_all(
    tx: &mut Transaction<'_, Postgres>,
    orders: &[NewOrder],
    webhook_urls: &[String],
) -> Result<Vec<Option<i64>>, sqlx::Error> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let lines: Vec<(i32, i32, &NewLine)> = orders
        .iter()
        .zip(1..)
        .flat_map(|(o, position)| o.lines.iter().zip(1..).map(move |(l, line_no)| (position, line_no, l)))
        .collect();
    let discounts: Vec<(i32, i32, &NewDiscount)> = orders
        .iter()
        .zip(1..)
        .flat_map(|(o, position)| o.discounts.iter().zip(1..).map(move |(d, n)| (position, n, d)))
        .collect();
    // One array per column, in the statement's order.
    let order_number: Vec<&str> = orders.iter().map(|o| o.order_number.as_str()).collect();
    let status: Vec<&str> = orders
        .iter()
        .map(|o| if o.paid_amount >= o.total_amount() { "completed" } else { "pending_payment" })
        .collect();
    let source: Vec<&str> = orders.iter().map(|o| o.source.as_str()).collect();
    let payment_id: Vec<Option<i64>> = orders.iter().map(|o| o.payment_id).collect();
    let shop_id: Vec<Option<&str>> = orders.iter().map(|o| o.shop_id.as_deref()).collect();
    let customer_id: Vec<Option<&str>> = orders.iter().map(|o| o.customer_id.as_deref()).collect();
    let customer: Vec<Option<&Value>> = orders.iter().map(|o| o.customer.as_ref()).collect();
    let currency: Vec<&str> = orders.iter().map(|o| o.currency.as_str()).collect();
    let total_quantity: Vec<i32> = orders.iter().map(|o| o.lines.iter().map(|l| l.quantity).sum::<i32>()).collect();
    let total_product_amount: Vec<Decimal> = orders.iter().map(NewOrder::total_product_amount).collect();
    let total_discount_amount: Vec<Decimal> = orders.iter().map(NewOrder::total_discount_amount).collect();
    let shipping_amount: Vec<Decimal> = orders.iter().map(|o| o.shipping_amount).collect();
    let total_amount: Vec<Decimal> = orders.iter().map(NewOrder::total_amount).collect();
    let paid_amount: Vec<Decimal> = orders.iter().map(|o| o.paid_amount).collect();
    let payment_option: Vec<Option<&Value>> = orders.iter().map(|o| o.payment_option.as_ref()).collect();
    let shipping_option: Vec<Option<&Value>> = orders.iter().map(|o| o.shipping_option.as_ref()).collect();
    let shipping_address: Vec<Option<&Value>> = orders.iter().map(|o| o.shipping_address.as_ref()).collect();
    let billing_address: Vec<Option<&Value>> = orders.iter().map(|o| o.billing_address.as_ref()).collect();
    let transaction_id: Vec<Option<&str>> = orders.iter().map(|o| o.transaction_id.as_deref()).collect();
    let terminal_code: Vec<Option<&str>> = orders.iter().map(|o| o.terminal_code.as_deref()).collect();
    let staff_id: Vec<Option<i64>> = orders.iter().map(|o| o.staff_id).collect();
    let staff_email: Vec<Option<&str>> = orders.iter().map(|o| o.staff_email.as_deref()).collect();
    let store_id: Vec<Option<&str>> = orders.iter().map(|o| o.store_id.as_deref()).collect();
    let cash_box_id: Vec<Option<&str>> = orders.iter().map(|o| o.cash_box_id.as_deref()).collect();
    let is_refund: Vec<bool> = orders.iter().map(|o| o.is_refund).collect();
    let created_at: Vec<Option<DateTime<Utc>>> = orders.iter().map(|o| o.created_at).collect();
    let line_order: Vec<i32> = lines.iter().map(|(p, _, _)| *p).collect();
    let line_no: Vec<i32> = lines.iter().map(|(_, n, _)| *n).collect();
    let line_item: Vec<i32> = lines.iter().map(|(_, _, l)| l.basket_item_id).collect();
    let line_sku: Vec<&str> = lines.iter().map(|(_, _, l)| l.sku.as_str()).collect();
    let line_name: Vec<&str> = lines.iter().map(|(_, _, l)| l.name.as_str()).collect();
    let line_quantity: Vec<i32> = lines.iter().map(|(_, _, l)| l.quantity).collect();
    let line_unit_price: Vec<Decimal> = lines.iter().map(|(_, _, l)| l.unit_price).collect();
    let line_price: Vec<Decimal> = lines.iter().map(|(_, _, l)| l.price()).collect();
    let line_tax_rate: Vec<Decimal> = lines.iter().map(|(_, _, l)| l.tax_rate).collect();
    let line_discount: Vec<Decimal> = lines.iter().map(|(_, _, l)| l.discount_amount).collect();
    let line_total: Vec<Decimal> = lines.iter().map(|(_, _, l)| l.price() - l.discount_amount).collect();
    let discount_order: Vec<i32> = discounts.iter().map(|(p, _, _)| *p).collect();
    let discount_no: Vec<i32> = discounts.iter().map(|(_, n, _)| *n).collect();
    let discount_source: Vec<&str> = discounts.iter().map(|(_, _, d)| d.source.as_str()).collect();
    let discount_description: Vec<&str> = discounts.iter().map(|(_, _, d)| d.description.as_str()).collect();
    let discount_amount: Vec<Decimal> = discounts.iter().map(|(_, _, d)| d.amount).collect();
    let discount_items: Vec<&Value> = discounts.iter().map(|(_, _, d)| &d.affected_items).collect();
    // `as` marks the arrays with NULL elements (and the borrowed elements)
    // for the macro, which cannot type-check them itself; the casts in the
    // statement fix their Postgres types.
    let created = sqlx::query!(
        r#"WITH input AS (
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::jsonb[],
                 $8::text[], $9::int[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[],
                 $15::jsonb[], $16::jsonb[], $17::jsonb[], $18::jsonb[], $19::text[], $20::text[], $21::int8[],
                 $22::text[], $23::text[], $24::text[], $25::bool[], $26::timestamptz[])
             WITH ORDINALITY AS i(order_number, status, source, payment_id, shop_id, customer_id, customer, currency,
                 total_quantity, total_product_amount, total_discount_amount, shipping_amount, total_amount, paid_amount,
                 payment_option, shipping_option, shipping_address, billing_address, transaction_id, terminal_code,
                 staff_id, staff_email, store_id, cash_box_id, is_refund, created_at, position)),
         o AS (
             INSERT INTO orders (order_number, status, source, payment_id, shop_id, customer_id, customer, currency,
                 total_quantity, total_product_amount, total_discount_amount, shipping_amount, total_amount, paid_amount,
                 payment_option, shipping_option, shipping_address, billing_address, transaction_id, terminal_code,
                 staff_id, staff_email, store_id, cash_box_id, is_refund, created_at)
             SELECT order_number, status, source, payment_id, shop_id, customer_id, customer, currency,
                 total_quantity, total_product_amount, total_discount_amount, shipping_amount, total_amount, paid_amount,
                 payment_option, shipping_option, shipping_address, billing_address, transaction_id, terminal_code,
                 staff_id, staff_email, store_id, cash_box_id, is_refund, COALESCE(created_at, now())
             FROM input ORDER BY position
             ON CONFLICT (order_number) DO NOTHING
             RETURNING id, order_number),
         created AS (SELECT input.position::int AS position, o.id, o.order_number FROM o JOIN input USING (order_number)),
         lines AS (
             INSERT INTO order_lines (order_id, line_no, basket_item_id, sku, name, quantity, unit_price, price,
                 tax_rate, discount_amount, total_amount)
             SELECT created.id, l.line_no, l.basket_item_id, l.sku, l.name, l.quantity, l.unit_price, l.price,
                 l.tax_rate, l.discount_amount, l.total_amount
             FROM UNNEST($27::int[], $28::int[], $29::int[], $30::text[], $31::text[], $32::int[], $33::numeric[],
                 $34::numeric[], $35::numeric[], $36::numeric[], $37::numeric[])
                 AS l(position, line_no, basket_item_id, sku, name, quantity, unit_price, price, tax_rate,
                      discount_amount, total_amount)
             JOIN created USING (position)),
         discounts AS (
             INSERT INTO order_discounts (order_id, position, source, description, amount, affected_items)
             SELECT created.id, d.n, d.source, d.description, d.amount, d.affected_items
             FROM UNNEST($38::int[], $39::int[], $40::text[], $41::text[], $42::numeric[], $43::jsonb[])
                 AS d(position, n, source, description, amount, affected_items)
             JOIN created USING (position))
         SELECT position AS "position!", id AS "id!", order_number AS "order_number!" FROM created ORDER BY position"#,
        &order_number as &[&str],
        &status as &[&str],
        &source as &[&str],
        &payment_id as &[Option<i64>],
        &shop_id as &[Option<&str>],
        &customer_id as &[Option<&str>],
        &customer as &[Option<&Value>],
        &currency as &[&str],
        &total_quantity[..],
        &total_product_amount[..],
        &total_discount_amount[..],
        &shipping_amount[..],
        &total_amount[..],
        &paid_amount[..],
        &payment_option as &[Option<&Value>],
        &shipping_option as &[Option<&Value>],
        &shipping_address as &[Option<&Value>],
        &billing_address as &[Option<&Value>],
        &transaction_id as &[Option<&str>],
        &terminal_code as &[Option<&str>],
        &staff_id as &[Option<i64>],
        &staff_email as &[Option<&str>],
        &store_id as &[Option<&str>],
        &cash_box_id as &[Option<&str>],
        &is_refund[..],
        &created_at as &[Option<DateTime<Utc>>],
        &line_order[..],
        &line_no[..],
        &line_item[..],
        &line_sku as &[&str],
        &line_name as &[&str],
        &line_quantity[..],
        &line_unit_price[..],
        &line_price[..],
        &line_tax_rate[..],
        &line_discount[..],
        &line_total[..],
        &discount_order[..],
        &discount_no[..],
        &discount_source as &[&str],
        &discount_description as &[&str],
        &discount_amount[..],
        &discount_items as &[&Value],
    )
    .fetch_all(&mut **tx)
    .await?;
    let events: Vec<NewEvent> = created
        .iter()
        .flat_map(|c| {
            let payload = json!({"order_id": c.id, "order_number": c.order_number});
            [
                NewEvent { event_type: "validated", payload: payload.clone() },
                NewEvent { event_type: "terminated", payload },
            ]
        })
        .collect();
    outbox::record_fanned_out(tx, &events, webhook_urls).await?;
    let mut ids = vec![None; orders.len()];
    for c in created {
        if let Some(slot) = usize::try_from(c.position - 1).ok().and_then(|i| ids.get_mut(i)) {
            *slot = Some(c.id);
        }
    }
    Ok(ids)
}

/// The parts of a pre-order snapshot an order is made of. Read straight
/// from the stored text, borrowing its strings; every other field is
/// skipped unread (the worker builds thousands of orders a second).
#[derive(Deserialize)]
struct Snapshot<'a> {
    #[serde(borrow)]
    basket: SnapshotBasket<'a>,
    #[serde(borrow)]
    currency_type_label: Cow<'a, str>,
    #[serde(borrow)]
    shipping_amount: Cow<'a, str>,
    payment_option: Option<Value>,
    shipping_option: Option<Value>,
    shipping_address: Option<Value>,
    billing_address: Option<Value>,
}

#[derive(Deserialize)]
struct SnapshotBasket<'a> {
    #[serde(borrow)]
    basketitem_set: Vec<SnapshotItem<'a>>,
}

#[derive(Deserialize)]
struct SnapshotItem<'a> {
    id: i64,
    #[serde(borrow)]
    product: SnapshotProduct<'a>,
    quantity: i32,
    #[serde(borrow)]
    unit_price: Cow<'a, str>,
    #[serde(borrow)]
    tax_rate: Cow<'a, str>,
}

#[derive(Deserialize)]
struct SnapshotProduct<'a> {
    #[serde(borrow)]
    sku: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// An applied POS promotion as stored with the payment: its benefit and how
/// it was spread over the basket items (`[item id, amount]` pairs).
#[derive(Deserialize)]
struct StoredPromotion<'a> {
    #[serde(borrow)]
    description: Cow<'a, str>,
    #[serde(borrow)]
    benefit_amount: Cow<'a, str>,
    affected_basket_items: Value,
    #[serde(borrow)]
    allocation: Vec<(i64, Cow<'a, str>)>,
}

fn decimal(text: &str, field: &str) -> Result<Decimal, String> {
    text.parse().map_err(|_| format!("{field} {text:?} is not an amount"))
}

/// Builds the order of a payment from the pre-order snapshot taken when the
/// payment was accepted, with the POS promotions spread over its lines.
/// Fails only on a stored document that is not what `complete` wrote.
pub fn from_payment(p: &Claimed) -> Result<NewOrder, String> {
    let doc: Snapshot = serde_json::from_str(&p.pre_order).map_err(|e| format!("pre-order snapshot: {e}"))?;
    let promotions: Vec<StoredPromotion> =
        serde_json::from_str(&p.promotions).map_err(|e| format!("promotions: {e}"))?;
    let mut line_discounts: HashMap<i64, Decimal> = HashMap::new();
    let mut discounts = Vec::with_capacity(promotions.len());
    for promo in promotions {
        for (item, amount) in &promo.allocation {
            *line_discounts.entry(*item).or_default() += decimal(amount, "promotion allocation")?;
        }
        discounts.push(NewDiscount {
            source: "cash_register".to_string(),
            description: promo.description.into_owned(),
            amount: decimal(&promo.benefit_amount, "benefit_amount")?,
            affected_items: promo.affected_basket_items,
        });
    }
    let lines = doc
        .basket
        .basketitem_set
        .into_iter()
        .map(|item| {
            Ok(NewLine {
                basket_item_id: i32::try_from(item.id)
                    .map_err(|_| format!("basket item id {} out of range", item.id))?,
                sku: item.product.sku.into_owned(),
                name: item.product.name.into_owned(),
                quantity: item.quantity,
                unit_price: decimal(&item.unit_price, "unit_price")?,
                tax_rate: decimal(&item.tax_rate, "tax_rate")?,
                discount_amount: line_discounts.get(&item.id).copied().unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(NewOrder {
        order_number: p.order_number.clone(),
        source: p.source.clone(),
        payment_id: Some(p.id),
        currency: doc.currency_type_label.into_owned(),
        lines,
        discounts,
        shipping_amount: decimal(&doc.shipping_amount, "shipping_amount")?,
        payment_option: doc.payment_option,
        shipping_option: doc.shipping_option,
        shipping_address: doc.shipping_address,
        billing_address: doc.billing_address,
        paid_amount: p.paid_amount,
        transaction_id: Some(p.transaction_id.clone()),
        terminal_code: p.terminal_code.clone(),
        staff_id: p.staff_id,
        staff_email: p.staff_email.clone(),
        store_id: p.store_id.clone(),
        ..NewOrder::default()
    })
}
