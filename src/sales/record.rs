//! `POST /ws/v1/sales`: records a sale made elsewhere as a completed order,
//! through the same order-creation code as the worker (so both webhook events
//! go into the outbox in the order's transaction).

use actix_web::post;
use super::shops;
use crate::openapi::schemas as doc;
use crate::catalog::{self, Customer};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::money::{parse_cents, parse_json_number};
use crate::order_number::Bucket;
use crate::orders::{self, NewLine, NewOrder};
use crate::json_body::StrictJson;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const FIELDS: &[&str] = &[
    "shop_id", "key", "payment_method_id", "delivery_method_id", "user_id", "client_id", "client", "items", "date",
    "is_refund", "cash_box_id",
];
const MAX_ITEMS: usize = 500;
const MAX_QUANTITY: i64 = 100_000;
/// A recorded sale may be dated a little ahead, for clocks that drift.
const FUTURE_TOLERANCE_SECONDS: i64 = 300;

/// The source recorded on orders made through this service.
pub const SOURCE: &str = "sales_ws";

/// A validated sale, before catalog look-ups.
struct SaleRequest {
    payment_method: String,
    delivery_method: String,
    user_id: i64,
    client: ClientRef,
    items: Vec<ItemRequest>,
    date: Option<DateTime<Utc>>,
    is_refund: bool,
    cash_box_id: Option<String>,
}

enum ClientRef {
    Existing(String),
    New { name: String, email: Option<String>, phone: Option<String>, address: Option<Value> },
}

struct ItemRequest {
    sku: String,
    quantity: i32,
    price: Option<Decimal>,
}

/// A string or a whole number given as an identifier, as text.
fn reference(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::validation(format!("{field}: must be a non-empty string or a whole number"))),
    }
}

fn required_reference(obj: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    reference(obj, field)?.ok_or_else(|| ApiError::validation(format!("{field}: is required")))
}

fn optional_text(obj: &Map<String, Value>, field: &str, what: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= 512 => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ApiError::validation(format!("{what}: must be a string of at most 512 characters"))),
    }
}

fn parse(body: &Value) -> Result<SaleRequest, ApiError> {
    let obj = body.as_object().ok_or_else(|| ApiError::validation("body must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::validation(format!("{k}: unknown field (allowed: {})", FIELDS.join(", "))));
    }
    let user_id = required_reference(obj, "user_id")?
        .parse::<i64>()
        .map_err(|_| ApiError::validation("user_id: must be a whole number"))?;
    let client = match (reference(obj, "client_id")?, obj.get("client").filter(|c| !c.is_null())) {
        (Some(_), Some(_)) => return Err(ApiError::validation("client_id and client: give one, not both")),
        (Some(id), None) => ClientRef::Existing(id),
        (None, Some(Value::Object(c))) => {
            if let Some(k) = c.keys().find(|k| !["name", "email", "phone", "address"].contains(&k.as_str())) {
                return Err(ApiError::validation(format!("client.{k}: unknown field (allowed: name, email, phone, address)")));
            }
            let name = optional_text(c, "name", "client.name")?.ok_or_else(|| ApiError::validation("client.name: is required"))?;
            let email = optional_text(c, "email", "client.email")?;
            if email.as_deref().is_some_and(|e| !e.contains('@')) {
                return Err(ApiError::validation("client.email: must be an email address"));
            }
            let address = match c.get("address") {
                None | Some(Value::Null) => None,
                Some(a @ (Value::Object(_) | Value::String(_))) => Some(a.clone()),
                Some(_) => return Err(ApiError::validation("client.address: must be an object or a string")),
            };
            ClientRef::New { name, email, phone: optional_text(c, "phone", "client.phone")?, address }
        }
        (None, Some(_)) => return Err(ApiError::validation("client: must be an object {name, email, phone, address}")),
        (None, None) => return Err(ApiError::validation("client_id or client: one is required")),
    };
    let items = match obj.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ITEMS => items,
        _ => return Err(ApiError::validation(format!("items: must be a list of 1 to {MAX_ITEMS} items"))),
    };
    let items = items.iter().enumerate().map(|(i, item)| parse_item(i, item)).collect::<Result<Vec<_>, _>>()?;
    let date = match obj.get("date") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let max = Utc::now().timestamp() + FUTURE_TOLERANCE_SECONDS;
            let seconds = n.as_i64().filter(|s| (1..=max).contains(s));
            Some(
                seconds
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .ok_or_else(|| ApiError::validation("date: must be unix seconds, not in the future"))?,
            )
        }
        Some(_) => return Err(ApiError::validation("date: must be unix seconds (a whole number)")),
    };
    let is_refund = match obj.get("is_refund") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::validation("is_refund: must be true or false")),
    };
    Ok(SaleRequest {
        payment_method: required_reference(obj, "payment_method_id")?,
        delivery_method: required_reference(obj, "delivery_method_id")?,
        user_id,
        client,
        items,
        date,
        is_refund,
        cash_box_id: reference(obj, "cash_box_id")?,
    })
}

