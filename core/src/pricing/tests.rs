//! Table-driven pricing tests. Every expected figure is computed by hand in the comment
//! beside it, from the rules documented in `pricing`.

use jiff::Timestamp;

use super::*;
use crate::manifest::parse;

/// A small catalogue: A 1000, B 500, C 250 (category "x"), D 333, E 1999 (category "y").
const BASE: &str = r#"
[event]
id = "t"
name = "Test"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2027-01-01T00:00:00Z
timezone = "Europe/Berlin"
ttl = "400d"
currency = "EUR"

[pricing]
tiers = ["member", "staff"]

[[catalogue]]
sku = "A"
name = "A"
price = 1000
category = "x"
[[catalogue]]
sku = "B"
name = "B"
price = 500
category = "x"
[[catalogue]]
sku = "C"
name = "C"
price = 250
category = "x"
[[catalogue]]
sku = "D"
name = "D"
price = 333
category = "y"
[[catalogue]]
sku = "E"
name = "E"
price = 1999
category = "y"
"#;

fn book(promotions: &str) -> PriceBook {
    let text = format!("{BASE}\n{promotions}");
    let manifest = parse(&text).unwrap_or_else(|p| panic!("test manifest invalid: {:?}", p.0));
    PriceBook::compile(&manifest)
}

fn basket(lines: &[(&str, i64)], tier: Option<&str>) -> Basket {
    Basket {
        lines: lines.iter().map(|(s, q)| BasketLine { sku: s.to_string(), qty: *q }).collect(),
        tier: tier.map(str::to_owned),
    }
}

/// Wednesday 2026-06-10 12:00 in Berlin (10:00 UTC).
fn noon() -> Timestamp {
    "2026-06-10T10:00:00Z".parse().unwrap()
}

struct Case {
    name: &'static str,
    promotions: &'static str,
    lines: &'static [(&'static str, i64)],
    tier: Option<&'static str>,
    at: &'static str,
    /// Expected line totals, in merged-line order.
    line_totals: &'static [i64],
    total: i64,
}

