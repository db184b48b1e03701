//! `POST /ws/v1/sales`: records a sale made elsewhere as a completed order,
//! through the same order-creation code as the worker (so both webhook events
//! go into the outbox in the order's transaction).

use super::shops;
use crate::catalog::{self, Customer};
use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::json_body::{from_value, StrictJson};
use crate::money::Price;
use crate::order_number::Bucket;
use crate::orders::{self, NewLine, NewOrder};
use actix_web::post;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

const MAX_ITEMS: usize = 500;
const MAX_QUANTITY: i64 = 100_000;
/// A recorded sale may be dated a little ahead, for clocks that drift.
const FUTURE_TOLERANCE_SECONDS: i64 = 300;

/// The source recorded on orders made through this service.
pub const SOURCE: &str = "sales_ws";

/// `POST /ws/v1/sales` (SPEC §9).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shop_id": "IST-01", "key": "cdk_shop_…", "payment_method_id": "cash-register", "delivery_method_id": "pickup",
    "user_id": 17, "client": {"name": "Ada Lovelace", "email": "ada@example.com"}, "items": [{"sku": "SKU-1", "quantity": 2}]}))]
pub struct SaleWrite {
    /// The shop (or in the query).
    pub shop_id: Option<String>,
    /// The shop key (or in the query).
    pub key: Option<String>,
    /// Slug or id of a payment option.
    pub payment_method_id: Reference,
    /// Slug or id of a shipping option.
    pub delivery_method_id: Reference,
    /// The staff member who sold, a whole number.
    pub user_id: Reference,
    /// An existing customer; or give `client` instead.
    pub client_id: Option<Reference>,
    /// A new customer.
    pub client: Option<ClientWrite>,
    /// 1 to 500 items.
    pub items: Vec<SaleItemWrite>,
    /// Unix seconds, not in the future; default now.
    pub date: Option<i64>,
    #[serde(default)]
    pub is_refund: Option<bool>,
    pub cash_box_id: Option<Reference>,
}

/// An identifier sent as a non-empty string (at most 128 characters) or a whole number.
#[derive(Clone, Debug)]
pub struct Reference(String);

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(deserializer)? {
            Value::String(s) if !s.trim().is_empty() && s.len() <= 128 => Ok(Reference(s.trim().to_string())),
            Value::Number(n) if n.as_u64().is_some() => Ok(Reference(n.to_string())),
            _ => Err(D::Error::custom("must be a non-empty string or a whole number")),
        }
    }
}

impl utoipa::PartialSchema for Reference {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(128)))
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .into()
    }
}

impl ToSchema for Reference {}

/// A new customer of a recorded sale.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientWrite {
    /// Required.
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// An object or a string.
    pub address: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleItemWrite {
    #[schema(min_length = 1, max_length = 128)]
    pub sku: String,
    /// A whole number from 1 to 100000.
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: i64,
    /// The unit price actually charged; default the catalog's.
    pub price: Option<Price>,
}

/// What a sale recorded.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"order_id": "0000022087", "order_internal_id": 2}))]
pub struct SaleRecorded {
    /// The order number.
    pub order_id: String,
    pub order_internal_id: i64,
}

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

/// Optional text: blank is absent, else at most 512 characters.
fn optional_text(value: Option<String>, what: &str) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) if s.len() <= 512 => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ApiError::validation(format!("{what}: must be a string of at most 512 characters"))),
    }
}

