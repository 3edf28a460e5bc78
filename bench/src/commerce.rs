//! The commerce core against its references: durable orders/s acknowledged over HTTP
//! by concurrent clients vs raw SQLite (rusqlite, one process) inserting the same rows
//! in transactions of the same size at the same durability (WAL, synchronous = FULL);
//! quote latency in-process and over HTTP; cold start of a 1,000-rule catalogue vs
//! the `toml` crate alone (the floor for any TOML manifest).

use std::sync::Arc;
use std::time::Instant;

use boothcloud_core::clock::SystemClock;
use boothcloud_core::manifest::{self, DEMO_MANIFEST};
use boothcloud_core::pricing::{Basket, BasketLine, PriceBook};
use boothcloud_core::signing::quote::QuoteClaims;
use boothcloud_node::{Node, NodeConfig};
use hdrhistogram::Histogram;
use serde_json::json;

use crate::median;

#[derive(clap::Args)]
pub struct Args {
    /// Orders per run of raw SQLite, and of the HTTP clients with `--client reqwest`.
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    /// Who places the orders over HTTP: wrk (another process, as kiosks are; the
    /// default) for `--seconds`, or reqwest clients inside this process.
    #[arg(long, value_enum, default_value_t = Client::Wrk)]
    client: Client,
    /// Seconds of orders per run with wrk.
    #[arg(long, default_value_t = 4)]
    seconds: u64,
    /// Concurrent HTTP clients, and rows per raw-SQLite transaction.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Runs of each measurement; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only the manifest's cold start (seconds, not minutes).
    #[arg(long)]
    cold_start_only: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    /// wrk with `bench/lua/orders.lua`: the lightest client there is, in its own process.
    Wrk,
    /// reqwest, one client per connection, on this process's runtime (beside the node).
    Reqwest,
}

