//! Applying the POS's promotions to a basket, exactly, in cents.
//!
//! Each promotion's `benefit_amount` is spread over its affected lines in
//! proportion to what each line still costs (after earlier promotions):
//! every line gets its share rounded down to the cent, and the cents left
//! over go one each to the lines with the largest rounded-off fractions (ties
//! to the earlier line in the basket). The shares always add up to the
//! benefit exactly, and no line goes below zero.

use crate::checkout::Line;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Default description of a promotion sent without one.
pub const DEFAULT_DESCRIPTION: &str = "Cash Register Offer";
/// Longest description accepted.
pub const MAX_DESCRIPTION: usize = 512;

/// A promotion as the POS sent it.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub benefit_amount: Decimal,
    pub description: String,
    /// Basket item ids; empty means every item.
    pub affected_basket_items: Vec<i64>,
}

/// A promotion as applied: how much of it each basket item took.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    #[serde(with = "rust_decimal::serde::str")]
    pub benefit_amount: Decimal,
    pub description: String,
    pub affected_basket_items: Vec<i64>,
    /// `(basket item id, amount)` for every affected item.
    pub allocation: Vec<(i64, String)>,
}

/// Applies `promotions` in order; the error says why one cannot be applied.
pub fn apply(lines: &[Line], promotions: &[Promotion]) -> Result<Vec<Applied>, String> {
    let cent = Decimal::new(1, 2);
    let mut remaining: Vec<Decimal> = lines.iter().map(Line::price).collect();
    let mut applied = Vec::with_capacity(promotions.len());
    for promo in promotions {
        if promo.benefit_amount <= Decimal::ZERO {
            return Err(format!("benefit amount {} must be above zero", promo.benefit_amount));
        }
        if promo.benefit_amount.normalize().scale() > 2 {
            return Err(format!("benefit amount {} has more than 2 decimal places", promo.benefit_amount));
        }
        let targets: Vec<usize> = if promo.affected_basket_items.is_empty() {
            (0..lines.len()).collect()
        } else {
            let mut idx = Vec::new();
            for id in &promo.affected_basket_items {
                let i = lines.iter().position(|l| l.id == *id).ok_or_else(|| format!("basket item {id} not found"))?;
                if !idx.contains(&i) {
                    idx.push(i);
                }
            }
            idx
        };
        let base: Decimal = targets.iter().map(|&i| remaining[i]).sum();
        if promo.benefit_amount > base {
            return Err(format!(
                "discount {} is above the affected items' total {}",
                promo.benefit_amount,
                base.round_dp(2)
            ));
        }
        let mut shares: Vec<(usize, Decimal, Decimal)> = targets
            .iter()
            .map(|&i| {
                let exact = promo.benefit_amount * remaining[i] / base;
                let floor = exact.round_dp_with_strategy(2, RoundingStrategy::ToZero);
                (i, floor, exact - floor)
            })
            .collect();
        let mut left = promo.benefit_amount - shares.iter().map(|s| s.1).sum::<Decimal>();
        let mut by_fraction: Vec<usize> = (0..shares.len()).collect();
        by_fraction.sort_by(|&a, &b| shares[b].2.cmp(&shares[a].2).then(a.cmp(&b)));
        for k in by_fraction {
            if left < cent {
                break;
            }
            let (i, share, _) = &mut shares[k];
            if remaining[*i] - *share >= cent {
                *share += cent;
                left -= cent;
            }
        }
        if left != Decimal::ZERO {
            return Err("discount cannot be split over the affected items in whole cents".to_string());
        }
        for (i, share, _) in &shares {
            remaining[*i] -= *share;
        }
        applied.push(Applied {
            benefit_amount: promo.benefit_amount,
            description: promo.description.clone(),
            affected_basket_items: targets.iter().map(|&i| lines[i].id).collect(),
            allocation: shares.iter().map(|(i, s, _)| (lines[*i].id, crate::money::fmt2(*s))).collect(),
        });
    }
    Ok(applied)
}

/// The total benefit of applied promotions.
pub fn total(applied: &[Applied]) -> Decimal {
    applied.iter().map(|a| a.benefit_amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Product;
    use crate::money::dec;

    fn line(id: i64, price: &str, quantity: i64) -> Line {
        Line {
            id,
            product: Product {
                pk: id,
                sku: format!("SKU-{id}"),
                name: "x".into(),
                price: dec(price),
                currency: "TRY".into(),
                tax_rate: dec("20"),
                department: None,
                base_code: None,
                attributes: serde_json::json!({}),
            },
            quantity,
            unit_price: dec(price),
        }
    }

    fn promo(amount: &str, items: Vec<i64>) -> Promotion {
        Promotion { benefit_amount: dec(amount), description: DEFAULT_DESCRIPTION.into(), affected_basket_items: items }
    }

    #[test]
    fn shares_add_up_to_the_cent() {
        let lines = [line(1, "10.00", 1), line(2, "10.00", 1), line(3, "10.00", 1)];
        let applied = apply(&lines, &[promo("10.00", vec![])]).unwrap();
        let shares: Vec<&str> = applied[0].allocation.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(shares, ["3.34", "3.33", "3.33"]);
    }

    #[test]
    fn refuses_unknown_items_and_too_large_discounts() {
        let lines = [line(1, "5.00", 2)];
        assert!(apply(&lines, &[promo("1", vec![9])]).unwrap_err().contains("basket item 9"));
        assert!(apply(&lines, &[promo("10.01", vec![1])]).unwrap_err().contains("above"));
        assert!(apply(&lines, &[promo("0", vec![])]).is_err());
        // a second promotion sees what the first left
        assert!(apply(&lines, &[promo("6", vec![]), promo("4.01", vec![])]).is_err());
        assert_eq!(total(&apply(&lines, &[promo("6", vec![]), promo("4", vec![])]).unwrap()), dec("10"));
    }
}
