//! HTML: a small standalone page per document, every text escaped.

use super::Table;
use crate::money::fmt2;
use crate::sales::report::{rate_text, SalesReport};
use quick_xml::escape::escape;
use std::fmt::Write;

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}\
th,td{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}tr.total{font-weight:bold}";

fn page(title: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head>\
         <body><h1>{t}</h1>\n{body}</body></html>\n",
        t = escape(title)
    )
    .into_bytes()
}

fn row(out: &mut String, class: &str, cells: &[(&str, bool)]) {
    let _ = write!(out, "<tr class=\"{class}\">");
    for (text, numeric) in cells {
        let _ = write!(out, "<td{}>{}</td>", if *numeric { " class=\"n\"" } else { "" }, escape(*text));
    }
    out.push_str("</tr>\n");
}

fn head(out: &mut String, headers: &[&str]) {
    out.push_str("<table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(*h));
    }
    out.push_str("</tr></thead><tbody>\n");
}

pub fn report(r: &SalesReport) -> Vec<u8> {
    let mut out = String::new();
    head(
        &mut out,
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
    );
    for o in &r.rows {
        let time = o.time.format("%H:%M:%S").to_string();
        let id = o.order_internal_id.to_string();
        let (net, vat, total) = (fmt2(o.net), fmt2(o.vat), fmt2(o.total));
        row(
            &mut out,
            "order",
            &[
                (&o.order_number, false),
                (&id, true),
                (&time, false),
                (&o.source, false),
                (&o.client, false),
                (&o.payment_method, false),
                (&o.currency, false),
                (if o.is_refund { "yes" } else { "no" }, false),
                (&net, true),
                (&vat, true),
                (&total, true),
            ],
        );
    }
    for t in &r.totals {
        let label = format!("Total ({} orders)", t.orders);
        let (net, vat, total) = (fmt2(t.net), fmt2(t.vat), fmt2(t.total));
        row(
            &mut out,
            "total",
            &[
                (&label, false),
                ("", false),
                ("", false),
                ("", false),
                ("", false),
                ("", false),
                (&t.currency, false),
                ("", false),
                (&net, true),
                (&vat, true),
                (&total, true),
            ],
        );
    }
    out.push_str("</tbody></table>\n<h2>VAT per rate</h2>\n");
    head(&mut out, &["Currency", "Rate (%)", "Net", "VAT", "Gross"]);
    for v in &r.vat_rates {
        let (rate, net, vat, gross) = (rate_text(v.rate), fmt2(v.net), fmt2(v.vat), fmt2(v.gross));
        row(&mut out, "vat", &[(&v.currency, false), (&rate, true), (&net, true), (&vat, true), (&gross, true)]);
    }
    out.push_str("</tbody></table>\n");
    page(&r.title(), &out)
}

pub fn table(t: &Table) -> Vec<u8> {
    let mut out = String::new();
    head(&mut out, &t.headers);
    for cells in &t.rows {
        let cells: Vec<(&str, bool)> = cells.iter().map(|c| (c.as_str(), false)).collect();
        row(&mut out, "row", &cells);
    }
    out.push_str("</tbody></table>\n");
    page(&t.title, &out)
}
