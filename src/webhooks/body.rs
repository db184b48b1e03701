//! The JSON body of an outbox event, rendered at delivery time.
//!
//! For `validated` and `terminated` the outbox keeps only the order's id; the
//! body (SPEC §9 fields) is rendered from the stored order, which never
//! changes once written. Any other event (the drawers' `cashBox_open` and
//! `cashBox_close`) carries its complete body in the outbox and is sent as is.

use crate::context::AppContext;
use crate::money::fmt2;
use crate::orders::{self, StoredOrder};
use anyhow::Context;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

/// Event types whose body is rendered from an order.
pub const ORDER_EVENTS: &[&str] = &["validated", "terminated"];

/// An amount as an exact JSON number with two decimals (never through `f64`).
pub fn amount(value: Decimal) -> Value {
    serde_json::Number::from_str(&fmt2(value)).map(Value::Number).unwrap_or(Value::Null)
}

/// The body to send for the outbox event `event_type` with `payload`.
pub async fn render(ctx: &AppContext, event_type: &str, payload: &Value) -> anyhow::Result<String> {
    if !ORDER_EVENTS.contains(&event_type) {
        return Ok(payload.to_string());
    }
    let order_id = payload["order_id"].as_i64().context("order event without order_id")?;
    let order = orders::read::by_id(&ctx.db, order_id)
        .await
        .context("failed to read the order")?
        .with_context(|| format!("order {order_id} of a webhook event does not exist"))?;
    let invoice = crate::sales::invoice::signed_url(ctx, order.id).await.context("failed to sign the invoice link")?;
    Ok(order_body(event_type, &order, &invoice).to_string())
}

/// The SPEC §9 body of an order event. Amounts are those of the order
/// (positive); `isRefund` says which way the money went.
pub fn order_body(event_type: &str, order: &StoredOrder, invoice_url: &str) -> Value {
    let vats = order.vat_lines();
    // Orders are written completed in one step: created, validated and valued at once.
    let when = order.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "type": event_type,
        "orderID": order.order_number,
        "orderInternalID": order.id,
        "creationDate": when,
        "validationDate": when,
        "valueDate": when,
        "price": amount(order.total_amount),
        "currency": order.currency,
        "clientID": order.customer_id,
        "customer": order.customer,
        "cashBoxID": order.cash_box_id,
        "deliveryMethod": order.shipping_option,
        "paymentMethod": order.payment_option,
        "PDFinvoice": invoice_url,
        "items": order.lines.iter().map(|l| json!({
            "sku": l.sku, "name": l.name, "quantity": l.quantity, "unitPrice": amount(l.unit_price),
            "discount": amount(l.discount_amount), "price": amount(l.total_amount), "VATRate": amount(l.tax_rate),
        })).collect::<Vec<_>>(),
        "VATs": vats.iter().map(|v| json!({
            "rate": amount(v.rate), "base": amount(v.net), "amount": amount(v.vat),
        })).collect::<Vec<_>>(),
        "VAT": amount(vats.iter().map(|v| v.vat).sum()),
        "isRefund": order.is_refund,
    })
}
