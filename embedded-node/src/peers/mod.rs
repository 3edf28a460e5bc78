//! Peers: the booths this node trusts, and the fleet view of them.
//!
//! Owns: this node's identity (a node id made at first start, kept in SQLite), the
//! pairing key in force (the manifest's, else one handed over with a pairing code and
//! kept in the secret store), the operator's unpairings (SQLite), the replay guard for
//! signed requests, the pairing code on show, and the fleet: every candidate booth —
//! found on the LAN by `discovery` or named by address in `[pairing] peers` — with its
//! last status fetched over the signed peer API.
//! Never: answers HTTP (that is `http::peers`) or speaks mDNS (that is `discovery`).
//!
//! Clocks: every peer answer states the answering booth's time (`X-Boothcloud-Time`;
//! a proven status states it in its body). This node keeps each peer's offset and signs
//! requests to it in that peer's time, so booths whose clocks differ by minutes still
//! pair and relay while every receiver keeps its own narrow window (`MAX_SKEW_SECS`) and
//! its nonce guard. A proven status is also a second source for `timekeeping`. An
//! offset belongs to the stretch of trusted time it was measured in: when this booth's
//! own time jumps, it is dropped and measured again.
//!
//! A booth is **paired** when both hold the same pairing key, it is of the same event,
//! the operator has not unpaired it, and its last signed exchange checked out both
//! ways. Anything else is listed as unpaired, with the reason in words, and is sent
//! nothing and answered nothing.

pub mod code;

use crate::tls::PeerPins;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::discovery::Discovery;
use crate::live_manifest::LiveManifest;
use crate::secrets::{SecretError, SecretStore};
use crate::spend::traffic::{answer_bytes, request_bytes, Purpose};
use crate::spend::Meters;
use crate::timekeeping::{BoothClock, Stamp};
use boothcloud_core::clock::Clock;
use boothcloud_core::devices::inventory::{DeviceKind, Liveness};
use boothcloud_core::signing::hex;
use boothcloud_core::signing::peer::{
    self as auth, PeerAuthError, ReplayGuard, Signature, PROOF_HEADER, SIGNATURE_HEADER,
};
use boothcloud_core::timekeeping;

/// The secret-store name of a pairing key handed over with a pairing code.
pub const ADOPTED_KEY: &str = "pairing-key";
/// How long one fleet status request may take.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest answer read from a peer.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Most booths in the fleet view (LAN and manifest together).
pub const MAX_FLEET: usize = 256;
pub use boothcloud_core::signing::TIME_HEADER;

/// Said when the manifest's pairing key is one anyone can read.
pub const PUBLISHED_KEY_NOTICE: &str = "This booth's price list file holds the demo's pairing key, which anyone can read, so it does not pair by key. Pair booths with a pairing code (shown on one booth, typed on the other), or give every booth of the event the same long random key of its own.";

/// The time (Unix ms) an answer states in [`TIME_HEADER`], if it states one.
pub fn stated_time(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    headers.get(TIME_HEADER)?.to_str().ok()?.parse().ok()
}
/// A proven offset older than this gives way to a fresher time header.
const PROVEN_FOR: Duration = Duration::from_secs(60);
/// A peer's clock further than this from this booth's is shown on the screens.
pub const SKEW_SHOWN: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// A peer's clock against this booth's.
#[derive(Debug, Clone, Copy)]
struct PeerClock {
    /// Its time minus this booth's, ms.
    offset_ms: i64,
    /// Measured on a proven answer (else only from the time header).
    proven: bool,
    /// The hub's time minus the peer's, as the peer measured it.
    hub_offset_ms: Option<i64>,
    rtt_ms: i64,
    /// The stretch of this booth's trusted time it was measured in: after a jump of
    /// trusted time it is worthless.
    epoch: u64,
    /// When it was measured (this booth's monotonic time).
    measured: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    #[error("cannot read or write the peer tables: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Code(#[from] code::CodeError),
    #[error("no booth {0} is known here")]
    UnknownBooth(String),
    #[error("this booth's manifest sets its own pairing key; give both booths the same key in their manifests instead")]
    ManifestKey,
    #[error("that booth holds another pairing key: type the pairing code shown on that booth")]
    NeedsCode,
    #[error("that booth could not be reached: {0}")]
    Unreachable(String),
    #[error("that booth refused: {0}")]
    Refused(String),
}

/// What any node tells anyone about itself (`GET /api/v1/peer/hello`): nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Hello {
    pub id: String,
    pub name: Option<String>,
    pub event: String,
    pub role: String,
    pub version: String,
    /// The pairing fingerprint; empty when the node holds no key.
    pub fingerprint: String,
}