fn basket() -> Basket {
    let lines = [("MUG-GLOW", 2), ("STICKER-SHIP", 3), ("TEE-M", 1), ("BEANIE", 1)];
    Basket {
        lines: lines.iter().map(|(s, q)| BasketLine { sku: s.to_string(), qty: *q }).collect(),
        tier: Some("member".into()),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.cold_start_only {
        let (cold, toml_floor, bytes) = cold_start()?;
        println!("cold start of a 1,000-rule catalogue ({} KiB): {cold:.2} ms; toml crate alone: {toml_floor:.2} ms", bytes / 1024);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    println!(
        "boothcloud-bench: {} orders per run, {} clients, median of {} runs\n",
        args.orders, args.clients, args.runs
    );

    let raw: Vec<f64> = (0..args.runs)
        .map(|_| raw_sqlite(args.orders, args.clients))
        .collect::<anyhow::Result<_>>()?;
    let http: Vec<f64> = (0..args.runs)
        .map(|_| {
            runtime.block_on(http_orders(args.client, args.orders, args.seconds, args.clients))
        })
        .collect::<anyhow::Result<_>>()?;
    let (raw, http) = (median(raw), median(http));

    let (q50, q99, p50, p99) = quote_in_process()?;
    let (h50, h99) = runtime.block_on(quote_over_http())?;
    let (cold, toml_floor, bytes) = cold_start()?;

    println!("| measure | boothcloud | reference | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| durable orders/s, {} HTTP clients ({}) vs raw SQLite {}-row transactions (WAL, synchronous=FULL) | {http:.0} | {raw:.0} | {:.2} |",
        args.clients,
        match args.client {
            Client::Wrk => "wrk",
            Client::Reqwest => "reqwest, in this process",
        },
        args.clients,
        http / raw
    );
    println!(
        "| quote in-process (price + sign), p50 / p99 | {:.1} µs / {:.1} µs | price only: {:.1} µs / {:.1} µs | |",
        q50, q99, p50, p99
    );
    println!("| quote over HTTP, one client, p50 / p99 | {h50:.0} µs / {h99:.0} µs | | |");
    println!(
        "| cold start of a 1,000-rule catalogue ({} KiB manifest: parse, check, compile) | {cold:.2} ms | toml crate alone, parse to a plain value: {toml_floor:.2} ms | {:.2} |",
        bytes / 1024,
        cold / toml_floor
    );
    Ok(())
}

/// The same rows the node writes, inserted by rusqlite in `batch`-row transactions.
fn raw_sqlite(n: usize, batch: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = rusqlite::Connection::open(dir.path().join("raw.db"))?;
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
    db.execute_batch(include_str!("../../migrations/20261122000001_orders.sql"))?;
    let lines = r#"[{"sku":"TOTE","qty":1,"unit_price":900,"total":900},{"sku":"COFFEE","qty":1,"unit_price":350,"total":350}]"#;
    let rows: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                uuid::Uuid::now_v7().to_string(),
                format!("bench-key-{i}"),
                uuid::Uuid::new_v4().to_string(),
            )
        })
        .collect();
    let start = Instant::now();
    let mut stmt_sql = String::from(
        "INSERT INTO orders (order_id, idempotency_key, request_hash, quote_id, event_id, currency, subtotal, discount, total, \
         lines, payment_method, customer_email, customer_phone, created_ms, updated_ms, response) \
         VALUES (?1, ?2, ?3, ?4, 'harbour-lights-2026', 'EUR', 1250, 0, 1250, ?5, 'card', NULL, NULL, ?6, ?6, ?7) ON CONFLICT DO NOTHING",
    );
    stmt_sql.shrink_to_fit();
    for chunk in rows.chunks(batch) {
        let tx = db.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(&stmt_sql)?;
            for (id, key, qid) in chunk {
                let response = format!(
                    r#"{{"order_id":"{id}","status":"captured","currency":"EUR","lines":{lines},"subtotal":1250,"discount":0,"total":1250,"payment":"card","created_at":"2026-11-22T12:00:00Z"}}"#
                );
                stmt.execute(rusqlite::params![
                    id,
                    key,
                    &[7u8; 32][..],
                    qid,
                    lines,
                    1_795_000_000_000i64,
                    response
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub(crate) async fn start_node(
    manifest: Option<std::path::PathBuf>,
) -> anyhow::Result<(Node, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let config = NodeConfig {
        manifest,
        listen: Some("127.0.0.1:0".parse()?),
        operator_token: Some("benchmark-operator-token".into()),
        ..NodeConfig::local(dir.path().to_path_buf())
    };
    Ok((Node::build(config, Arc::new(SystemClock::new())).await?, dir))
}

/// `clients` keep-alive connections placing pre-quoted orders: `n` orders with reqwest,
/// or `seconds` of them with wrk.
async fn http_orders(
    client: Client,
    n: usize,
    seconds: u64,
    clients: usize,
) -> anyhow::Result<f64> {
    let (node, dir) = start_node(None).await?;
    let url = format!("http://{}", node.plain_addr());
    // Quote tokens are made up front, in-process: this measures order capture only.
    // wrk runs for a time: enough tokens for 40,000 orders a second.
    let tokens = match client {
        Client::Reqwest => n,
        Client::Wrk => 40_000 * seconds as usize,
    };
    let state = node.services().clone();
    let loaded = state.manifest.current();
    let now = jiff::Timestamp::now();
    let basket = Basket {
        lines: vec![
            BasketLine { sku: "TOTE".into(), qty: 1 },
            BasketLine { sku: "COFFEE".into(), qty: 1 },
        ],
        tier: None,
    };
    let priced = loaded.book.price(&basket, now)?;
    let expires = now + jiff::SignedDuration::from_mins(30);
    let tokens: Vec<String> = (0..tokens)
        .map(|_| {
            let claims = QuoteClaims::new(
                uuid::Uuid::new_v4().to_string(),
                loaded.manifest.event.id.clone(),
                &priced,
                loaded.version,
                now,
                expires,
            );
            state.keys.signer().sign(&claims)
        })
        .collect();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(node.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    // wrk's input is written before the clock starts.
    let wrk_input = match client {
        Client::Reqwest => None,
        Client::Wrk => {
            let file = dir.path().join("tokens.txt");
            std::fs::write(&file, tokens.join("\n") + "\n")?;
            let script = dir.path().join("orders.lua");
            std::fs::write(&script, include_str!("../lua/orders.lua"))?;
            Some((script, vec!["2".to_owned(), file.display().to_string()]))
        }
    };
    let groups0 = state.orders.groups_committed();
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let (placed, rate) = match wrk_input {
        None => {
            let placed = reqwest_orders(&url, tokens, clients).await?;
            (placed, placed as f64 / start.elapsed().as_secs_f64())
        }
        Some((script, args)) => {
            let load = tokio::task::spawn_blocking(move || {
                crate::wrk::run_on(None, &url, 2, clients, seconds, Some(&script), &args)
            })
            .await??;
            anyhow::ensure!(
                load.errors == 0,
                "{} orders were refused (out of tokens? raise the 40,000/s in http_orders)",
                load.errors
            );
            ((load.requests_per_s * seconds as f64) as usize, load.requests_per_s)
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let groups = (state.orders.groups_committed() - groups0).max(1);
    eprintln!(
        "http orders: {rate:.0}/s, {:.1} orders per commit, this process's CPU {:.0}% of one core",
        placed as f64 / groups as f64,
        100.0 * (cpu_seconds() - cpu0) / wall
    );
    let _ = stop_tx.send(());
    server.await?;
    Ok(rate)
}

/// One reqwest client per connection, each placing its share of `tokens` in turn.
async fn reqwest_orders(url: &str, tokens: Vec<String>, clients: usize) -> anyhow::Result<usize> {
    let n = tokens.len();
    let tokens = Arc::new(tokens);
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (tokens, url) = (tokens.clone(), url.to_owned());
            tokio::spawn(async move {
                let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
                for i in (c..tokens.len()).step_by(clients) {
                    let body =
                        json!({"quote_token": tokens[i], "payment": {"method": "pay_at_pickup"}});
                    let r = http
                        .post(format!("{url}/api/v1/orders"))
                        .header("idempotency-key", format!("bench-{i}"))
                        .json(&body)
                        .send()
                        .await?;
                    anyhow::ensure!(r.status() == 201, "order {i}: {}", r.status());
                    r.bytes().await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok(n)
}

/// User + system CPU seconds this process has used so far (Linux `/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<f64> =
        after.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    fields.iter().sum::<f64>() / 100.0
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

/// Price + sign of a 4-line basket that triggers a bundle, buy-2-get-1, an amount off
/// and two basket promotions (the demo's busiest path). Microseconds.
fn quote_in_process() -> anyhow::Result<(f64, f64, f64, f64)> {
    let m = manifest::parse(DEMO_MANIFEST).map_err(|p| anyhow::anyhow!("{p}"))?;
    let book = PriceBook::compile(&m);
    let signer = boothcloud_core::signing::quote::QuoteSigner::new([9; 32]);
    let basket = basket();
    let mut full = histogram();
    let mut price_only = histogram();
    for i in 0..210_000 {
        let t0 = Instant::now();
        let now = jiff::Timestamp::now();
        let priced = book.price(&basket, now)?;
        let t1 = Instant::now();
        let claims = QuoteClaims::new(
            uuid::Uuid::new_v4().to_string(),
            m.event.id.clone(),
            &priced,
            1,
            now,
            now + jiff::SignedDuration::from_mins(5),
        );
        let token = signer.sign(&claims);
        let t2 = Instant::now();
        std::hint::black_box(token);
        if i >= 10_000 {
            full.record((t2 - t0).as_nanos() as u64)?;
            price_only.record((t1 - t0).as_nanos() as u64)?;
        }
    }
    let us = |h: &Histogram<u64>, q| h.value_at_quantile(q) as f64 / 1000.0;
    Ok((us(&full, 0.5), us(&full, 0.99), us(&price_only, 0.5), us(&price_only, 0.99)))
}

async fn quote_over_http() -> anyhow::Result<(f64, f64)> {
    let (node, _dir) = start_node(None).await?;
    let url = format!("http://{}/api/v1/quotes", node.plain_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(node.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    let http = reqwest::Client::new();
    // The demo manifest's member code (public, for the demo only).
    let body = serde_json::to_vec(
        &json!({"lines": basket().lines, "tier": "member", "tier_code": "HARBOUR-MEMBER-2026"}),
    )?;
    let mut h = histogram();
    for i in 0..6_000 {
        let t0 = Instant::now();
        let r = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "quote: {}", r.status());
        r.bytes().await?;
        if i >= 1_000 {
            h.record(t0.elapsed().as_nanos() as u64)?;
        }
    }
    let _ = stop_tx.send(());
    server.await?;
    Ok((h.value_at_quantile(0.5) as f64 / 1000.0, h.value_at_quantile(0.99) as f64 / 1000.0))
}

/// A manifest with 200 items and 1,000 promotions of every kind.
fn thousand_rules() -> String {
    let mut text = DEMO_MANIFEST.split("# ---- Catalogue").next().unwrap_or_default().to_owned();
    for i in 0..200 {
        text.push_str(&format!(
            "[[catalogue]]\nsku = \"SKU-{i:04}\"\nname = \"Item {i}\"\nprice = {}\ncategory = \"cat-{}\"\n\n",
            100 + i * 7,
            i % 12
        ));
    }
    for i in 0..1000 {
        let body = match i % 6 {
            0 => format!("kind = \"percent_off\"\napplies_to = {{ sku = \"SKU-{:04}\" }}\npercent = {}", i % 200, 5 + i % 30),
            1 => format!("kind = \"amount_off\"\napplies_to = {{ category = \"cat-{}\" }}\namount = {}", i % 12, 10 + i % 90),
            2 => format!("kind = \"bundle\"\nitems = [{{ sku = \"SKU-{:04}\", qty = 1 }}, {{ sku = \"SKU-{:04}\", qty = 1 }}]\nprice = 900", i % 200, (i + 1) % 200),
            3 => format!("kind = \"buy_x_get_y\"\nbuy = {{ category = \"cat-{}\", qty = 2 }}\nget = {{ category = \"cat-{}\", qty = 1 }}", i % 12, i % 12),
            4 => format!("kind = \"percent_off\"\napplies_to = \"basket\"\npercent = 5\nmin_basket = {}\ntiers = [\"member\"]", 1000 + i),
            _ => format!(
                "kind = \"amount_off\"\napplies_to = {{ skus = [\"SKU-{:04}\", \"SKU-{:04}\"] }}\namount = 50\nwindows = [{{ days = [\"fri\", \"sat\"], from = \"17:00\", to = \"19:00\" }}]",
                i % 200,
                (i + 7) % 200
            ),
        };
        text.push_str(&format!(
            "[[promotions]]\nid = \"rule-{i}\"\nname = \"Rule {i}\"\n{body}\npriority = {}\n\n",
            i % 50
        ));
    }
    text
}

/// Parse + check + compile, against the floor: the `toml` crate parsing the same text
/// into a plain `toml::Value` (no checks, no compile). Milliseconds.
fn cold_start() -> anyhow::Result<(f64, f64, usize)> {
    let text = thousand_rules();
    let (mut ours, mut floor, mut compile) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..31 {
        let t0 = Instant::now();
        let m = manifest::parse(&text).map_err(|p| anyhow::anyhow!("{p}"))?;
        let parsed = t0.elapsed();
        let book = PriceBook::compile(&m);
        ours.push(t0.elapsed().as_secs_f64() * 1000.0);
        compile.push((t0.elapsed() - parsed).as_secs_f64() * 1000.0);
        anyhow::ensure!(book.rule_count() == 1000, "expected 1000 rules");
        let t1 = Instant::now();
        std::hint::black_box(toml::from_str::<toml::Value>(&text)?);
        floor.push(t1.elapsed().as_secs_f64() * 1000.0);
    }
    eprintln!("cold start: compiling the price book {:.2} ms of it (the rest: reading and checking the manifest)", median(compile));
    Ok((median(ours), median(floor), text.len()))
}
