//! What degrading buys the essential routes: the traffic simulator plays a booth with
//! bursts of visitors (quotes, orders, the storefront) while non-essential work competes
//! for the laptop's CPU — chart images drawn in a loop and Prometheus scrapes, as a
//! busy back office would — once at `normal` and once at `essential`, alternating which
//! goes first. Quotes the simulator's p50/p95/p99 (its requests are all essential) and
//! how much of the non-essential work the node still did.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use boothcloud_node::simulate::{self, Simulation};
use boothcloud_tests::{Options, TestNode, OPERATOR_TOKEN};

use crate::median;

#[derive(clap::Args)]
pub struct Args {
    /// Rounds per level.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of simulated booth per round.
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// Back-office loops (charts and scrapes) running alongside.
    #[arg(long, default_value_t = 4)]
    loops: usize,
}

struct Round {
    p50: f64,
    p95: f64,
    p99: f64,
    rps: f64,
    back_office_done: u64,
    back_office_shed: u64,
}

async fn set_level(http: &reqwest::Client, url: &str, level: &str) -> anyhow::Result<()> {
    let res = http
        .post(format!("{url}/api/v1/ops/degrade"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&serde_json::json!({ "level": level }))
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "degrade {level}: {}", res.text().await?);
    Ok(())
}

async fn round(url: &str, level: &str, args: &Args, seed: u64) -> anyhow::Result<Round> {
    let http = reqwest::Client::new();
    set_level(&http, url, level).await?;
    let (done, shed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut loops = Vec::new();
    for i in 0..args.loops {
        let (http, url, done, shed, stop) =
            (http.clone(), url.to_owned(), done.clone(), shed.clone(), stop.clone());
        loops.push(tokio::spawn(async move {
            let paths =
                ["/api/v1/ops/charts/latency.png?width=2400&height=1200&span=event", "/metrics"];
            let path = paths[i % paths.len()];
            loop {
                let req = http.get(format!("{url}{path}")).bearer_auth(OPERATOR_TOKEN).send();
                let answered = tokio::select! {
                    r = req => r,
                    () = stop.notified() => return,
                };
                match answered {
                    Ok(r) if r.status() == 503 => {
                        shed.fetch_add(1, Ordering::Relaxed);
                        // A well-behaved client honours Retry-After; a busy one retries
                        // soon anyway: this one waits a tenth of a second.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok(r) => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }));
    }
    let plan = Simulation {
        target: url.parse()?,
        ca_pem: None,
        kiosks: 6,
        phones: 20,
        duration: Duration::from_secs(args.seconds),
        pace: 0.2,
        burst_every: Some(Duration::from_secs(4)),
        burst_size: 30,
        seed,
    };
    let report = simulate::run(plan, |_| {}).await?;
    stop.notify_waiters();
    for l in loops {
        l.abort();
    }
    anyhow::ensure!(report.unreachable == 0, "simulator: {report:?}");
    Ok(Round {
        p50: report.p50_ms,
        p95: report.p95_ms,
        p99: report.p99_ms,
        rps: report.requests_per_second,
        back_office_done: done.load(Ordering::Relaxed),
        back_office_shed: shed.load(Ordering::Relaxed),
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let node = TestNode::start_with(Options::default());
    let (mut normal, mut essential) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        for r in 0..args.rounds {
            let order = if r % 2 == 0 { ["normal", "essential"] } else { ["essential", "normal"] };
            for level in order {
                let measured = round(&node.url, level, &args, 14 + r as u64).await?;
                eprintln!(
                    "round {r} {level}: p99 {:.1} ms, {:.0} req/s, back office {} done / {} shed",
                    measured.p99,
                    measured.rps,
                    measured.back_office_done,
                    measured.back_office_shed
                );
                if level == "normal" {
                    normal.push(measured)
                } else {
                    essential.push(measured)
                }
            }
        }
        set_level(&reqwest::Client::new(), &node.url, "normal").await
    })?;
    let row = |name: &str, v: &[Round]| {
        let m = |f: fn(&Round) -> f64| median(v.iter().map(f).collect());
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} |",
            m(|r| r.p50),
            m(|r| r.p95),
            m(|r| r.p99),
            m(|r| r.rps),
            m(|r| r.back_office_done as f64),
            m(|r| r.back_office_shed as f64)
        );
    };
    println!(
        "### Essential routes under a burst, with back-office load (median of {} rounds × {} s)\n",
        args.rounds, args.seconds
    );
    println!("| Level | p50 ms | p95 ms | p99 ms | booth req/s | back-office answers | back-office shed (503) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    row("normal", &normal);
    row("essential", &essential);
    let p99 = |v: &[Round]| median(v.iter().map(|r| r.p99).collect());
    println!("\np99 essential / normal: {:.2}", p99(&essential) / p99(&normal).max(f64::EPSILON));
    Ok(())
}