fn parse_item(i: usize, item: &Value) -> Result<ItemRequest, ApiError> {
    let obj = item.as_object().ok_or_else(|| ApiError::validation(format!("items[{i}]: must be an object")))?;
    if let Some(k) = obj.keys().find(|k| !["sku", "quantity", "price"].contains(&k.as_str())) {
        return Err(ApiError::validation(format!("items[{i}].{k}: unknown field (allowed: sku, quantity, price)")));
    }
    let sku = match obj.get("sku") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => s.trim().to_string(),
        _ => return Err(ApiError::validation(format!("items[{i}].sku: is required"))),
    };
    let quantity = obj
        .get("quantity")
        .and_then(Value::as_i64)
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or_else(|| ApiError::validation(format!("items[{i}].quantity: must be a whole number from 1 to {MAX_QUANTITY}")))?;
    let price = match obj.get("price") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_cents(s)),
        Some(Value::Number(n)) => Some(parse_json_number(&n.to_string()).filter(|v| v.normalize().scale() <= 2)),
        Some(_) => Some(None),
    }
    .map(|p| {
        p.filter(|v| *v >= Decimal::ZERO)
            .ok_or_else(|| ApiError::validation(format!("items[{i}].price: must be an amount like \"9.99\", at least 0")))
    })
    .transpose()?;
    Ok(ItemRequest { sku, quantity: quantity as i32, price })
}

/// `POST /ws/v1/sales` → `201 {"order_id", "order_internal_id"}`.
#[utoipa::path(operation_id = "recordSale", tag = "sales",
    params(("shop_id" = Option<String>, Query, description = "The shop (or in the body)"), ("key" = Option<String>, Query, description = "The shop key (or in the body)")),
    request_body(content = doc::SaleRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded as a completed order; both webhooks fire", body = doc::SaleAnswer),
        (status = 400, description = "Invalid sale; the message names the field", body = doc::ErrorBody),
        (status = 401, description = "shop_id or key missing", body = doc::ErrorBody),
        (status = 403, description = "Wrong key", body = doc::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = doc::ErrorBody),
    ))]
#[post("/ws/v1/sales")]
pub async fn record_sale(
    ctx: web::Data<AppContext>,
    query: web::Query<HashMap<String, String>>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).or_else(|| query.get(name).map(String::as_str));
    let shop = shops::authenticate(&ctx.db, field("shop_id"), field("key")).await?;
    let sale = parse(&body)?;

    let payment = catalog::payment_option_by_ref(&ctx.db, &sale.payment_method)
        .await?
        .ok_or_else(|| ApiError::validation(format!("payment_method_id: unknown payment method {:?}", sale.payment_method)))?;
    let delivery = catalog::shipping_option_by_ref(&ctx.db, &sale.delivery_method)
        .await?
        .ok_or_else(|| ApiError::validation(format!("delivery_method_id: unknown delivery method {:?}", sale.delivery_method)))?;
    let skus: Vec<String> = sale.items.iter().map(|i| i.sku.clone()).collect();
    let products = catalog::products_by_sku(&ctx.db, &skus).await?;
    let mut lines = Vec::with_capacity(sale.items.len());
    for (i, item) in sale.items.iter().enumerate() {
        let product = products
            .iter()
            .find(|p| p.sku == item.sku)
            .ok_or_else(|| ApiError::validation(format!("items[{i}].sku: unknown SKU {:?}", item.sku)))?;
        lines.push(NewLine {
            basket_item_id: i as i32 + 1,
            sku: product.sku.clone(),
            name: product.name.clone(),
            quantity: item.quantity,
            unit_price: item.price.unwrap_or(product.price),
            tax_rate: product.tax_rate,
            discount_amount: Decimal::ZERO,
        });
    }
    let currency = products.iter().find(|p| p.sku == sale.items[0].sku).map(|p| p.currency.clone()).unwrap_or_default();
    if let Some(p) = products.iter().find(|p| p.currency != currency) {
        return Err(ApiError::validation(format!("items: all items must be in one currency ({} is {}, not {currency})", p.sku, p.currency)));
    }

    let mut tx = ctx.db.begin().await?;
    let (customer_id, customer) = match &sale.client {
        ClientRef::Existing(id) => {
            let c = catalog::customer(&mut *tx, id)
                .await?
                .ok_or_else(|| ApiError::validation(format!("client_id: unknown client {id:?}")))?;
            (c.id.clone(), c)
        }
        ClientRef::New { name, email, phone, address } => {
            let c = Customer {
                id: format!("C-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
                name: name.clone(),
                email: email.clone(),
                phone: phone.clone(),
                address: address.clone(),
            };
            catalog::insert_customer(&mut *tx, &c).await?;
            (c.id.clone(), c)
        }
    };
    let mut order = NewOrder {
        // A sale recorded here has no checkout session: any bucket will do.
        order_number: orders::next_order_number(&mut *tx, Bucket::random()).await?.to_string(),
        source: SOURCE.to_string(),
        shop_id: Some(shop.shop_id.clone()),
        store_id: Some(shop.shop_id.clone()),
        customer_id: Some(customer_id),
        customer: Some(json!(customer)),
        currency,
        lines,
        payment_option: Some(json!(payment)),
        shipping_option: Some(json!({"id": delivery.id, "slug": delivery.slug, "name": delivery.name})),
        staff_id: Some(sale.user_id),
        cash_box_id: sale.cash_box_id,
        is_refund: sale.is_refund,
        created_at: sale.date,
        ..NewOrder::default()
    };
    // Recorded sales are paid in full elsewhere: the order is created completed.
    order.paid_amount = order.total_amount();
    let id = orders::insert(&mut tx, &order, &crate::webhooks::endpoint_urls(&ctx))
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("order number {} drawn twice", order.order_number)))?;
    tx.commit().await?;
    log::info!("shop {} recorded sale {} (order {id})", shop.shop_id, order.order_number);
    Ok(HttpResponse::Created().json(json!({"order_id": order.order_number, "order_internal_id": id})))
}
