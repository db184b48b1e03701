//! `GET /ws/v1/catalog/{items|departments|clients}?format=csv|html|json`.

use super::export::{self, Format, Table};
use crate::catalog;
use crate::error::ApiError;
use crate::money::fmt2;
use serde_json::{json, Value};

/// The catalog list `kind` as a table and as JSON objects.
pub async fn load(db: &sqlx::PgPool, kind: &str) -> Result<(Table, Vec<Value>), ApiError> {
    Ok(match kind {
        "items" => {
            let products = catalog::all_products(db).await?;
            let rows = products
                .iter()
                .map(|p| {
                    vec![
                        p.sku.clone(),
                        p.name.clone(),
                        fmt2(p.price),
                        p.currency.clone(),
                        fmt2(p.tax_rate),
                        p.department.clone().unwrap_or_default(),
                        p.base_code.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let json = products
                .iter()
                .map(|p| json!({
                    "sku": p.sku, "name": p.name, "price": fmt2(p.price), "currency": p.currency,
                    "tax_rate": fmt2(p.tax_rate), "department": p.department, "base_code": p.base_code, "attributes": p.attributes,
                }))
                .collect();
            let headers = vec!["sku", "name", "price", "currency", "tax_rate", "department", "base_code"];
            (Table { title: "Items".into(), headers, rows }, json)
        }
        "departments" => {
            let departments = catalog::all_departments(db).await?;
            let rows = departments.iter().map(|d| vec![d.code.clone(), d.name.clone()]).collect();
            let json = departments.iter().map(|d| json!(d)).collect();
            (Table { title: "Departments".into(), headers: vec!["code", "name"], rows }, json)
        }
        "clients" => {
            let customers = catalog::all_customers(db).await?;
            let rows = customers
                .iter()
                .map(|c| {
                    let address = match &c.address {
                        Some(Value::String(s)) => s.clone(),
                        Some(a) => a.to_string(),
                        None => String::new(),
                    };
                    vec![
                        c.id.clone(),
                        c.name.clone(),
                        c.email.clone().unwrap_or_default(),
                        c.phone.clone().unwrap_or_default(),
                        address,
                    ]
                })
                .collect();
            let json = customers.iter().map(|c| json!(c)).collect();
            (Table { title: "Clients".into(), headers: vec!["id", "name", "email", "phone", "address"], rows }, json)
        }
        other => {
            return Err(ApiError::not_found(format!("no catalog list {other:?}; use items, departments or clients")))
        }
    })
}

/// The list in `format` (csv, html or json).
pub fn render(format: Format, table: &Table, json: Vec<Value>) -> Result<Vec<u8>, ApiError> {
    match format {
        Format::Csv => export::csv::table(table).map_err(ApiError::internal),
        Format::Html => Ok(export::html::table(table)),
        Format::Json => serde_json::to_vec(&json).map_err(ApiError::internal),
        _ => Err(ApiError::validation("format: must be csv, html or json")),
    }
}
