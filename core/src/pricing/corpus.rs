//! A corpus of price books and baskets drawn from every kind of promotion: what the
//! property tests check the engine against, and what the differential test prices with
//! both the native engine and the WebAssembly one.
//!
//! Owns: the strategies. Never: used by the node or the kiosk at run time.

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::*;
use crate::manifest::parse;

pub const CATALOGUE: &str = r#"
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

pub const SKUS: [(&str, i64, &str); 6] = [
    ("A", 1000, "x"),
    ("B", 499, "x"),
    ("C", 1, "x"),
    ("D", 333, "y"),
    ("E", 0, "y"),
    ("F", 12_345, "z"),
];

pub fn selector(i: usize) -> String {
    match i % 4 {
        0 => format!("{{ sku = \"{}\" }}", SKUS[i % SKUS.len()].0),
        1 => "{ category = \"x\" }".to_owned(),
        2 => "{ skus = [\"A\", \"D\", \"F\"] }".to_owned(),
        _ => "{ category = \"y\" }".to_owned(),
    }
}

/// A promotion drawn from every kind, with random caps, priorities and stacking.
pub fn promotion() -> impl Strategy<Value = String> {
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

pub fn compile(promotions: &[String]) -> PriceBook {
    let mut text = CATALOGUE.to_owned();
    for (sku, price, cat) in SKUS {
        text.push_str(&format!("[[catalogue]]\nsku = \"{sku}\"\nname = \"{sku}\"\nprice = {price}\ncategory = \"{cat}\"\n"));
    }
    for (i, p) in promotions.iter().enumerate() {
        text.push_str(&format!("[[promotions]]\nid = \"p{i}\"\nname = \"p{i}\"\n{p}\n"));
    }
    PriceBook::compile(&parse(&text).unwrap_or_else(|e| panic!("{:?}\n{text}", e.0)))
}

pub fn lines() -> impl Strategy<Value = Vec<(usize, i64)>> {
    prop::collection::vec((0..SKUS.len(), 1..=12i64), 1..8)
}

pub fn to_basket(lines: &[(usize, i64)], member: bool) -> Basket {
    Basket {
        lines: lines
            .iter()
            .map(|&(i, q)| BasketLine { sku: SKUS[i].0.to_owned(), qty: q })
            .collect(),
        tier: member.then(|| "member".to_owned()),
    }
}

/// One case of the corpus: a book's promotions, a basket and when it is priced.
pub struct Case {
    pub book: PriceBook,
    pub basket: Basket,
    pub at: Timestamp,
}

/// `n` cases drawn from a fixed seed (the same every run).
pub fn cases(n: usize, seed: u8) -> Vec<Case> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    let strategy = (
        prop::collection::vec(promotion(), 0..6),
        lines(),
        any::<bool>(),
        1_767_225_600i64..1_798_761_600,
    );
    (0..n)
        .map(|_| {
            let (promos, lines, member, second) =
                strategy.new_tree(&mut runner).expect("the corpus strategy draws").current();
            Case {
                book: compile(&promos),
                basket: to_basket(&lines, member),
                at: Timestamp::from_second(second).expect("in range"),
            }
        })
        .collect()
}
