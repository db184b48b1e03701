//! `PUT /admin/api/{departments|products|customers|payment-options|shipping-options|cards}/{id}/`:
//! upserts answering 201 when created, 200 when updated, 400 naming the bad field.

use super::{AdminAuth, AdminWriteErrors};
use crate::catalog::{upsert, Bank, Card, Customer, Product, PAYMENT_TYPES};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::fields::{FreeObject, Identifier, Text};
use crate::json_body::StrictJson;
use crate::money::{fmt2, Currency, Percent, Price};
use crate::openapi::Register;
use actix_web::put;
use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(put_department)
        .service(put_product)
        .service(put_customer)
        .service(put_payment_option)
        .service(put_shipping_option)
        .service(put_card);
}

/// `PUT /admin/api/departments/{code}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Men"}))]
pub struct DepartmentWrite {
    pub name: Text,
}

/// `PUT /admin/api/products/{sku}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00", "department": "men", "base_code": "SHIRT", "attributes": {}}))]
pub struct ProductWrite {
    pub name: Text,
    pub price: Price,
    pub currency: Currency,
    /// Percent, 0 to 100; default 0.
    pub tax_rate: Option<Percent>,
    /// The code of an existing department.
    pub department: Option<Text>,
    pub base_code: Option<Text>,
    pub attributes: Option<FreeObject>,
}

/// `PUT /admin/api/customers/{id}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+905550000000", "address": {"city": "Istanbul"}}))]
pub struct CustomerWrite {
    pub name: Text,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    pub address: Option<FreeObject>,
}

/// `PUT /admin/api/payment-options/{slug}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Pay at store", "payment_type": "cash_register"}))]
pub struct PaymentOptionWrite {
    pub name: Text,
    /// `cash_register`, `credit_card`, `pay_on_delivery`, `bank_transfer` or `other`.
    pub payment_type: Text,
}

/// `PUT /admin/api/shipping-options/{slug}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Store pickup", "price": "0.00"}))]
pub struct ShippingOptionWrite {
    pub name: Text,
    pub price: Price,
}

/// `PUT /admin/api/cards/{slug}/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Bonus Card", "card_payment_type": "credit", "bank": {"name": "Garanti", "slug": "garanti"}, "installment_counts": [1, 3, 6]}))]
pub struct CardWrite {
    pub name: Text,
    pub card_payment_type: Text,
    pub bank: BankWrite,
    /// Whole numbers from 1 to 60, at least one.
    #[schema(min_items = 1)]
    pub installment_counts: Vec<InstallmentCount>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankWrite {
    pub name: Text,
    pub slug: Identifier,
}

/// A number of installments, 1 to 60.
#[derive(Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct InstallmentCount(i32);

impl utoipa::PartialSchema for InstallmentCount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(60))
            .into()
    }
}

impl ToSchema for InstallmentCount {}

impl TryFrom<i64> for InstallmentCount {
    type Error = &'static str;
    fn try_from(count: i64) -> Result<Self, Self::Error> {
        match i32::try_from(count) {
            Ok(count) if (1..=60).contains(&count) => Ok(InstallmentCount(count)),
            _ => Err("must be a whole number from 1 to 60"),
        }
    }
}

/// An identifier in the path, or 400 naming it.
fn identifier(raw: &str, what: &str) -> Result<String, ApiError> {
    Identifier::parse(raw, what).map(String::from).map_err(ApiError::validation)
}

fn upserted<T: Serialize>(created: bool, body: &T) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

#[utoipa::path(operation_id = "putDepartment", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("code" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = DepartmentWrite,
    responses(
        (status = 200, description = "Updated: the stored department", body = crate::catalog::Department),
        (status = 201, description = "Created: the stored department", body = crate::catalog::Department),
        AdminWriteErrors,
    ))]
#[put("/admin/api/departments/{code}/")]
pub async fn put_department(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    code: web::Path<String>,
    body: StrictJson<DepartmentWrite>,
) -> Result<HttpResponse, ApiError> {
    let code = identifier(&code, "code")?;
    let (dept, created) = upsert::department(&ctx.db, &code, &body.name).await?;
    Ok(upserted(created, &dept))
}

#[utoipa::path(operation_id = "putProduct", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("sku" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = ProductWrite,
    responses(
        (status = 200, description = "Updated: the stored product", body = StoredProduct),
        (status = 201, description = "Created: the stored product", body = StoredProduct),
        AdminWriteErrors,
    ))]
