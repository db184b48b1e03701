//! Invoice PDFs behind signed links: `/ws/v1/invoices/{id}.pdf?sig=…`, where
//! `sig` is the hex HMAC-SHA256 of `invoice:{id}` under a server-wide key.
//! The link goes into webhooks, so it needs no shop key; it does not expire
//! (an invoice is a durable document of an order that never changes).

use super::export::pdf::PdfBuilder;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::money::fmt2;
use crate::orders::{self, StoredOrder};
use crate::secrets::{constant_time_eq, hmac_sha256, server_secret};
use actix_web::get;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;

const KEY_NAME: &str = "invoice_links";

fn signature(key: &[u8], order_id: i64) -> String {
    hex::encode(hmac_sha256(key, format!("invoice:{order_id}").as_bytes()))
}

/// The absolute signed link to the invoice of order `order_id`.
pub async fn signed_url(ctx: &AppContext, order_id: i64) -> Result<String, sqlx::Error> {
    let key = server_secret(&ctx.db, KEY_NAME).await?;
    Ok(format!("{}/ws/v1/invoices/{order_id}.pdf?sig={}", ctx.config.public_base_url(), signature(&key, order_id)))
}

/// `GET /ws/v1/invoices/{order_internal_id}.pdf?sig=…`: a missing or wrong
/// signature answers 403 before the order is even looked up.
#[utoipa::path(operation_id = "getInvoicePdf", tag = "sales",
    params(("order_internal_id" = i64, Path, description = "The order's internal id"), ("sig" = String, Query, description = "The link's signature (links come in the webhooks)")),
    responses(
        (status = 200, description = "The invoice", body = String, content_type = "application/pdf"),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ))]
#[get(r"/ws/v1/invoices/{order_internal_id:\d+}.pdf")]
pub async fn get_invoice(
    ctx: web::Data<AppContext>,
    path: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path.into_inner();
    let Some(sig) = query.get("sig").filter(|s| !s.is_empty()) else {
        return Err(ApiError::forbidden("this link needs its signature (sig)"));
    };
    let key = server_secret(&ctx.db, KEY_NAME).await?;
    if !constant_time_eq(signature(&key, order_id).as_bytes(), sig.to_ascii_lowercase().as_bytes()) {
        return Err(ApiError::forbidden("invalid invoice link signature"));
    }
    let order = orders::read::by_id(&ctx.db, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("order {order_id} not found")))?;
    let pdf = render(&order).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"invoice-{}.pdf\"", order.order_number)))
        .body(pdf))
}

/// The invoice of `order` as a PDF.
pub fn render(order: &StoredOrder) -> anyhow::Result<Vec<u8>> {
    const COLS: [f32; 6] = [0.0, 80.0, 280.0, 320.0, 390.0, 450.0];
    let kind = if order.is_refund { "Credit note" } else { "Invoice" };
    let title = format!("{kind} {}", order.order_number);
    let mut pdf = PdfBuilder::new(&title, false);
    pdf.heading(&title);
    pdf.text(&format!("Order internal id: {}", order.id));
    pdf.text(&format!("Date: {} UTC", order.created_at.format("%Y-%m-%d %H:%M:%S")));
    if let Some(shop) = order.shop_id.as_ref().or(order.store_id.as_ref()) {
        pdf.text(&format!("Shop: {shop}"));
    }
    pdf.text(&format!("Client: {} ({})", order.client_name(), order.customer_id.as_deref().unwrap_or("-")));
    pdf.text(&format!("Payment method: {}", order.payment_method()));
    pdf.gap();
    pdf.row(
        &COLS.iter().copied().zip(["SKU", "Item", "Qty", "Unit price", "VAT %", "Amount"]).collect::<Vec<_>>(),
        true,
    );
    for line in &order.lines {
        let cells = [
            line.sku.clone(),
            line.name.chars().take(36).collect(),
            line.quantity.to_string(),
            fmt2(line.unit_price),
            crate::sales::report::rate_text(line.tax_rate),
            fmt2(line.total_amount),
        ];
        pdf.row(&COLS.iter().copied().zip(cells.iter().map(String::as_str)).collect::<Vec<_>>(), false);
    }
    if !order.shipping_amount.is_zero() {
        pdf.row(&[(COLS[1], "Shipping"), (COLS[5], &fmt2(order.shipping_amount))], false);
    }
    pdf.gap();
    for v in order.vat_lines() {
        let text = format!("VAT {}%: {} (net {})", crate::sales::report::rate_text(v.rate), fmt2(v.vat), fmt2(v.net));
        pdf.row(&[(COLS[1], &text)], false);
    }
    pdf.row(&[(COLS[1], "VAT total"), (COLS[5], &fmt2(order.vat_total()))], true);
    pdf.row(
        &[(COLS[1], &format!("Total ({}, VAT included)", order.currency)), (COLS[5], &fmt2(order.total_amount))],
        true,
    );
    pdf.finish()
}
