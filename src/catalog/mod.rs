//! The catalog the checkout prices baskets from: departments, products,
//! customers, payment and shipping options, cards. Operators fill it through
//! the admin API (`admin/catalog.rs`); `seed-demo` fills a demo one.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

/// Payment types a payment option may have.
pub const PAYMENT_TYPES: &[&str] = &["cash_register", "credit_card", "pay_on_delivery", "bank_transfer", "other"];

/// The payment type the hooks accept.
pub const CASH_REGISTER: &str = "cash_register";

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Product {
    pub pk: i64,
    pub sku: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    pub department: Option<String>,
    pub base_code: Option<String>,
    pub attributes: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Department {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
pub struct PaymentOption {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub payment_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
pub struct ShippingOption {
    pub id: i64,
    pub name: String,
    pub slug: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "0.00")]
    pub price: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Bank {
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Card {
    pub card_payment_type: String,
    pub name: String,
    pub slug: String,
    pub bank: Bank,
    pub installment_counts: Vec<i32>,
}

pub async fn products_by_sku(db: &PgPool, skus: &[String]) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query_as!(
        Product,
        "SELECT pk, sku, name, price, currency, tax_rate, department, base_code, attributes
         FROM products WHERE sku = ANY($1)",
        skus,
    )
    .fetch_all(db)
    .await
}

pub async fn all_products(db: &PgPool) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query_as!(
        Product,
        "SELECT pk, sku, name, price, currency, tax_rate, department, base_code, attributes FROM products ORDER BY sku"
    )
    .fetch_all(db)
    .await
}

pub async fn all_departments(db: &PgPool) -> Result<Vec<Department>, sqlx::Error> {
    sqlx::query_as!(Department, "SELECT code, name FROM departments ORDER BY code").fetch_all(db).await
}

pub async fn all_customers(db: &PgPool) -> Result<Vec<Customer>, sqlx::Error> {
    sqlx::query_as!(Customer, "SELECT id, name, email, phone, address FROM customers ORDER BY id").fetch_all(db).await
}

pub async fn customer(db: impl PgExecutor<'_>, id: &str) -> Result<Option<Customer>, sqlx::Error> {
    sqlx::query_as!(Customer, "SELECT id, name, email, phone, address FROM customers WHERE id = $1", id)
        .fetch_optional(db)
        .await
}

pub async fn payment_option(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<PaymentOption>, sqlx::Error> {
    sqlx::query_as!(PaymentOption, "SELECT id, name, slug, payment_type FROM payment_options WHERE slug = $1", slug)
        .fetch_optional(db)
        .await
}

pub async fn shipping_option(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<ShippingOption>, sqlx::Error> {
    sqlx::query_as!(ShippingOption, "SELECT id, name, slug, price FROM shipping_options WHERE slug = $1", slug)
        .fetch_optional(db)
        .await
}

pub async fn card(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<Card>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT slug, name, card_payment_type, bank_name, bank_slug, installment_counts FROM cards WHERE slug = $1",
        slug,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Card {
        card_payment_type: r.card_payment_type,
        name: r.name,
        slug: r.slug,
        bank: Bank { name: r.bank_name, slug: r.bank_slug },
        installment_counts: r.installment_counts,
    }))
}

/// Writes done by the admin API; each answers whether the row was created.
pub mod upsert {
    use super::*;

    /// True when a department with `code` exists (products may only name existing ones).
    pub async fn department_exists(db: &PgPool, code: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1) AS "exists!""#, code)
            .fetch_one(db)
            .await
    }

    pub async fn department(db: &PgPool, code: &str, name: &str) -> Result<(Department, bool), sqlx::Error> {
        sqlx::query!(
            r#"INSERT INTO departments (code, name) VALUES ($1, $2)
             ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
             RETURNING code, name, (xmax = 0) AS "created!""#,
            code,
            name,
        )
        .fetch_one(db)
        .await
        .map(|r| (Department { code: r.code, name: r.name }, r.created))
    }

    pub async fn product(db: &PgPool, p: &Product) -> Result<(Product, bool), sqlx::Error> {
        let row = sqlx::query!(
            r#"INSERT INTO products (sku, name, price, currency, tax_rate, department, base_code, attributes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price,
                 currency = EXCLUDED.currency, tax_rate = EXCLUDED.tax_rate, department = EXCLUDED.department,
                 base_code = EXCLUDED.base_code, attributes = EXCLUDED.attributes, updated_at = now()
             RETURNING pk, (xmax = 0) AS "created!""#,
            p.sku,
            p.name,
            p.price,
            p.currency,
            p.tax_rate,
            p.department,
            p.base_code,
            p.attributes,
        )
        .fetch_one(db)
        .await?;
        Ok((Product { pk: row.pk, ..p.clone() }, row.created))
    }

    pub async fn customer(db: &PgPool, c: &Customer) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar!(
            r#"INSERT INTO customers (id, name, email, phone, address) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
                 phone = EXCLUDED.phone, address = EXCLUDED.address, updated_at = now()
             RETURNING (xmax = 0) AS "created!""#,
            c.id,
            c.name,
            c.email,
            c.phone,
            c.address,
        )
        .fetch_one(db)
        .await
    }

    pub async fn payment_option(
        db: &PgPool,
        slug: &str,
        name: &str,
        payment_type: &str,
    ) -> Result<(PaymentOption, bool), sqlx::Error> {
        sqlx::query!(
            r#"INSERT INTO payment_options (slug, name, payment_type) VALUES ($1, $2, $3)
             ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, payment_type = EXCLUDED.payment_type, updated_at = now()
             RETURNING id, name, slug, payment_type, (xmax = 0) AS "created!""#,
            slug,
            name,
            payment_type,
        )
        .fetch_one(db)
        .await
        .map(|r| (PaymentOption { id: r.id, name: r.name, slug: r.slug, payment_type: r.payment_type }, r.created))
    }

    pub async fn shipping_option(
        db: &PgPool,
        slug: &str,
        name: &str,
        price: Decimal,
    ) -> Result<(ShippingOption, bool), sqlx::Error> {
        sqlx::query!(
            r#"INSERT INTO shipping_options (slug, name, price) VALUES ($1, $2, $3)
             ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price, updated_at = now()
             RETURNING id, name, slug, price, (xmax = 0) AS "created!""#,
            slug,
            name,
            price,
        )
        .fetch_one(db)
        .await
        .map(|r| (ShippingOption { id: r.id, name: r.name, slug: r.slug, price: r.price }, r.created))
    }

    pub async fn card(db: &PgPool, c: &Card) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar!(
            r#"INSERT INTO cards (slug, name, card_payment_type, bank_name, bank_slug, installment_counts)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, card_payment_type = EXCLUDED.card_payment_type,
                 bank_name = EXCLUDED.bank_name, bank_slug = EXCLUDED.bank_slug,
                 installment_counts = EXCLUDED.installment_counts, updated_at = now()
             RETURNING (xmax = 0) AS "created!""#,
            c.slug,
            c.name,
            c.card_payment_type,
            c.bank.name,
            c.bank.slug,
            &c.installment_counts[..],
        )
        .fetch_one(db)
        .await
    }
}

