//! The day's sales of a shop (SPEC §9): one row per order, totals per
//! currency and VAT per rate. Refunds count negative everywhere.

use crate::orders;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One order of the day.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub order_number: String,
    pub order_internal_id: i64,
    pub time: DateTime<Utc>,
    pub source: String,
    pub client: String,
    pub payment_method: String,
    pub currency: String,
    pub is_refund: bool,
    /// Excluding VAT; negative for refunds.
    pub net: Decimal,
    pub vat: Decimal,
    /// Including VAT (and shipping); negative for refunds.
    pub total: Decimal,
}

/// The totals of one currency.
#[derive(Debug, Clone)]
pub struct CurrencyTotal {
    pub currency: String,
    pub orders: usize,
    pub net: Decimal,
    pub vat: Decimal,
    pub total: Decimal,
}

/// The VAT of one rate in one currency.
#[derive(Debug, Clone)]
pub struct VatRateTotal {
    pub currency: String,
    pub rate: Decimal,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
}

/// Everything every export format shows.
#[derive(Debug, Clone)]
pub struct SalesReport {
    pub shop_id: String,
    pub shop_name: String,
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub rows: Vec<ReportRow>,
    pub totals: Vec<CurrencyTotal>,
    pub vat_rates: Vec<VatRateTotal>,
}

impl SalesReport {
    /// The download file name for `extension`.
    pub fn file_name(&self, extension: &str) -> String {
        format!("sales-{}-{}.{extension}", self.shop_id, self.date)
    }

    pub fn title(&self) -> String {
        format!("Sales of {} ({}) on {}", self.shop_name, self.shop_id, self.date)
    }
}

/// Builds the report of `shop_id` for the UTC day `date`.
pub async fn build(
    db: &sqlx::PgPool,
    shop_id: &str,
    shop_name: &str,
    date: NaiveDate,
) -> Result<SalesReport, sqlx::Error> {
    let from = date.and_time(chrono::NaiveTime::MIN).and_utc();
    let to = from + chrono::Duration::days(1);
    let orders = orders::read::of_shop_between(db, shop_id, from, to).await?;
    let mut rows = Vec::with_capacity(orders.len());
    let mut totals: BTreeMap<String, CurrencyTotal> = BTreeMap::new();
    let mut vat_rates: BTreeMap<(String, Decimal), VatRateTotal> = BTreeMap::new();
    for order in &orders {
        let sign = if order.is_refund { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        let vat_lines = order.vat_lines();
        let vat: Decimal = vat_lines.iter().map(|v| v.vat).sum::<Decimal>() * sign;
        let total = order.total_amount * sign;
        rows.push(ReportRow {
            order_number: order.order_number.clone(),
            order_internal_id: order.id,
            time: order.created_at,
            source: order.source.clone(),
            client: order.client_name(),
            payment_method: order.payment_method(),
            currency: order.currency.clone(),
            is_refund: order.is_refund,
            net: total - vat,
            vat,
            total,
        });
        let t = totals.entry(order.currency.clone()).or_insert_with(|| CurrencyTotal {
            currency: order.currency.clone(),
            orders: 0,
            net: Decimal::ZERO,
            vat: Decimal::ZERO,
            total: Decimal::ZERO,
        });
        t.orders += 1;
        t.net += total - vat;
        t.vat += vat;
        t.total += total;
        for line in vat_lines {
            let v = vat_rates.entry((order.currency.clone(), line.rate)).or_insert_with(|| VatRateTotal {
                currency: order.currency.clone(),
                rate: line.rate,
                net: Decimal::ZERO,
                vat: Decimal::ZERO,
                gross: Decimal::ZERO,
            });
            v.net += line.net * sign;
            v.vat += line.vat * sign;
            v.gross += line.gross * sign;
        }
    }
    Ok(SalesReport {
        shop_id: shop_id.to_string(),
        shop_name: shop_name.to_string(),
        date,
        generated_at: Utc::now(),
        rows,
        totals: totals.into_values().collect(),
        vat_rates: vat_rates.into_values().collect(),
    })
}

/// A rate for display: `20.00` → `"20"`, `8.5` → `"8.5"`.
pub fn rate_text(rate: Decimal) -> String {
    rate.normalize().to_string()
}
