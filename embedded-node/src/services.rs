//! The booth's services and the one wiring that builds them.
//!
//! Owns: [`Services`], the container every entry point shares (the HTTP edge, the
//! desktop app, the tests), and [`Services::assemble`], the only place that decides
//! which service gets which others. The binary (`Node::build`) and every test build a
//! booth through it, so no test runs a wiring the booth does not.
//!
//! Never: serves HTTP (the edge in `http` takes a `Services`), or holds a rule of its
//! own. A service that orchestrates others (controls, teardown, the charts) is handed a
//! named struct of exactly what it uses, never this container.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use boothcloud_core::clock::Clock;
use boothcloud_core::signing::quote::QuoteSigner;
use jiff::Timestamp;
use sqlx::SqlitePool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::assets::AssetCache;
use crate::audit::Audit;
use crate::charts::Charts;
use crate::checkout::Checkout;
use crate::controls::Controls;
use crate::discovery::Discovery;
use crate::live_manifest::{LiveManifest, ManifestError, ManifestSource};
use crate::media::Media;
use crate::operator_token::OperatorToken;
use crate::orders::{OrderQueue, QueueWriter};
use crate::peers::Peers;
use crate::quote_keys::QuoteKeys;
use crate::secrets::{SecretBackend, SecretError, SecretStore, Secrets};
use crate::spend::{Ledger, Meters};
use crate::storage::StorageError;
use crate::teardown::Teardown;
use crate::telemetry::Telemetry;
use crate::timekeeping::{self, BoothClock};
use crate::tls::BoothTls;
use crate::uplink::Uplink;
use crate::{assets, audit, charts, controls, discovery, media, peers, spend, storage, teardown};

/// How to start a booth.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    /// `None`: the embedded demo manifest.
    pub manifest: Option<PathBuf>,
    /// The HTTPS address; overrides the manifest's `node.listen`.
    pub listen: Option<SocketAddr>,
    /// The plain-HTTP address (enrollment, the CA, the public shop, redirects); default
    /// the HTTPS address's port + 1 (or any free port when that one is 0).
    pub listen_http: Option<SocketAddr>,
    pub secrets: SecretBackend,
    /// `BOOTHCLOUD_OPERATOR_TOKEN`, for automation.
    pub operator_token: Option<String>,
    /// Advertise and browse over mDNS (when the manifest's `[discovery]` allows). Off
    /// for nodes that share a machine with unrelated nodes: tests, benchmarks.
    pub discovery: bool,
    /// When the program was built (`timekeeping::built_at`): a wall clock earlier is
    /// doubted. `None` for tests, whose clocks start wherever they like.
    pub built_at: Option<Timestamp>,
}

