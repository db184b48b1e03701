//! The sales web service for outside sales tools and shop back offices
//! (SPEC §9): recording sales, the daily sales report, catalog exports and
//! signed invoice links. Shops authenticate with `shop_id` and `key`.

pub mod catalog_export;
pub mod export;
pub mod invoice;
pub mod record;
pub mod report;
pub mod shops;

use crate::context::AppContext;
use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::openapi::Register;
use actix_web::get;
use actix_web::{web, HttpResponse};
use export::Format;
use std::collections::HashMap;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(record::record_sale)
        .service(sales_report)
        .service(sales_report_schema)
        .service(catalog)
        .service(invoice::get_invoice);
}

type Query = web::Query<HashMap<String, String>>;

async fn authenticated(ctx: &AppContext, query: &Query) -> Result<shops::Shop, ApiError> {
    shops::authenticate(&ctx.db, query.get("shop_id").map(String::as_str), query.get("key").map(String::as_str)).await
}

fn format(query: &Query, allowed: &[Format], default: Format) -> Result<Format, ApiError> {
    let names = allowed.iter().map(|f| f.extension()).collect::<Vec<_>>().join(", ");
    match query.get("format") {
        None => Ok(default),
        Some(text) => Format::parse(text)
            .filter(|f| allowed.contains(f))
            .ok_or_else(|| ApiError::validation(format!("format: must be one of {names}"))),
    }
}

fn download(format: Format, file_name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}\"")))
        .body(body)
}

/// `GET /ws/v1/reports/sales?date=YYYY-MM-DD&format=html|pdf|csv|xml|xlsx`
#[utoipa::path(operation_id = "getSalesReport", tag = "sales",
    params(("shop_id" = String, Query, description = "The shop"), ("key" = String, Query, description = "The shop's key"), ("date" = String, Query, description = "A UTC day, YYYY-MM-DD"), ("format" = Option<String>, Query, description = "html (default), pdf, csv, xml or xlsx")),
    responses(
        (status = 200, description = "The day's sales, one row per order and a totals row", content(("text/html"), ("application/pdf"), ("text/csv"), ("application/xml"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "date missing or not YYYY-MM-DD, or unknown format", body = ErrorBody),
        (status = 401, description = "shop_id or key missing", body = ErrorBody),
        (status = 403, description = "Wrong key", body = ErrorBody),
    ))]
#[get("/ws/v1/reports/sales")]
pub async fn sales_report(ctx: web::Data<AppContext>, query: Query) -> Result<HttpResponse, ApiError> {
    let shop = authenticated(&ctx, &query).await?;
    let format = format(&query, &[Format::Html, Format::Pdf, Format::Csv, Format::Xml, Format::Xlsx], Format::Html)?;
    let date = query
        .get("date")
        .ok_or_else(|| ApiError::validation("date: is required (YYYY-MM-DD, a UTC day)"))?
        .parse::<chrono::NaiveDate>()
        .map_err(|_| ApiError::validation("date: must be a day written YYYY-MM-DD"))?;
    // A past day no longer changes (but for a sale recorded late, which a
    // replica shows a moment later): the replica serves it. Today's stays on the primary.
    let db = if date < chrono::Utc::now().date_naive() { &ctx.read_db } else { &ctx.db };
    let report = report::build(db, &shop.shop_id, &shop.name, date).await?;
    let body = match format {
        Format::Html => Ok(export::html::report(&report)),
        Format::Pdf => export::pdf::report(&report),
        Format::Csv => export::csv::report(&report),
        Format::Xml => export::xml::report(&report),
        Format::Xlsx => export::xlsx::report(&report),
        Format::Json => Err(anyhow::anyhow!("json is not a report format")),
    }
    .map_err(ApiError::internal)?;
    Ok(download(format, &report.file_name(format.extension()), body))
}

/// `GET /ws/v1/reports/sales.xsd`: the schema the XML report validates against.
#[utoipa::path(operation_id = "getSalesReportSchema", tag = "sales",
    responses(
        (status = 200, description = "The XML schema of the XML sales report", body = String, content_type = "application/xml"),
    ))]
#[get("/ws/v1/reports/sales.xsd")]
pub async fn sales_report_schema() -> HttpResponse {
    HttpResponse::Ok().content_type("application/xml; charset=utf-8").body(export::xml::SCHEMA)
}

/// `GET /ws/v1/catalog/{items|departments|clients}?format=csv|html|json`
#[utoipa::path(operation_id = "exportCatalog", tag = "sales",
    params(("kind" = String, Path, description = "items, departments or clients"), ("shop_id" = String, Query, description = "The shop"), ("key" = String, Query, description = "The shop's key"), ("format" = Option<String>, Query, description = "json (default), csv or html")),
    responses(
        (status = 200, description = "The catalog download", content(("application/json"), ("text/csv"), ("text/html"))),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 404, description = "kind is not items, departments or clients", body = ErrorBody),
        (status = 401, description = "shop_id or key missing", body = ErrorBody),
        (status = 403, description = "Wrong key", body = ErrorBody),
    ))]
#[get("/ws/v1/catalog/{kind}")]
pub async fn catalog(
    ctx: web::Data<AppContext>,
    kind: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let shop = authenticated(&ctx, &query).await?;
    let format = format(&query, &[Format::Csv, Format::Html, Format::Json], Format::Json)?;
    let (table, json) = catalog_export::load(&ctx.read_db, &kind).await?;
    let body = catalog_export::render(format, &table, json)?;
    Ok(download(format, &format!("{}-{}.{}", kind.as_str(), shop.shop_id, format.extension()), body))
}
