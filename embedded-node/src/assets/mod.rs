//! The asset cache: kiosks and phones load the storefront, product photos and demo
//! media from the node, served cache-first from the manifest's origin.
//!
//! Owns: the decision for each request — serve what is stored, serve it stale while it
//! refreshes, revalidate it, ask the paired booths, or fetch it — and the coalescing of
//! concurrent fetches of one object into one origin request. The parts:
//!
//! - `boothcloud_core::cache`: checked asset paths and variant keys (`Vary`), and the
//!   HTTP caching rules (RFC 9111 + stale extensions), pure.
//! - [`store`]: the memory and disk tiers, eviction, the crash-safe disk format.
//! - [`origin`]: fetching from an HTTP origin, a folder, or the bundled demo storefront.
//! - [`mesh`]: the paired-peer handshake and lookup.
//! - [`figures`]: hits, stale hits, peer hits, misses, revalidations and bytes, per prefix.
//! - [`warm`]: warm-up at start and on demand, with progress.
//!
//! Never: speaks HTTP to clients (that is `http::assets`, which also applies client
//! conditionals and byte ranges to what this returns).

pub mod figures;
pub mod mesh;
pub mod origin;
pub mod store;
pub mod warm;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use crate::live_manifest::LiveManifest;
use crate::spend::traffic::Purpose;
use crate::spend::{Component, Meters};
use boothcloud_core::cache::key::{normalise_header, AssetPath, VariantKey, VARY_HEADERS};
use boothcloud_core::cache::policy::{self, CacheControl, Freshness, HeaderTimes, Verdict};
use boothcloud_core::clock::Clock;
use figures::{CacheFigures, CacheStatus};
use origin::{BodyStream, Fetcher, OriginError, OriginRequest};
use store::{Entry, Meta, Received, Store, StoreError};

