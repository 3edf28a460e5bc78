//! Writes the differential test's corpus as JSON lines: each price book document once
//! (`{"book", "document"}`), then for each case the book's digest, the basket, the
//! instant, and what the native engine answers (`priced`, or `error`). The test
//! (`ui/tests/pricing-diff.mjs`) prices each line again with the WebAssembly engine and
//! requires the very same answer.
//!
//! Usage: `pricing-corpus OUT.jsonl [CASES]` (default 500 drawn cases, plus the demo's
//! baskets at every hour of a week).

use std::io::Write as _;

use boothcloud_core::manifest::{parse, DEMO_MANIFEST};
use boothcloud_core::pricing::{corpus, document, Basket, BasketLine, PriceBook};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: pricing-corpus OUT.jsonl [CASES]")?;
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(500);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let mut written = 0;
    let mut books = std::collections::HashSet::new();
    // A book's document is written once, before the first case that prices with it.
    let mut line = |book: &PriceBook, document: &str, basket: &Basket, at: jiff::Timestamp| {
        let digest = document::digest(document);
        if books.insert(digest.clone()) {
            writeln!(file, "{}", json!({ "book": digest, "document": document }))?;
        }
        let at_ms = at.as_millisecond();
        let basket_text = serde_json::to_string(basket).expect("a basket serializes");
        let answer = boothcloud_pricing::price_json(book, &basket_text, at_ms as f64);
        let row = match answer {
            Ok(priced) => {
                json!({ "book": digest, "basket": basket_text, "at_ms": at_ms, "priced": priced })
            }
            Err(error) => {
                json!({ "book": digest, "basket": basket_text, "at_ms": at_ms, "error": error })
            }
        };
        writeln!(file, "{row}").map(|()| written += 1)
    };
    for case in corpus::cases(n, 7) {
        let document = case.book.document();
        line(&case.book, &document, &case.basket, case.at)?;
    }
    // The demo: every item alone and in pairs, and a full basket, at each hour of a week
    // (its happy hour is a daily window in the event's time zone).
    let demo = PriceBook::compile(&parse(DEMO_MANIFEST).map_err(|e| format!("{:?}", e.0))?);
    let document = demo.document();
    let skus: Vec<String> = demo.items().iter().map(|i| i.sku.clone()).collect();
    let mut baskets: Vec<Basket> = Vec::new();
    for (i, a) in skus.iter().enumerate() {
        baskets.push(basket(&[(a, 1)]));
        baskets.push(basket(&[(a, 3), (&skus[(i + 1) % skus.len()], 2)]));
    }
    baskets.push(basket(&skus.iter().map(|s| (s, 2)).collect::<Vec<_>>()));
    // And what both must refuse alike.
    let (unknown, first) = ("NOT-SOLD-HERE".to_owned(), skus[0].clone());
    baskets.push(basket(&[(&unknown, 1)]));
    baskets.push(basket(&[(&first, 0)]));
    baskets.push(basket(&[(&first, 100_000)]));
    baskets.push(basket(&[]));
    let monday = jiff::Timestamp::from_second(1_796_947_200)?; // 2026-12-07 00:00 UTC
    for hour in 0..(7 * 24) {
        let at =
            monday + jiff::SignedDuration::from_hours(hour) + jiff::SignedDuration::from_mins(17);
        for b in &baskets {
            line(&demo, &document, b, at)?;
        }
    }
    file.flush()?;
    eprintln!("pricing-corpus: {written} cases in {out}");
    Ok(())
}

fn basket(lines: &[(&String, i64)]) -> Basket {
    Basket {
        lines: lines
            .iter()
            .map(|(sku, qty)| BasketLine { sku: (*sku).clone(), qty: *qty })
            .collect(),
        tier: None,
    }
}
