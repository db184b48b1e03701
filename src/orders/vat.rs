//! VAT of an order, from its lines' tax rates.
//!
//! Rule: catalog prices, and so line amounts, include VAT (SPEC §7 prices are
//! shelf prices). The VAT in a gross amount at rate `r` percent is
//! `gross × r / (100 + r)`. It is rounded to cents once per rate per order
//! (half away from zero), not per line, so the amounts of a day add up to
//! the per-rate totals exactly. Shipping has no tax rate in the catalog and
//! stays outside the breakdown: an order's VAT is that of its product lines.

use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// VAT of one rate: the gross (VAT-inclusive) amount, its VAT and the net.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatLine {
    pub rate: Decimal,
    pub gross: Decimal,
    pub vat: Decimal,
    pub net: Decimal,
}

/// The VAT included in `gross` at `rate` percent, in cents.
pub fn included_vat(gross: Decimal, rate: Decimal) -> Decimal {
    if rate <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    (gross * rate / (Decimal::ONE_HUNDRED + rate)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Groups `(rate, gross)` pairs by rate, lowest rate first.
pub fn breakdown(lines: impl IntoIterator<Item = (Decimal, Decimal)>) -> Vec<VatLine> {
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for (rate, gross) in lines {
        *by_rate.entry(rate.normalize()).or_default() += gross;
    }
    by_rate
        .into_iter()
        .map(|(rate, gross)| {
            let vat = included_vat(gross, rate);
            VatLine { rate, gross, vat, net: gross - vat }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::dec;

    #[test]
    fn vat_is_taken_out_of_vat_inclusive_amounts_per_rate() {
        assert_eq!(included_vat(dec("120.00"), dec("20")), dec("20.00"));
        assert_eq!(included_vat(dec("99.99"), dec("20")), dec("16.67"));
        let lines = breakdown([(dec("20.00"), dec("99.99")), (dec("10"), dec("21.00")), (dec("20"), dec("250.00"))]);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].rate, lines[0].vat, lines[0].net), (dec("10"), dec("1.91"), dec("19.09")));
        assert_eq!((lines[1].gross, lines[1].vat), (dec("349.99"), dec("58.33")));
    }
}