#[derive(Debug, thiserror::Error, Clone)]
pub enum AssetError {
    #[error(transparent)]
    Origin(#[from] OriginError),
    #[error("this file is not in the cache")]
    NotCached,
    #[error("{0}")]
    Store(String),
    #[error("the file is larger than the cache serves ({limit} bytes)")]
    TooLarge { limit: u64 },
}

impl From<StoreError> for AssetError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge { limit } => AssetError::TooLarge { limit },
            StoreError::Body(m) => AssetError::Origin(OriginError::Unreachable(m)),
            other => AssetError::Store(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the cache figures: {0}")]
    Figures(#[from] sqlx::Error),
}

/// One request, as the cache sees it.
#[derive(Debug, Clone)]
pub struct AssetRequest {
    pub path: AssetPath,
    /// The request's values of `key::VARY_HEADERS` that it carried.
    pub headers: Vec<(&'static str, String)>,
    /// `Cache-Control: only-if-cached`: answer from the cache or not at all.
    pub only_if_cached: bool,
    /// An authenticated peer's question: only fresh objects, never fetched.
    pub from_peer: bool,
}

impl AssetRequest {
    /// A warm-up fetch: asks as a kiosk's browser on the LAN would, so the variant it
    /// stores is the one kiosks ask for when the origin varies on encoding.
    pub fn warm_up(path: AssetPath) -> AssetRequest {
        AssetRequest {
            path,
            headers: vec![(
                "accept-encoding",
                boothcloud_core::cache::key::WARM_ACCEPT_ENCODING.to_owned(),
            )],
            only_if_cached: false,
            from_peer: false,
        }
    }

    fn value(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, v)| normalise_header(n, v))
            .unwrap_or_default()
    }

    fn coalescing_key(&self) -> String {
        let mut key = self.path.as_str().to_owned();
        for name in VARY_HEADERS {
            key.push('\0');
            key.push_str(&self.value(name));
        }
        key
    }
}

/// What the cache hands back.
pub enum Served {
    /// From the cache (after a fetch or revalidation, too).
    Cached { entry: Arc<Entry>, outcome: CacheStatus, age: u64 },
    /// A response the cache may not store (no-store, private, not 200...), passed on.
    Passed { status: u16, headers: Vec<(String, String)>, body: PassedBody },
}

pub enum PassedBody {
    Bytes(Bytes),
    Stream(BodyStream),
}

/// A finished origin fetch, shared by every request that waited for it.
#[derive(Clone)]
enum Fetched {
    Stored { entry: Arc<Entry>, revalidated: bool },
    Passed(Arc<PassedOn>),
}

struct PassedOn {
    status: u16,
    headers: Vec<(String, String)>,
    /// Small bodies are shared; a large one goes to the first taker, and the others
    /// fetch for themselves.
    bytes: Option<Bytes>,
    stream: Mutex<Option<BodyStream>>,
}

type Shared = Option<Result<Fetched, AssetError>>;

pub struct AssetCache {
    store: Arc<Store>,
    fetcher: Fetcher,
    manifest: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    figures: Arc<CacheFigures>,
    /// Egress bytes and upstream calls, for the spend ledger.
    meters: Arc<Meters>,
    inflight: Mutex<HashMap<String, watch::Receiver<Shared>>>,
    warm: warm::Progress,
    /// The paired booths asked on a miss; none in unit tests.
    peers: Option<Arc<crate::peers::Peers>>,
    /// The degrade level's stale allowance, seconds (0 at normal).
    serve_stale: AtomicU64,
    /// A runbook switched fetching to the manifest's `fallback_origin`.
    on_fallback: std::sync::atomic::AtomicBool,
}

impl AssetCache {
    pub fn new(
        store: Arc<Store>,
        manifest: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        figures: Arc<CacheFigures>,
        meters: Arc<Meters>,
        peers: Option<Arc<crate::peers::Peers>>,
    ) -> AssetCache {
        AssetCache {
            store,
            fetcher: Fetcher::new(peers.as_ref().map(|p| p.client_config())),
            manifest,
            clock,
            figures,
            meters,
            inflight: Mutex::new(HashMap::new()),
            warm: warm::Progress::default(),
            peers,
            serve_stale: AtomicU64::new(0),
            on_fallback: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The controls: fetch from `[uplink] fallback_origin` (when set) instead of `origin`.
    pub fn set_fallback(&self, on: bool) {
        self.on_fallback.store(on, Ordering::Relaxed);
    }

    pub fn on_fallback(&self) -> bool {
        self.on_fallback.load(Ordering::Relaxed)
    }

    /// The degrade control: serve objects up to `seconds` past freshness at once.
    pub fn set_serve_stale(&self, seconds: u64) {
        self.serve_stale.store(seconds, Ordering::Relaxed);
    }

    pub fn serve_stale(&self) -> u64 {
        self.serve_stale.load(Ordering::Relaxed)
    }

    /// Opens the store in `dir` with the manifest's bounds (read once: changing them
    /// takes a restart) and the event's figures from the database.
    pub async fn open(
        dir: &std::path::Path,
        manifest: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        db: &sqlx::SqlitePool,
        meters: Arc<Meters>,
        peers: Option<Arc<crate::peers::Peers>>,
    ) -> Result<Arc<AssetCache>, OpenError> {
        let s = &manifest.current().manifest.assets;
        let limits = store::TierLimits {
            memory_bytes: s.memory_bytes,
            memory_object_bytes: s.memory_object_bytes,
            disk_bytes: s.disk_bytes,
            max_object_bytes: s.max_object_bytes,
        };
        let dir = dir.to_owned();
        let store = tokio::task::spawn_blocking(move || Store::open(&dir, limits))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))??;
        let figures = CacheFigures::load(db).await?;
        Ok(Arc::new(AssetCache::new(
            Arc::new(store),
            manifest,
            clock,
            Arc::new(figures),
            meters,
            peers,
        )))
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn figures(&self) -> &Arc<CacheFigures> {
        &self.figures
    }

    pub fn warm_progress(&self) -> &warm::Progress {
        &self.warm
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Serves a request cache-first.
    pub async fn get(self: &Arc<Self>, req: &AssetRequest) -> Result<Served, AssetError> {
        let serve_stale = self.serve_stale();
        let now = self.now_ms();
        let prefix = req.path.prefix();
        let mut found = self.store.lookup(req.path.as_str(), |h| req.value(h));
        let age_of =
            |e: &Entry| policy::current_age(e.meta.initial_age, e.meta.response_time_ms, now);
        // A fresh hit reads nothing else shared (the manifest is read only past it).
        if let Some(entry) =
            found.take_if(|e| e.meta.freshness.verdict(age_of(e), 0, serve_stale) == Verdict::Fresh)
        {
            let age = age_of(&entry);
            return Ok(self.promote_if_small(entry, CacheStatus::Hit, age).await);
        }
        let offline_stale =
            self.manifest.current().manifest.assets.offline_stale.as_secs().max(0) as u64;
        if let Some(entry) = found {
            let age = age_of(&entry);
            match entry.meta.freshness.verdict(age, offline_stale, serve_stale) {
                Verdict::Fresh => {
                    return Ok(self.promote_if_small(entry, CacheStatus::Hit, age).await)
                }
                _ if req.from_peer || req.only_if_cached => return Err(AssetError::NotCached),
                Verdict::StaleWhileRevalidate => {
                    // One refresh at a time: a burst of stale hits spawns one task, not one each.
                    if self
                        .inflight
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains_key(&req.coalescing_key())
                    {
                        return Ok(self.promote_if_small(entry, CacheStatus::Stale, age).await);
                    }
                    let this = self.clone();
                    let (req, stored) = (req.clone(), entry.clone());
                    tokio::spawn(async move {
                        if this.fetch(&req, Some(stored)).await.is_err() {
                            this.figures.origin_error(req.path.prefix());
                        }
                    });
                    return Ok(self.promote_if_small(entry, CacheStatus::Stale, age).await);
                }
                Verdict::Revalidate { .. } => {
                    return match self.fetch(req, Some(entry.clone())).await {
                        Ok(fetched) => self.hand_over(req, fetched).await,
                        Err(AssetError::Origin(e))
                            if e.is_outage()
                                && entry.meta.freshness.may_serve_on_error(
                                    age,
                                    offline_stale,
                                    serve_stale,
                                ) =>
                        {
                            self.figures.origin_error(prefix);
                            tracing::debug!(path = %req.path, error = %e, "origin failed; serving stale");
                            Ok(self.promote_if_small(entry, CacheStatus::Stale, age).await)
                        }
                        Err(e) => {
                            self.figures.origin_error(prefix);
                            Err(e)
                        }
                    };
                }
            }
        }
        if req.from_peer || req.only_if_cached {
            return Err(AssetError::NotCached);
        }
        if let Some(entry) = self.ask_peers(req).await {
            let age = policy::current_age(
                entry.meta.initial_age,
                entry.meta.response_time_ms,
                self.now_ms(),
            );
            return Ok(Served::Cached { entry, outcome: CacheStatus::Peer, age });
        }
        match self.fetch(req, None).await {
            Ok(fetched) => self.hand_over(req, fetched).await,
            Err(e) => {
                self.figures.origin_error(prefix);
                Err(e)
            }
        }
    }

    /// Fetches for warm-up: nothing counted as a client request. `Ok(bytes)` fetched
    /// (0 when the object was already fresh).
    pub async fn warm_one(self: &Arc<Self>, path: AssetPath) -> Result<u64, AssetError> {
        let req = AssetRequest::warm_up(path);
        let now = self.now_ms();
        let offline_stale =
            self.manifest.current().manifest.assets.offline_stale.as_secs().max(0) as u64;
        let stored = self.store.lookup(req.path.as_str(), |h| req.value(h));
        if let Some(e) = &stored {
            let age = policy::current_age(e.meta.initial_age, e.meta.response_time_ms, now);
            if e.meta.freshness.verdict(age, offline_stale, 0) == Verdict::Fresh {
                return Ok(0);
            }
        }
        match self.fetch(&req, stored).await? {
            Fetched::Stored { entry, revalidated } => {
                Ok(if revalidated { 0 } else { entry.meta.len })
            }
            Fetched::Passed(p) => Err(AssetError::Origin(OriginError::Failed(p.status))),
        }
    }

    async fn hand_over(
        self: &Arc<Self>,
        req: &AssetRequest,
        fetched: Fetched,
    ) -> Result<Served, AssetError> {
        match fetched {
            Fetched::Stored { entry, revalidated } => {
                let age = policy::current_age(
                    entry.meta.initial_age,
                    entry.meta.response_time_ms,
                    self.now_ms(),
                );
                Ok(Served::Cached {
                    entry,
                    outcome: if revalidated { CacheStatus::Hit } else { CacheStatus::Miss },
                    age,
                })
            }
            Fetched::Passed(p) => {
                if let Some(bytes) = &p.bytes {
                    return Ok(Served::Passed {
                        status: p.status,
                        headers: p.headers.clone(),
                        body: PassedBody::Bytes(bytes.clone()),
                    });
                }
                let taken = p.stream.lock().unwrap_or_else(|e| e.into_inner()).take();
                match taken {
                    Some(stream) => Ok(Served::Passed {
                        status: p.status,
                        headers: p.headers.clone(),
                        body: PassedBody::Stream(stream),
                    }),
                    None => {
                        // Someone else took the one stream: fetch our own, uncoalesced.
                        let res = self.fetch_origin(req, None).await?;
                        self.fetched(req.path.prefix(), content_length(&res.headers));
                        Ok(Served::Passed {
                            status: res.status,
                            headers: res.headers,
                            body: PassedBody::Stream(res.body),
                        })
                    }
                }
            }
        }
    }

    /// A disk-only small object is read into the memory tier on its first hit.
    async fn promote_if_small(&self, entry: Arc<Entry>, outcome: CacheStatus, age: u64) -> Served {
        let limits = self.store.limits();
        if entry.memory.is_none()
            && entry.meta.len <= limits.memory_object_bytes
            && entry.meta.len + store::ENTRY_OVERHEAD <= limits.memory_bytes
        {
            if let Some(file) = &entry.file {
                if let Ok(body) = tokio::fs::read(file).await {
                    if let Some(promoted) = self.store.promote(&entry, body.into()) {
                        return Served::Cached { entry: promoted, outcome, age };
                    }
                }
            }
        }
        Served::Cached { entry, outcome, age }
    }

    /// One origin fetch per object at a time: a request that finds one in flight waits
    /// for it. The fetch runs in its own task, so a client that goes away does not
    /// cancel it for the others.
    async fn fetch(
        self: &Arc<Self>,
        req: &AssetRequest,
        stored: Option<Arc<Entry>>,
    ) -> Result<Fetched, AssetError> {
        let key = req.coalescing_key();
        let mut rx = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            match inflight.get(&key) {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    inflight.insert(key.clone(), rx.clone());
                    let this = self.clone();
                    let req = req.clone();
                    tokio::spawn(async move {
                        let result = this.fetch_and_store(&req, stored).await;
                        let _ = tx.send(Some(result));
                        this.inflight.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                    });
                    rx
                }
            }
        };
        let done = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| AssetError::Store("the fetch stopped".into()))?;
        done.clone().unwrap_or(Err(AssetError::Store("the fetch stopped".into())))
    }

