//! The traffic simulator: plays a booth against a node over real HTTP, for demos and
//! benchmarks (`boothcloud-node simulate --target URL`).
//!
//! Owns the cast and their habits:
//! - **kiosks** read the catalogue, price a basket of one to four items, and order most
//!   of what they price (with an idempotency key and a payment method, as a real kiosk);
//! - **phones** open the storefront (page, styles, script, product list), then look at
//!   product pictures (popular ones more often) and now and then seek in the video;
//! - **bursts**: every so often a crowd arrives at once and loads pictures flat out.
//!
//! Think times are scaled by `pace` (1 = people, 0 = as fast as the node answers). Each
//! simulated device has its own user agent, so the node's session figures see them as
//! separate clients. Random choices come from a seed, so a run can be repeated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};

/// Product pictures phones look at; the first are the most popular.
const PICTURES: [&str; 19] = [
    "img/hero.jpg",
    "img/mug-glow.jpg",
    "img/tee.jpg",
    "img/cocoa.jpg",
    "img/beanie.jpg",
    "img/mulled-apple.jpg",
    "img/scarf.jpg",
    "img/gingerbread.jpg",
    "img/tote.jpg",
    "img/mug-classic.jpg",
    "img/candle-pine.jpg",
    "img/coffee.jpg",
    "img/almonds.jpg",
    "img/poster-a3.jpg",
    "img/postcards.jpg",
    "img/sticker-lighthouse.jpg",
    "img/sticker-ship.jpg",
    "img/sticker-gull.jpg",
    "img/pin-anchor.jpg",
];
const STOREFRONT: [&str; 4] = ["index.html", "css/store.css", "js/store.js", "products.json"];

#[derive(Debug, Clone)]
pub struct Simulation {
    /// The node's base URL, e.g. `http://127.0.0.1:8787`.
    pub target: url::Url,
    /// The booth CA (PEM) to trust for an https:// target.
    pub ca_pem: Option<Vec<u8>>,
    pub kiosks: u32,
    pub phones: u32,
    pub duration: Duration,
    /// Think-time multiplier: 1.0 people, 0.0 flat out.
    pub pace: f64,
    /// A crowd of `burst_size` phones arrives this often (none when `None`).
    pub burst_every: Option<Duration>,
    pub burst_size: u32,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("the node at {0} does not answer: {1}")]
    Unreachable(String, String),
    #[error("the node's catalogue could not be read: {0}")]
    Catalogue(String),
    #[error("cannot make an HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What happened, so far or in all.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub seconds: f64,
    pub requests: u64,
    pub requests_per_second: f64,
    /// Answers that were not 2xx/3xx and not an expected refusal (sold out).
    pub failures: u64,
    /// Transport errors (refused, reset, timed out).
    pub unreachable: u64,
    pub quotes: u64,
    pub orders: u64,
    /// Orders the node refused because an item sold out (409).
    pub sold_out: u64,
    pub assets: u64,
    pub bursts: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    failures: AtomicU64,
    unreachable: AtomicU64,
    quotes: AtomicU64,
    orders: AtomicU64,
    sold_out: AtomicU64,
    assets: AtomicU64,
    bursts: AtomicU64,
}

struct Shared {
    plan: Simulation,
    http: reqwest::Client,
    tally: Tally,
    latency: Mutex<Histogram<u64>>,
    skus: Vec<String>,
    until: Instant,
    started: Instant,
}

