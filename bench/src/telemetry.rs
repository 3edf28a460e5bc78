//! What telemetry costs: the price of recording one request (in-process, ns per call),
//! and the node's throughput with request timing on and off, in one run.
//!
//! Throughput: two release nodes side by side, one started with timing off
//! (`BOOTHCLOUD_NO_TIMING=true`), loaded in alternating rounds — by wrk on a cached asset
//! and on the catalogue (the node at full stretch on its two hottest paths), and by the
//! traffic simulator flat out (the booth's mix of quotes, orders and assets). Besides
//! requests per second, each round reads the node's CPU time from `/proc`: CPU µs per
//! request is what a request costs the node, and far steadier than throughput on a
//! shared machine; `1 − off/on` is the throughput lost when the node is CPU-bound.

use std::sync::Arc;
use std::time::Instant;

use axum::http::Method;
use boothcloud_node::clock::SystemClock;
use boothcloud_node::simulate::{self, Plan};
use boothcloud_node::telemetry::{Feature, RouteTiming, Telemetry};
use boothcloud_tests::{Options, TestNode};

use crate::{median, wrk};

#[derive(clap::Args)]
pub struct Args {
    /// Rounds per load (alternating on/off).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seconds per wrk round.
    #[arg(long, default_value_t = 6)]
    seconds: u64,
    /// wrk connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Calls per recording measurement.
    #[arg(long, default_value_t = 2_000_000)]
    calls: u64,
}

/// ns per call of `f`, median of five runs of `calls` calls.
fn per_call(calls: u64, mut f: impl FnMut(u64)) -> f64 {
    let runs: Vec<f64> = (0..5)
        .map(|_| {
            let t0 = Instant::now();
            for i in 0..calls {
                f(i);
            }
            t0.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    median(runs)
}

/// What the request path does per request: a timer from the route's [`RouteTiming`]
/// (as the router's guard keeps one per route) and its finish.
fn recording(calls: u64) -> Vec<(String, f64)> {
    let t = Arc::new(Telemetry::new(Arc::new(SystemClock)));
    let routes = ["/assets/{*path}", "/api/v1/quotes", "/api/v1/orders", "/api/v1/catalogue"];
    let timings: Vec<RouteTiming> = routes.iter().map(|_| RouteTiming::new(t.clone())).collect();
    let one = per_call(calls, |i| {
        let i = (i % 4) as usize;
        timings[i].timer(&Method::GET, routes[i]).finish(200);
    });
    // Two threads on the same route: the contended case (both cores busy).
    let contended = {
        let runs: Vec<f64> = (0..5)
            .map(|_| {
                let t0 = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..2 {
                        let timing = &timings[0];
                        s.spawn(move || {
                            for _ in 0..calls / 2 {
                                timing.timer(&Method::GET, "/assets/{*path}").finish(200);
                            }
                        });
                    }
                });
                // Wall time per call per thread: what each request waits.
                t0.elapsed().as_nanos() as f64 / (calls / 2) as f64
            })
            .collect();
        median(runs)
    };
    let sessions = t.sessions();
    let session = per_call(calls, |i| {
        let ip = std::net::IpAddr::from([10, 0, (i % 200) as u8, (i % 250) as u8]);
        sessions.seen(ip, b"Mozilla/5.0 (Linux; Android 14)", Feature::Browsing, (i / 1000) as i64);
    });
    vec![
        ("time and record one request (4 routes, one thread)".into(), one),
        ("time and record one request (one route, two threads at once)".into(), contended),
        ("count it in a session (keyed hash + map)".into(), session),
    ]
}

/// CPU time (user + system, ms) the process has used, from `/proc/<pid>/stat`.
fn cpu_ms(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    Ok(ticks * 10.0)
}

/// One round's figures: requests per second, and the node's CPU µs per request (steadier
/// than throughput on a shared machine: what each request costs the node).
struct Round {
    rps: f64,
    cpu_us: f64,
}

struct Pair {
    on: TestNode,
    off: TestNode,
}

fn start_pair() -> Pair {
    let on = TestNode::start_with(Options::default());
    let off = TestNode::start_with(Options { env: vec![("BOOTHCLOUD_NO_TIMING".into(), "true".into())], ..Options::default() });
    Pair { on, off }
}