    /// Counts bytes that came from the origin: the prefix's figures and the egress meter.
    fn fetched(&self, prefix: &str, bytes: u64) {
        self.figures.fetched(prefix, bytes);
        self.meters.add(Component::Egress, bytes);
        self.meters.traffic().add_bytes(Purpose::Origin, bytes);
    }

    async fn fetch_origin(
        &self,
        req: &AssetRequest,
        stored: Option<&Entry>,
    ) -> Result<origin::OriginResponse, AssetError> {
        self.meters.upstream(Purpose::Origin, 0);
        let current = self.manifest.current();
        let settings = &current.manifest.assets;
        let oreq = OriginRequest {
            path: &req.path,
            forward: req.headers.clone(),
            if_none_match: stored.and_then(|e| e.meta.etag.clone()),
            if_modified_since: stored.and_then(|e| e.meta.last_modified.clone()),
        };
        let timeout = Duration::from_secs(settings.origin_timeout.as_secs().max(1) as u64);
        let max_age = settings.folder_max_age.as_secs().max(0) as u64;
        let uplink = &current.manifest.uplink;
        let origin = if self.on_fallback() {
            uplink.fallback_origin.as_ref().or(uplink.origin.as_ref())
        } else {
            uplink.origin.as_ref()
        };
        Ok(self.fetcher.fetch(origin, &oreq, timeout, max_age).await?)
    }