const CASES: &[Case] = &[
    Case {
        name: "no promotions: list prices",
        promotions: "",
        lines: &[("A", 2), ("D", 3)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[2000, 999],
        total: 2999,
    },
    Case {
        name: "percent off an item, rounded half up per unit",
        // 15% of 333 = 49.95 -> 50 per unit; 3 units -> 150 off 999.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "D" }
percent = 15"#,
        lines: &[("D", 3)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[849],
        total: 849,
    },
    Case {
        name: "percent off a category leaves other categories alone",
        // 10% of A (100), B (50); E untouched.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { category = "x" }
percent = 10"#,
        lines: &[("A", 1), ("B", 1), ("E", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[900, 450, 1999],
        total: 3349,
    },
    Case {
        name: "amount off each unit never below zero",
        // 300 off each: A 700, C 250 -> 0.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "amount_off"
applies_to = { skus = ["A", "C"] }
amount = 300"#,
        lines: &[("A", 1), ("C", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[700, 0],
        total: 700,
    },
    Case {
        name: "percent off the basket, spread by price",
        // 10% of 1000+333 = 133.3 -> 133; shares 1000*133/1333 = 99.77 -> 99, 333*133/1333 = 33.22 -> 33;
        // one left over goes to the larger remainder (A): 100 and 33.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = "basket"
percent = 10"#,
        lines: &[("A", 1), ("D", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[900, 300],
        total: 1200,
    },
    Case {
        name: "amount off the basket with a minimum basket met",
        // subtotal 1500 >= 1500: 200 off, spread 1000:500 -> 133.33, 66.67 -> 133+67.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "amount_off"
applies_to = "basket"
amount = 200
min_basket = 1500"#,
        lines: &[("A", 1), ("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[867, 433],
        total: 1300,
    },
    Case {
        name: "minimum basket not met",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "amount_off"
applies_to = "basket"
amount = 200
min_basket = 1501"#,
        lines: &[("A", 1), ("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[1000, 500],
        total: 1500,
    },
    Case {
        name: "bundle: two sets formed, third unit pays list",
        // A+B for 1200: 2 sets save 300 each; spread 1000:500 -> 200, 100 per set.
        // A line: 3 units: 800, 800, 1000 = 2600; B: 400, 400 = 800.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "bundle"
items = [{ sku = "A", qty = 1 }, { sku = "B", qty = 1 }]
price = 1200"#,
        lines: &[("A", 3), ("B", 2)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[2600, 800],
        total: 3400,
    },
    Case {
        name: "bundle that would cost more than its parts does not apply",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "bundle"
items = [{ sku = "C", qty = 2 }]
price = 600"#,
        lines: &[("C", 2)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[500],
        total: 500,
    },
    Case {
        name: "buy 2 get 1 free in a category: the cheapest unit is free",
        // Units 1000, 500, 250: buy A and B, C free.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "buy_x_get_y"
buy = { category = "x", qty = 2 }
get = { category = "x", qty = 1 }"#,
        lines: &[("A", 1), ("B", 1), ("C", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[1000, 500, 0],
        total: 1500,
    },
    Case {
        name: "buy 1 E get 1 D half price, twice",
        // Two applications: each D 333 -> 50% = 166.5 -> 167 off -> 166.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "buy_x_get_y"
buy = { sku = "E", qty = 1 }
get = { sku = "D", qty = 1 }
percent = 50"#,
        lines: &[("E", 2), ("D", 3)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[3998, 665],
        total: 4663,
    },
    Case {
        name: "happy hour inside its window",
        // Wed 12:00 Berlin is inside wed 11:00-13:00: 50% of B.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "B" }
percent = 50
windows = [{ days = ["wed"], from = "11:00", to = "13:00" }]"#,
        lines: &[("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[250],
        total: 250,
    },
    Case {
        name: "happy hour outside its window (same clock time, UTC would match)",
        // 11:30 UTC is 13:30 in Berlin (summer time): outside 11:00-13:00.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "B" }
percent = 50
windows = [{ days = ["wed"], from = "11:00", to = "13:00" }]"#,
        lines: &[("B", 1)],
        tier: None,
        at: "2026-06-10T11:30:00Z",
        line_totals: &[500],
        total: 500,
    },
    Case {
        name: "late-night window runs past midnight",
        // Tue 22:00 -> Wed 02:00; Wed 01:30 Berlin = Tue 23:30 UTC.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "B" }
percent = 20
windows = [{ days = ["tue"], from = "22:00", to = "02:00" }]"#,
        lines: &[("B", 1)],
        tier: None,
        at: "2026-06-09T23:30:00Z",
        line_totals: &[400],
        total: 400,
    },
    Case {
        name: "valid_until in the past: not applied",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "B" }
percent = 50
valid_until = 2026-06-01T00:00:00Z"#,
        lines: &[("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[500],
        total: 500,
    },
    Case {
        name: "tier promotion for the member tier",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
tiers = ["member"]"#,
        lines: &[("A", 1)],
        tier: Some("member"),
        at: "2026-06-10T10:00:00Z",
        line_totals: &[900],
        total: 900,
    },
    Case {
        name: "tier promotion, quote without a tier",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
tiers = ["member"]"#,
        lines: &[("A", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[1000],
        total: 1000,
    },
    Case {
        name: "tier promotion, another tier",
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
tiers = ["member"]"#,
        lines: &[("A", 1)],
        tier: Some("staff"),
        at: "2026-06-10T10:00:00Z",
        line_totals: &[1000],
        total: 1000,
    },
    Case {
        name: "cap bounds the discount per order",
        // 50% of 4 x A would be 2000; cap 1200: 500, 500, 200, 0.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 50
cap = 1200"#,
        lines: &[("A", 4)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[2800],
        total: 2800,
    },
    Case {
        name: "max_applications bounds units",
        // 100 off at most 2 units of B.
        promotions: r#"[[promotions]]
id = "p"
name = "p"
kind = "amount_off"
applies_to = { sku = "B" }
amount = 100
max_applications = 2"#,
        lines: &[("B", 5)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[2300],
        total: 2300,
    },
    Case {
        name: "stackable promotions compound in priority order",
        // Priority 2 first: A 1000 - 100 = 900; then 10%: 90 -> 810.
        promotions: r#"[[promotions]]
id = "pct"
name = "pct"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
priority = 1
[[promotions]]
id = "amt"
name = "amt"
kind = "amount_off"
applies_to = { sku = "A" }
amount = 100
priority = 2"#,
        lines: &[("A", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[810],
        total: 810,
    },
    Case {
        name: "priority order changes the result",
        // 10% first: 1000 -> 900; then 100 off -> 800.
        promotions: r#"[[promotions]]
id = "pct"
name = "pct"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
priority = 2
[[promotions]]
id = "amt"
name = "amt"
kind = "amount_off"
applies_to = { sku = "A" }
amount = 100
priority = 1"#,
        lines: &[("A", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[800],
        total: 800,
    },
    Case {
        name: "exclusive first locks its units against later promotions",
        // Exclusive 20% on A (priority 2): 800, locked. Stackable 10% on category x then only B: 450.
        promotions: r#"[[promotions]]
id = "ex"
name = "ex"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 20
priority = 2
stacking = "exclusive"
[[promotions]]
id = "st"
name = "st"
kind = "percent_off"
applies_to = { category = "x" }
percent = 10
priority = 1"#,
        lines: &[("A", 1), ("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[800, 450],
        total: 1250,
    },
    Case {
        name: "exclusive after a stackable skips already discounted units",
        // Stackable 10% on A (priority 2): 900. Exclusive 50% on category x: only B is free -> 250.
        promotions: r#"[[promotions]]
id = "st"
name = "st"
kind = "percent_off"
applies_to = { sku = "A" }
percent = 10
priority = 2
[[promotions]]
id = "ex"
name = "ex"
kind = "percent_off"
applies_to = { category = "x" }
percent = 50
priority = 1
stacking = "exclusive""#,
        lines: &[("A", 1), ("B", 1)],
        tier: None,
        at: "2026-06-10T10:00:00Z",
        line_totals: &[900, 250],
        total: 1150,
    },
];

#[test]
fn every_promotion_kind_prices_as_documented() {
    for case in CASES {
        let book = book(case.promotions);
        let at: Timestamp = case.at.parse().unwrap();
        let priced = book
            .price(&basket(case.lines, case.tier), at)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let totals: Vec<i64> = priced.lines.iter().map(|l| l.total).collect();
        assert_eq!(totals, case.line_totals, "{}: line totals", case.name);
        assert_eq!(priced.total, case.total, "{}: total", case.name);
        assert_eq!(
            priced.subtotal - priced.discount,
            priced.total,
            "{}: subtotal - discount",
            case.name
        );
        for line in &priced.lines {
            let listed: i64 = line.discounts.iter().map(|d| d.amount).sum();
            assert_eq!(
                listed, line.discount,
                "{}: line {} discounts explain its discount",
                case.name, line.sku
            );
        }
    }
}

#[test]
fn discounts_say_which_promotion_and_why() {
    let book = book(
        r#"[[promotions]]
id = "mugs"
name = "Mug deal"
kind = "amount_off"
applies_to = { sku = "B" }
amount = 50"#,
    );
    let priced = book.price(&basket(&[("B", 2)], None), noon()).unwrap();
    let d = &priced.lines[0].discounts[0];
    assert_eq!((d.promotion.as_str(), d.name.as_str(), d.amount), ("mugs", "Mug deal", 100));
    assert_eq!(d.reason, "0.50 EUR off each of B");
    assert_eq!(priced.discounts.len(), 1);
}

#[test]
fn lines_with_the_same_sku_are_merged() {
    let book = book("");
    let priced = book.price(&basket(&[("A", 1), ("B", 1), ("A", 2)], None), noon()).unwrap();
    assert_eq!(priced.lines.len(), 2);
    assert_eq!((priced.lines[0].sku.as_str(), priced.lines[0].qty), ("A", 3));
}

#[test]
fn bad_baskets_name_the_problem() {
    let book = book("");
    let err = |lines: &[(&str, i64)], tier: Option<&str>| {
        book.price(&basket(lines, tier), noon()).unwrap_err()
    };
    assert_eq!(err(&[], None), PricingError::EmptyBasket);
    assert_eq!(err(&[("Z", 1)], None), PricingError::UnknownSku("Z".into()));
    assert_eq!(
        err(&[("A", 0)], None),
        PricingError::BadQuantity { sku: "A".into(), qty: 0, max: 99 }
    );
    assert_eq!(
        err(&[("A", -3)], None),
        PricingError::BadQuantity { sku: "A".into(), qty: -3, max: 99 }
    );
    assert_eq!(
        err(&[("A", 100)], None),
        PricingError::BadQuantity { sku: "A".into(), qty: 100, max: 99 }
    );
    assert_eq!(
        err(&[("A", 60), ("A", 60)], None),
        PricingError::BadQuantity { sku: "A".into(), qty: 120, max: 99 }
    );
    assert_eq!(err(&[("A", 1)], Some("vip")), PricingError::UnknownTier("vip".into()));
    let many: Vec<(&str, i64)> = ["A", "B", "C", "D", "E"].iter().map(|s| (*s, 99)).collect();
    let mut small = self::book("");
    small.max_units = 300;
    assert_eq!(
        small.price(&basket(&many, None), noon()).unwrap_err(),
        PricingError::TooManyUnits { units: 495, max: 300 }
    );
    let too_many: Vec<(&str, i64)> = std::iter::repeat_n(("A", 1), 51).collect();
    assert_eq!(err(&too_many, None), PricingError::TooManyLines { lines: 51, max: 50 });
}

#[test]
fn a_tier_opens_to_a_customer_only_with_its_code_and_codes_are_checked_in_the_manifest() {
    let text = BASE.replace(
        "tiers = [\"member\", \"staff\"]",
        "tiers = [\"member\", \"staff\"]\ntier_codes = { member = \"HARBOUR-MEMBER\" }",
    );
    let m = parse(&text).unwrap_or_else(|p| panic!("{:?}", p.0));
    let p = &m.pricing;
    assert!(code_opens_tier(p, "member", Some("HARBOUR-MEMBER")));
    assert!(!code_opens_tier(p, "member", Some("harbour-member")));
    assert!(!code_opens_tier(p, "member", None));
    assert!(
        !code_opens_tier(p, "staff", Some("HARBOUR-MEMBER")),
        "a tier with no code is staff-only"
    );
    for bad in ["tier_codes = { vip = \"LONG-ENOUGH\" }", "tier_codes = { member = \"short\" }"] {
        let text = BASE.replace(
            "tiers = [\"member\", \"staff\"]",
            &format!("tiers = [\"member\", \"staff\"]\n{bad}"),
        );
        let problems = parse(&text).expect_err(bad).0;
        assert!(problems.iter().any(|p| p.message.contains("tier")), "{bad}: {problems:?}");
    }
}

mod documents {
    use super::super::document::{digest, DocumentError, FORMAT};
    use super::super::*;
    use crate::manifest::{parse, DEMO_MANIFEST};

    fn demo() -> PriceBook {
        PriceBook::compile(&parse(DEMO_MANIFEST).unwrap())
    }

    #[test]
    fn the_demo_book_travels_as_a_document_and_prices_the_same_at_every_hour() {
        let book = demo();
        let text = book.document();
        assert!(
            !text.contains("tier_codes") && !text.contains("pairing"),
            "nothing but what prices"
        );
        assert_eq!(digest(&text).len(), 64);
        let loaded = PriceBook::from_document(&text).unwrap();
        let basket = Basket {
            lines: vec![
                BasketLine { sku: "TEE-M".into(), qty: 1 },
                BasketLine { sku: "BEANIE".into(), qty: 1 },
                BasketLine { sku: "COCOA".into(), qty: 2 },
            ],
            tier: None,
        };
        for hour in 0..(7 * 24) {
            let at = jiff::Timestamp::from_second(1_796_947_200 + hour * 3600).unwrap();
            assert_eq!(book.price(&basket, at), loaded.price(&basket, at), "hour {hour}");
        }
    }

    #[test]
    fn a_document_that_does_not_hold_together_is_refused_in_words() {
        let text = demo().document();
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let refuse =
            |doc: &serde_json::Value| PriceBook::from_document(&doc.to_string()).unwrap_err();

        let mut other = doc.clone();
        other["format"] = (FORMAT + 1).into();
        assert_eq!(refuse(&other), DocumentError::Format(FORMAT + 1));
        let mut other = doc.clone();
        other["timezone"] = "Mars/Olympus".into();
        assert!(matches!(refuse(&other), DocumentError::TimeZone(_)));
        // A promotion pointing past the end of the catalogue.
        let rules = doc["rules"].as_array_mut().unwrap();
        let bundle = rules.iter_mut().find(|r| r["effect"].get("Bundle").is_some()).unwrap();
        bundle["effect"]["Bundle"][0][0][0]["Items"] = serde_json::json!([9999]);
        assert!(matches!(refuse(&doc), DocumentError::Inconsistent(_)));
        assert!(matches!(PriceBook::from_document("{"), Err(DocumentError::Malformed(_))));
        let huge = " ".repeat(document::MAX_DOCUMENT + 1);
        assert!(matches!(PriceBook::from_document(&huge), Err(DocumentError::TooLarge(_))));
    }
}
