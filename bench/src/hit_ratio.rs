//! The cache's hit ratio over a booth-like day, compressed: a generated storefront
//! (product images and thumbnails with Zipf popularity, the page's text files, demo
//! videos watched in byte ranges, and a few promo images added after the warm-up list
//! was published), replayed by kiosks and phones with different browsers after the
//! node's warm-up from the storefront's listing.
//!
//! Text files are short-lived (`max-age=10, stale-while-revalidate=60`) and vary on
//! Accept-Encoding, as a storefront's HTML and JSON usually are; media is long-lived.
//! A request counts as a hit when the node answered without waiting on the origin:
//! `X-Cache` HIT, STALE (served while refreshing) or PEER.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boothcloud_tests::{manifest_with_origin, Kiosk, Options, TestNode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::origin::{Object, Origin};

#[derive(clap::Args)]
pub struct Args {
    /// Requests in the trace.
    #[arg(long, default_value_t = 30_000)]
    requests: usize,
    /// Clients replaying it at once (kiosks and phones).
    #[arg(long, default_value_t = 24)]
    clients: usize,
    /// Zipf exponent of product popularity.
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// Seed of the generated storefront and trace.
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// Requests per second, all clients together (0: as fast as they go). The default
    /// replays over 30 s, long enough for the storefront's 10 s pages to go stale and
    /// be refreshed in the background while the booth keeps serving.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
}

const IMAGES: usize = 240;
const THUMBS: usize = 60;
const VIDEOS: usize = 4;
const PROMOS: usize = 6;
const TEXT: [(&str, &str, usize); 4] = [
    ("index.html", "text/html", 24_000),
    ("products.json", "application/json", 64_000),
    ("css/store.css", "text/css", 38_000),
    ("js/store.js", "text/javascript", 140_000),
];

/// The browsers at the booth and their shares: Chromium kiosks and Android phones over
/// plain HTTP, iPhones, and a few scripts and printers that send nothing.
const BROWSERS: [(Option<&str>, f64); 4] = [
    (Some("gzip, deflate"), 0.55),
    (Some("gzip, deflate, br"), 0.15),
    (Some("deflate, gzip;q=1.0, *;q=0.5"), 0.2),
    (None, 0.1),
];

struct Request {
    path: String,
    range: Option<(u64, u64)>,
    browser: usize,
}

fn storefront(rng: &mut StdRng) -> HashMap<String, Object> {
    let mut objects = HashMap::new();
    let bytes = |rng: &mut StdRng, n: usize| -> bytes::Bytes {
        (0..n).map(|_| rng.random::<u8>()).collect::<Vec<u8>>().into()
    };
    let log_uniform = |rng: &mut StdRng, lo: f64, hi: f64| {
        (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp() as usize
    };
    for (path, content_type, size) in TEXT {
        let body = bytes(rng, size);
        let cache_control = "public, max-age=10, stale-while-revalidate=60".into();
        objects.insert(
            path.to_owned(),
            Object { body, content_type, cache_control, varies_on_encoding: true },
        );
    }
    let media = |rng: &mut StdRng, size: usize, content_type| Object {
        body: bytes(rng, size),
        content_type,
        cache_control: "public, max-age=86400".into(),
        varies_on_encoding: false,
    };
    for i in 0..IMAGES {
        let size = log_uniform(rng, 12_000.0, 180_000.0);
        objects.insert(format!("img/p{i:03}.jpg"), media(rng, size, "image/jpeg"));
    }
    for i in 0..THUMBS {
        let size = log_uniform(rng, 3_000.0, 12_000.0);
        objects.insert(format!("img/thumb/t{i:03}.webp"), media(rng, size, "image/webp"));
    }
    for i in 0..VIDEOS {
        let size = log_uniform(rng, 2_000_000.0, 6_000_000.0);
        objects.insert(format!("video/demo{i}.mp4"), media(rng, size, "video/mp4"));
    }
    for i in 0..PROMOS {
        objects.insert(format!("img/promo/late{i}.jpg"), media(rng, 90_000, "image/jpeg"));
    }
    // The storefront's published listing: everything but the late promos.
    let mut listed: Vec<&String> =
        objects.keys().filter(|p| !p.starts_with("img/promo/")).collect();
    listed.sort();
    let listing = listed.iter().map(|p| format!("{p}\n")).collect::<String>();
    objects.insert(
        "warm.txt".into(),
        Object {
            body: listing.into(),
            content_type: "text/plain",
            cache_control: "public, max-age=300".into(),
            varies_on_encoding: false,
        },
    );
    objects
}

/// Ranks 0..n with Zipf(s) popularity.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|k| {
                total += 1.0 / (k as f64).powf(s);
                total
            })
            .collect::<Vec<_>>();
        Zipf { cumulative: cumulative.iter().map(|c| c / total).collect() }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let u = rng.random::<f64>();
        self.cumulative.partition_point(|c| *c < u).min(self.cumulative.len() - 1)
    }
}

