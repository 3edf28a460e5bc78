//! Properties the price engine must keep for any basket and any mix of promotions.

use jiff::Timestamp;
use proptest::prelude::*;

use super::corpus::*;
use super::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn totals_are_consistent_and_never_negative(promos in prop::collection::vec(promotion(), 0..6), lines in lines(), member in any::<bool>()) {
        let book = compile(&promos);
        let priced = book.price(&to_basket(&lines, member), Timestamp::from_second(1_780_000_000).unwrap()).unwrap();
        prop_assert!(priced.total >= 0);
        prop_assert!(priced.discount >= 0);
        prop_assert!(priced.discount <= priced.subtotal, "discounts never exceed the undiscounted price");
        prop_assert_eq!(priced.subtotal - priced.discount, priced.total);
        let list: i64 = lines.iter().map(|&(i, q)| SKUS[i].1 * q).sum();
        prop_assert_eq!(priced.subtotal, list);
        for line in &priced.lines {
            prop_assert!(line.total >= 0 && line.total <= line.subtotal);
            prop_assert_eq!(line.discounts.iter().map(|d| d.amount).sum::<i64>(), line.discount);
        }
        prop_assert_eq!(priced.lines.iter().map(|l| l.total).sum::<i64>(), priced.total);
    }

    #[test]
    fn caps_are_respected(promos in prop::collection::vec(promotion(), 1..6), lines in lines(), member in any::<bool>()) {
        let book = compile(&promos);
        let priced = book.price(&to_basket(&lines, member), Timestamp::from_second(1_780_000_000).unwrap()).unwrap();
        for applied in &priced.discounts {
            let i: usize = applied.promotion[1..].parse().unwrap();
            if let Some(cap) = promos[i].lines().find_map(|l| l.strip_prefix("cap = ")) {
                prop_assert!(applied.amount <= cap.parse::<i64>().unwrap(), "{} took {} over cap {}", applied.promotion, applied.amount, cap);
            }
        }
    }

    #[test]
    fn order_of_lines_is_irrelevant(promos in prop::collection::vec(promotion(), 0..6), lines in lines(), member in any::<bool>(), seed in any::<u64>()) {
        let book = compile(&promos);
        let at = Timestamp::from_second(1_780_000_000).unwrap();
        let forward = book.price(&to_basket(&lines, member), at).unwrap();
        let mut shuffled = lines.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let other = book.price(&to_basket(&shuffled, member), at).unwrap();
        prop_assert_eq!(forward.total, other.total);
        let mut a: Vec<(String, i64)> = forward.discounts.iter().map(|d| (d.promotion.clone(), d.amount)).collect();
        let mut b: Vec<(String, i64)> = other.discounts.iter().map(|d| (d.promotion.clone(), d.amount)).collect();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_book_loaded_from_its_document_prices_the_same(promos in prop::collection::vec(promotion(), 0..6), lines in lines(), member in any::<bool>(), second in 1_767_225_600i64..1_798_761_600) {
        let book = compile(&promos);
        let text = book.document();
        let loaded = PriceBook::from_document(&text).unwrap();
        prop_assert_eq!(loaded.document(), text, "the document is stable");
        let at = Timestamp::from_second(second).unwrap();
        let basket = to_basket(&lines, member);
        prop_assert_eq!(book.price(&basket, at), loaded.price(&basket, at));
    }
}
