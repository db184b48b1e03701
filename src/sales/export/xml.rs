//! XML, valid against the published schema `docs/sales-report.xsd`
//! (served at `GET /ws/v1/reports/sales.xsd`).

use crate::money::fmt2;
use crate::sales::report::{rate_text, SalesReport};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

/// The namespace of the sales report.
pub const NAMESPACE: &str = "urn:cashdesk:sales-report:1";
/// The schema, as published.
pub const SCHEMA: &str = include_str!("../../../docs/sales-report.xsd");

fn amounts(w: &mut Writer<Vec<u8>>, net: &str, vat: &str, total_tag: &str, total: &str) -> std::io::Result<()> {
    w.create_element("net").write_text_content(BytesText::new(net))?;
    w.create_element("vat").write_text_content(BytesText::new(vat))?;
    w.create_element(total_tag).write_text_content(BytesText::new(total))?;
    Ok(())
}

pub fn report(r: &SalesReport) -> anyhow::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let date = r.date.to_string();
    let generated = r.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    w.create_element("salesReport")
        .with_attributes([
            ("xmlns", NAMESPACE),
            ("shopId", r.shop_id.as_str()),
            ("shopName", r.shop_name.as_str()),
            ("date", date.as_str()),
            ("generatedAt", generated.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("orders").write_inner_content(|w| {
                for o in &r.rows {
                    let id = o.order_internal_id.to_string();
                    let time = o.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    w.create_element("order")
                        .with_attributes([
                            ("orderNumber", o.order_number.as_str()),
                            ("orderInternalId", id.as_str()),
                            ("time", time.as_str()),
                            ("source", o.source.as_str()),
                            ("currency", o.currency.as_str()),
                            ("isRefund", if o.is_refund { "true" } else { "false" }),
                        ])
                        .write_inner_content(|w| {
                            w.create_element("client").write_text_content(BytesText::new(&o.client))?;
                            w.create_element("paymentMethod").write_text_content(BytesText::new(&o.payment_method))?;
                            amounts(w, &fmt2(o.net), &fmt2(o.vat), "total", &fmt2(o.total))
                        })?;
                }
                Ok(())
            })?;
            w.create_element("totals").write_inner_content(|w| {
                for t in &r.totals {
                    let orders = t.orders.to_string();
                    w.create_element("currencyTotal")
                        .with_attributes([("currency", t.currency.as_str()), ("orders", orders.as_str())])
                        .write_inner_content(|w| amounts(w, &fmt2(t.net), &fmt2(t.vat), "total", &fmt2(t.total)))?;
                }
                Ok(())
            })?;
            w.create_element("vatRates").write_inner_content(|w| {
                for v in &r.vat_rates {
                    let rate = rate_text(v.rate);
                    w.create_element("vatRate")
                        .with_attributes([("currency", v.currency.as_str()), ("rate", rate.as_str())])
                        .write_inner_content(|w| amounts(w, &fmt2(v.net), &fmt2(v.vat), "gross", &fmt2(v.gross)))?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}