    async fn fetch_and_store(
        &self,
        req: &AssetRequest,
        stored: Option<Arc<Entry>>,
    ) -> Result<Fetched, AssetError> {
        let prefix = req.path.prefix();
        let request_time = self.now_ms();
        let res = self.fetch_origin(req, stored.as_deref()).await?;
        let response_time = self.now_ms();
        if res.status == 304 {
            let Some(entry) = stored else { return Err(OriginError::Failed(304).into()) };
            let mut headers = entry.meta.headers.clone();
            // A response without a Date is dated on arrival (RFC 9110 §6.6.1). The folder
            // and demo origins send none, and keeping the stored Date would leave the
            // refreshed entry as old as the first fetch: stale again at once, revalidated
            // on every request from then on.
            if res.header("date").is_none() {
                headers.retain(|(n, _)| n != "date");
            }
            for (name, value) in &res.headers {
                if !name.starts_with("content-") {
                    headers.retain(|(n, _)| n != name);
                    headers.push((name.clone(), value.clone()));
                }
            }
            let meta = meta_for(entry.meta.key.clone(), headers, request_time, response_time);
            let fresh = self.store.refresh(&entry, meta).await?;
            self.figures.revalidated(prefix);
            return Ok(Fetched::Stored { entry: fresh, revalidated: true });
        }
        let cc = CacheControl::parse(res.headers_named("cache-control"));
        let vary: Vec<&str> = res.headers_named("vary").collect();
        match policy::storable(res.status, &cc, &vary) {
            Ok(names) => {
                let key = VariantKey {
                    path: req.path.as_str().to_owned(),
                    vary: names.iter().map(|n| (n.to_string(), req.value(n))).collect(),
                };
                let headers = res.headers.clone();
                let received = self.store.receive(res.body).await?;
                self.fetched(prefix, received.len());
                let entry = self
                    .store
                    .insert(meta_for(key, headers, request_time, response_time), received)
                    .await?;
                Ok(Fetched::Stored { entry, revalidated: false })
            }
            Err(_) => {
                let limits = self.store.limits();
                let small = content_length(&res.headers) <= limits.memory_object_bytes
                    && res.header("content-length").is_some();
                let small = small || res.status == 404;
                if small {
                    let received = self.store.receive(res.body).await?;
                    self.fetched(prefix, received.len());
                    let bytes = match received {
                        Received::Memory { bytes, .. } => bytes,
                        file @ Received::File { .. } => {
                            file.discard().await;
                            return Err(AssetError::TooLarge { limit: limits.memory_object_bytes });
                        }
                    };
                    Ok(Fetched::Passed(Arc::new(PassedOn {
                        status: res.status,
                        headers: res.headers,
                        bytes: Some(bytes),
                        stream: Mutex::new(None),
                    })))
                } else {
                    self.fetched(prefix, content_length(&res.headers));
                    Ok(Fetched::Passed(Arc::new(PassedOn {
                        status: res.status,
                        headers: res.headers,
                        bytes: None,
                        stream: Mutex::new(Some(res.body)),
                    })))
                }
            }
        }
    }

