//! A checkout session: the basket and the choices that make its pre-order,
//! and the rendering of the `pre_order` document clients see (SPEC §4).

use crate::catalog::{Card, PaymentOption, Product, ShippingOption};
use crate::money::fmt2;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
                format!("|{}:{}:{}:{}", line.id, line.product.sku, line.quantity, line.unit_price.normalize()).as_bytes(),
            );
        }
        hex::encode(&hasher.finalize()[..16])
    }

    /// The `pre_order` document (SPEC §4).
    pub fn pre_order(&self) -> Value {
        let currency = self.currency();
        let items: Vec<Value> = self
            .lines
            .iter()
            .map(|line| {
                let p = &line.product;
                json!({
                    "id": line.id,
                    "product": {
                        "pk": p.pk, "sku": p.sku, "name": p.name, "base_code": p.base_code,
                        "price": fmt2(p.price), "department": p.department, "attributes": p.attributes,
                    },
                    "quantity": line.quantity,
                    "unit_price": fmt2(line.unit_price),
                    "price": fmt2(line.price()),
                    "tax_rate": fmt2(p.tax_rate),
                    "currency_type": p.currency.to_lowercase(),
                    "discount_amount": "0.00",
                    "total_amount": fmt2(line.price()),
                })
            })
            .collect();
        json!({
            "basket": {
                "id": self.basket_id,
                "basketitem_set": items,
                "discounts": [],
                "total_quantity": self.lines.iter().map(|l| l.quantity).sum::<i64>(),
                "total_product_amount": fmt2(self.basket_total()),
                "total_discount_amount": "0.00",
                "total_amount": fmt2(self.basket_total()),
            },
            "shipping_address": self.shipping_address,
            "billing_address": self.billing_address,
            "payment_option": self.payment_option,
            "shipping_option": self.shipping_option.as_ref().map(|s| json!({
                "id": s.id, "name": s.name, "slug": s.slug, "price": fmt2(s.price),
            })),
            "installment": self.installment.as_ref().map(|i| json!({
                "card": card_json(&i.card), "installment_count": i.installment_count,
            })),
            "shipping_amount": fmt2(self.shipping_amount()),
            "total_amount": fmt2(self.total_amount()),
            "unpaid_amount": fmt2(self.unpaid_amount()),
            "currency_type_label": currency,
            "staff_id": self.staff.staff_id,
            "staff_email": self.staff.staff_email,
            "store_id": self.staff.store_id,
        })
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

/// The `card` object of the cash register pre_order answer.
pub fn card_json(card: &Card) -> Value {
    json!({
        "card_payment_type": card.card_payment_type,
        "name": card.name,
        "slug": card.slug,
        "bank": {"name": card.bank.name, "slug": card.bank.slug},
    })
}