/// A booth's health, as it reports it to its paired peers (`GET /api/v1/peer/status`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PeerStatus {
    pub id: String,
    pub name: Option<String>,
    pub event: String,
    pub role: String,
    pub version: String,
    /// `local`, `online`, `offline` or `relay` (see `uplink::Mode`).
    pub mode: String,
    /// `up`, `down` or `not_checked`.
    pub uplink: String,
    /// Orders not yet delivered upstream, and the oldest of them.
    pub queue_depth: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_unsynced: Option<Timestamp>,
    pub quarantined: i64,
    pub orders_today: i64,
    pub revenue_today: i64,
    pub currency: String,
    /// The slowest customer route's p99 over the last minute, when there was traffic.
    pub p99_ms: Option<f64>,
    pub hit_ratio: Option<f64>,
    /// Minor units spent, the budget, and `ok`, `warn`, `over` or `unbudgeted`.
    pub spend: i64,
    pub budget: Option<i64>,
    pub spend_state: String,
    /// Its trusted time when it answered (a paired booth may set its clock by it).
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The hub's time minus this booth's (ms), when it has measured it.
    #[serde(default)]
    pub hub_offset_ms: Option<i64>,
    /// It doubts its own clock (then it is no second source for anyone's).
    #[serde(default)]
    pub clock_in_doubt: bool,
    /// SHA-256 of its booth CA's certificate (hex), when it serves one: proven with the
    /// answer, so a paired booth relays and fetches only over a certificate from it.
    #[serde(default)]
    pub ca: Option<String>,
    /// How many of its printers need a person (out of paper, unreachable, a job that may
    /// have printed).
    #[serde(default)]
    pub printers_attention: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// Discovered over mDNS on this LAN.
    Lan,
    /// Named by address in the manifest (a remote booth).
    Manifest,
}

/// One booth in the fleet view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Booth {
    /// Its node id, once known (mDNS says it; a manifest peer tells it when asked).
    pub id: Option<String>,
    pub name: String,
    pub url: String,
    pub found_by: FoundBy,
    pub event: Option<String>,
    pub fingerprint: Option<String>,
    pub paired: bool,
    /// Whether it answered the last time it was asked.
    pub reachable: bool,
    /// Why it is (not) paired or reachable, in words.
    pub detail: String,
    /// Its last status; kept (and marked by `status_at`) when it stops answering.
    pub status: Option<PeerStatus>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub status_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<Timestamp>,
    /// Round trip of the last status request, milliseconds.
    pub rtt_ms: Option<f64>,
    /// Its clock minus this booth's (ms), measured on its last proven answer.
    pub clock_offset_ms: Option<i64>,
    /// "Its clock is 3 min 00 s ahead of this booth's.", when over 10 s apart.
    pub clock_words: Option<String>,
}

/// Someone to ask: a LAN booth or a manifest peer.
#[derive(Debug, Clone)]
struct Candidate {
    key: String,
    id: Option<String>,
    name: String,
    url: url::Url,
    found_by: FoundBy,
    event: Option<String>,
    fingerprint: Option<String>,
}

/// A booth to ask for cached objects.
#[derive(Debug, Clone)]
pub struct MeshPeer {
    /// `None` for a manifest peer not yet asked who it is ([`Peers::identify`]).
    pub id: Option<String>,
    pub name: String,
    pub url: url::Url,
}

pub struct Peers {
    id: String,
    manifest: Arc<LiveManifest>,
    clock: Arc<BoothClock>,
    /// Calls to peers are counted in spend's traffic (not priced: the venue network).
    meters: Arc<Meters>,
    db: SqlitePool,
    store: Arc<dyn SecretStore>,
    /// Each peer's clock, by node id.
    clocks: RwLock<HashMap<String, PeerClock>>,
    adopted: RwLock<Option<Arc<[u8]>>>,
    unpaired: RwLock<HashSet<String>>,
    guard: ReplayGuard,
    code: Mutex<code::Shown>,
    fleet: RwLock<BTreeMap<String, Booth>>,
    /// Node ids learnt from manifest peers' hellos, by URL.
    learnt: RwLock<HashMap<String, Hello>>,
    /// The booth CAs LAN booths advertise (mDNS, not signed) and manifest peers name:
    /// good enough to ask a booth how it is, which carries nothing secret.
    pins: Arc<PeerPins>,
    /// The booth CAs the manifest names or a booth proved with the pairing key (in its
    /// status): the only ones relaying orders and fetching assets believe.
    confirmed: Arc<PeerPins>,
    /// The degrade level's pace for the fleet view, in ms; 0: `[discovery] probe_every`.
    fleet_every_ms: std::sync::atomic::AtomicU64,
    http: reqwest::Client,
}