    /// Asks the paired booths, when this one is paired and has peers.
    async fn ask_peers(&self, req: &AssetRequest) -> Option<Arc<Entry>> {
        let peers = self.peers.as_ref()?;
        let settings = self.manifest.current().manifest.assets.clone();
        let request_time = self.now_ms();
        let mesh = mesh::Mesh {
            timeout: Duration::from_millis(u64::from(settings.peer_timeout_ms)),
            max_bytes: settings.max_object_bytes,
        };
        let object = mesh::ask(self.fetcher.http(), peers, &mesh, &req.path, &req.headers).await?;
        let cc = CacheControl::parse(
            object.headers.iter().filter(|(n, _)| n == "cache-control").map(|(_, v)| v.as_str()),
        );
        let vary: Vec<&str> =
            object.headers.iter().filter(|(n, _)| n == "vary").map(|(_, v)| v.as_str()).collect();
        let names = policy::storable(200, &cc, &vary).ok()?;
        let key = VariantKey {
            path: req.path.as_str().to_owned(),
            vary: names.iter().map(|n| (n.to_string(), req.value(n))).collect(),
        };
        tracing::debug!(path = %req.path, peer = %object.peer, "served by a paired booth");
        let response_time = self.now_ms();
        let meta = meta_for(key, object.headers, request_time, response_time);
        self.store.insert(meta, Received::memory(object.body)).await.ok()
    }
}