/// A payment option by its numeric id or its slug, as outside tools know either.
pub async fn payment_option_by_ref(
    db: impl PgExecutor<'_>,
    reference: &str,
) -> Result<Option<PaymentOption>, sqlx::Error> {
    sqlx::query_as!(
        PaymentOption,
        "SELECT id, name, slug, payment_type FROM payment_options WHERE slug = $1 OR id::text = $1 ORDER BY id LIMIT 1",
        reference,
    )
    .fetch_optional(db)
    .await
}

/// A shipping option by its numeric id or its slug.
pub async fn shipping_option_by_ref(
    db: impl PgExecutor<'_>,
    reference: &str,
) -> Result<Option<ShippingOption>, sqlx::Error> {
    sqlx::query_as!(
        ShippingOption,
        "SELECT id, name, slug, price FROM shipping_options WHERE slug = $1 OR id::text = $1 ORDER BY id LIMIT 1",
        reference,
    )
    .fetch_optional(db)
    .await
}

/// Inserts a new customer (inside the caller's transaction).
pub async fn insert_customer(db: impl PgExecutor<'_>, c: &Customer) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO customers (id, name, email, phone, address) VALUES ($1, $2, $3, $4, $5)",
        c.id,
        c.name,
        c.email,
        c.phone,
        c.address,
    )
    .execute(db)
    .await
    .map(|_| ())
}
