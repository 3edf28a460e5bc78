//! The Boothcloud node: the micro-cloud that serves a booth's kiosks, phones and
//! printers over the local network and keeps selling when the venue's uplink dies.
//!
//! The same library runs inside the desktop app and as the headless
//! `boothcloud-node` binary. Modules, named after what they are at the booth:
//!
//! - [`manifest`]: the deployment manifest — parsed into typed values with
//!   line-precise problems, hot-reloaded, last good version kept.
//! - [`pricing`]: the price engine — catalogue and promotions compiled into a
//!   `PriceBook`; the rounding rule and stacking semantics are documented there.
//! - [`quote_token`]: signed, short-lived quote tokens, so no client can change a price.
//! - [`assets`]: the cache-first asset cache — memory and disk tiers, HTTP caching
//!   rules, coalescing, warm-up, the paired-booth mesh, and its figures.
//! - [`orders`]: the durable order queue — group commit, idempotency, explicit states.
//! - [`discovery`]: this node on the LAN over mDNS, and the inventory of devices
//!   around it (booths, printers, web devices), with reachability probes.
//! - [`media`]: resumable uploads (tus) from the booth's devices, ffmpeg transcodes
//!   into the manifest's presets, metered, and forwarding to the upstream.
//! - [`uplink`]: watching the link to the regional hub, syncing the order queue to it
//!   (directly, or relayed through a paired booth), offline limits and the runway.
//! - [`hub`]: the regional hub itself (`boothcloud-node hub`), on PostgreSQL.
//! - [`peers`]: whom this node trusts — pairing (manifest key or pairing code),
//!   signed peer requests with replay protection, and the fleet view.
//! - [`controls`]: the one-tap controls — degrade levels and their effects, failover,
//!   pausing media forwarding — and the runbooks that press them.
//! - [`teardown`]: the end of the event — close, sync or export, report, new keys,
//!   wipe, leave the network, stop — resumable step by step.
//! - [`audit`]: the append-only log of every control action.
//! - [`secrets`]: the signing key and operator token, in the OS keyring.
//! - [`storage`]: the SQLite database (WAL, synchronous = FULL, migrations).
//! - [`telemetry`]: per-route latency over sliding windows, redaction, `/metrics`.
//! - [`charts`]: the figures over time, drawn as SVG and PNG with plotters.
//! - [`spend`]: metered usage priced by the manifest's cost model, against its budgets.
//! - [`http`]: the HTTP API, its limits, its one error type, and its OpenAPI document.
//! - [`money`], [`clock`]: integer minor units; injected time.
//! - [`simulate`]: the traffic simulator that plays a booth against a node.
//! - [`launch`]: what both binaries do to start a node and stop it on a signal.
//!
//! Start a node with [`Node::build`], read its address with [`Node::local_addr`], and
//! run it with [`Node::run_until_stopped`], passing the future that says when to stop.

pub mod assets;
pub mod audit;
pub mod charts;
pub mod clock;
pub mod controls;
pub mod discovery;
pub mod http;
pub mod hub;
pub mod launch;
pub mod manifest;
pub mod media;
pub mod money;
pub mod orders;
pub mod peers;
pub mod pricing;
pub mod quote_token;
pub mod secrets;
pub mod simulate;
pub mod spend;
pub mod storage;
pub mod teardown;
pub mod telemetry;
pub mod uplink;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::http::AppState;
use crate::manifest::watch::{LiveManifest, ManifestError, ManifestSource};
use crate::orders::{OrderQueue, QueueWriter};
use crate::quote_token::QuoteSigner;
use crate::secrets::{SecretBackend, SecretError, Secrets};
use crate::storage::StorageError;

