//! The shop's quote round trip with many kiosks at once: what a customer feels between
//! tapping "+" and seeing the new total.
//!
//! The node runs in this process on loopback with its own booth CA. `kiosks` clients,
//! each on its own kept-alive connection (as each kiosk has), quote a 4-line basket
//! with promotions as fast as they can for `seconds`: a closed loop, so the load is far
//! above a real booth's (a kiosk quotes a few times a minute). Measured in the same run
//! over HTTPS (enrolled kiosks) and plain HTTP (phones), blocks alternating so the
//! shared machine's noise falls on both; the floor is pricing and signing in-process.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Kiosks quoting at once.
    #[arg(long, default_value_t = 50)]
    kiosks: usize,
    /// Seconds per block.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Blocks per scheme.
    #[arg(long, default_value_t = 2)]
    blocks: usize,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (node, _dir) = crate::commerce::start_node(None).await?;
    let https = format!("https://{}", node.local_addr());
    let http = format!("http://{}", node.plain_addr());
    let ca = reqwest::Certificate::from_pem(node.services().tls.server.ca().pem().as_bytes())?;
    let checkout = node.services().checkout.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(node.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    let basket = json!({"lines": [{"sku": "TOTE", "qty": 2}, {"sku": "COFFEE", "qty": 1}, {"sku": "STICKER-SHIP", "qty": 3}, {"sku": "MUG-GLOW", "qty": 1}]});

    // The floor: the same basket priced and sealed in-process.
    let lines: Vec<boothcloud_core::pricing::BasketLine> =
        serde_json::from_value(basket["lines"].clone())?;
    let mut floor = Histogram::<u64>::new(3)?;
    for _ in 0..5000 {
        let t = Instant::now();
        checkout.quote(lines.clone(), None)?;
        floor.record(t.elapsed().as_nanos() as u64)?;
    }

    let mut by_scheme: Vec<(&str, Histogram<u64>, u64)> = vec![
        ("HTTPS (enrolled kiosks)", Histogram::new(3)?, 0),
        ("plain HTTP (phones)", Histogram::new(3)?, 0),
    ];
    for _ in 0..args.blocks {
        for (i, base) in [&https, &http].into_iter().enumerate() {
            let (h, n) = block(base, &ca, &basket, args.kiosks, args.seconds).await?;
            by_scheme[i].1.add(h)?;
            by_scheme[i].2 += n;
        }
    }
    let _ = stop_tx.send(());
    let _ = server.await;

    let total_s = (args.seconds * args.blocks as u64) as f64;
    println!(
        "| quote round trip, {} kiosks at once (closed loop) | p50 | p99 | quotes/s |",
        args.kiosks
    );
    println!("|---|---|---|---|");
    for (what, h, n) in &by_scheme {
        println!(
            "| {what} | {:.2} ms | {:.2} ms | {:.0} |",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            *n as f64 / total_s
        );
    }
    println!(
        "| floor: price + sign in-process, one at a time | {:.1} µs | {:.1} µs | |",
        floor.value_at_quantile(0.5) as f64 / 1000.0,
        floor.value_at_quantile(0.99) as f64 / 1000.0
    );
    Ok(())
}

/// `kiosks` clients quoting for `seconds`; every answer's round trip in µs.
async fn block(
    base: &str,
    ca: &reqwest::Certificate,
    basket: &serde_json::Value,
    kiosks: usize,
    seconds: u64,
) -> anyhow::Result<(Histogram<u64>, u64)> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..kiosks {
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(10))
            .build()?;
        let (url, body) = (format!("{base}/api/v1/quotes"), basket.to_string());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3)?;
            while Instant::now() < until {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                let ok = r.status().is_success();
                let _ = r.bytes().await?;
                anyhow::ensure!(ok, "a quote failed");
                h.record(t.elapsed().as_micros() as u64)?;
            }
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut all = Histogram::<u64>::new(3)?;
    for t in tasks {
        all.add(t.await??)?;
    }
    let n = all.len();
    Ok((all, n))
}
