//! `boothcloud-bench`: the node measured against the best alternative, in one run.
//!
//! - `commerce`: durable orders/s against raw SQLite, quote latency, manifest cold start;
//! - `cache`: cache hits served by the node against nginx's proxy_cache in front of the
//!   same origin, both loaded by wrk on loopback (needs `nginx` and `wrk`;
//!   `bench/cache.sh` installs them);
//! - `hit-ratio`: a generated booth trace (a storefront of ~300 assets, Zipf
//!   popularity, demo-video ranges, several browsers) replayed after warm-up;
//! - `degrade`: p99 of the essential routes under a simulated burst with back-office
//!   load, at `normal` and at `essential`;
//! - `teardown`: the end of a busy event, step by step, against the same export and
//!   wipe done by hand with rusqlite;
//!
//! - `tls`: HTTPS against plain HTTP on the same node: a new connection, quotes,
//!   orders and cache hits on a kept connection, cache hits under wrk;
//!
//! Each prints one Markdown table. The machine is shared: compare only within one run.

mod cache;
mod commerce;
mod degrade;
mod engine;
mod hit_ratio;
mod origin;
mod shop;
mod teardown;
mod tls;
mod wrk;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Orders, quotes and manifest cold start.
    Commerce(commerce::Args),
    /// Cached assets: the node against nginx proxy_cache, with wrk.
    Cache(cache::Args),
    /// Hit ratio over a booth-like request trace after warm-up.
    HitRatio(hit_ratio::Args),
    /// Essential routes' p99 under a burst, before and after degrading.
    Degrade(degrade::Args),
    /// Teardown of a busy booth, step by step, against export and wipe by hand.
    Teardown(teardown::Args),
    /// HTTPS against plain HTTP: handshake, quotes, orders and cache hits.
    Tls(tls::Args),
    /// The shop's quote round trip with many kiosks at once.
    Shop(shop::Args),
    /// The price engine natively, against the kiosk's WebAssembly engine in Chromium.
    Engine(engine::Args),
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The release `boothcloud-node` next to this binary, for the benchmarks that run the
/// node as its own process (as a booth does). `BOOTHCLOUD_NODE_BIN` overrides it.
fn use_sibling_node_binary() -> anyhow::Result<()> {
    if std::env::var_os("BOOTHCLOUD_NODE_BIN").is_none() {
        let exe = std::env::current_exe()?;
        let node = exe.with_file_name("boothcloud-node");
        anyhow::ensure!(
            node.exists(),
            "{} is missing: run `cargo build --release --workspace` first",
            node.display()
        );
        std::env::set_var("BOOTHCLOUD_NODE_BIN", node);
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Commerce(args) => commerce::run(args),
        Command::Engine(args) => engine::run(args),
        Command::Cache(args) => {
            use_sibling_node_binary()?;
            cache::run(args)
        }
        Command::Degrade(args) => {
            use_sibling_node_binary()?;
            degrade::run(args)
        }
        Command::Teardown(args) => {
            use_sibling_node_binary()?;
            teardown::run(args)
        }
        Command::HitRatio(args) => {
            use_sibling_node_binary()?;
            hit_ratio::run(args)
        }
        Command::Tls(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(tls::run(args)),
        Command::Shop(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(shop::run(args)),
    }
}
