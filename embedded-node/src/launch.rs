//! Starting a node from a binary: the per-user data folder, logging, the start-up
//! lines scripts read, and stopping on SIGINT/SIGTERM. Shared by `boothcloud-node`
//! and the desktop app so neither carries a second copy.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Node, NodeConfig, NodeError};
use boothcloud_core::clock::SystemClock;

/// `$XDG_DATA_HOME/boothcloud`, else `~/.local/share/boothcloud`.
pub fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("boothcloud"))
}

/// Human-readable logs on stderr, or JSON lines. `BOOTHCLOUD_LOG` filters (default info).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOOTHCLOUD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::telemetry::redact::Redacted(std::io::stderr));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Builds a node, prints where it listens (first line: `listening on https://…`, second
/// `enrollment on http://…`, for scripts), and serves until SIGINT or SIGTERM.
pub async fn serve_until_signal(config: NodeConfig) -> Result<(), NodeError> {
    let data_dir = config.data_dir.clone();
    let node = Node::build(config, Arc::new(SystemClock::new())).await?;
    let addr = node.local_addr();
    let shown = shown(addr);
    let services = node.services();
    let loaded = services.manifest.current();
    println!("listening on https://{shown}");
    println!("enrollment on http://{}", shown_plain(&node));
    println!("event: {} ({})", loaded.manifest.event.name, services.manifest.source().describe());
    println!("data: {}", data_dir.display());
    match &services.secrets_fallback {
        None => println!("secrets: {}", services.secrets_kind()),
        Some(why) => println!("secrets: {} ({why})", services.secrets_kind()),
    }
    if addr.ip().is_unspecified() {
        println!("serving kiosks on every interface, port {}", addr.port());
    }
    let tls = &services.tls;
    println!(
        "booth CA: {} ({})",
        crate::tls::pins::for_people(&tls.server.ca().fingerprint()),
        if tls.ca_created { "new: kiosks must enroll" } else { "kept" }
    );
    if let Some(notice) = services.peers.key_notice() {
        println!("pairing: {notice}");
        tracing::warn!("{notice}");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    node.run_until_stopped(shutdown_signal()).await;
    Ok(())
}

/// An address to print: loopback for "every interface".
pub fn shown(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), addr.port())
    } else {
        addr
    }
}

/// The plain port's address to print.
pub fn shown_plain(node: &Node) -> SocketAddr {
    shown(node.plain_addr())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
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
