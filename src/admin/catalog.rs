//! `PUT /admin/api/{departments|products|customers|payment-options|shipping-options|cards}/{id}/`:
//! upserts answering 201 when created, 200 when updated, 400 naming the bad field.

use actix_web::put;
use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::catalog::{upsert, Bank, Card, Customer, Product, PAYMENT_TYPES};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::money::{fmt2, parse_cents, parse_decimal};
use crate::json_body::StrictJson;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(put_department)
        .service(put_product)
        .service(put_customer)
        .service(put_payment_option)
        .service(put_shipping_option)
        .service(put_card);
}

/// A JSON body checked field by field, so each error names its field.
struct Body<'a>(&'a Map<String, Value>);

impl<'a> Body<'a> {
    fn new(value: &'a Value, allowed: &[&str]) -> Result<Self, ApiError> {
        let obj = value.as_object().ok_or_else(|| ApiError::validation("body must be a JSON object"))?;
        if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::validation(format!("{k}: unknown field (allowed: {})", allowed.join(", "))));
        }
        Ok(Body(obj))
    }

    fn text(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 512 => Ok(Some(s.trim().to_string())),
            Some(_) => Err(ApiError::validation(format!("{field}: must be a non-empty string of at most 512 characters"))),
        }
    }

    fn required_text(&self, field: &str) -> Result<String, ApiError> {
        self.text(field)?.ok_or_else(|| ApiError::validation(format!("{field}: is required")))
    }

    /// A non-negative amount with at most two decimals, as a string (or an exact JSON number).
    fn amount(&self, field: &str) -> Result<Decimal, ApiError> {
        let parsed = match self.0.get(field) {
            Some(Value::String(s)) => parse_cents(s),
            Some(Value::Number(n)) => parse_cents(&n.to_string()),
            None => return Err(ApiError::validation(format!("{field}: is required"))),
            _ => None,
        };
        parsed
            .filter(|v| *v >= Decimal::ZERO)
            .ok_or_else(|| ApiError::validation(format!("{field}: must be a decimal string like \"99.99\", at least 0")))
    }

    fn object(&self, field: &str) -> Result<Option<Value>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(_) => Err(ApiError::validation(format!("{field}: must be an object"))),
        }
    }
}

/// Identifiers in paths: 1-128 letters, digits, `.`, `_`, `-`.
fn identifier(raw: &str, what: &str) -> Result<String, ApiError> {
    let ok = !raw.is_empty() && raw.len() <= 128 && raw.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(ApiError::validation(format!("{what}: 1 to 128 letters, digits, '.', '_' or '-'")))
    }
}

fn upserted(created: bool, body: Value) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

#[utoipa::path(operation_id = "putDepartment", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("code" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::DepartmentWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored department"),
        (status = 201, description = "Created: the stored department"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/departments/{code}/")]
pub async fn put_department(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    code: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let code = identifier(&code, "code")?;
    let name = Body::new(&body, &["name"])?.required_text("name")?;
    let (dept, created) = upsert::department(&ctx.db, &code, &name).await?;
    Ok(upserted(created, json!(dept)))
}

#[utoipa::path(operation_id = "putProduct", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("sku" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::ProductWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored product"),
        (status = 201, description = "Created: the stored product"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/products/{sku}/")]
pub async fn put_product(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    sku: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let sku = identifier(&sku, "sku")?;
    let b = Body::new(&body, &["name", "price", "currency", "tax_rate", "department", "base_code", "attributes"])?;
    let currency = b.required_text("currency")?.to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::validation("currency: must be a three-letter ISO 4217 code"));
    }
    let tax_rate = match body.get("tax_rate") {
        Some(Value::String(s)) => parse_decimal(s),
        Some(Value::Number(n)) => parse_decimal(&n.to_string()),
        None => Some(Decimal::ZERO),
        _ => None,
    }
    .filter(|t| *t >= Decimal::ZERO && *t <= Decimal::ONE_HUNDRED)
    .ok_or_else(|| ApiError::validation("tax_rate: must be a decimal string from 0 to 100"))?;
    let department = b.text("department")?;
    if let Some(code) = &department {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1)")
            .bind(code)
            .fetch_one(&ctx.db)
            .await?;
        if !exists {
            return Err(ApiError::validation(format!("department: unknown department {code:?}")));
        }
    }
    let product = Product {
        pk: 0,
        sku,
        name: b.required_text("name")?,
        price: b.amount("price")?,
        currency,
        tax_rate,
        department,
        base_code: b.text("base_code")?,
        attributes: b.object("attributes")?.unwrap_or_else(|| json!({})),
    };
    let (product, created) = upsert::product(&ctx.db, &product).await?;
    Ok(upserted(created, product_json(&product)))
}

