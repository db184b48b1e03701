//! CSV: one header line and rows of equal width. The sales report marks each
//! row with its `type` (`order`, `total`, `vat_rate`) so it stays one table.

use super::Table;
use crate::money::fmt2;
use crate::sales::report::{rate_text, SalesReport};

const REPORT_HEADERS: &[&str] = &[
    "type",
    "order_number",
    "order_internal_id",
    "time",
    "source",
    "client",
    "payment_method",
    "currency",
    "is_refund",
    "vat_rate",
    "orders",
    "net",
    "vat",
    "total",
];

pub fn report(r: &SalesReport) -> anyhow::Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(REPORT_HEADERS)?;
    for row in &r.rows {
        w.write_record([
            "order",
            &row.order_number,
            &row.order_internal_id.to_string(),
            &row.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            &row.source,
            &row.client,
            &row.payment_method,
            &row.currency,
            if row.is_refund { "true" } else { "false" },
            "",
            "",
            &fmt2(row.net),
            &fmt2(row.vat),
            &fmt2(row.total),
        ])?;
    }
    for t in &r.totals {
        let orders = t.orders.to_string();
        w.write_record([
            "total",
            "",
            "",
            "",
            "",
            "",
            "",
            &t.currency,
            "",
            "",
            &orders,
            &fmt2(t.net),
            &fmt2(t.vat),
            &fmt2(t.total),
        ])?;
    }
    for v in &r.vat_rates {
        w.write_record([
            "vat_rate",
            "",
            "",
            "",
            "",
            "",
            "",
            &v.currency,
            "",
            &rate_text(v.rate),
            "",
            &fmt2(v.net),
            &fmt2(v.vat),
            &fmt2(v.gross),
        ])?;
    }
    Ok(w.into_inner()?)
}

pub fn table(t: &Table) -> anyhow::Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(&t.headers)?;
    for row in &t.rows {
        w.write_record(row)?;
    }
    Ok(w.into_inner()?)
}
