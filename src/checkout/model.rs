//! A checkout session: the basket and the choices that make its pre-order,
//! and the rendering of the `pre_order` document clients see (SPEC §4).

use crate::catalog::{Bank, Card, PaymentOption, Product, ShippingOption};
use crate::fields::FreeObject;
use crate::money::fmt2;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Currency shown for a basket with no lines yet.
pub const DEFAULT_CURRENCY: &str = "TRY";

/// One basket line, with the product as it was when the line was priced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub id: i64,
    pub product: Product,
    pub quantity: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

impl Line {
    pub fn price(&self) -> Decimal {
        self.unit_price * Decimal::from(self.quantity)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Staff {
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Installment {
    pub card: Card,
    pub installment_count: i32,
}

/// The whole state of one checkout session (stored in Redis as `state`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub basket_id: String,
    pub lines: Vec<Line>,
    /// Basket item ids are never reused within a session.
    pub next_item_id: i64,
    pub shipping_address: Value,
    pub billing_address: Value,
    pub shipping_option: Option<ShippingOption>,
    pub payment_option: Option<PaymentOption>,
    pub installment: Option<Installment>,
    pub staff: Staff,
}

impl Session {
    pub fn new() -> Self {
        Session {
            id: uuid::Uuid::new_v4().simple().to_string(),
            basket_id: uuid::Uuid::new_v4().simple().to_string(),
            lines: Vec::new(),
            next_item_id: 1,
            shipping_address: Value::Null,
            billing_address: Value::Null,
            shipping_option: None,
            payment_option: None,
            installment: None,
            staff: Staff::default(),
        }
    }

    pub fn currency(&self) -> &str {
        self.lines.first().map_or(DEFAULT_CURRENCY, |l| l.product.currency.as_str())
    }

    pub fn basket_total(&self) -> Decimal {
        self.lines.iter().map(Line::price).sum()
    }

    pub fn shipping_amount(&self) -> Decimal {
        self.shipping_option.as_ref().map_or(Decimal::ZERO, |s| s.price)
    }

    pub fn total_amount(&self) -> Decimal {
        self.basket_total() + self.shipping_amount()
    }

    /// What remains to pay; no part payments exist before the order is paid.
    pub fn unpaid_amount(&self) -> Decimal {
        self.total_amount()
    }

    pub fn payment_type(&self) -> &str {
        self.payment_option.as_ref().map_or("", |p| p.payment_type.as_str())
    }

    /// A digest of the basket's contents (lines, quantities, unit prices,
    /// discounts): equal digests mean the basket did not change.
    pub fn basket_fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.basket_id.as_bytes());
        for line in &self.lines {
            hasher.update(
                format!("|{}:{}:{}:{}", line.id, line.product.sku, line.quantity, line.unit_price.normalize())
                    .as_bytes(),
            );
        }
        hex::encode(&hasher.finalize()[..16])
    }

    /// The `pre_order` document (SPEC §4).
    pub fn pre_order(&self) -> PreOrder {
        let basketitem_set = self
            .lines
            .iter()
            .map(|line| {
                let p = &line.product;
                BasketItemView {
                    id: line.id,
                    product: ProductView {
                        pk: p.pk,
                        sku: p.sku.clone(),
                        name: p.name.clone(),
                        base_code: p.base_code.clone(),
                        price: fmt2(p.price),
                        department: p.department.clone(),
                        attributes: p.attributes.clone(),
                    },
                    quantity: line.quantity,
                    unit_price: fmt2(line.unit_price),
                    price: fmt2(line.price()),
                    tax_rate: fmt2(p.tax_rate),
                    currency_type: p.currency.to_lowercase(),
                    discount_amount: fmt2(Decimal::ZERO),
                    total_amount: fmt2(line.price()),
                }
            })
            .collect();
        let address = |value: &Value| match value {
            Value::Object(map) => Some(FreeObject(map.clone())),
            _ => None,
        };
        PreOrder {
            basket: BasketView {
                id: self.basket_id.clone(),
                basketitem_set,
                discounts: Vec::new(),
                total_quantity: self.lines.iter().map(|l| l.quantity).sum(),
                total_product_amount: fmt2(self.basket_total()),
                total_discount_amount: fmt2(Decimal::ZERO),
                total_amount: fmt2(self.basket_total()),
            },
            shipping_address: address(&self.shipping_address),
            billing_address: address(&self.billing_address),
            payment_option: self.payment_option.clone(),
            shipping_option: self.shipping_option.as_ref().map(|s| ShippingOptionView {
                id: s.id,
                name: s.name.clone(),
                slug: s.slug.clone(),
                price: fmt2(s.price),
            }),
            installment: self
                .installment
                .as_ref()
                .map(|i| InstallmentView { card: CardView::of(&i.card), installment_count: i.installment_count }),
            shipping_amount: fmt2(self.shipping_amount()),
            total_amount: fmt2(self.total_amount()),
            unpaid_amount: fmt2(self.unpaid_amount()),
            currency_type_label: self.currency().to_string(),
            staff_id: self.staff.staff_id,
            staff_email: self.staff.staff_email.clone(),
            store_id: self.staff.store_id.clone(),
        }
    }

