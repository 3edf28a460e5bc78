//! What teardown costs at the end of a busy event: the real node (release build) with
//! `--orders` orders taken offline (contact details on every one), torn down with an
//! export folder, timed step by step from its own progress table; against the same
//! export and wipe done by hand with rusqlite on a copy of the same database (read the
//! unsynced orders as JSON into a synced file, null the contact details with secure
//! delete, VACUUM, truncate the WAL) — the least a careful operator would do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use boothcloud_tests::{Kiosk, TestNode, OPERATOR_TOKEN};
use serde_json::json;

use boothcloud_node::teardown::TeardownStep;

use crate::median;

#[derive(clap::Args)]
pub struct Args {
    /// Orders taken before teardown.
    #[arg(long, default_value_t = 10_000)]
    orders: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// The steps by name, in the node's own order.
const STEPS: [&str; 8] = TeardownStep::ALL_NAMES;

struct Round {
    /// POST to the process's exit.
    total_ms: f64,
    /// Per step, from the node's own record.
    steps_ms: Vec<f64>,
    /// Export + wipe by hand on a copy.
    by_hand_ms: f64,
}

async fn take_orders(url: &str, n: usize) -> anyhow::Result<()> {
    let kiosk = Kiosk::new(url);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (kiosk, next) = (kiosk.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let q = kiosk.quote(&[("TOTE", 1), ("STICKER-LIGHTHOUSE", 1 + (i % 3) as i64)], None).await;
                    let body = json!({"quote_token": q.body["token"], "payment": {"method": "pay_at_pickup"},
                        "customer": {"email": format!("guest{i}@example.org"), "phone": format!("+49170{i:07}")}});
                    let o = kiosk.order(&format!("bench-{i}"), &body).await;
                    assert_eq!(o.status, 201, "{}", o.body);
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    Ok(())
}

/// The export and wipe by hand, on a copy of the booth's database.
fn by_hand(db: &std::path::Path, out: &std::path::Path) -> anyhow::Result<f64> {
    let t0 = Instant::now();
    let conn = rusqlite::Connection::open(db)?;
    let mut stmt = conn.prepare(
        "SELECT json_group_array(json_object('order_id', order_id, 'status', status, 'currency', currency, 'lines', json(lines), \
         'subtotal', subtotal, 'discount', discount, 'total', total, 'payment', payment_method, 'created_ms', created_ms, \
         'customer', json_object('email', customer_email, 'phone', customer_phone))) FROM orders WHERE status != 'synced'",
    )?;
    let json: String = stmt.query_row([], |r| r.get(0))?;
    drop(stmt);
    let file = out.join("orders.json");
    std::fs::write(&file, json.as_bytes())?;
    std::fs::File::open(&file)?.sync_all()?;
    std::fs::File::open(out)?.sync_all()?;
    conn.execute_batch(
        "PRAGMA secure_delete = ON; UPDATE orders SET customer_email = NULL, customer_phone = NULL; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
    )?;
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

async fn round(args: &Args) -> anyhow::Result<Round> {
    let mut node = TestNode::start();
    take_orders(&node.url, args.orders).await?;
    // A copy of the database as teardown will find it, for the by-hand run.
    let copy = tempfile::tempdir()?;
    {
        let src = rusqlite::Connection::open(node.data_dir.join("boothcloud.db"))?;
        src.execute("VACUUM INTO ?1", [copy.path().join("copy.db").to_string_lossy()])?;
    }
    let export = tempfile::tempdir()?;
    let t0 = Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/ops/teardown", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"confirm": true, "export_dir": export.path()}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 202, "teardown: {}", res.text().await?);
    let exit = node
        .wait_for_exit(Duration::from_secs(600))
        .ok_or_else(|| anyhow::anyhow!("teardown did not end in 10 minutes"))?;
    anyhow::ensure!(exit.success(), "the node exited with {exit:?}");
    let total_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let db = rusqlite::Connection::open(node.data_dir.join("boothcloud.db"))?;
    let started: i64 = db.query_row("SELECT started_ms FROM teardown", [], |r| r.get(0))?;
    let mut last = started;
    let mut steps_ms = Vec::new();
    for step in STEPS {
        let at: i64 = db.query_row(
            "SELECT at_ms FROM teardown_steps WHERE step = ?1 AND state = 'done'",
            [step],
            |r| r.get(0),
        )?;
        steps_ms.push((at - last) as f64);
        last = at;
    }
    let exported = std::fs::read(export.path().join("harbour-lights-2026-orders-not-synced.json"))?;
    let n = serde_json::from_slice::<Vec<serde_json::Value>>(&exported)?.len();
    anyhow::ensure!(n == args.orders, "{n} orders exported of {}", args.orders);

    let by_hand_ms = by_hand(&copy.path().join("copy.db"), copy.path())?;
    Ok(Round { total_ms, steps_ms, by_hand_ms })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(measure(args))
}

async fn measure(args: Args) -> anyhow::Result<()> {
    let mut rounds = Vec::new();
    for r in 0..args.rounds {
        let round = round(&args).await?;
        println!(
            "round {}: {} orders, teardown {:.0} ms (steps {}), export + wipe by hand {:.0} ms",
            r + 1,
            args.orders,
            round.total_ms,
            STEPS
                .iter()
                .zip(&round.steps_ms)
                .map(|(s, ms)| format!("{s} {ms:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            round.by_hand_ms
        );
        rounds.push(round);
    }
    let step = |i: usize| median(rounds.iter().map(|r| r.steps_ms[i]).collect());
    let orders_and_wipe = median(rounds.iter().map(|r| r.steps_ms[2] + r.steps_ms[5]).collect());
    let by_hand = median(rounds.iter().map(|r| r.by_hand_ms).collect());
    println!(
        "median teardown, POST to exit: {:.0} ms",
        median(rounds.iter().map(|r| r.total_ms).collect())
    );
    for (i, s) in STEPS.iter().enumerate() {
        println!("  {s:<9} {:>7.0} ms", step(i));
    }
    println!("median export + wipe: teardown {orders_and_wipe:.0} ms, by hand {by_hand:.0} ms, ratio {:.2}", orders_and_wipe / by_hand);
    Ok(())
}