impl NodeConfig {
    /// A booth in `data_dir` on the embedded demo, secrets in files, no mDNS: what tests
    /// and tools start from.
    pub fn local(data_dir: PathBuf) -> NodeConfig {
        NodeConfig {
            data_dir,
            manifest: None,
            listen: None,
            listen_http: None,
            secrets: SecretBackend::File,
            operator_token: None,
            discovery: false,
            built_at: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
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
    #[error("cannot read the booth's last trusted time: {0}")]
    Clock(#[source] sqlx::Error),
    #[error("cannot load the teardown's progress: {0}")]
    Teardown(#[source] sqlx::Error),
    #[error("cannot load the enrolled kiosks: {0}")]
    Kiosks(#[source] sqlx::Error),
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot watch the manifest file: {0}")]
    Watch(#[source] ManifestError),
}

/// Everything the booth runs, by handle. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub manifest: Arc<LiveManifest>,
    /// Trusted time (`booth_clock`), for every rule.
    pub clock: Arc<dyn Clock>,
    /// The same clock, with its steps and doubts.
    pub booth_clock: Arc<BoothClock>,
    pub db: SqlitePool,
    pub orders: OrderQueue,
    pub checkout: Checkout,
    pub keys: QuoteKeys,
    pub operator_token: Arc<OperatorToken>,
    /// Per-client rate limits on quotes, orders, uploads and assets.
    pub limits: Arc<crate::limits::Limits>,
    /// The people who sell at the counter, and their sessions.
    pub staff: Arc<crate::staff::Staff>,
    /// The kiosks and tablets the lead enrolled.
    pub kiosks: Arc<crate::kiosks::Kiosks>,
    /// What kiosks sell while they cannot reach the node, and its delivery.
    pub offline_sales: Arc<crate::offline_sales::OfflineSales>,
    /// The print queue and the printers' workers.
    pub printing: Arc<crate::printing::Printing>,
    pub secrets: Arc<dyn SecretStore>,
    /// Why the OS keyring is not in use, when it is not.
    pub secrets_fallback: Option<Arc<str>>,
    pub started_at: Timestamp,
    /// Turns true when the node begins to stop; long-lived responses (the live stream)
    /// end then, so shutdown never waits for a dashboard.
    pub stopping: watch::Receiver<bool>,
    pub assets: Arc<AssetCache>,
    pub telemetry: Arc<Telemetry>,
    pub meters: Arc<Meters>,
    pub spend: Arc<Ledger>,
    pub charts: Arc<Charts>,
    pub peers: Arc<Peers>,
    /// The booth CA, the certificate served, and the pinned CAs of paired booths.
    pub tls: Arc<BoothTls>,
    /// `None` when mDNS is off or could not start.
    pub discovery: Option<Arc<Discovery>>,
    pub media: Arc<Media>,
    pub uplink: Arc<Uplink>,
    pub audit: Arc<Audit>,
    pub controls: Arc<Controls>,
    pub teardown: Arc<Teardown>,
}

/// What only the owner of a running booth holds: the order writer, the word to stop,
/// and the manifest file's watcher.
pub struct Lifecycle {
    writer: QueueWriter,
    stop: watch::Sender<bool>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Lifecycle {
    /// Tells every loop and long-lived response the booth is stopping.
    pub fn begin_stopping(&self) {
        let _ = self.stop.send(true);
    }

    /// Lets the order writer commit what it was handed, then ends it.
    pub async fn finish(self) {
        self.begin_stopping();
        self.writer.stop().await;
    }
}

impl Services {
    /// Builds the booth described by `config`: data folder, manifest, secrets, database
    /// and every service, wired once. Nothing runs yet (see [`Services::spawn_loops`]).
    pub async fn assemble(
        config: &NodeConfig,
        wall: Arc<dyn Clock>,
    ) -> Result<(Services, Lifecycle), AssembleError> {
        let booth_clock = Arc::new(BoothClock::new(wall));
        let clock: Arc<dyn Clock> = booth_clock.clone();
        let data_dir = &config.data_dir;
        std::fs::create_dir_all(data_dir)
            .map_err(|source| AssembleError::DataDir { path: data_dir.clone(), source })?;
        let source = match &config.manifest {
            Some(path) => ManifestSource::File(path.clone()),
            None => ManifestSource::Embedded,
        };
        let manifest = Arc::new(LiveManifest::load(source, clock.clone())?);
        let loaded = (data_dir.clone(), config.secrets, config.operator_token.clone());
        let secrets =
            tokio::task::spawn_blocking(move || Secrets::load(&loaded.0, loaded.1, loaded.2))
                .await
                .map_err(|e| SecretError::Keyring(e.to_string()))??;
        let (db, writer_conn) = storage::open(&data_dir.join("boothcloud.db")).await?;
        // Before any service reads the time: never earlier than the last run or the build.
        booth_clock.settle_start(
            &timekeeping::start_facts(&db, &manifest, config.built_at)
                .await
                .map_err(AssembleError::Clock)?,
        );
        let (orders, writer) = OrderQueue::start(db.clone(), writer_conn).await?;
        let telemetry = Arc::new(Telemetry::new(clock.clone()));
        let meters = Arc::new(Meters::default());
        let event = manifest.current().manifest.event.id.clone();
        let peers = Arc::new(
            Peers::load(
                &db,
                secrets.store.clone(),
                manifest.clone(),
                booth_clock.clone(),
                meters.clone(),
            )
            .await?,
        );
        let tls = {
            let store = secrets.store.clone();
            let dir = data_dir.clone();
            let id = peers.id().to_owned();
            let cert = manifest.current().manifest.node.certificate.clone();
            let clock = clock.clone();
            tokio::task::spawn_blocking(move || {
                let provided = cert.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
                BoothTls::load(store.as_ref(), &dir, &id, provided, clock.as_ref())
            })
            .await
            .map_err(|e| SecretError::Keyring(e.to_string()))??
        };
        let assets = AssetCache::open(
            &data_dir.join("assets"),
            manifest.clone(),
            clock.clone(),
            &db,
            meters.clone(),
            Some(peers.clone()),
        )
        .await?;
        let spend = Arc::new(Ledger::load(&db, &event, meters.clone()).await?);
        let media = Arc::new(
            Media::open(data_dir, db.clone(), manifest.clone(), clock.clone(), spend.clone())
                .await?,
        );
        let kiosks = Arc::new(
            crate::kiosks::Kiosks::load(db.clone(), clock.clone())
                .await
                .map_err(AssembleError::Kiosks)?,
        );
        let watcher =
            crate::live_manifest::watch(manifest.clone()).map_err(AssembleError::Watch)?;
        // A booth without mDNS (a network that forbids multicast) still sells and still
        // serves the peers its manifest names; it just lists no neighbours.
        let discovery = if config.discovery && manifest.current().manifest.discovery.enabled {
            match discovery::Discovery::start(peers.id(), manifest.clone(), clock.clone()) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::warn!(error = %e, "discovery is off: mDNS could not start");
                    None
                }
            }
        } else {
            None
        };
        let printing = Arc::new(crate::printing::Printing::new(
            db.clone(),
            orders.clone(),
            manifest.clone(),
            clock.clone(),
            discovery.clone(),
            peers.clone(),
            assets.clone(),
        ));
        let uplink = Arc::new(Uplink::new(crate::uplink::Parts {
            manifest: manifest.clone(),
            clock: booth_clock.clone(),
            orders: orders.clone(),
            peers: peers.clone(),
            kiosks: kiosks.clone(),
            printing: printing.clone(),
            data_dir: data_dir.clone(),
            meters: meters.clone(),
        }));
        let audit =
            Arc::new(Audit::new(db.clone(), clock.clone()).with_desktop_user(audit::os_user()));
        let keys = QuoteKeys::new(
            QuoteSigner::new(secrets.quote_key),
            secrets.store.clone(),
            audit.clone(),
        );
        let charts = Arc::new(Charts::new(charts::Sources {
            manifest: manifest.clone(),
            clock: clock.clone(),
            telemetry: telemetry.clone(),
            spend: spend.clone(),
            assets: assets.clone(),
        }));
        let (stop, stopping) = watch::channel(false);
        let scope = teardown::Scope {
            manifest: manifest.clone(),
            clock: clock.clone(),
            time: booth_clock.clone(),
            orders: orders.clone(),
            media: media.clone(),
            uplink: uplink.clone(),
            assets: assets.clone(),
            peers: peers.clone(),
            discovery: discovery.clone(),
            keys: keys.clone(),
            audit: audit.clone(),
            spend: spend.clone(),
            telemetry: telemetry.clone(),
            charts: charts.clone(),
            stopping: stopping.clone(),
        };
        let teardown = Arc::new(
            Teardown::load(db.clone(), secrets.store.clone(), data_dir, &event, scope)
                .await
                .map_err(AssembleError::Teardown)?,
        );
        let targets = controls::Targets {
            peers: peers.clone(),
            telemetry: telemetry.clone(),
            media: media.clone(),
            assets: assets.clone(),
            uplink: uplink.clone(),
            spend: spend.clone(),
            audit: audit.clone(),
            keys: keys.clone(),
            teardown: teardown.clone(),
            printing: printing.clone(),
            time: booth_clock.clone(),
        };
        let controls = Arc::new(
            Controls::load(manifest.clone(), clock.clone(), db.clone(), targets)
                .await
                .map_err(AssembleError::Controls)?,
        );
        let checkout = Checkout {
            manifest: manifest.clone(),
            clock: clock.clone(),
            orders: orders.clone(),
            signer: keys.signer().clone(),
            uplink: uplink.clone(),
            teardown: teardown.clone(),
        };
        let staff = Arc::new(crate::staff::Staff::new(db.clone(), clock.clone()));
        let offline_sales = Arc::new(crate::offline_sales::OfflineSales::new(
            db.clone(),
            orders.clone(),
            manifest.clone(),
            clock.clone(),
        ));
        let services = Services {
            manifest,
            started_at: clock.now(),
            clock,
            booth_clock,
            db,
            orders,
            checkout,
            keys,
            operator_token: Arc::new(OperatorToken::new(
                secrets.operator_token,
                secrets.operator_token_source,
                secrets.store.clone(),
            )),
            limits: Arc::default(),
            staff,
            kiosks,
            offline_sales,
            printing,
            secrets: secrets.store,
            secrets_fallback: secrets.fallback_reason.map(Into::into),
            stopping,
            assets,
            telemetry,
            meters,
            spend,
            charts,
            peers,
            tls: Arc::new(tls),
            discovery,
            media,
            uplink,
            audit,
            controls,
            teardown,
        };
        Ok((services, Lifecycle { writer, stop, _watcher: watcher }))
    }

    /// Starts the booth's background loops: figures kept, spend saved, charts sampled,
    /// transcodes and forwarding, uplink watch and sync, controls and teardown, the fleet
    /// and the LAN. Each ends when the booth begins to stop.
    pub fn spawn_loops(
        &self,
        advert: impl Fn(&Peers) -> Option<discovery::Advert> + Send + Sync + 'static,
    ) -> Vec<JoinHandle<()>> {
        let stopping = || self.stopping.clone();
        let mut loops = vec![
            tokio::spawn(assets::keep_figures(self.assets.clone(), self.db.clone(), stopping())),
            tokio::spawn(spend::keep(
                self.spend.clone(),
                self.db.clone(),
                self.manifest.clone(),
                self.clock.clone(),
                stopping(),
            )),
            tokio::spawn(self.charts.clone().keep_recording(stopping())),
            tokio::spawn(self.media.transcoder.clone().keep(stopping())),
            tokio::spawn(self.media.forwarder.clone().keep(stopping())),
            tokio::spawn(self.media.clone().keep_sweeping(stopping())),
            tokio::spawn(self.uplink.clone().keep_watching(stopping())),
            tokio::spawn(self.uplink.clone().keep_syncing(stopping())),
            tokio::spawn(self.controls.clone().keep_watching(stopping())),
            tokio::spawn(self.teardown.clone().keep_running()),
            tokio::spawn(crate::printing::keep_printing(self.printing.clone(), stopping())),
            tokio::spawn(timekeeping::keep_watching(
                self.booth_clock.clone(),
                self.db.clone(),
                self.audit.clone(),
                self.manifest.clone(),
                stopping(),
            )),
            tokio::spawn(peers::keep_fleet(
                self.peers.clone(),
                self.discovery.clone(),
                advert,
                stopping(),
            )),
        ];
        loops.push(tokio::spawn(crate::tls::follow_addresses(
            self.tls.server.clone(),
            self.clock.clone(),
            crate::tls::machine_addresses,
            crate::tls::ADDRESS_CHECK,
            {
                let mut stopping = stopping();
                async move {
                    let _ = stopping.wait_for(|s| *s).await;
                }
            },
        )));
        if let Some(d) = &self.discovery {
            loops.push(tokio::spawn(discovery::keep_probing(d.clone(), stopping())));
            loops.push(tokio::spawn(discovery::follow_addresses(d.clone(), stopping())));
        }
        assets::warm::start(&self.assets);
        loops
    }

    /// The secret store in use, for the status API ("os-keyring" or "file").
    pub fn secrets_kind(&self) -> &'static str {
        self.secrets.kind()
    }
}
