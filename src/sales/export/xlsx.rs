//! XLSX: a "Sales" sheet (orders and totals) and a "VAT" sheet, amounts as
//! numeric cells with a two-decimal format.

use crate::sales::report::SalesReport;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

/// Spreadsheet cells hold IEEE doubles: the one place an amount becomes an
/// `f64`, at the last moment, for display only. Every sum was done in Decimal.
fn cell(value: Decimal) -> f64 {
    value.to_f64().unwrap_or_default()
}

fn headers(ws: &mut Worksheet, names: &[&str], bold: &Format) -> anyhow::Result<()> {
    for (c, name) in names.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, bold)?;
    }
    Ok(())
}

pub fn report(r: &SalesReport) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let money_bold = Format::new().set_num_format("0.00").set_bold();

    let ws = wb.add_worksheet();
    ws.set_name("Sales")?;
    headers(
        ws,
        &[
            "Order",
            "Internal id",
            "Time (UTC)",
            "Source",
            "Client",
            "Payment method",
            "Currency",
            "Refund",
            "Net",
            "VAT",
            "Total",
        ],
        &bold,
    )?;
    let mut row = 1u32;
    for o in &r.rows {
        ws.write_string(row, 0, &o.order_number)?;
        ws.write_number(row, 1, o.order_internal_id as f64)?;
        ws.write_string(row, 2, o.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
        ws.write_string(row, 3, &o.source)?;
        ws.write_string(row, 4, &o.client)?;
        ws.write_string(row, 5, &o.payment_method)?;
        ws.write_string(row, 6, &o.currency)?;
        ws.write_boolean(row, 7, o.is_refund)?;
        ws.write_number_with_format(row, 8, cell(o.net), &money)?;
        ws.write_number_with_format(row, 9, cell(o.vat), &money)?;
        ws.write_number_with_format(row, 10, cell(o.total), &money)?;
        row += 1;
    }
    for t in &r.totals {
        ws.write_string_with_format(row, 0, "TOTAL", &bold)?;
        ws.write_number_with_format(row, 1, t.orders as f64, &bold)?;
        ws.write_string_with_format(row, 6, &t.currency, &bold)?;
        ws.write_number_with_format(row, 8, cell(t.net), &money_bold)?;
        ws.write_number_with_format(row, 9, cell(t.vat), &money_bold)?;
        ws.write_number_with_format(row, 10, cell(t.total), &money_bold)?;
        row += 1;
    }
    ws.autofit();

    let ws = wb.add_worksheet();
    ws.set_name("VAT")?;
    headers(ws, &["Currency", "Rate (%)", "Net", "VAT", "Gross"], &bold)?;
    for (i, v) in r.vat_rates.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &v.currency)?;
        ws.write_number(row, 1, cell(v.rate))?;
        ws.write_number_with_format(row, 2, cell(v.net), &money)?;
        ws.write_number_with_format(row, 3, cell(v.vat), &money)?;
        ws.write_number_with_format(row, 4, cell(v.gross), &money)?;
    }
    ws.autofit();
    Ok(wb.save_to_buffer()?)
}
