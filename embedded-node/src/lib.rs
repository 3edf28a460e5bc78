//! The Boothcloud node: the micro-cloud that serves a booth's kiosks, phones and
//! printers over the local network and keeps selling when the venue's uplink dies.
//!
//! The same library runs inside the desktop app and as the headless `boothcloud-node`
//! binary. The rules it follows (money, the manifest, pricing, signing, the hub
//! protocol) are `boothcloud_core`'s; this crate runs them. Modules, named after what
//! they are at the booth:
//!
//! - [`services`]: the container of the booth's services and the one wiring that
//!   builds it, for the binary, the app and every test.
//! - [`timekeeping`]: the booth's trusted time (the `Clock` every service reads), and
//!   the laptop clock's steps it watches for.
//! - [`checkout`]: a basket priced into a signed quote, and a quote into an order.
//! - [`live_manifest`]: the manifest in force, hot-reloaded from its file; the last good
//!   version is kept.
//! - [`orders`]: the durable order queue — group commit, idempotency, explicit states.
//! - [`assets`]: the cache-first asset cache — memory and disk tiers, coalescing,
//!   warm-up, the paired-booth mesh, and its figures.
//! - [`discovery`]: this node on the LAN over mDNS, and the devices around it.
//! - [`peers`]: whom this node trusts — pairing, signed peer requests, the fleet view.
//! - [`media`]: resumable uploads (tus), ffmpeg transcodes, forwarding upstream.
//! - [`uplink`]: the heartbeat to the regional hub, syncing the order queue to it
//!   (directly, or relayed through a paired booth), offline approvals.
//! - [`controls`]: degrade levels, failover, pausing media forwarding, and runbooks.
//! - [`teardown`]: the end of the event — close, sync or export, report, new keys,
//!   wipe, leave the network, stop — resumable step by step.
//! - [`kiosks`]: the booth's enrolled kiosks and tablets, each with a revocable token.
//! - [`audit`]: the append-only log of every control action.
//! - [`secrets`], [`quote_keys`], [`operator_token`]: secrets in the OS keyring; the
//!   quote-signing key; the lead's token in force, and its rotation.
//! - [`storage`]: the SQLite database (WAL, synchronous = FULL, migrations).
//! - [`telemetry`], [`spend`], [`charts`]: latency per route, metered spend against
//!   budget, and both over time.
//! - [`http`]: the HTTP edge — the only module that knows HTTP.
//! - [`simulate`]: the traffic simulator that plays a booth against a node.
//! - [`launch`]: what both binaries do to start a node and stop it on a signal.
//! - [`ticker`]: the pace of the background loops.
//!
//! Start a node with [`Node::build`], read its address with [`Node::local_addr`], and
//! run it with [`Node::run_until_stopped`], passing the future that says when to stop.

pub mod assets;
pub mod audit;
pub mod charts;
pub mod checkout;
pub mod controls;
pub mod discovery;
pub mod http;
pub mod kiosks;
pub mod launch;
pub mod limits;
pub mod live_manifest;
pub mod media;
pub mod offline_sales;
pub mod operator_token;
pub mod orders;
pub mod peers;
pub mod printing;
pub mod quote_keys;
pub mod secrets;
pub mod services;
pub mod simulate;
pub mod spend;
pub mod staff;
pub mod storage;
pub mod teardown;
pub mod telemetry;
#[cfg(test)]
mod testing;
pub mod ticker;
pub mod timekeeping;
pub mod tls;
pub mod uplink;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use boothcloud_core::clock::Clock;
use tokio::net::TcpListener;

pub use services::{AssembleError, Lifecycle, NodeConfig, Services};

/// Where the node listens when neither the command line nor the manifest says.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8787";

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A node that is bound and ready, not yet serving: HTTPS on one port, plain HTTP
/// (enrollment, the public shop, redirects) on another.
pub struct Node {
    listener: TcpListener,
    plain: TcpListener,
    services: Services,
    lifecycle: Lifecycle,
}

