//! Applying a `PATCH /api/v1/checkout/` body to a session.

use super::model::{Installment, Line, Session, Staff};
use crate::catalog;
use crate::context::AppContext;
use crate::error::ApiError;
use serde_json::{Map, Value};
use std::collections::HashMap;

const FIELDS: &[&str] =
    &["basket", "shipping_address", "billing_address", "shipping_option", "payment_option", "installment", "staff"];

/// Most lines one basket may hold.
pub const MAX_LINES: usize = 200;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 9999;

/// Applies every field present in `body` to `session`, or none of them.
pub async fn apply(ctx: &AppContext, session: &mut Session, body: &Value) -> Result<(), ApiError> {
    let body = body.as_object().ok_or_else(|| ApiError::validation("body must be a JSON object"))?;
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::validation(format!("unknown field {unknown:?} (allowed: {})", FIELDS.join(", "))));
    }
    let mut next = session.clone();
    if let Some(basket) = body.get("basket") {
        replace_basket(ctx, &mut next, basket).await?;
    }
    for (field, slot) in [("shipping_address", &mut next.shipping_address), ("billing_address", &mut next.billing_address)] {
        match body.get(field) {
            None => {}
            Some(v @ (Value::Object(_) | Value::Null)) => *slot = v.clone(),
            Some(_) => return Err(ApiError::validation(format!("{field} must be an object or null"))),
        }
    }
    if let Some(v) = body.get("shipping_option") {
        next.shipping_option = match slug(v, "shipping_option")? {
            None => None,
            Some(s) => Some(
                catalog::shipping_option(&ctx.db, s)
                    .await?
                    .ok_or_else(|| ApiError::validation(format!("shipping_option: unknown slug {s:?}")))?,
            ),
        };
    }
    if let Some(v) = body.get("payment_option") {
        next.payment_option = match slug(v, "payment_option")? {
            None => None,
            Some(s) => Some(
                catalog::payment_option(&ctx.db, s)
                    .await?
                    .ok_or_else(|| ApiError::validation(format!("payment_option: unknown slug {s:?}")))?,
            ),
        };
    }
    if let Some(v) = body.get("installment") {
        next.installment = installment(ctx, v).await?;
    }
    if let Some(v) = body.get("staff") {
        next.staff = staff(v)?;
    }
    *session = next;
    Ok(())
}

fn slug<'a>(value: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if !s.is_empty() && s.len() <= 128 => Ok(Some(s)),
        _ => Err(ApiError::validation(format!("{field} must be a slug string or null"))),
    }
}

/// Replaces the basket's lines, pricing them from the catalog now. A SKU that
/// was already in the basket keeps its basket item id.
async fn replace_basket(ctx: &AppContext, session: &mut Session, basket: &Value) -> Result<(), ApiError> {
    let items = basket
        .as_object()
        .and_then(|b| b.get("items"))
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::validation("basket must be {\"items\": [{\"sku\", \"quantity\"}, ...]}"))?;
    if items.len() > MAX_LINES {
        return Err(ApiError::validation(format!("basket.items: at most {MAX_LINES} lines")));
    }
    // SKU → quantity, in first-seen order; repeated SKUs add up.
    let mut wanted: Vec<(String, i64)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item = item.as_object().ok_or_else(|| ApiError::validation(format!("basket.items[{i}] must be an object")))?;
        let sku = match item.get("sku") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(ApiError::validation(format!("basket.items[{i}].sku must be a non-empty string"))),
        };
        let quantity = item
            .get("quantity")
            .and_then(Value::as_i64)
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| {
                ApiError::validation(format!("basket.items[{i}].quantity must be a whole number from 1 to {MAX_QUANTITY}"))
            })?;
        match wanted.iter_mut().find(|(s, _)| *s == sku) {
            Some((_, q)) if *q + quantity <= MAX_QUANTITY => *q += quantity,
            Some(_) => return Err(ApiError::validation(format!("basket: quantity of {sku:?} above {MAX_QUANTITY}"))),
            None => wanted.push((sku, quantity)),
        }
    }
    let skus: Vec<String> = wanted.iter().map(|(s, _)| s.clone()).collect();
    let products: HashMap<String, catalog::Product> =
        catalog::products_by_sku(&ctx.db, &skus).await?.into_iter().map(|p| (p.sku.clone(), p)).collect();
    let mut lines = Vec::with_capacity(wanted.len());
    for (sku, quantity) in wanted {
        let product = products
            .get(&sku)
            .cloned()
            .ok_or_else(|| ApiError::validation(format!("basket: unknown SKU {sku:?}")))?;
        let id = match session.lines.iter().find(|l| l.product.sku == sku) {
            Some(existing) => existing.id,
            None => {
                session.next_item_id += 1;
                session.next_item_id - 1
            }
        };
        lines.push(Line { id, unit_price: product.price, product, quantity });
    }
    if let Some(first) = lines.first() {
        if let Some(other) = lines.iter().find(|l| l.product.currency != first.product.currency) {
            return Err(ApiError::validation(format!(
                "basket: a basket holds products of one currency ({} is {}, {} is {})",
                first.product.sku, first.product.currency, other.product.sku, other.product.currency
            )));
        }
    }
    session.lines = lines;
    Ok(())
}

async fn installment(ctx: &AppContext, value: &Value) -> Result<Option<Installment>, ApiError> {
    let obj: &Map<String, Value> = match value {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(ApiError::validation("installment must be {\"card\", \"installment_count\"} or null")),
    };
    let card_slug = slug(obj.get("card").unwrap_or(&Value::Null), "installment.card")?
        .ok_or_else(|| ApiError::validation("installment.card is required"))?;
    let count = obj
        .get("installment_count")
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .ok_or_else(|| ApiError::validation("installment.installment_count must be a whole number"))?;
    let card = catalog::card(&ctx.db, card_slug)
        .await?
        .ok_or_else(|| ApiError::validation(format!("installment.card: unknown slug {card_slug:?}")))?;
    if !card.installment_counts.contains(&count) {
        return Err(ApiError::validation(format!(
            "installment.installment_count: card {card_slug:?} offers {:?}",
            card.installment_counts
        )));
    }
    Ok(Some(Installment { card, installment_count: count }))
}

fn staff(value: &Value) -> Result<Staff, ApiError> {
    let obj = match value {
        Value::Null => return Ok(Staff::default()),
        Value::Object(o) => o,
        _ => return Err(ApiError::validation("staff must be an object or null")),
    };
    if let Some(unknown) = obj.keys().find(|k| !["staff_id", "staff_email", "store_id"].contains(&k.as_str())) {
        return Err(ApiError::validation(format!("staff: unknown field {unknown:?}")));
    }
    let text = |field: &str| match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= 254 => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(format!("staff.{field} must be a string or null"))),
    };
    let staff_id = match obj.get("staff_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| ApiError::validation("staff.staff_id must be a whole number"))?),
    };
    Ok(Staff { staff_id, staff_email: text("staff_email")?, store_id: text("store_id")? })
}