/// Runs `load` on each node in turn for `rounds` rounds, alternating which goes first so
/// drift on the machine falls on both, and reads the node's CPU time around each load.
/// `load` answers the requests it made and how long it ran (seconds).
fn alternate(
    pair: &Pair,
    rounds: usize,
    mut load: impl FnMut(&TestNode, usize) -> anyhow::Result<(f64, f64)>,
) -> anyhow::Result<(Vec<Round>, Vec<Round>)> {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 { [(&pair.on, true), (&pair.off, false)] } else { [(&pair.off, false), (&pair.on, true)] };
        for (node, timing) in order {
            let cpu0 = cpu_ms(node.pid())?;
            let (requests, seconds) = load(node, round)?;
            let cpu = cpu_ms(node.pid())? - cpu0;
            let measured = Round { rps: requests / seconds, cpu_us: cpu * 1000.0 / requests.max(1.0) };
            if timing {
                on.push(measured)
            } else {
                off.push(measured)
            }
        }
    }
    Ok((on, off))
}

fn wrk_rounds(pair: &Pair, path: &str, args: &Args) -> anyhow::Result<(Vec<Round>, Vec<Round>)> {
    alternate(pair, args.rounds, |node, _| {
        let load = wrk::run(&format!("{}{path}", node.url), 2, args.connections, args.seconds)?;
        anyhow::ensure!(load.errors == 0, "{path}: {} errors", load.errors);
        Ok((load.requests_per_s * args.seconds as f64, args.seconds as f64))
    })
}

fn simulator_rounds(pair: &Pair, rounds: usize) -> anyhow::Result<(Vec<Round>, Vec<Round>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    alternate(pair, rounds, |node, round| {
        let plan = Plan {
            target: node.url.parse()?,
            kiosks: 8,
            phones: 24,
            duration: std::time::Duration::from_secs(8),
            pace: 0.0,
            burst_every: None,
            burst_size: 0,
            seed: 14 + round as u64,
        };
        let report = runtime.block_on(simulate::run(plan, |_| {}))?;
        anyhow::ensure!(report.failures + report.unreachable == 0, "simulator: {report:?}");
        Ok((report.requests as f64, report.seconds))
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    println!("### Recording cost (in-process, median of 5 × {} calls)\n", args.calls);
    println!("| What | ns per call |\n|---|---:|");
    for (what, ns) in recording(args.calls) {
        println!("| {what} | {ns:.0} |");
    }

    let pair = start_pair();
    // Prime the asset so both nodes serve it from memory.
    for node in [&pair.on, &pair.off] {
        for _ in 0..2 {
            reqwest::blocking::get(format!("{}/assets/img/hero.jpg", node.url))?.bytes()?;
        }
    }
    println!(
        "\n### Throughput, timing on vs off (median of {} alternating rounds; wrk -t2 -c{} {} s; simulator 8 s flat out)\n",
        args.rounds, args.connections, args.seconds
    );
    println!("| Load | req/s on | req/s off | on / off | node CPU µs/request on | off | cost at saturation |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let row = |what: &str, (on, off): (Vec<Round>, Vec<Round>)| {
        let ratio = median(on.iter().zip(&off).map(|(a, b)| a.rps / b.rps).collect());
        let cpu_on = median(on.iter().map(|r| r.cpu_us).collect());
        let cpu_off = median(off.iter().map(|r| r.cpu_us).collect());
        println!(
            "| {what} | {:.0} | {:.0} | {ratio:.3} | {cpu_on:.2} | {cpu_off:.2} | {:+.1}% |",
            median(on.iter().map(|r| r.rps).collect()),
            median(off.iter().map(|r| r.rps).collect()),
            (1.0 - cpu_off / cpu_on) * 100.0
        );
    };
    row("wrk: cached asset (img/hero.jpg)", wrk_rounds(&pair, "/assets/img/hero.jpg", &args)?);
    row("wrk: catalogue (JSON)", wrk_rounds(&pair, "/api/v1/catalogue", &args)?);
    row("simulator: 8 kiosks + 24 phones, no think time", simulator_rounds(&pair, args.rounds.min(3))?);
    Ok(())
}