    /// The IVR pre_order fields, rendered once when the session is written so
    /// the IVR hook can splice them: `"productlist":[…],"orderprice":…`.
    pub fn ivr_fragment(&self) -> String {
        let products: Vec<String> = self
            .lines
            .iter()
            .map(|l| {
                format!(
                    r#"{{"sku":{},"name":{},"quantity":{},"price":{}}}"#,
                    Value::from(l.product.sku.as_str()),
                    Value::from(l.product.name.as_str()),
                    l.quantity,
                    fmt2(l.price())
                )
            })
            .collect();
        format!(r#""productlist":[{}],"orderprice":{}"#, products.join(","), fmt2(self.total_amount()))
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// The `pre_order` document of SPEC §4, the same wherever it appears
/// (checkout answers, the cash register hook, payment snapshots). Amounts
/// are decimal strings with two places.
#[derive(Serialize, ToSchema)]
pub struct PreOrder {
    pub basket: BasketView,
    pub shipping_address: Option<FreeObject>,
    pub billing_address: Option<FreeObject>,
    pub payment_option: Option<PaymentOption>,
    pub shipping_option: Option<ShippingOptionView>,
    pub installment: Option<InstallmentView>,
    #[schema(example = "0.00")]
    pub shipping_amount: String,
    /// Basket total plus shipping.
    #[schema(example = "199.98")]
    pub total_amount: String,
    /// What remains to pay.
    #[schema(example = "199.98")]
    pub unpaid_amount: String,
    /// The basket's currency code, e.g. `TRY`.
    pub currency_type_label: String,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BasketView {
    pub id: String,
    pub basketitem_set: Vec<BasketItemView>,
    /// Basket-level discounts (none are applied by cashdesk).
    pub discounts: Vec<FreeObject>,
    pub total_quantity: i64,
    pub total_product_amount: String,
    pub total_discount_amount: String,
    pub total_amount: String,
}

/// One basket line; `id` is what POS promotions name in `affected_basket_items`.
#[derive(Serialize, ToSchema)]
pub struct BasketItemView {
    pub id: i64,
    pub product: ProductView,
    pub quantity: i64,
    pub unit_price: String,
    pub price: String,
    pub tax_rate: String,
    /// The currency code in lower case, e.g. `try`.
    pub currency_type: String,
    pub discount_amount: String,
    pub total_amount: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProductView {
    pub pk: i64,
    pub sku: String,
    pub name: String,
    pub base_code: Option<String>,
    pub price: String,
    pub department: Option<String>,
    pub attributes: Value,
}

#[derive(Serialize, ToSchema)]
pub struct ShippingOptionView {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub price: String,
}

#[derive(Serialize, ToSchema)]
pub struct InstallmentView {
    pub card: CardView,
    pub installment_count: i32,
}

/// The card of an installment (also the cash register pre_order's `card`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"card_payment_type": "credit", "name": "Bonus Card", "slug": "bonus", "bank": {"name": "Garanti", "slug": "garanti"}}))]
pub struct CardView {
    pub card_payment_type: String,
    pub name: String,
    pub slug: String,
    pub bank: Bank,
}

impl CardView {
    pub fn of(card: &Card) -> Self {
        CardView {
            card_payment_type: card.card_payment_type.clone(),
            name: card.name.clone(),
            slug: card.slug.clone(),
            bank: card.bank.clone(),
        }
    }
}
