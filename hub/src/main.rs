//! `boothcloud-hub`: the regional hub, and its two tools (a booth's credential, revoking
//! a booth).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use boothcloud_core::clock::{Clock, SystemClock};
use boothcloud_core::signing::hub::{credential, valid_booth, MIN_KEY_BYTES};
use clap::{Parser, Subcommand};

/// Run the regional hub that booths sync orders to (PostgreSQL). Needs
/// BOOTHCLOUD_HUB_KEY (32+ characters; booth credentials derive from it);
/// BOOTHCLOUD_HUB_OPERATOR_TOKEN opens GET /api/v1/hub/booths.
#[derive(Parser)]
#[command(name = "boothcloud-hub", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// postgres://user:password@host:port/database
    #[arg(long, env = "BOOTHCLOUD_HUB_DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, default_value = "0.0.0.0:8790", env = "BOOTHCLOUD_HUB_LISTEN")]
    listen: SocketAddr,
}

#[derive(Subcommand)]
enum Command {
    /// Print the credential of a booth (its manifest's `[uplink] credential`, with
    /// `[uplink] booth` set to the same id).
    Credential { booth: String },
    /// Stop trusting a booth: its requests, and batches it relays, are refused from now
    /// on. (To trust that laptop again, give it a new booth id and credential.)
    Revoke {
        booth: String,
        #[arg(long, env = "BOOTHCLOUD_HUB_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOOTHCLOUD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn hub_key() -> anyhow::Result<Vec<u8>> {
    let key = std::env::var("BOOTHCLOUD_HUB_KEY")
        .context("set BOOTHCLOUD_HUB_KEY: the hub's secret, 32 characters or more")?;
    anyhow::ensure!(key.len() >= MIN_KEY_BYTES, "BOOTHCLOUD_HUB_KEY must be 32 characters or more");
    Ok(key.into_bytes())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    const BAD_ID: &str = "a booth id is 1 to 64 letters, digits, '-', '_' or '.'";
    match cli.command {
        Some(Command::Credential { booth }) => {
            anyhow::ensure!(valid_booth(&booth), BAD_ID);
            println!("{}", credential(&hub_key()?, &booth));
        }
        Some(Command::Revoke { booth, database_url, reason }) => {
            anyhow::ensure!(valid_booth(&booth), BAD_ID);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(boothcloud_hub::revoke(&database_url, &booth, reason.as_deref()))?;
            println!("booth {booth} revoked");
        }
        None => {
            let database_url = cli.database_url.context("pass --database-url postgres://…")?;
            let config = boothcloud_hub::HubConfig {
                database_url,
                listen: cli.listen,
                key: hub_key()?,
                operator_token: std::env::var("BOOTHCLOUD_HUB_OPERATOR_TOKEN")
                    .ok()
                    .filter(|t| t.len() >= 16),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async {
                let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
                let (listener, router) = boothcloud_hub::bind(config, clock).await?;
                println!("listening on http://{}", listener.local_addr()?);
                println!("role: regional hub");
                boothcloud_hub::run(listener, router, shutdown_signal()).await;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stopping: finishing requests in flight");
}