impl Peers {
    /// Loads (or makes, at first start) this node's identity and the peer decisions.
    pub async fn load(
        db: &SqlitePool,
        store: Arc<dyn SecretStore>,
        manifest: Arc<LiveManifest>,
        clock: Arc<BoothClock>,
        meters: Arc<Meters>,
    ) -> Result<Peers, PeersError> {
        let now = clock.now().as_second();
        sqlx::query(
            "INSERT OR IGNORE INTO node_identity (singleton, node_id, created_at) VALUES (1, ?, ?)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(now)
        .execute(db)
        .await?;
        let id: String =
            sqlx::query_scalar("SELECT node_id FROM node_identity WHERE singleton = 1")
                .fetch_one(db)
                .await?;
        let unpaired: Vec<String> =
            sqlx::query_scalar("SELECT node_id FROM peer_unpaired").fetch_all(db).await?;
        let adopted = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.get(ADOPTED_KEY))
                .await
                .map_err(|e| SecretError::Keyring(e.to_string()))??
        };
        let pins = Arc::new(PeerPins::default());
        Ok(Peers {
            confirmed: Arc::default(),
            fleet_every_ms: Default::default(),
            pins: pins.clone(),
            id,
            manifest,
            clock,
            meters,
            db: db.clone(),
            store,
            clocks: RwLock::default(),
            adopted: RwLock::new(adopted.map(Into::into)),
            unpaired: RwLock::new(unpaired.into_iter().collect()),
            guard: ReplayGuard::default(),
            code: Mutex::default(),
            fleet: RwLock::default(),
            learnt: RwLock::default(),
            http: reqwest::Client::builder()
                .use_preconfigured_tls(crate::tls::pins::client_config(pins.clone()))
                .connect_timeout(Duration::from_secs(1))
                .timeout(STATUS_TIMEOUT)
                // A new connection for every check: a kept one may belong to an address
                // this machine or the peer no longer has (a new lease), and would hang
                // until the timeout at every check; a LAN connect costs well under a
                // millisecond once a second.
                .pool_max_idle_per_host(0)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client with rustls builds"),
        })
    }

    /// How often the fleet view asks paired booths how they are, when a degrade level
    /// says (`None`: `[discovery] probe_every`).
    pub fn set_fleet_every(&self, every: Option<Duration>) {
        let ms = every.map_or(0, |d| d.as_millis().clamp(1, u128::from(u64::MAX)) as u64);
        self.fleet_every_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// The fleet view's pace in force.
    pub fn fleet_every(&self) -> Duration {
        match self.fleet_every_ms.load(std::sync::atomic::Ordering::Relaxed) {
            0 => self.manifest.current().manifest.discovery.probe_every.unsigned_abs(),
            ms => Duration::from_millis(ms),
        }
    }

    /// Pins the booth CAs the manifest's peers name (a manifest edit adds to them; a
    /// pin is never taken back while the node runs, as a paired booth's CA never
    /// changes).
    fn pin_manifest_peers(&self) {
        for p in &self.manifest.current().manifest.pairing.peers {
            let ca = p.ca.as_deref().and_then(crate::tls::pins::from_hex);
            if let (Some(ca), Some(host)) = (ca, p.url.host_str()) {
                self.pins.pin(host, ca);
                self.confirmed.pin(host, ca);
            }
        }
    }

    /// The TLS configuration for a client that may call a paired booth with something
    /// that matters (relayed orders, assets): only CAs the manifest named or the booth
    /// proved are believed.
    pub fn client_config(&self) -> rustls::ClientConfig {
        self.pin_manifest_peers();
        crate::tls::pins::client_config(self.confirmed.clone())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn now_s(&self) -> i64 {
        self.clock.now().as_second()
    }

    /// This booth's trusted time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The manifest's pairing key, unless it is one anyone can read (then it is as if
    /// the manifest set none: pairing needs a code).
    fn manifest_key(&self) -> Option<String> {
        self.manifest.current().manifest.pairing.key.clone().filter(|k| !auth::is_published(k))
    }

    /// The pairing key in force: the manifest's, else one received with a pairing code.
    pub fn key(&self) -> Option<Arc<[u8]>> {
        match self.manifest_key() {
            Some(k) => Some(k.as_bytes().into()),
            None => self.adopted.read().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// `manifest`, `pairing_code`, `published` (the manifest's key is public and refused,
    /// and no code was used yet) or `none`.
    pub fn key_source(&self) -> &'static str {
        if self.manifest_key().is_some() {
            "manifest"
        } else if self.adopted.read().unwrap_or_else(|p| p.into_inner()).is_some() {
            "pairing_code"
        } else if self.published_key_refused() {
            "published"
        } else {
            "none"
        }
    }

    /// Whether the manifest holds a pairing key anyone can read (which is refused).
    pub fn published_key_refused(&self) -> bool {
        self.manifest.current().manifest.pairing.key.as_deref().is_some_and(auth::is_published)
    }

    /// What the Devices screen and the start-up log say about a refused public key, until
    /// a pairing code gives the booth a key of its own.
    pub fn key_notice(&self) -> Option<&'static str> {
        (self.key_source() == "published").then_some(PUBLISHED_KEY_NOTICE)
    }

    pub fn fingerprint(&self) -> String {
        self.key().map(|k| auth::fingerprint(&k)).unwrap_or_default()
    }

    pub fn hello(&self) -> Hello {
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        Hello {
            id: self.id.clone(),
            name: m.node.name.clone(),
            event: m.event.id.clone(),
            role: m.discovery.role.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            fingerprint: self.fingerprint(),
        }
    }

    pub fn is_unpaired(&self, id: &str) -> bool {
        self.unpaired.read().unwrap_or_else(|p| p.into_inner()).contains(id)
    }

    /// Checks a signed request to this node: key held, signature good and fresh, nonce
    /// new, sender not unpaired by the operator.
    pub fn verify(
        &self,
        header: Option<&str>,
        req: &auth::Request<'_>,
    ) -> Result<Signature, PeerAuthError> {
        let key = self.key().ok_or(PeerAuthError::NotPaired)?;
        let sig = Signature::parse(header.ok_or(PeerAuthError::Missing)?)?;
        sig.check(&key, req, &self.id, self.now_s())?;
        if self.is_unpaired(&sig.from) {
            return Err(PeerAuthError::Unpaired);
        }
        self.guard.admit(sig.nonce, sig.ts, self.now_s())?;
        Ok(sig)
    }

    /// Signs a request to node `to`, when this node holds a key, in `to`'s time.
    pub fn sign(&self, to: &str, req: &auth::Request<'_>) -> Option<Signature> {
        let key = self.key()?;
        Some(Signature::sign(&key, req, &self.id, to, self.their_seconds(to), rand::random()))
    }

    /// Now in peer `id`'s time, Unix seconds (this booth's, while its offset is unknown).
    fn their_seconds(&self, id: &str) -> i64 {
        (self.clock.now_ms() + self.offset_ms(id).unwrap_or(0)).div_euclid(1000)
    }

    /// Peer `id`'s clock minus this booth's (ms), as last measured in this stretch of
    /// trusted time.
    pub fn offset_ms(&self, id: &str) -> Option<i64> {
        let epoch = self.clock.epoch();
        self.clocks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .filter(|c| c.epoch == epoch)
            .map(|c| c.offset_ms)
    }

    /// Counts a call to a peer: the request as sent (`method` to `url` with `headers` and
    /// a body of `body` bytes) and the answer's head and body.
    pub fn metered(
        &self,
        method: &str,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: usize,
        answer: (&reqwest::header::HeaderMap, usize),
    ) {
        let bytes = request_bytes(method, url, headers, body) + answer_bytes(answer.0, answer.1);
        self.meters.upstream(Purpose::Peers, bytes);
    }

    /// Trusted time now, with its epoch: what a request to a peer is stamped as sent at.
    pub fn stamp(&self) -> Stamp {
        self.clock.stamp()
    }

    /// Notes the time peer `id` stated on an answer (`TIME_HEADER`) to a request sent at
    /// `sent`. Unproven: used only to sign in the peer's time. It replaces a proven
    /// measurement only when that one is over a minute old, was made before trusted
    /// time jumped, or the peer refused this booth's signature (`refused`).
    pub fn note_time(&self, id: &str, res: &reqwest::Response, sent: Stamp) {
        let Some(theirs) = stated_time(res.headers()) else { return };
        let (now, mono) = (self.clock.stamp(), self.clock.monotonic());
        if now.epoch != sent.epoch {
            return;
        }
        let (sent_ms, now_ms) = (sent.at.as_millisecond(), now.at.as_millisecond());
        let Some(offset) = timekeeping::offset_ms(theirs, sent_ms, now_ms) else { return };
        let refused = res.status() == reqwest::StatusCode::UNAUTHORIZED;
        let mut clocks = self.clocks.write().unwrap_or_else(|p| p.into_inner());
        let keep = clocks.get(id).is_some_and(|c| {
            c.proven
                && c.epoch == now.epoch
                && !refused
                && mono.saturating_sub(c.measured) < PROVEN_FOR
        });
        if !keep {
            clocks.insert(
                id.to_owned(),
                PeerClock {
                    offset_ms: offset,
                    proven: false,
                    hub_offset_ms: None,
                    rtt_ms: now_ms - sent_ms,
                    epoch: now.epoch,
                    measured: mono,
                },
            );
        }
    }

    /// A proven status from peer `id`, asked at `sent`: its offset, its offset to the hub,
    /// and its time as a second source for this booth's clock.
    fn note_proven(&self, id: &str, name: &str, s: &PeerStatus, sent: Stamp) -> Option<i64> {
        let (now, mono) = (self.clock.stamp(), self.clock.monotonic());
        if now.epoch != sent.epoch {
            return None;
        }
        let (sent_ms, now_ms) = (sent.at.as_millisecond(), now.at.as_millisecond());
        let offset = timekeeping::offset_ms(s.at.as_millisecond(), sent_ms, now_ms)?;
        let rtt = jiff::SignedDuration::from_millis(now_ms - sent_ms);
        self.clocks.write().unwrap_or_else(|p| p.into_inner()).insert(
            id.to_owned(),
            PeerClock {
                offset_ms: offset,
                proven: true,
                hub_offset_ms: s.hub_offset_ms,
                rtt_ms: rtt.as_millis() as i64,
                epoch: now.epoch,
                measured: mono,
            },
        );
        // A booth that doubts its own time is no witness.
        if !s.clock_in_doubt {
            self.clock.witness(&format!("paired booth {name}"), s.at + rtt / 2, rtt / 2);
        }
        Some(offset)
    }

    /// The hub's time minus this booth's (ms), through the paired booth nearest in round
    /// trip that knows its own offset to the hub: for a booth that cannot reach the hub.
    pub fn hub_offset_via_peers(&self) -> Option<i64> {
        let epoch = self.clock.epoch();
        let clocks = self.clocks.read().unwrap_or_else(|p| p.into_inner());
        clocks
            .values()
            .filter(|c| c.proven && c.epoch == epoch)
            .filter_map(|c| Some((c.rtt_ms, c.offset_ms + c.hub_offset_ms?)))
            .min_by_key(|(rtt, _)| *rtt)
            .map(|(_, offset)| offset)
    }

    /// The proof for an answer to `sig`.
    pub fn prove(&self, sig: &Signature, status: u16, body_sha256: &str) -> Option<String> {
        Some(sig.prove_answer(&self.key()?, status, body_sha256))
    }

    pub fn check_answer(&self, sig: &Signature, status: u16, body: &[u8], proof: &str) -> bool {
        self.key().is_some_and(|k| sig.answer_is_proven(&k, status, body, proof))
    }

    /// The operator stops trusting a booth: its requests are refused and it is asked
    /// nothing, until paired again.
    pub async fn unpair(&self, id: &str) -> Result<(), PeersError> {
        sqlx::query("INSERT INTO peer_unpaired (node_id, unpaired_at) VALUES (?, ?) ON CONFLICT (node_id) DO NOTHING")
            .bind(id)
            .bind(self.now_s())
            .execute(&self.db)
            .await?;
        self.unpaired.write().unwrap_or_else(|p| p.into_inner()).insert(id.to_owned());
        if let Some(b) = self
            .fleet
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
            .find(|b| b.id.as_deref() == Some(id))
        {
            b.paired = false;
            b.detail = "Unpaired by the operator: it is sent nothing and answered nothing.".into();
        }
        Ok(())
    }

    /// Lifts an unpairing.
    async fn forgive(&self, id: &str) -> Result<(), PeersError> {
        sqlx::query("DELETE FROM peer_unpaired WHERE node_id = ?")
            .bind(id)
            .execute(&self.db)
            .await?;
        self.unpaired.write().unwrap_or_else(|p| p.into_inner()).remove(id);
        Ok(())
    }

    /// Shows a new pairing code on this booth (making a pairing key first if it holds
    /// none). Returns the code as shown and when it expires.
    pub async fn show_code(&self) -> Result<(String, Timestamp), PeersError> {
        if self.key().is_none() {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            self.adopt(hex(&key).as_bytes()).await?;
        }
        let (code, expires) =
            self.code.lock().unwrap_or_else(|p| p.into_inner()).show_new(self.now_s());
        Ok((code::show(&code), Timestamp::from_second(expires).unwrap_or(Timestamp::MAX)))
    }

    pub fn withdraw_code(&self) {
        self.code.lock().unwrap_or_else(|p| p.into_inner()).withdraw();
    }

    /// The code on show, if any, and its expiry.
    pub fn code_on_show(&self) -> Option<(String, Timestamp)> {
        let shown = self.code.lock().unwrap_or_else(|p| p.into_inner());
        shown
            .current(self.now_s())
            .map(|(c, e)| (code::show(c), Timestamp::from_second(e).unwrap_or(Timestamp::MAX)))
    }

    /// Answers a claim of the code on show with the wrapped key.
    pub fn grant(&self, claim: &ClaimBody) -> Result<GrantBody, PeersError> {
        let nonce =
            u128::from_str_radix(&claim.nonce, 16).map_err(|_| code::CodeError::Malformed)?;
        let key = self.key().ok_or(code::CodeError::NoCode)?;
        let code = self.code.lock().unwrap_or_else(|p| p.into_inner()).claim(
            &claim.node,
            &self.id,
            claim.ts,
            nonce,
            &claim.proof,
            self.now_s(),
        )?;
        let grant = code::grant(&code, &claim.proof, nonce, &key);
        tracing::info!(peer = %claim.node, "a booth paired with this one by pairing code");
        Ok(GrantBody {
            node: self.id.clone(),
            wrapped: STANDARD.encode(&grant.wrapped),
            proof: grant.proof,
        })
    }

    async fn adopt(&self, key: &[u8]) -> Result<(), PeersError> {
        let store = self.store.clone();
        let value = key.to_vec();
        tokio::task::spawn_blocking(move || store.set(ADOPTED_KEY, &value))
            .await
            .map_err(|e| SecretError::Keyring(e.to_string()))??;
        *self.adopted.write().unwrap_or_else(|p| p.into_inner()) = Some(key.into());
        Ok(())
    }

    /// Replaces the pairing key held in the secret store with a new random one (at the
    /// end of the event: the booths paired with it are paired no longer). Answers
    /// `false` when the manifest sets the key, which only the manifest can change.
    pub async fn rotate_key(&self) -> Result<bool, PeersError> {
        if self.manifest_key().is_some() {
            return Ok(false);
        }
        self.withdraw_code();
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        self.adopt(hex(&key).as_bytes()).await?;
        Ok(true)
    }

    /// Pairs with a booth of the fleet: lifts an unpairing and, given the code shown on
    /// that booth, takes its pairing key. Then asks it for its status at once.
    pub async fn pair(&self, id: &str, typed_code: Option<&str>) -> Result<Booth, PeersError> {
        let mut target =
            self.target_by_id(id).ok_or_else(|| PeersError::UnknownBooth(id.to_owned()))?;
        self.forgive(id).await?;
        if let Some(typed) = typed_code {
            if self.manifest_key().is_some() {
                return Err(PeersError::ManifestKey);
            }
            let code = code::normalise(typed)?;
            // The claim is stamped in the other booth's time: ask it the time first.
            let asked = self.clock.stamp();
            if let Ok(url) = target.url.join("api/v1/peer/hello") {
                if let Ok(res) = self.http.get(url).send().await {
                    self.note_time(id, &res, asked);
                    // Its key may be new (a booth with none makes one to show a code).
                    let hello = read_capped(res).await;
                    if let Some(hello) =
                        hello.and_then(|b| serde_json::from_slice::<Hello>(&b).ok())
                    {
                        if hello.id == id {
                            target.fingerprint = Some(hello.fingerprint.clone());
                            let mut learnt = self.learnt.write().unwrap_or_else(|p| p.into_inner());
                            if let Some(known) = learnt.get_mut(target.url.as_str()) {
                                *known = hello;
                            }
                        }
                    }
                }
            }
            let nonce: u128 = rand::random();
            let ts = self.their_seconds(id);
            let proof = code::claim_proof(&code, &self.id, id, ts, nonce);
            let claim = ClaimBody {
                node: self.id.clone(),
                ts,
                nonce: format!("{nonce:032x}"),
                proof: proof.clone(),
            };
            let url = target
                .url
                .join("api/v1/peer/pair")
                .map_err(|e| PeersError::Unreachable(e.to_string()))?;
            let res = self
                .http
                .post(url)
                .json(&claim)
                .send()
                .await
                .map_err(|e| PeersError::Unreachable(e.without_url().to_string()))?;
            if !res.status().is_success() {
                let text = res.text().await.unwrap_or_default();
                let message = error_message(text.as_bytes()).unwrap_or(text);
                return Err(PeersError::Refused(message));
            }
            let body: GrantBody =
                res.json().await.map_err(|e| PeersError::Refused(e.to_string()))?;
            let wrapped = STANDARD.decode(&body.wrapped).map_err(|_| code::CodeError::BadGrant)?;
            let key = code::unwrap(
                &code,
                &proof,
                nonce,
                &code::PairingGrant { wrapped, proof: body.proof },
            )?;
            if target
                .fingerprint
                .as_deref()
                .is_some_and(|fp| !fp.is_empty() && fp != auth::fingerprint(&key))
            {
                return Err(code::CodeError::BadGrant.into());
            }
            self.adopt(&key).await?;
        } else if target.fingerprint.as_deref().is_some_and(|fp| fp != self.fingerprint()) {
            return Err(PeersError::NeedsCode);
        }
        let booth = self.check(&target).await;
        self.fleet
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(target.key.clone(), booth.clone());
        Ok(booth)
    }

    fn target_by_id(&self, id: &str) -> Option<Candidate> {
        let fleet = self.fleet.read().unwrap_or_else(|p| p.into_inner());
        let (key, b) = fleet.iter().find(|(_, b)| b.id.as_deref() == Some(id))?;
        Some(Candidate {
            key: key.clone(),
            id: b.id.clone(),
            name: b.name.clone(),
            url: b.url.parse().ok()?,
            found_by: b.found_by,
            event: b.event.clone(),
            fingerprint: b.fingerprint.clone(),
        })
    }

    /// Everyone to keep in the fleet view: booths alive on the LAN, and the manifest's.
    fn targets(&self, discovery: Option<&Discovery>) -> Vec<Candidate> {
        let mut out = Vec::new();
        if let Some(d) = discovery {
            let gone_after = d.gone_after_ms();
            let now = self.clock.now().as_millisecond();
            for dev in d.inventory().devices().filter(|d| d.kind == DeviceKind::Booth) {
                let (Some(b), Some(at)) = (&dev.booth, dev.endpoint()) else { continue };
                if dev.liveness(now, gone_after) == Liveness::Gone {
                    continue;
                }
                // Its certificate must chain to the CA it advertised for its address
                // (the pinned verifier), or, when it advertised none (an organisation's
                // certificate), to a public root; the signed requests decide whom to trust.
                if let Some(ca) = b.ca.as_deref().and_then(crate::tls::pins::from_hex) {
                    self.pins.pin(&at.ip().to_string(), ca);
                }
                let Ok(url) = url::Url::parse(&format!("https://{at}/")) else { continue };
                out.push(Candidate {
                    key: format!("lan:{}", b.id),
                    id: Some(b.id.clone()),
                    name: b.name.clone().unwrap_or_else(|| dev.name.clone()),
                    url,
                    found_by: FoundBy::Lan,
                    event: Some(b.event.clone()),
                    fingerprint: Some(b.fingerprint.clone()),
                });
            }
        }
        let learnt = self.learnt.read().unwrap_or_else(|p| p.into_inner());
        self.pin_manifest_peers();
        for p in &self.manifest.current().manifest.pairing.peers {
            let hello = learnt.get(p.url.as_str());
            if hello.is_some_and(|h| out.iter().any(|t| t.id.as_deref() == Some(h.id.as_str()))) {
                continue; // Also on the LAN: listed once.
            }
            out.push(Candidate {
                key: format!("manifest:{}", p.url),
                id: hello.map(|h| h.id.clone()),
                name: p.name.clone(),
                url: p.url.clone(),
                found_by: FoundBy::Manifest,
                event: hello.map(|h| h.event.clone()),
                fingerprint: hello.map(|h| h.fingerprint.clone()),
            });
        }
        out.truncate(MAX_FLEET);
        out
    }

    /// Asks a manifest peer who it is (once; remembered).
    pub async fn identify(&self, url: &url::Url) -> Option<Hello> {
        self.pin_manifest_peers();
        if let Some(h) = self.learnt.read().unwrap_or_else(|p| p.into_inner()).get(url.as_str()) {
            return Some(h.clone());
        }
        let res = self.http.get(url.join("api/v1/peer/hello").ok()?).send().await.ok()?;
        if !res.status().is_success() {
            return None;
        }
        let hello: Hello = res.json().await.ok()?;
        self.learnt
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_string(), hello.clone());
        Some(hello)
    }

    /// Booths to ask for cached objects: the fleet's paired, reachable booths, and the
    /// manifest's peers (their id learnt on first contact; their answers prove
    /// themselves), less any the operator unpaired.
    pub fn mesh(&self) -> Vec<MeshPeer> {
        let mut out: Vec<MeshPeer> = self
            .fleet
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|b| b.paired && b.reachable)
            .filter_map(|b| {
                Some(MeshPeer { id: b.id.clone(), name: b.name.clone(), url: b.url.parse().ok()? })
            })
            .collect();
        let learnt = self.learnt.read().unwrap_or_else(|p| p.into_inner());
        for p in &self.manifest.current().manifest.pairing.peers {
            let id = learnt.get(p.url.as_str()).map(|h| h.id.clone());
            if id.as_deref().is_some_and(|id| {
                self.is_unpaired(id) || out.iter().any(|m| m.id.as_deref() == Some(id))
            }) {
                continue;
            }
            out.push(MeshPeer { id, name: p.name.clone(), url: p.url.clone() });
        }
        out
    }

    /// A paired, reachable booth by the name it goes by (case aside), with its id
    /// (a manifest peer is asked who it is on first use): where a printer's fallback
    /// `printer@booth` prints.
    pub async fn booth_named(&self, name: &str) -> Option<MeshPeer> {
        // A manifest peer by the name the manifest gives it (the fleet lists it by its own).
        let listed = self
            .manifest
            .current()
            .manifest
            .pairing
            .peers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| (p.name.clone(), p.url.clone()));
        if let Some((name, url)) = listed {
            let hello = self.identify(&url).await?;
            return (!self.is_unpaired(&hello.id)).then_some(MeshPeer {
                id: Some(hello.id),
                name,
                url,
            });
        }
        self.mesh().into_iter().find(|p| p.id.is_some() && p.name.eq_ignore_ascii_case(name))
    }

    /// Checks one booth: decides from what it advertises whether to ask at all, then
    /// asks for its status with a signed request and checks the answer's proof.
    async fn check(&self, t: &Candidate) -> Booth {
        let previous = self.fleet.read().unwrap_or_else(|p| p.into_inner()).get(&t.key).cloned();
        let mut t = t.clone();
        if t.found_by == FoundBy::Manifest && t.id.is_none() {
            if let Some(h) = self.identify(&t.url).await {
                (t.id, t.event, t.fingerprint) = (Some(h.id), Some(h.event), Some(h.fingerprint));
            }
        }
        let mut booth = Booth {
            id: t.id.clone(),
            name: t.name.clone(),
            url: t.url.to_string(),
            found_by: t.found_by,
            event: t.event.clone(),
            fingerprint: t.fingerprint.clone(),
            paired: false,
            reachable: false,
            detail: String::new(),
            status: previous.as_ref().and_then(|p| p.status.clone()),
            status_at: previous.as_ref().and_then(|p| p.status_at),
            checked_at: Some(self.clock.now()),
            rtt_ms: None,
            clock_offset_ms: previous.as_ref().and_then(|p| p.clock_offset_ms),
            clock_words: previous.as_ref().and_then(|p| p.clock_words.clone()),
        };
        let my_event = self.manifest.current().manifest.event.id.clone();
        let Some(id) = t.id.clone() else {
            booth.detail = "Not answering: its node id is not known yet.".into();
            return booth;
        };
        let unpaired_reason = if self.is_unpaired(&id) {
            Some("Unpaired by the operator: it is sent nothing and answered nothing.".to_owned())
        } else if self.key().is_none() {
            Some("This booth holds no pairing key: show a pairing code on one booth and type it on the other.".to_owned())
        } else if t.event.as_deref().is_some_and(|e| e != my_event) {
            Some(format!("It serves another event ({}).", t.event.as_deref().unwrap_or_default()))
        } else if t.fingerprint.as_deref().is_some_and(|fp| fp != self.fingerprint()) {
            Some(
                "It holds another pairing key: pair it with the pairing code shown on that booth."
                    .to_owned(),
            )
        } else {
            None
        };
        if let Some(reason) = unpaired_reason {
            booth.reachable = previous.is_some_and(|p| p.reachable);
            booth.detail = reason;
            return booth;
        }
        let target = "/api/v1/peer/status";
        let Some(sig) = self.sign(&id, &auth::Request { method: "GET", target, body: b"" }) else {
            booth.detail = "This booth holds no pairing key.".into();
            return booth;
        };
        let Ok(url) = t.url.join(target.trim_start_matches('/')) else { return booth };
        let started = Instant::now();
        let sent = self.clock.stamp();
        let signature = sig.to_header();
        let asked = url.clone();
        let res = match self.http.get(url).header(SIGNATURE_HEADER, &signature).send().await {
            Ok(r) => r,
            Err(e) => {
                booth.paired = previous.is_some_and(|p| p.paired);
                booth.detail = format!(
                    "Not answering ({}).",
                    if e.is_timeout() { "timed out" } else { "connection failed" }
                );
                return booth;
            }
        };
        let status = res.status().as_u16();
        self.note_time(&id, &res, sent);
        let proof =
            res.headers().get(PROOF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let head = res.headers().clone();
        let body = match read_capped(res).await {
            Some(b) => b,
            None => {
                booth.detail = "Its answer was too large or broken off.".into();
                return booth;
            }
        };
        self.metered("GET", &asked, &[(SIGNATURE_HEADER, &signature)], 0, (&head, body.len()));
        booth.reachable = true;
        booth.rtt_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            if t.found_by == FoundBy::Manifest {
                // It may be another node at that address now: ask who it is next time.
                self.learnt.write().unwrap_or_else(|p| p.into_inner()).remove(t.url.as_str());
            }
            let message = error_message(&body).unwrap_or_else(|| format!("status {status}"));
            booth.detail = format!("It refused this booth: {message}.");
            return booth;
        }
        if !proof.is_some_and(|p| self.check_answer(&sig, status, &body, &p)) {
            booth.detail = "Its answer did not prove it holds the pairing key: not trusted.".into();
            return booth;
        }
        match serde_json::from_slice::<PeerStatus>(&body) {
            Ok(s) if s.id == id => {
                booth.paired = true;
                booth.detail = "Paired: every request between the booths is signed.".into();
                booth.name = s.name.clone().unwrap_or(booth.name);
                let offset = self.note_proven(&id, &booth.name, &s, sent);
                // Its CA, proven with the pairing key: what relaying and the mesh believe
                // at its address from now on.
                let ca = s.ca.as_deref().and_then(crate::tls::pins::from_hex);
                if let (Some(ca), Some(host)) = (ca, t.url.host_str()) {
                    self.confirmed.pin(host, ca);
                }
                booth.clock_offset_ms = offset;
                booth.clock_words = offset.and_then(skew_words);
                booth.status = Some(s);
                booth.status_at = Some(self.clock.now());
            }
            _ => booth.detail = "Its status could not be read.".into(),
        }
        booth
    }

    /// Checks every candidate once and replaces the fleet view. A LAN booth that is no
    /// longer alive stays listed, unreachable, until discovery forgets it.
    pub async fn refresh(&self, discovery: Option<&Discovery>) {
        let targets = self.targets(discovery);
        let checked = futures_util::future::join_all(
            targets.iter().map(|t| async { (t.key.clone(), self.check(t).await) }),
        )
        .await;
        for (key, b) in &checked {
            tracing::debug!(booth = %key, paired = b.paired, reachable = b.reachable, detail = %b.detail, "fleet: checked");
        }
        let known_lan: HashSet<String> = discovery
            .map(|d| {
                d.inventory()
                    .devices()
                    .filter_map(|d| d.booth.as_ref().map(|b| format!("lan:{}", b.id)))
                    .collect()
            })
            .unwrap_or_default();
        let mut next: BTreeMap<String, Booth> = checked.into_iter().collect();
        let mut fleet = self.fleet.write().unwrap_or_else(|p| p.into_inner());
        for (key, mut booth) in std::mem::take(&mut *fleet) {
            if !next.contains_key(&key) && known_lan.contains(&key) {
                booth.reachable = false;
                "It is no longer seen on the network.".clone_into(&mut booth.detail);
                next.insert(key, booth);
            }
        }
        *fleet = next;
    }

    /// Whether a candidate has appeared that the fleet view has not checked yet.
    fn has_unchecked(&self, discovery: Option<&Discovery>) -> bool {
        let targets = self.targets(discovery);
        let fleet = self.fleet.read().unwrap_or_else(|p| p.into_inner());
        targets.iter().any(|t| !fleet.contains_key(&t.key))
    }

    pub fn fleet(&self) -> Vec<Booth> {
        self.fleet.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Whether a LAN booth with this id is paired now.
    pub fn is_paired(&self, id: &str) -> bool {
        self.fleet
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|b| b.id.as_deref() == Some(id) && b.paired)
    }
}