impl Shared {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.plan.target.as_str().trim_end_matches('/'), path)
    }

    async fn think(&self, rng: &mut StdRng, low: f64, high: f64) {
        let secs = rng.random_range(low..high) * self.plan.pace;
        if secs > 0.0 {
            tokio::time::sleep(
                Duration::from_secs_f64(secs)
                    .min(self.until.saturating_duration_since(Instant::now())),
            )
            .await;
        }
    }

    fn running(&self) -> bool {
        Instant::now() < self.until
    }

    /// Sends a request, times it and counts the outcome; answers the status and body.
    async fn send(&self, req: reqwest::RequestBuilder) -> Option<(u16, bytes::Bytes)> {
        let t0 = Instant::now();
        let result = async {
            let r = req.send().await?;
            let status = r.status().as_u16();
            Ok::<_, reqwest::Error>((status, r.bytes().await?))
        }
        .await;
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let us = t0.elapsed().as_micros() as u64;
        let _ = self.latency.lock().unwrap_or_else(|e| e.into_inner()).record(us.max(1));
        match result {
            Ok((status, body)) => {
                if status >= 400 && status != 409 {
                    self.tally.failures.fetch_add(1, Ordering::Relaxed);
                }
                Some((status, body))
            }
            Err(_) => {
                self.tally.unreachable.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn report(&self) -> Report {
        let t = &self.tally;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let q = |p: f64| if h.is_empty() { 0.0 } else { h.value_at_quantile(p) as f64 / 1000.0 };
        let seconds =
            self.started.elapsed().as_secs_f64().min(self.plan.duration.as_secs_f64()).max(0.001);
        Report {
            seconds,
            requests: r(&t.requests),
            requests_per_second: r(&t.requests) as f64 / seconds,
            failures: r(&t.failures),
            unreachable: r(&t.unreachable),
            quotes: r(&t.quotes),
            orders: r(&t.orders),
            sold_out: r(&t.sold_out),
            assets: r(&t.assets),
            bursts: r(&t.bursts),
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
        }
    }
}

/// Plays the plan; `progress` gets the running figures every five seconds.
pub async fn run(plan: Simulation, progress: impl Fn(&Report)) -> Result<Report, SimulateError> {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = &plan.ca_pem {
        let ca = reqwest::Certificate::from_pem(pem)
            .map_err(|e| SimulateError::Unreachable(plan.target.to_string(), e.to_string()))?;
        builder = builder.add_root_certificate(ca);
    }
    let http = builder.timeout(Duration::from_secs(10)).pool_max_idle_per_host(1024).build()?;
    let base = plan.target.as_str().trim_end_matches('/').to_owned();
    let catalogue: Value = http
        .get(format!("{base}/api/v1/catalogue"))
        .send()
        .await
        .map_err(|e| SimulateError::Unreachable(base.clone(), e.to_string()))?
        .json()
        .await
        .map_err(|e| SimulateError::Catalogue(e.to_string()))?;
    let skus: Vec<String> = catalogue["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["available"].as_u64() != Some(0))
                .filter_map(|i| i["sku"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if skus.is_empty() {
        return Err(SimulateError::Catalogue("it lists no items".into()));
    }
    let now = Instant::now();
    let shared = Arc::new(Shared {
        http,
        tally: Tally::default(),
        latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid bounds")),
        skus,
        until: now + plan.duration,
        started: now,
        plan,
    });
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..shared.plan.kiosks {
        let s = shared.clone();
        tasks.spawn(async move { kiosk(&s, k).await });
    }
    for p in 0..shared.plan.phones {
        let s = shared.clone();
        tasks.spawn(async move { phone(&s, p, false).await });
    }
    if let Some(every) = shared.plan.burst_every {
        let s = shared.clone();
        tasks.spawn(async move { bursts(s, every).await });
    }
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(5),
        Duration::from_secs(5),
    );
    loop {
        tokio::select! {
            _ = ticker.tick() => progress(&shared.report()),
            next = tasks.join_next() => if next.is_none() { break },
        }
    }
    Ok(shared.report())
}

async fn kiosk(s: &Shared, n: u32) {
    let mut rng = StdRng::seed_from_u64(s.plan.seed ^ (0x6b69_6f73 + u64::from(n)));
    let agent = format!("boothcloud-simulator kiosk-{n}");
    let mut round: u32 = 0;
    while s.running() {
        if round.is_multiple_of(20) {
            s.send(s.http.get(s.url("/api/v1/catalogue")).header("user-agent", &agent)).await;
        }
        round += 1;
        let lines: Vec<Value> = (0..rng.random_range(1..=4))
            .map(|_| json!({"sku": s.skus[rng.random_range(0..s.skus.len())], "qty": rng.random_range(1..=2)}))
            .collect();
        let quote = s
            .send(
                s.http
                    .post(s.url("/api/v1/quotes"))
                    .header("user-agent", &agent)
                    .json(&json!({"lines": lines})),
            )
            .await;
        s.tally.quotes.fetch_add(1, Ordering::Relaxed);
        let token = quote
            .filter(|(status, _)| *status == 200)
            .and_then(|(_, body)| serde_json::from_slice::<Value>(&body).ok())
            .and_then(|v| v["token"].as_str().map(str::to_owned));
        s.think(&mut rng, 2.0, 6.0).await;
        if let Some(token) = token.filter(|_| rng.random_bool(0.85) && s.running()) {
            // The simulated crowd are attendees' phones: they order ahead and pay at pickup.
            let body = json!({"quote_token": token, "payment": {"method": "pay_at_pickup"}});
            let key = uuid::Uuid::new_v4().to_string();
            let placed = s
                .send(
                    s.http
                        .post(s.url("/api/v1/orders"))
                        .header("user-agent", &agent)
                        .header("idempotency-key", key)
                        .json(&body),
                )
                .await;
            match placed.map(|(status, _)| status) {
                Some(201) => s.tally.orders.fetch_add(1, Ordering::Relaxed),
                Some(409) => s.tally.sold_out.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
        }
        s.think(&mut rng, 3.0, 10.0).await;
    }
}

/// A picture, popular ones more often (roughly Zipf: index ~ 1/rank).
fn picture(rng: &mut StdRng) -> &'static str {
    let weights: f64 = (1..=PICTURES.len()).map(|r| 1.0 / r as f64).sum();
    let mut pick = rng.random_range(0.0..weights);
    for (i, p) in PICTURES.iter().enumerate() {
        pick -= 1.0 / (i + 1) as f64;
        if pick <= 0.0 {
            return p;
        }
    }
    PICTURES[0]
}

async fn phone(s: &Shared, n: u32, crowd: bool) {
    let mut rng = StdRng::seed_from_u64(s.plan.seed ^ (0x7068_6f6e_0000 + u64::from(n)));
    let agent = format!("boothcloud-simulator {}-{n}", if crowd { "crowd" } else { "phone" });
    let get = |path: &str| {
        s.http
            .get(s.url(&format!("/assets/{path}")))
            .header("user-agent", &agent)
            .header("accept-encoding", "gzip")
    };
    loop {
        for path in STOREFRONT {
            s.send(get(path)).await;
            s.tally.assets.fetch_add(1, Ordering::Relaxed);
        }
        let looks = if crowd { 10 } else { rng.random_range(5..20) };
        for _ in 0..looks {
            if !s.running() {
                return;
            }
            let req = if rng.random_bool(0.05) {
                // The demo reel is 258 KB: four 64 KiB ranges fit.
                let start = rng.random_range(0..4) * 65_536;
                get("video/demo-reel.mp4")
                    .header("range", format!("bytes={start}-{}", start + 65_535))
            } else {
                get(picture(&mut rng))
            };
            s.send(req).await;
            s.tally.assets.fetch_add(1, Ordering::Relaxed);
            if !crowd {
                s.think(&mut rng, 0.5, 3.0).await;
            }
        }
        if crowd || !s.running() {
            return;
        }
        s.think(&mut rng, 5.0, 20.0).await;
    }
}

async fn bursts(s: Arc<Shared>, every: Duration) {
    let mut n = 0;
    loop {
        tokio::time::sleep(every.min(s.until.saturating_duration_since(Instant::now()))).await;
        if !s.running() {
            return;
        }
        s.tally.bursts.fetch_add(1, Ordering::Relaxed);
        let mut crowd = tokio::task::JoinSet::new();
        for i in 0..s.plan.burst_size {
            let s = s.clone();
            let id = 10_000 + n * s.plan.burst_size + i;
            crowd.spawn(async move { phone(&s, id, true).await });
        }
        while crowd.join_next().await.is_some() {}
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popular_pictures_come_up_more_often() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..10_000 {
            *counts.entry(picture(&mut rng)).or_insert(0) += 1;
        }
        assert!(counts[PICTURES[0]] > 4 * counts[PICTURES[10]], "{counts:?}");
        assert!(counts.len() == PICTURES.len(), "every picture is asked for: {counts:?}");
    }
}