fn validate(sale: SaleWrite) -> Result<SaleRequest, ApiError> {
    let user_id = sale.user_id.0.parse::<i64>().map_err(|_| ApiError::validation("user_id: must be a whole number"))?;
    let client = match (sale.client_id, sale.client) {
        (Some(_), Some(_)) => return Err(ApiError::validation("client_id and client: give one, not both")),
        (Some(id), None) => ClientRef::Existing(id.0),
        (None, Some(c)) => {
            let name = optional_text(c.name, "client.name")?
                .ok_or_else(|| ApiError::validation("client.name: is required"))?;
            let email = optional_text(c.email, "client.email")?;
            if email.as_deref().is_some_and(|e| !e.contains('@')) {
                return Err(ApiError::validation("client.email: must be an email address"));
            }
            let address = match c.address {
                None | Some(Value::Null) => None,
                Some(a @ (Value::Object(_) | Value::String(_))) => Some(a),
                Some(_) => return Err(ApiError::validation("client.address: must be an object or a string")),
            };
            ClientRef::New { name, email, phone: optional_text(c.phone, "client.phone")?, address }
        }
        (None, None) => return Err(ApiError::validation("client_id or client: one is required")),
    };
    if sale.items.is_empty() || sale.items.len() > MAX_ITEMS {
        return Err(ApiError::validation(format!("items: must be a list of 1 to {MAX_ITEMS} items")));
    }
    let items = sale
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let sku = item.sku.trim().to_string();
            if sku.is_empty() || sku.len() > 128 {
                return Err(ApiError::validation(format!("items[{i}].sku: is required")));
            }
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                return Err(ApiError::validation(format!(
                    "items[{i}].quantity: must be a whole number from 1 to {MAX_QUANTITY}"
                )));
            }
            Ok(ItemRequest { sku, quantity: item.quantity as i32, price: item.price.map(|p| p.0) })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let date = match sale.date {
        None => None,
        Some(seconds) => {
            let max = Utc::now().timestamp() + FUTURE_TOLERANCE_SECONDS;
            Some(
                Some(seconds)
                    .filter(|s| (1..=max).contains(s))
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .ok_or_else(|| ApiError::validation("date: must be unix seconds, not in the future"))?,
            )
        }
    };
    Ok(SaleRequest {
        payment_method: sale.payment_method_id.0,
        delivery_method: sale.delivery_method_id.0,
        user_id,
        client,
        items,
        date,
        is_refund: sale.is_refund.unwrap_or(false),
        cash_box_id: sale.cash_box_id.map(|r| r.0),
    })
}

/// `POST /ws/v1/sales` → `201 {"order_id", "order_internal_id"}`.
#[utoipa::path(operation_id = "recordSale", tag = "sales",
    params(("shop_id" = Option<String>, Query, description = "The shop (or in the body)"), ("key" = Option<String>, Query, description = "The shop key (or in the body)")),
    request_body = SaleWrite,
    responses(
        (status = 201, description = "Recorded as a completed order; both webhooks fire", body = SaleRecorded),
        (status = 400, description = "Invalid sale; the message names the field", body = ErrorBody),
        (status = 401, description = "shop_id or key missing", body = ErrorBody),
        (status = 403, description = "Wrong key", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    ))]
#[post("/ws/v1/sales")]
pub async fn record_sale(
    ctx: web::Data<AppContext>,
    query: web::Query<HashMap<String, String>>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    // The shop is known before the sale is read: a caller with a wrong key learns nothing of the body's rules.
    let field = |name: &str| body.get(name).and_then(Value::as_str).or_else(|| query.get(name).map(String::as_str));
    let shop = shops::authenticate(&ctx.db, field("shop_id"), field("key")).await?;
    let sale = validate(from_value::<SaleWrite>(body.0)?)?;

    let payment = catalog::payment_option_by_ref(&ctx.db, &sale.payment_method).await?.ok_or_else(|| {
        ApiError::validation(format!("payment_method_id: unknown payment method {:?}", sale.payment_method))
    })?;
    let delivery = catalog::shipping_option_by_ref(&ctx.db, &sale.delivery_method).await?.ok_or_else(|| {
        ApiError::validation(format!("delivery_method_id: unknown delivery method {:?}", sale.delivery_method))
    })?;
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
        return Err(ApiError::validation(format!(
            "items: all items must be in one currency ({} is {}, not {currency})",
            p.sku, p.currency
        )));
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
    Ok(HttpResponse::Created().json(SaleRecorded { order_id: order.order_number, order_internal_id: id }))
}
