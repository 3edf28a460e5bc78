//! Properties the price engine must keep for any basket and any mix of promotions.

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::manifest::parse;

const CATALOGUE: &str = r#"
[event]
id = "p"
name = "Props"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2027-01-01T00:00:00Z
timezone = "UTC"
ttl = "400d"
currency = "EUR"

[pricing]
tiers = ["member"]
"#;

const SKUS: [(&str, i64, &str); 6] = [
    ("A", 1000, "x"),
    ("B", 499, "x"),
    ("C", 1, "x"),
    ("D", 333, "y"),
    ("E", 0, "y"),
    ("F", 12_345, "z"),
];

fn selector(i: usize) -> String {
    match i % 4 {
        0 => format!("{{ sku = \"{}\" }}", SKUS[i % SKUS.len()].0),
        1 => "{ category = \"x\" }".to_owned(),
        2 => "{ skus = [\"A\", \"D\", \"F\"] }".to_owned(),
        _ => "{ category = \"y\" }".to_owned(),
    }
}

/// A promotion drawn from every kind, with random caps, priorities and stacking.
fn promotion() -> impl Strategy<Value = String> {
    (
        0..6usize,
        0..8usize,
        1..=100u32,
        0..2000i64,
        prop::option::of(0..3000i64),
        -3..3i32,
        any::<bool>(),
        prop::option::of(1..4u32),
        any::<bool>(),
    )
        .prop_map(|(kind, sel, pct, amount, cap, priority, exclusive, max_apps, member)| {
            let body = match kind {
                0 => format!("kind = \"percent_off\"\napplies_to = {}\npercent = {pct}", selector(sel)),
                1 => format!("kind = \"amount_off\"\napplies_to = {}\namount = {amount}", selector(sel)),
                2 => format!("kind = \"percent_off\"\napplies_to = \"basket\"\npercent = {pct}"),
                3 => format!("kind = \"amount_off\"\napplies_to = \"basket\"\namount = {amount}"),
                4 => format!(
                    "kind = \"bundle\"\nitems = [{{ sku = \"A\", qty = 1 }}, {{ category = \"y\", qty = {} }}]\nprice = {amount}",
                    1 + sel % 2
                ),
                _ => format!(
                    "kind = \"buy_x_get_y\"\nbuy = {{ category = \"x\", qty = {} }}\nget = {}\npercent = {pct}",
                    1 + sel % 3,
                    selector(sel).replace(" }", ", qty = 1 }")
                ),
            };
            let mut text = format!("{body}\npriority = {priority}\nstacking = \"{}\"", if exclusive { "exclusive" } else { "stackable" });
            if let Some(cap) = cap {
                text.push_str(&format!("\ncap = {cap}"));
            }
            if let Some(m) = max_apps {
                text.push_str(&format!("\nmax_applications = {m}"));
            }
            if member {
                text.push_str("\ntiers = [\"member\"]");
            }
            text
        })
}

fn compile(promotions: &[String]) -> PriceBook {
    let mut text = CATALOGUE.to_owned();
    for (sku, price, cat) in SKUS {
        text.push_str(&format!("[[catalogue]]\nsku = \"{sku}\"\nname = \"{sku}\"\nprice = {price}\ncategory = \"{cat}\"\n"));
    }
    for (i, p) in promotions.iter().enumerate() {
        text.push_str(&format!("[[promotions]]\nid = \"p{i}\"\nname = \"p{i}\"\n{p}\n"));
    }
    PriceBook::compile(&parse(&text).unwrap_or_else(|e| panic!("{:?}\n{text}", e.0)))
}

fn lines() -> impl Strategy<Value = Vec<(usize, i64)>> {
    prop::collection::vec((0..SKUS.len(), 1..=12i64), 1..8)
}

fn to_basket(lines: &[(usize, i64)], member: bool) -> Basket {
    Basket {
        lines: lines
            .iter()
            .map(|&(i, q)| BasketLine { sku: SKUS[i].0.to_owned(), qty: q })
            .collect(),
        tier: member.then(|| "member".to_owned()),
    }
}

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
}
