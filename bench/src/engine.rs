//! The price engine natively, as the alternative to the kiosk's WebAssembly engine in
//! Chromium (`ui/bench/kiosk-offline.mjs`): the same price book document, the same
//! 10-line basket, the same JSON in and out (`boothcloud_pricing::price_json`), and the
//! engine's bare `price` call beside it.

use std::time::Instant;

use boothcloud_core::manifest::{self, DEMO_MANIFEST};
use boothcloud_core::pricing::{Basket, PriceBook};
use hdrhistogram::Histogram;

#[derive(clap::Args)]
pub struct Args {
    /// Baskets priced (after 10% as warm-up).
    #[arg(long, default_value_t = 200_000)]
    pub runs: u32,
}

/// The 10-line basket both benchmarks price (`ui/bench/kiosk-offline.mjs` has the same):
/// the demo's bundle, 3-for-2 stickers, money off each mug and off the basket.
pub const BASKET: &str = r#"{"lines":[{"sku":"TEE-M","qty":1},{"sku":"BEANIE","qty":1},{"sku":"STICKER-LIGHTHOUSE","qty":2},{"sku":"STICKER-SHIP","qty":1},{"sku":"MUG-GLOW","qty":2},{"sku":"MUG-CLASSIC","qty":1},{"sku":"TOTE","qty":1},{"sku":"PIN-ANCHOR","qty":3},{"sku":"POSTCARD-SET","qty":1},{"sku":"SCARF","qty":1}],"tier":null}"#;

pub fn run(args: Args) -> anyhow::Result<()> {
    let m = manifest::parse(DEMO_MANIFEST).map_err(|p| anyhow::anyhow!("{p}"))?;
    let document = PriceBook::compile(&m).document();
    let book = PriceBook::from_document(&document)?;
    let basket: Basket = serde_json::from_str(BASKET)?;
    let at_ms = jiff::Timestamp::now().as_millisecond() as f64;
    let mut json = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)?;
    let mut bare = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)?;
    let warm = args.runs / 10;
    for i in 0..(args.runs + warm) {
        let t0 = Instant::now();
        let out =
            boothcloud_pricing::price_json(&book, BASKET, at_ms).map_err(anyhow::Error::msg)?;
        let t1 = Instant::now();
        std::hint::black_box(out);
        let priced = book.price(&basket, jiff::Timestamp::from_millisecond(at_ms as i64)?)?;
        let t2 = Instant::now();
        std::hint::black_box(priced);
        if i >= warm {
            json.record((t1 - t0).as_nanos() as u64)?;
            bare.record((t2 - t1).as_nanos() as u64)?;
        }
    }
    let us = |h: &Histogram<u64>, q| h.value_at_quantile(q) as f64 / 1000.0;
    println!("price book document: {} bytes", document.len());
    println!("| native, 10-line basket | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| JSON in and out (as the wasm engine) | {:.1} µs | {:.1} µs |",
        us(&json, 0.5),
        us(&json, 0.99)
    );
    println!("| engine call alone | {:.1} µs | {:.1} µs |", us(&bare, 0.5), us(&bare, 0.99));
    Ok(())
}