/// A pairing-code claim (`POST /api/v1/peer/pair`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimBody {
    /// The claimant's node id.
    pub node: String,
    /// Unix seconds.
    pub ts: i64,
    /// 32 hex digits.
    pub nonce: String,
    /// HMAC under the code (see `peers::code`).
    pub proof: String,
}

/// The answer to a good claim.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantBody {
    pub node: String,
    /// The pairing key, wrapped under the code (base64).
    pub wrapped: String,
    pub proof: String,
}

/// The message of a node's `{"error":{"code","message"}}` answer.
fn error_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body).ok()?["error"]["message"]
        .as_str()
        .map(str::to_owned)
}

async fn read_capped(res: reqwest::Response) -> Option<Vec<u8>> {
    use futures_util::StreamExt;
    if res.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return None;
    }
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.ok()?);
        if body.len() > MAX_ANSWER_BYTES {
            return None;
        }
    }
    Some(body)
}

/// Keeps the fleet view current (every `probe_every`, or the degrade level's
/// `fleet_every`) and the advertisement in step
/// with the pairing key and the event, until the node stops.
pub async fn keep_fleet(
    peers: Arc<Peers>,
    discovery: Option<Arc<Discovery>>,
    advert: impl Fn(&Peers) -> Option<crate::discovery::Advert> + Send + 'static,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let (Some(d), Some(a)) = (&discovery, advert(&peers)) {
            if let Err(e) = d.advertise(&a) {
                tracing::warn!(error = %e, "could not advertise over mDNS");
            }
        }
        peers.refresh(discovery.as_deref()).await;
        let every = peers.fleet_every();
        // Check sooner while a LAN booth has not been asked yet, so a new peer is
        // paired within about a second of being found.
        let deadline = tokio::time::Instant::now() + every;
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            if tokio::time::Instant::now() >= deadline || peers.has_unchecked(discovery.as_deref())
            {
                break;
            }
        }
    }
}

/// "Its clock is 3 min 00 s ahead of this booth's.", when the offset is worth showing.
pub fn skew_words(offset_ms: i64) -> Option<String> {
    let offset = jiff::SignedDuration::from_millis(offset_ms);
    (offset.abs() > SKEW_SHOWN).then(|| {
        format!("Its clock is {} this booth's.", boothcloud_core::timekeeping::offset_words(offset))
    })
}