/// Where the node listens when neither the command line nor the manifest says.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8787";

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    /// `None`: the embedded demo manifest.
    pub manifest: Option<PathBuf>,
    /// Overrides the manifest's `node.listen`.
    pub listen: Option<SocketAddr>,
    pub secrets: SecretBackend,
    /// `BOOTHCLOUD_OPERATOR_TOKEN`, for automation.
    pub operator_token: Option<String>,
    /// Time every request (per-route latency, edge-execution metering). Off only to
    /// measure what timing costs (`serve --no-timing`, the telemetry benchmark).
    pub timing: bool,
    /// Advertise and browse over mDNS (when the manifest's `[discovery]` allows). Off
    /// for nodes that share a machine with unrelated nodes: tests, benchmarks.
    pub discovery: bool,
    /// Hold each HTTP worker to its own core, so a connection is served on the core its
    /// packets arrive on (see `http::serve::Workers`). Off leaves placement to the
    /// kernel and deals connections in turn.
    pub pin_workers: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the order queue: {0}")]
    Queue(#[from] sqlx::Error),
    #[error("cannot open the asset cache: {0}")]
    Assets(#[from] assets::OpenError),
    #[error("cannot load the peers: {0}")]
    Peers(#[from] peers::PeersError),
    #[error("cannot load the controls' state: {0}")]
    Controls(#[source] sqlx::Error),
    #[error("cannot open the media store: {0}")]
    Media(#[from] media::MediaError),
    #[error("cannot load the teardown's progress: {0}")]
    Teardown(#[source] sqlx::Error),
}

/// A node that is bound and ready, not yet serving.
pub struct Node {
    listener: TcpListener,
    state: AppState,
    writer: QueueWriter,
    stopping: tokio::sync::watch::Sender<bool>,
    _watcher: Option<notify::RecommendedWatcher>,
    pin_workers: bool,
}

impl Node {
    pub async fn build(config: NodeConfig, clock: Arc<dyn Clock>) -> Result<Node, NodeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| NodeError::DataDir { path: config.data_dir.clone(), source })?;
        let source = match &config.manifest {
            Some(path) => ManifestSource::File(path.clone()),
            None => ManifestSource::Embedded,
        };
        let live = Arc::new(LiveManifest::load(source, clock.clone())?);
        let data_dir = config.data_dir.clone();
        let secrets = tokio::task::spawn_blocking(move || Secrets::load(&data_dir, config.secrets, config.operator_token))
            .await
            .map_err(|e| SecretError::Keyring(e.to_string()))??;
        let (db, writer_conn) = storage::open(&config.data_dir.join("boothcloud.db")).await?;
        let (orders, writer) = OrderQueue::start(db.clone(), writer_conn).await?;
        let telemetry = Arc::new(telemetry::Telemetry::new(clock.clone()).timing(config.timing));
        let meters = telemetry.meters().clone();
        let peers = Arc::new(peers::Peers::load(&db, secrets.store.clone(), live.clone(), clock.clone()).await?);
        let assets = assets::AssetCache::open(
            &config.data_dir.join("assets"),
            live.clone(),
            clock.clone(),
            &db,
            meters.clone(),
            Some(peers.clone()),
        )
        .await?;
        let spend = Arc::new(spend::Ledger::load(&db, &live.current().manifest.event.id, meters).await?);
        let media = Arc::new(media::Media::open(&config.data_dir, db.clone(), live.clone(), clock.clone(), spend.clone()).await?);
        let uplink = Arc::new(uplink::Uplink::new(live.clone(), clock.clone(), orders.clone(), peers.clone(), config.data_dir.clone()));
        let addr = config.listen.or(live.current().manifest.node.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
        let listener = TcpListener::bind(addr).await.map_err(|source| NodeError::Listen { addr, source })?;
        let watcher = manifest::watch::watch(live.clone())?;
        // A booth without mDNS (a network that forbids multicast) still sells and still
        // serves the peers its manifest names; it just lists no neighbours.
        let discovery = if config.discovery && live.current().manifest.discovery.enabled {
            match discovery::Discovery::start(peers.id(), live.clone(), clock.clone()) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::warn!(error = %e, "discovery is off: mDNS could not start");
                    None
                }
            }
        } else {
            None
        };
        let signer = QuoteSigner::new(secrets.quote_key);
        let audit = Arc::new(audit::Audit::new(db.clone(), clock.clone()).with_desktop_user(audit::os_user()));
        let event = live.current().manifest.event.id.clone();
        let teardown = Arc::new(
            teardown::Teardown::load(db.clone(), secrets.store.clone(), clock.clone(), &config.data_dir, &event)
                .await
                .map_err(NodeError::Teardown)?,
        );
        let parts = controls::Parts {
            telemetry: telemetry.clone(),
            media: media.clone(),
            assets: assets.clone(),
            uplink: uplink.clone(),
            spend: spend.clone(),
            audit: audit.clone(),
            signer: signer.clone(),
            secrets: secrets.store.clone(),
            teardown: teardown.clone(),
        };
        let controls =
            Arc::new(controls::Controls::load(live.clone(), clock.clone(), db.clone(), parts).await.map_err(NodeError::Controls)?);
        let (stopping, stop_seen) = tokio::sync::watch::channel(false);
        let state = AppState::from(http::Handles {
            manifest: live,
            orders,
            signer,
            db,
            started_at: clock.now(),
            clock: clock.clone(),
            operator_token: secrets.operator_token.clone().into(),
            secrets_store: secrets.store.kind(),
            secrets_fallback: secrets.fallback_reason.clone().map(Into::into),
            stopping: stop_seen,
            assets,
            telemetry,
            spend,
            charts: Arc::default(),
            peers,
            discovery,
            media,
            uplink,
            audit,
            controls,
            teardown,
        });
        Ok(Node { listener, state, writer, stopping, _watcher: watcher, pin_workers: config.pin_workers })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains requests in flight and lets the
    /// order writer commit what it was handed before returning.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        let Node { listener, state, writer, stopping, _watcher, pin_workers } = self;
        // First up, last down: requests may start work (a revalidation, a warm-up) that
        // the drain below does not wait for.
        let workers = http::serve::Workers::per_core(pin_workers);
        let figures = tokio::spawn(assets::keep_figures(state.assets.clone(), state.db.clone(), state.stopping.clone()));
        let ledger = tokio::spawn(spend::keep(
            state.spend.clone(),
            state.db.clone(),
            state.manifest.clone(),
            state.clock.clone(),
            state.stopping.clone(),
        ));
        let history = tokio::spawn(http::charts::keep_history(state.clone()));
        let media = [
            tokio::spawn(state.media.transcoder.clone().keep(state.stopping.clone())),
            tokio::spawn(state.media.forwarder.clone().keep(state.stopping.clone())),
            tokio::spawn(state.media.clone().keep_sweeping(state.stopping.clone())),
        ];
        let link = [
            tokio::spawn(state.uplink.clone().keep_watching(state.stopping.clone())),
            tokio::spawn(state.uplink.clone().keep_syncing(state.stopping.clone())),
            tokio::spawn(state.controls.clone().keep_watching(state.stopping.clone())),
            tokio::spawn(state.teardown.clone().keep_running(state.clone())),
        ];
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let listen_ip = listener.local_addr().map(|a| a.ip()).ok();
        let manifest = state.manifest.clone();
        let advert = move |p: &peers::Peers| -> Option<discovery::Advert> {
            // Bound to loopback only, nobody on the LAN could reach it: browse, do not advertise.
            let ip = listen_ip.filter(|ip| !ip.is_unspecified());
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
                port,
                ip,
            })
        };
        let fleet = tokio::spawn(peers::keep_fleet(state.peers.clone(), state.discovery.clone(), advert, state.stopping.clone()));
        let lan: Vec<_> = state
            .discovery
            .iter()
            .flat_map(|d| {
                [
                    tokio::spawn(discovery::keep_probing(d.clone(), state.stopping.clone())),
                    tokio::spawn(discovery::follow_addresses(d.clone(), state.stopping.clone())),
                ]
            })
            .collect();
        let discovery = state.discovery.clone();
        assets::warm::start(&state.assets);
        // The node stops on the caller's signal, or when teardown's last step asks.
        let torn_down = state.teardown.stop_requested();
        let shutdown = async move {
            tokio::select! {
                () = shutdown => {}
                () = torn_down => tracing::info!("teardown finished: the node stops"),
            }
            let _ = stopping.send(true);
        };
        let sessions = state.telemetry.is_timing().then(|| state.telemetry.clone());
        // One copy of the node's service per worker (see `serve`).
        let pages = Some(state.assets.store().pages().clone());
        http::serve::serve(listener, move || http::front_door(state.clone()), shutdown, sessions, pages, &workers).await;
        let _ = figures.await;
        let _ = ledger.await;
        let _ = history.await;
        let _ = fleet.await;
        for task in media.into_iter().chain(link) {
            let _ = task.await;
        }
        for task in lan {
            let _ = task.await;
        }
        if let Some(d) = discovery {
            d.withdraw().await;
            d.shutdown().await;
        }
        writer.stop().await;
        workers.stop().await;
        tracing::info!("node stopped");
    }
}