fn content_length(headers: &[(String, String)]) -> u64 {
    headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// The metadata for a response that arrived at `response_time` (Unix ms).
fn meta_for(
    key: VariantKey,
    mut headers: Vec<(String, String)>,
    request_time: i64,
    response_time: i64,
) -> Meta {
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let expires = get("expires");
    let times = HeaderTimes {
        date: get("date").as_deref().and_then(policy::parse_http_date),
        expires: expires.as_deref().and_then(policy::parse_http_date),
        expires_invalid: expires.as_deref().is_some_and(|e| policy::parse_http_date(e).is_none()),
        last_modified: get("last-modified").as_deref().and_then(policy::parse_http_date),
        age: get("age").and_then(|a| a.trim().parse().ok()),
    };
    let cc = CacheControl::parse(
        headers.iter().filter(|(n, _)| n == "cache-control").map(|(_, v)| v.as_str()),
    );
    let freshness = Freshness::of(&cc, &times, response_time / 1000);
    let initial_age = policy::initial_age(&times, request_time, response_time);
    let (etag, last_modified) = (get("etag"), get("last-modified"));
    headers.retain(|(n, _)| origin::kept_header(n));
    if times.date.is_none() {
        headers.push(("date".into(), policy::format_http_date(response_time / 1000)));
    }
    Meta {
        key,
        headers,
        len: 0,
        response_time_ms: response_time,
        initial_age,
        freshness,
        etag,
        last_modified,
        body_file: String::new(),
        sha256: String::new(),
    }
}

/// Keeps the figures' minute window sampled and the event's totals saved, until the
/// node stops (then saves once more).
pub async fn keep_figures(
    cache: Arc<AssetCache>,
    db: sqlx::SqlitePool,
    stopping: watch::Receiver<bool>,
) {
    let mut ticks = crate::ticker::Ticker::new(Duration::from_secs(1), stopping);
    while let Some(n) = ticks.next().await {
        cache.figures.sample(cache.now_ms() / 1000);
        if n.is_multiple_of(10) {
            if let Err(e) = cache.figures.persist(&db).await {
                tracing::warn!(error = %e, "could not save the cache figures");
            }
        }
    }
    if let Err(e) = cache.figures.persist(&db).await {
        tracing::warn!(error = %e, "could not save the cache figures");
    }
}