fn product_json(p: &Product) -> Value {
    json!({
        "pk": p.pk, "sku": p.sku, "name": p.name, "price": fmt2(p.price), "currency": p.currency,
        "tax_rate": fmt2(p.tax_rate), "department": p.department, "base_code": p.base_code, "attributes": p.attributes,
    })
}

#[utoipa::path(operation_id = "putCustomer", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("id" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::CustomerWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored customer"),
        (status = 201, description = "Created: the stored customer"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/customers/{id}/")]
pub async fn put_customer(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let id = identifier(&id, "id")?;
    let b = Body::new(&body, &["name", "email", "phone", "address"])?;
    let email = b.text("email")?;
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        return Err(ApiError::validation("email: must be an email address"));
    }
    let customer =
        Customer { id, name: b.required_text("name")?, email, phone: b.text("phone")?, address: b.object("address")? };
    let created = upsert::customer(&ctx.db, &customer).await?;
    Ok(upserted(created, json!(customer)))
}

#[utoipa::path(operation_id = "putPaymentOption", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::PaymentOptionWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored payment option"),
        (status = 201, description = "Created: the stored payment option"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/payment-options/{slug}/")]
pub async fn put_payment_option(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    let b = Body::new(&body, &["name", "payment_type"])?;
    let payment_type = b.required_text("payment_type")?;
    if !PAYMENT_TYPES.contains(&payment_type.as_str()) {
        return Err(ApiError::validation(format!("payment_type: must be one of {}", PAYMENT_TYPES.join(", "))));
    }
    let (option, created) = upsert::payment_option(&ctx.db, &slug, &b.required_text("name")?, &payment_type).await?;
    Ok(upserted(created, json!(option)))
}

#[utoipa::path(operation_id = "putShippingOption", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::ShippingOptionWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored shipping option"),
        (status = 201, description = "Created: the stored shipping option"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/shipping-options/{slug}/")]
pub async fn put_shipping_option(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    let b = Body::new(&body, &["name", "price"])?;
    let (option, created) = upsert::shipping_option(&ctx.db, &slug, &b.required_text("name")?, b.amount("price")?).await?;
    Ok(upserted(created, json!(option)))
}

#[utoipa::path(operation_id = "putCard", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("slug" = String, Path, description = "1-128 letters, digits, . _ -")),
    request_body(content = doc::CardWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated: the stored card"),
        (status = 201, description = "Created: the stored card"),
        doc::AdminWriteErrors,
    ))]
#[put("/admin/api/cards/{slug}/")]
pub async fn put_card(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    slug: web::Path<String>,
    body: StrictJson,
) -> Result<HttpResponse, ApiError> {
    let slug = identifier(&slug, "slug")?;
    let b = Body::new(&body, &["name", "card_payment_type", "bank", "installment_counts"])?;
    let bank = b.object("bank")?.ok_or_else(|| ApiError::validation("bank: is required"))?;
    let bank_body = Body::new(&bank, &["name", "slug"]).map_err(|e| ApiError::validation(format!("bank.{}", e.message)))?;
    let bank = Bank {
        name: bank_body.required_text("name").map_err(|e| ApiError::validation(format!("bank.{}", e.message)))?,
        slug: identifier(&bank_body.required_text("slug").unwrap_or_default(), "bank.slug")?,
    };
    let counts: Vec<i32> = body
        .get("installment_counts")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|c| c.as_i64().filter(|c| (1..=60).contains(c)).map(|c| c as i32)).collect())
        .filter(|c: &Vec<i32>| !c.is_empty())
        .ok_or_else(|| ApiError::validation("installment_counts: must be a non-empty list of whole numbers from 1 to 60"))?;
    let card = Card {
        card_payment_type: b.required_text("card_payment_type")?,
        name: b.required_text("name")?,
        slug,
        bank,
        installment_counts: counts,
    };
    let created = upsert::card(&ctx.db, &card).await?;
    Ok(upserted(created, json!(card)))
}
