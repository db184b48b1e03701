//! `cashdesk seed-demo`: a small catalog, options and hook credentials so a
//! newcomer can walk through the till flow at once. Idempotent: running it
//! again changes nothing an operator set.

use crate::catalog::{upsert, Bank, Card, Product};
use crate::context::AppContext;
use crate::money::dec;
use crate::settings::{self, CASH_REGISTER_AUTH_CONF};
use anyhow::Context;
use serde_json::json;

/// The demo cash register credentials (documented in the README).
pub const DEMO_USERNAME: &str = "cashier01";
pub const DEMO_PASSWORD: &str = "demo-secret";

pub async fn seed(ctx: &AppContext) -> anyhow::Result<()> {
    let db = &ctx.db;
    for (code, name) in [("men", "Men"), ("women", "Women"), ("home", "Home")] {
        upsert::department(db, code, name).await.context("failed to seed departments")?;
    }
    let products = [
        ("SKU-1", "Shirt", "99.99", "men", "SHIRT"),
        ("SKU-2", "Jeans", "189.99", "men", "JEANS"),
        ("SKU-3", "Dress", "249.50", "women", "DRESS"),
        ("SKU-4", "Scarf", "39.90", "women", "SCARF"),
        ("SKU-5", "Mug", "12.00", "home", "MUG"),
    ];
    for (sku, name, price, department, base_code) in products {
        let product = Product {
            pk: 0,
            sku: sku.into(),
            name: name.into(),
            price: dec(price),
            currency: "TRY".into(),
            tax_rate: dec("20.00"),
            department: Some(department.into()),
            base_code: Some(base_code.into()),
            attributes: json!({}),
        };
        upsert::product(db, &product).await.context("failed to seed products")?;
    }
    for (slug, name, kind) in [
        ("cash-register", "Pay at store", "cash_register"),
        ("credit-card", "Credit card", "credit_card"),
        ("pay-on-delivery", "Pay on delivery", "pay_on_delivery"),
    ] {
        upsert::payment_option(db, slug, name, kind).await.context("failed to seed payment options")?;
    }
    for (slug, name, price) in [("pickup", "Store pickup", "0.00"), ("courier", "Courier", "29.99")] {
        upsert::shipping_option(db, slug, name, dec(price)).await.context("failed to seed shipping options")?;
    }
    let card = Card {
        card_payment_type: "credit".into(),
        name: "Bonus Card".into(),
        slug: "bonus".into(),
        bank: Bank { name: "Garanti".into(), slug: "garanti".into() },
        installment_counts: vec![1, 3, 6],
    };
    upsert::card(db, &card).await.context("failed to seed cards")?;
    sqlx::query!(
        "INSERT INTO customers (id, name, email, phone) VALUES ('C-1', 'Ada Lovelace', 'ada@example.com', '+905550000000')
         ON CONFLICT (id) DO NOTHING",
    )
    .execute(db)
    .await
    .context("failed to seed customers")?;

    if settings::get(db, CASH_REGISTER_AUTH_CONF).await?.is_none() {
        let value = json!({
            "credentials": [{"username": DEMO_USERNAME, "password": DEMO_PASSWORD}],
            "installment_enabled": false,
            "shipping_sku": "SHIP-01",
        });
        settings::set(db, CASH_REGISTER_AUTH_CONF, &value, "seed-demo").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut redis = ctx.redis();
        settings::notify_change(&mut redis, &ctx.keys, CASH_REGISTER_AUTH_CONF).await;
    }
    Ok(())
}
