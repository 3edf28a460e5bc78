//! HTTPS against plain HTTP on the same node, in one run: what TLS costs a kiosk.
//!
//! The node runs in this process on loopback with its own booth CA; the HTTPS client
//! trusts that CA (as an enrolled kiosk does), the plain one talks to the plain port
//! (which serves loopback everything). Measured, alternating HTTPS and HTTP blocks so
//! the shared machine's noise falls on both:
//! - a new connection per request (TCP + TLS handshake + one GET /healthz);
//! - steady state on one kept-alive connection: a quote, an order, a cached asset;
//! - cached assets under load: wrk, 64 connections (wrk speaks TLS; it checks no
//!   certificate).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Requests per measurement and scheme.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Seconds of wrk per scheme.
    #[arg(long, default_value_t = 4)]
    seconds: u64,
}

struct Row {
    what: &'static str,
    https: (f64, f64),
    http: (f64, f64),
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (node, _dir) = crate::commerce::start_node(None).await?;
    let https = format!("https://{}", node.local_addr());
    let http = format!("http://{}", node.plain_addr());
    let ca = reqwest::Certificate::from_pem(node.services().tls.server.ca().pem().as_bytes())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(node.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    let client = |fresh: bool| -> anyhow::Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .timeout(Duration::from_secs(10));
        if fresh {
            b = b.pool_max_idle_per_host(0);
        }
        Ok(b.build()?)
    };
    let asset = "/assets/index.html";
    // Warm: the asset in the cache, the code paths run once.
    for base in [&https, &http] {
        let c = client(false)?;
        for _ in 0..50 {
            anyhow::ensure!(c.get(format!("{base}{asset}")).send().await?.status().is_success());
        }
    }

    let mut rows = Vec::new();
    let n = args.requests;
    rows.push(Row {
        what: "new connection + GET /healthz",
        https: timed(n, &client(true)?, |c, _| c.get(format!("{https}/healthz"))).await?,
        http: timed(n, &client(true)?, |c, _| c.get(format!("{http}/healthz"))).await?,
    });
    let basket = json!({"lines": [{"sku": "TOTE", "qty": 2}, {"sku": "COFFEE", "qty": 1}, {"sku": "STICKER-SHIP", "qty": 3}]});
    let (kept_s, kept_p) = (client(false)?, client(false)?);
    rows.push(Row {
        what: "quote, kept-alive connection",
        https: timed(n, &kept_s, |c, _| c.post(format!("{https}/api/v1/quotes")).json(&basket))
            .await?,
        http: timed(n, &kept_p, |c, _| c.post(format!("{http}/api/v1/quotes")).json(&basket))
            .await?,
    });
    let tokens = |base: String| {
        let c = kept_s.clone();
        let basket = basket.clone();
        async move {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let q: serde_json::Value = c
                    .post(format!("{base}/api/v1/quotes"))
                    .json(&basket)
                    .send()
                    .await?
                    .json()
                    .await?;
                out.push(q["token"].as_str().unwrap_or_default().to_owned());
            }
            anyhow::Ok(out)
        }
    };
    let (ts, tp) = (tokens(https.clone()).await?, tokens(https.clone()).await?);
    let order = |base: String, tokens: Vec<String>, tag: &'static str| {
        move |c: &reqwest::Client, i: usize| {
            c.post(format!("{base}/api/v1/orders"))
                .header("idempotency-key", format!("bench-tls-{tag}-{i}-{}", std::process::id()))
                .json(&json!({"quote_token": tokens[i], "payment": {"method": "pay_at_pickup"}}))
        }
    };
    rows.push(Row {
        what: "order (durable), kept-alive connection",
        https: timed(n, &kept_s, order(https.clone(), ts, "s")).await?,
        http: timed(n, &kept_p, order(http.clone(), tp, "p")).await?,
    });
    rows.push(Row {
        what: "cache hit, kept-alive connection",
        https: timed(n, &kept_s, |c, _| c.get(format!("{https}{asset}"))).await?,
        http: timed(n, &kept_p, |c, _| c.get(format!("{http}{asset}"))).await?,
    });
    let wrk = |url: String| {
        let seconds = args.seconds;
        tokio::task::spawn_blocking(move || {
            crate::wrk::run_on(None, &url, 2, 64, seconds, None, &[])
        })
    };
    let wrk_s = wrk(format!("{https}{asset}")).await??;
    let wrk_p = wrk(format!("{http}{asset}")).await??;
    anyhow::ensure!(
        wrk_s.errors == 0 && wrk_p.errors == 0,
        "wrk saw errors: {} / {}",
        wrk_s.errors,
        wrk_p.errors
    );

    println!("| measure | HTTPS p50 / p99 | HTTP p50 / p99 | HTTPS / HTTP (p50) |");
    println!("|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.0} / {:.0} µs | {:.0} / {:.0} µs | {:.2} |",
            r.what,
            r.https.0,
            r.https.1,
            r.http.0,
            r.http.1,
            r.https.0 / r.http.0
        );
    }
    println!(
        "| cache hits, wrk 64 connections | {:.0}/s (p99 {:.0} µs) | {:.0}/s (p99 {:.0} µs) | {:.2} (rate) |",
        wrk_s.requests_per_s, wrk_s.p99_us, wrk_p.requests_per_s, wrk_p.p99_us,
        wrk_s.requests_per_s / wrk_p.requests_per_s
    );
    let _ = stop_tx.send(());
    server.await?;
    Ok(())
}

/// `n` requests one after another on `client`; p50 and p99 in µs. Every answer must be
/// a success.
async fn timed(
    n: usize,
    client: &reqwest::Client,
    request: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder,
) -> anyhow::Result<(f64, f64)> {
    let mut h = Histogram::<u64>::new(3)?;
    for i in 0..n {
        let t = Instant::now();
        let r = request(client, i).send().await?;
        let ok = r.status().is_success();
        let _ = r.bytes().await?;
        h.record(t.elapsed().as_micros() as u64)?;
        anyhow::ensure!(ok, "request {i} failed");
    }
    Ok((h.value_at_quantile(0.5) as f64, h.value_at_quantile(0.99) as f64))
}