fn trace(args: &Args, rng: &mut StdRng, objects: &HashMap<String, Object>) -> Vec<Request> {
    let images = Zipf::new(IMAGES, args.zipf);
    let thumbs = Zipf::new(THUMBS, args.zipf);
    let videos = Zipf::new(VIDEOS, args.zipf);
    let browser = |rng: &mut StdRng| {
        let mut u = rng.random::<f64>();
        BROWSERS
            .iter()
            .position(|(_, share)| {
                u -= share;
                u < 0.0
            })
            .unwrap_or(BROWSERS.len() - 1)
    };
    (0..args.requests)
        .map(|_| {
            let b = browser(rng);
            let kind = rng.random::<f64>();
            let (path, range) = if kind < 0.10 {
                (TEXT[rng.random_range(0..TEXT.len())].0.to_owned(), None)
            } else if kind < 0.78 {
                (format!("img/p{:03}.jpg", images.sample(rng)), None)
            } else if kind < 0.90 {
                (format!("img/thumb/t{:03}.webp", thumbs.sample(rng)), None)
            } else if kind < 0.93 {
                (format!("img/promo/late{}.jpg", rng.random_range(0..PROMOS)), None)
            } else {
                // A player seeking: 256 KiB to 1 MiB from a 256 KiB boundary.
                let path = format!("video/demo{}.mp4", videos.sample(rng));
                let len = objects[&path].body.len() as u64;
                let chunk = 262_144u64;
                let start = rng.random_range(0..len.div_ceil(chunk)) * chunk;
                let end = (start + chunk * rng.random_range(1..=4u64)).min(len) - 1;
                (path, Some((start, end)))
            };
            Request { path, range, browser: b }
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    hit: u64,
    stale: u64,
    peer: u64,
    miss: u64,
    other: u64,
    bytes: u64,
    errors: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let objects = storefront(&mut rng);
    let storefront_bytes: usize = objects.values().map(|o| o.body.len()).sum();
    let requests = trace(&args, &mut rng, &objects);
    let origin = Origin::start(objects)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest_with_origin(
        dir.path(),
        &origin.url,
        "warm_listing = \"warm.txt\"\nwarm_concurrency = 8",
        "",
    );
    let node = TestNode::start_with(Options { manifest: Some(manifest), ..Options::default() });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;

    let warm = runtime.block_on(async {
        let kiosk = Kiosk::new(&node.url);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let w = kiosk.ops_get("/api/v1/ops/assets").await.body["warm_up"].clone();
            if w["running"] == false && w["total"].as_u64().unwrap_or(0) > 0 {
                return Ok(w);
            }
            anyhow::ensure!(Instant::now() < deadline, "warm-up did not finish in 120 s: {w}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })?;
    let after_warm = (
        origin.counts.requests.load(Ordering::Relaxed),
        origin.counts.bytes.load(Ordering::Relaxed),
    );

    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tallies: Vec<Tally> = runtime.block_on(async {
        let workers: Vec<_> = (0..args.clients)
            .map(|_| {
                let (requests, next, base) =
                    (requests.clone(), next.clone(), format!("{}/assets/", node.url));
                let rate = args.rate;
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut t = Tally::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = requests.get(i) else { break };
                        if rate > 0 {
                            tokio::time::sleep_until(
                                (started + Duration::from_secs_f64(i as f64 / rate as f64)).into(),
                            )
                            .await;
                        }
                        let mut req = http.get(format!("{base}{}", r.path));
                        if let Some(ae) = BROWSERS[r.browser].0 {
                            req = req.header("accept-encoding", ae);
                        }
                        if let Some((a, b)) = r.range {
                            req = req.header("range", format!("bytes={a}-{b}"));
                        }
                        match req.send().await {
                            Ok(res) => {
                                let status = res.status().as_u16();
                                let x = res
                                    .headers()
                                    .get("x-cache")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_owned();
                                let body = res.bytes().await.map(|b| b.len() as u64).unwrap_or(0);
                                t.bytes += body;
                                let expected = if r.range.is_some() { 206 } else { 200 };
                                if status != expected {
                                    t.errors.push(format!("{}: {status}", r.path));
                                }
                                match x.as_str() {
                                    "HIT" => t.hit += 1,
                                    "STALE" => t.stale += 1,
                                    "PEER" => t.peer += 1,
                                    "MISS" => t.miss += 1,
                                    _ => t.other += 1,
                                }
                            }
                            Err(e) => t.errors.push(format!("{}: {e}", r.path)),
                        }
                    }
                    t
                })
            })
            .collect();
        let mut out = Vec::new();
        for w in workers {
            out.push(w.await.expect("worker"));
        }
        out
    });
    let wall = started.elapsed().as_secs_f64();
    let mut t = Tally::default();
    for x in tallies {
        t.hit += x.hit;
        t.stale += x.stale;
        t.peer += x.peer;
        t.miss += x.miss;
        t.other += x.other;
        t.bytes += x.bytes;
        t.errors.extend(x.errors);
    }
    anyhow::ensure!(
        t.errors.is_empty(),
        "{} requests failed, first: {}",
        t.errors.len(),
        t.errors[0]
    );
    anyhow::ensure!(t.other == 0, "{} answers had no X-Cache", t.other);
    let total = t.hit + t.stale + t.peer + t.miss;
    let ratio = (t.hit + t.stale + t.peer) as f64 / total as f64;
    let origin_requests = origin.counts.requests.load(Ordering::Relaxed) - after_warm.0;
    let origin_bytes = origin.counts.bytes.load(Ordering::Relaxed) - after_warm.1;
    let figures = runtime.block_on(async {
        Kiosk::new(&node.url).ops_get("/api/v1/ops/assets").await.body["figures"].clone()
    });

    println!(
        "boothcloud-bench hit-ratio: {} requests from {} clients at {}, Zipf s = {}, seed {}; storefront of {} objects, {:.1} MB\n",
        args.requests,
        args.clients,
        if args.rate > 0 { format!("{} req/s", args.rate) } else { "full speed".to_owned() },
        args.zipf,
        args.seed,
        IMAGES + THUMBS + VIDEOS + PROMOS + TEXT.len(),
        storefront_bytes as f64 / 1e6
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| warm-up from the listing | {} files, {:.1} MB, {} ms, {} failed |",
        warm["done"],
        warm["bytes"].as_f64().unwrap_or(0.0) / 1e6,
        warm["duration_ms"],
        warm["failed"]
    );
    println!("| replay | {total} requests in {wall:.1} s ({:.0} req/s) |", total as f64 / wall);
    println!(
        "| X-Cache HIT / STALE / PEER / MISS | {} / {} / {} / {} |",
        t.hit, t.stale, t.peer, t.miss
    );
    println!("| **hit ratio (HIT + STALE + PEER)** | **{:.2}%** (target ≥ 97%) |", ratio * 100.0);
    println!(
        "| origin during the replay | {origin_requests} requests ({} answered 304), {:.1} MB, against {:.1} MB served |",
        origin.counts.not_modified.load(Ordering::Relaxed),
        origin_bytes as f64 / 1e6,
        t.bytes as f64 / 1e6
    );
    println!(
        "| node's own figures (event) | hit ratio {:.2}%, stale share {:.2}% |",
        figures["hit_ratio_event"].as_f64().unwrap_or(0.0) * 100.0,
        figures["stale_share"].as_f64().unwrap_or(0.0) * 100.0
    );
    if ratio < 0.97 {
        eprintln!("hit ratio {:.2}% is under the 97% target", ratio * 100.0);
    }
    Ok(())
}