impl Node {
    pub async fn build(config: NodeConfig, clock: Arc<dyn Clock>) -> Result<Node, NodeError> {
        let (services, lifecycle) = Services::assemble(&config, clock).await?;
        let default: SocketAddr = DEFAULT_LISTEN.parse().expect("valid default");
        let addr =
            config.listen.or(services.manifest.current().manifest.node.listen).unwrap_or(default);
        let listener =
            TcpListener::bind(addr).await.map_err(|source| NodeError::Listen { addr, source })?;
        let bound = listener.local_addr().map_err(|source| NodeError::Listen { addr, source })?;
        // The next port by default; any free one when the HTTPS port was left to the OS.
        let plain_addr = config.listen_http.unwrap_or_else(|| {
            let port = if addr.port() == 0 { 0 } else { bound.port().saturating_add(1) };
            SocketAddr::new(bound.ip(), port)
        });
        let plain = TcpListener::bind(plain_addr)
            .await
            .map_err(|source| NodeError::Listen { addr: plain_addr, source })?;
        Ok(Node { listener, plain, services, lifecycle })
    }

    /// The HTTPS address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The plain-HTTP address (enrollment, the public shop; everything from loopback).
    pub fn plain_addr(&self) -> SocketAddr {
        self.plain.local_addr().expect("a bound listener has an address")
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `shutdown` completes (or teardown's last step asks), then drains
    /// requests in flight, waits for the background loops, leaves mDNS and lets the
    /// order writer commit what it was handed before returning.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        let ports = http::Ports {
            https: self.local_addr().port(),
            http: self.plain_addr().port(),
            bound: self.local_addr().ip(),
        };
        let Node { listener, plain, services, lifecycle } = self;
        // Printed receipts carry a QR code a phone on the venue network can open.
        let lan = services.tls.server.addresses().into_iter().find(|ip| {
            !ip.is_loopback()
                && !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
        });
        let host = match lan {
            Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
            Some(ip) => ip.to_string(),
            None => "localhost".into(),
        };
        services.printing.set_receipt_base(format!("https://{host}:{}", ports.https));
        let addr = listener.local_addr().ok();
        let manifest = services.manifest.clone();
        let tls = services.tls.clone();
        let advert = move |p: &peers::Peers| -> Option<discovery::Advert> {
            // Bound to loopback only, nobody on the LAN could reach it: browse, do not advertise.
            let ip = addr.map(|a| a.ip()).filter(|ip| !ip.is_unspecified());
            if ip.is_some_and(|ip| ip.is_loopback()) {
                return None;
            }
            let loaded = manifest.current();
            let m = &loaded.manifest;
            Some(discovery::Advert {
                id: p.id().to_owned(),
                event: m.event.id.clone(),
                role: m.discovery.role.clone(),
                name: m.node.name.clone(),
                fingerprint: p.fingerprint(),
                // Peers pin it by address; with the organisation's certificate (which
                // names the booth, not its addresses) they use the public roots.
                ca: match tls.server.source() {
                    tls::server::CertificateSource::BoothCa => tls.ca_fingerprint(),
                    tls::server::CertificateSource::Manifest => String::new(),
                },
                port: addr.map_or(0, |a| a.port()),
                ip,
            })
        };
        let loops = services.spawn_loops(advert);
        let torn_down = services.teardown.stop_requested();
        let stopping = async {
            tokio::select! {
                () = shutdown => {}
                () = torn_down => tracing::info!("teardown finished: the node stops"),
            }
            lifecycle.begin_stopping();
        };
        // One word to stop, heard by both ports.
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone();
        let config = services.tls.server.server_config();
        tokio::join!(
            async move {
                stopping.await;
                stopped.cancel();
            },
            http::serve::serve(
                listener,
                http::app(services.clone(), ports),
                Some(config),
                stop.clone().cancelled_owned(),
            ),
            http::serve::serve(
                plain,
                http::plain_app(services.clone(), ports),
                None,
                stop.clone().cancelled_owned(),
            ),
        );
        for task in loops {
            let _ = task.await;
        }
        if let Some(d) = &services.discovery {
            d.withdraw().await;
            d.shutdown().await;
        }
        lifecycle.finish().await;
        tracing::info!("node stopped");
    }
}