#[put("/admin/api/products/{sku}/")]
pub async fn put_product(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    sku: web::Path<String>,
    body: StrictJson<ProductWrite>,
) -> Result<HttpResponse, ApiError> {
    let sku = identifier(&sku, "sku")?;
    let StrictJson(write) = body;
    let department = write.department.map(String::from);
    if let Some(code) = &department {
        if !upsert::department_exists(&ctx.db, code).await? {
            return Err(ApiError::validation(format!("department: unknown department {code:?}")));
        }
    }
    let product = Product {
        pk: 0,
        sku,
        name: write.name.into(),
        price: write.price.0,
        currency: write.currency.into(),
        tax_rate: write.tax_rate.map_or(Decimal::ZERO, |rate| rate.0),
        department,
        base_code: write.base_code.map(String::from),
        attributes: Value::Object(write.attributes.unwrap_or_default().0),
    };
    let (product, created) = upsert::product(&ctx.db, &product).await?;
    Ok(upserted(created, &StoredProduct::from(product)))
}

/// A product as stored, amounts with two decimals.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"pk": 1, "sku": "SKU-1", "name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00", "department": "men", "base_code": "SHIRT", "attributes": {}}))]
pub struct StoredProduct {
    pub pk: i64,
    pub sku: String,
    pub name: String,
    pub price: String,
    pub currency: String,
    pub tax_rate: String,
    pub department: Option<String>,
    pub base_code: Option<String>,
    pub attributes: FreeObject,
}

impl From<Product> for StoredProduct {
    fn from(p: Product) -> Self {
        StoredProduct {
            pk: p.pk,
            sku: p.sku,
            name: p.name,
            price: fmt2(p.price),
            currency: p.currency,
            tax_rate: fmt2(p.tax_rate),
            department: p.department,
            base_code: p.base_code,
            attributes: match p.attributes {
                Value::Object(map) => FreeObject(map),
                _ => FreeObject::default(),
            },
        }
    }
}

#[utoipa::path(operation_id = "putCustomer", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("id" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = CustomerWrite,
    responses(
        (status = 200, description = "Updated: the stored customer", body = crate::catalog::Customer),
        (status = 201, description = "Created: the stored customer", body = crate::catalog::Customer),
        AdminWriteErrors,
    ))]
#[put("/admin/api/customers/{id}/")]
pub async fn put_customer(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
    body: StrictJson<CustomerWrite>,
) -> Result<HttpResponse, ApiError> {
    let id = identifier(&id, "id")?;
    let StrictJson(write) = body;
    if write.email.as_deref().is_some_and(|e| !e.contains('@')) {
        return Err(ApiError::validation("email: must be an email address"));
    }
    let customer = Customer {
        id,
        name: write.name.into(),
        email: write.email.map(String::from),
        phone: write.phone.map(String::from),
        address: write.address.map(|a| Value::Object(a.0)),
    };
    let created = upsert::customer(&ctx.db, &customer).await?;
    Ok(upserted(created, &customer))
}

#[utoipa::path(operation_id = "putPaymentOption", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = PaymentOptionWrite,
    responses(
        (status = 200, description = "Updated: the stored payment option", body = crate::catalog::PaymentOption),
        (status = 201, description = "Created: the stored payment option", body = crate::catalog::PaymentOption),
        AdminWriteErrors,
    ))]
#[put("/admin/api/payment-options/{slug}/")]
pub async fn put_payment_option(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson<PaymentOptionWrite>,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    if !PAYMENT_TYPES.contains(&&*body.payment_type) {
        return Err(ApiError::validation(format!("payment_type: must be one of {}", PAYMENT_TYPES.join(", "))));
    }
    let (option, created) = upsert::payment_option(&ctx.db, &slug, &body.name, &body.payment_type).await?;
    Ok(upserted(created, &option))
}

#[utoipa::path(operation_id = "putShippingOption", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = ShippingOptionWrite,
    responses(
        (status = 200, description = "Updated: the stored shipping option", body = crate::catalog::ShippingOption),
        (status = 201, description = "Created: the stored shipping option", body = crate::catalog::ShippingOption),
        AdminWriteErrors,
    ))]
#[put("/admin/api/shipping-options/{slug}/")]
pub async fn put_shipping_option(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson<ShippingOptionWrite>,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    let (option, created) = upsert::shipping_option(&ctx.db, &slug, &body.name, body.price.0).await?;
    Ok(upserted(created, &option))
}

#[utoipa::path(operation_id = "putCard", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body = CardWrite,
    responses(
        (status = 200, description = "Updated: the stored card", body = crate::catalog::Card),
        (status = 201, description = "Created: the stored card", body = crate::catalog::Card),
        AdminWriteErrors,
    ))]
#[put("/admin/api/cards/{slug}/")]
pub async fn put_card(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson<CardWrite>,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    let StrictJson(write) = body;
    if write.installment_counts.is_empty() {
        return Err(ApiError::validation("installment_counts: must be a non-empty list of whole numbers from 1 to 60"));
    }
    let card = Card {
        card_payment_type: write.card_payment_type.into(),
        name: write.name.into(),
        slug,
        bank: Bank { name: write.bank.name.into(), slug: write.bank.slug.into() },
        installment_counts: write.installment_counts.iter().map(|c| c.0).collect(),
    };
    let created = upsert::card(&ctx.db, &card).await?;
    Ok(upserted(created, &card))
}
