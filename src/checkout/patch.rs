//! Applying a `PATCH /api/v1/checkout/` body to a session.

use super::model::{Installment, Line, Session, Staff};
use crate::catalog;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::fields::{nullable, FreeObject, Slug};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Most lines one basket may hold.
pub const MAX_LINES: usize = 200;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 9999;

/// `PATCH /api/v1/checkout/`: any subset of the fields; a field sent as null
/// clears it (the basket's empty list empties it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 2}]}, "payment_option": "cash-register",
    "shipping_option": "pickup", "staff": {"staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}))]
pub struct CheckoutPatch {
    /// Replaces the basket's contents, priced from the catalog now.
    pub basket: Option<BasketWrite>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FreeObject>)]
    pub shipping_address: Option<Option<FreeObject>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FreeObject>)]
    pub billing_address: Option<Option<FreeObject>>,
    /// The slug of a shipping option.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Slug>)]
    pub shipping_option: Option<Option<Slug>>,
    /// The slug of a payment option.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Slug>)]
    pub payment_option: Option<Option<Slug>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<InstallmentWrite>)]
    pub installment: Option<Option<InstallmentWrite>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<StaffWrite>)]
    pub staff: Option<Option<StaffWrite>>,
}

/// The basket's new contents; an SKU listed twice adds up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketWrite {
    /// At most 200 lines.
    pub items: Vec<BasketItemWrite>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketItemWrite {
    #[schema(min_length = 1)]
    pub sku: String,
    /// A whole number from 1 to 9999.
    #[schema(minimum = 1, maximum = 9999)]
    pub quantity: i64,
}

/// Installments on a card the catalog offers.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallmentWrite {
    /// The slug of a card.
    pub card: Slug,
    /// One of the card's `installment_counts`.
    pub installment_count: i32,
}

/// Who serves the customer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffWrite {
    pub staff_id: Option<i64>,
    #[schema(max_length = 254)]
    pub staff_email: Option<String>,
    #[schema(max_length = 254)]
    pub store_id: Option<String>,
}

/// Applies every field present in `patch` to `session`, or none of them.
pub async fn apply(ctx: &AppContext, session: &mut Session, patch: &CheckoutPatch) -> Result<(), ApiError> {
    let mut next = session.clone();
    if let Some(basket) = &patch.basket {
        replace_basket(ctx, &mut next, basket).await?;
    }
    for (field, slot) in
        [(&patch.shipping_address, &mut next.shipping_address), (&patch.billing_address, &mut next.billing_address)]
    {
        if let Some(address) = field {
            *slot = address.as_ref().map_or(Value::Null, |a| Value::Object(a.0.clone()));
        }
    }
    if let Some(slug) = &patch.shipping_option {
        next.shipping_option = match slug {
            None => None,
            Some(s) => Some(
                catalog::shipping_option(&ctx.db, s)
                    .await?
                    .ok_or_else(|| ApiError::validation(format!("shipping_option: unknown slug {:?}", &**s)))?,
            ),
        };
    }
    if let Some(slug) = &patch.payment_option {
        next.payment_option = match slug {
            None => None,
            Some(s) => Some(
                catalog::payment_option(&ctx.db, s)
                    .await?
                    .ok_or_else(|| ApiError::validation(format!("payment_option: unknown slug {:?}", &**s)))?,
            ),
        };
    }
    if let Some(installment) = &patch.installment {
        next.installment = match installment {
            None => None,
            Some(i) => Some(chosen_installment(ctx, i).await?),
        };
    }
    if let Some(staff) = &patch.staff {
        next.staff = match staff {
            None => Staff::default(),
            Some(s) => staff_of(s)?,
        };
    }
    *session = next;
    Ok(())
}

/// Replaces the basket's lines, pricing them from the catalog now. A SKU that
/// was already in the basket keeps its basket item id.
async fn replace_basket(ctx: &AppContext, session: &mut Session, basket: &BasketWrite) -> Result<(), ApiError> {
    if basket.items.len() > MAX_LINES {
        return Err(ApiError::validation(format!("basket.items: at most {MAX_LINES} lines")));
    }
    // SKU → quantity, in first-seen order; repeated SKUs add up.
    let mut wanted: Vec<(String, i64)> = Vec::with_capacity(basket.items.len());
    for (i, item) in basket.items.iter().enumerate() {
        if item.sku.is_empty() {
            return Err(ApiError::validation(format!("basket.items[{i}].sku must be a non-empty string")));
        }
        if !(1..=MAX_QUANTITY).contains(&item.quantity) {
            return Err(ApiError::validation(format!(
                "basket.items[{i}].quantity must be a whole number from 1 to {MAX_QUANTITY}"
            )));
        }
        match wanted.iter_mut().find(|(s, _)| *s == item.sku) {
            Some((_, q)) if *q + item.quantity <= MAX_QUANTITY => *q += item.quantity,
            Some(_) => {
                return Err(ApiError::validation(format!("basket: quantity of {:?} above {MAX_QUANTITY}", item.sku)))
            }
            None => wanted.push((item.sku.clone(), item.quantity)),
        }
    }
    let skus: Vec<String> = wanted.iter().map(|(s, _)| s.clone()).collect();
    let products: HashMap<String, catalog::Product> =
        catalog::products_by_sku(&ctx.db, &skus).await?.into_iter().map(|p| (p.sku.clone(), p)).collect();
    let mut lines = Vec::with_capacity(wanted.len());
    for (sku, quantity) in wanted {
        let product =
            products.get(&sku).cloned().ok_or_else(|| ApiError::validation(format!("basket: unknown SKU {sku:?}")))?;
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

async fn chosen_installment(ctx: &AppContext, chosen: &InstallmentWrite) -> Result<Installment, ApiError> {
    let (card_slug, count) = (&*chosen.card, chosen.installment_count);
    let card = catalog::card(&ctx.db, card_slug)
        .await?
        .ok_or_else(|| ApiError::validation(format!("installment.card: unknown slug {card_slug:?}")))?;
    if !card.installment_counts.contains(&count) {
        return Err(ApiError::validation(format!(
            "installment.installment_count: card {card_slug:?} offers {:?}",
            card.installment_counts
        )));
    }
    Ok(Installment { card, installment_count: count })
}

fn staff_of(staff: &StaffWrite) -> Result<Staff, ApiError> {
    for (field, value) in [("staff_email", &staff.staff_email), ("store_id", &staff.store_id)] {
        if value.as_ref().is_some_and(|v| v.len() > 254) {
            return Err(ApiError::validation(format!(
                "staff.{field} must be a string of at most 254 characters or null"
            )));
        }
    }
    Ok(Staff { staff_id: staff.staff_id, staff_email: staff.staff_email.clone(), store_id: staff.store_id.clone() })
}
