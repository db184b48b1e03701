//! POS promotions spread over basket lines: an applied promotion's shares add
//! up to its benefit exactly, in whole cents, and no line goes below zero.
#![no_main]

use arbitrary::Arbitrary;
use cashdesk::catalog::Product;
use cashdesk::checkout::Line;
use cashdesk::payments::promotions::{apply, total, Promotion};
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

#[derive(Arbitrary, Debug)]
struct Case {
    lines: Vec<(u32, u16)>,
    promotions: Vec<(u64, Vec<i8>)>,
}

fuzz_target!(|case: Case| {
    let lines: Vec<Line> = case
        .lines
        .iter()
        .take(50)
        .enumerate()
        .map(|(i, &(cents, quantity))| {
            let price = Decimal::new(i64::from(cents % 100_000_000), 2);
            Line {
                id: i as i64 + 1,
                product: Product {
                    pk: i as i64 + 1,
                    sku: format!("SKU-{i}"),
                    name: "x".into(),
                    price,
                    currency: "TRY".into(),
                    tax_rate: Decimal::new(20, 0),
                    department: None,
                    base_code: None,
                    attributes: serde_json::json!({}),
                },
                quantity: i64::from(quantity % 10_000).max(1),
                unit_price: price,
            }
        })
        .collect();
    let promotions: Vec<Promotion> = case
        .promotions
        .iter()
        .take(10)
        .map(|(cents, items)| Promotion {
            benefit_amount: Decimal::new((*cents % 1_000_000_000_000) as i64, (cents % 3) as u32),
            description: "fuzz".into(),
            affected_basket_items: items.iter().take(20).map(|&i| i64::from(i)).collect(),
        })
        .collect();
    if let Ok(applied) = apply(&lines, &promotions) {
        let basket: Decimal = lines.iter().map(Line::price).sum();
        assert!(total(&applied) <= basket);
        let mut taken = vec![Decimal::ZERO; lines.len()];
        for a in &applied {
            let mut sum = Decimal::ZERO;
            for (id, share) in &a.allocation {
                let share: Decimal = share.parse().unwrap();
                assert!(share >= Decimal::ZERO && share.scale() <= 2);
                taken[(*id - 1) as usize] += share;
                sum += share;
            }
            assert_eq!(sum, a.benefit_amount);
        }
        for (line, taken) in lines.iter().zip(taken) {
            assert!(taken <= line.price(), "line {} below zero", line.id);
        }
    }
});
