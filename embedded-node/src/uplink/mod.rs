//! The link to the regional hub: is it up, which way do orders go, and what may the
//! booth sell while it is down.
//!
//! Owns: the uplink's mode — `online` (orders go straight to the hub), `relay` (the
//! uplink is down and a paired booth with a working uplink carries them), `offline`
//! (kept here until a way opens), or `local` (no hub in the manifest) — with its reason
//! and the time it changed; the heartbeat probe (`watch` decides up and down with
//! hysteresis); the operator's route choice (automatic, regional only, a chosen booth,
//! offline only); offline approvals; and the runway (`runway`). The sync worker that
//! drains the order queue is in `sync`.
//!
//! Invariants:
//! - The uplink counts as up only on an authenticated heartbeat the hub answered after
//!   writing to its database, and comes back only after `up_after` of them in a row.
//! - A booth relays only through a paired booth whose own uplink is up (no chains), and
//!   the hub gets the booth's own signed batch: the order ids never change on the way.
//! - Offline limits apply only in `offline` mode, to the manifest's payment methods.

pub mod sync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::Notify;

use crate::live_manifest::LiveManifest;
use crate::orders::OrderQueue;
use crate::peers::Peers;
use crate::spend::traffic::{answer_bytes, request_bytes, Purpose};
use crate::spend::Meters;
use crate::timekeeping::{BoothClock, Stamp};
use boothcloud_core::clock::Clock;
use boothcloud_core::hub_protocol::wire::{BoothReport, HeartbeatAnswer};
use boothcloud_core::hub_protocol::HEARTBEAT_PATH;
use boothcloud_core::signing::hub::{HubSignature, AUTH_HEADER, PROOF_HEADER};
use boothcloud_core::uplink::runway::{self, Runway};
use boothcloud_core::uplink::watch::{LinkHealth, LinkWatch};
use boothcloud_core::uplink::{Mode, Route};

/// A booth that failed to relay is not asked again for this long.
const RELAY_PENALTY: SignedDuration = SignedDuration::from_secs(10);
/// An approval is good for this long (the kiosk sends the order again meanwhile).
const APPROVAL_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// Most orders waiting for approval at once; past it the oldest is dropped.
const MAX_PENDING: usize = 64;

/// A booth orders are relayed through.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RelayPeer {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub url: Option<url::Url>,
}

/// An order refused while offline, waiting for the operator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pending {
    pub quote_id: String,
    pub total: i64,
    pub currency: String,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub asked_at: Timestamp,
    /// Set once approved: until then the kiosk's retry is refused again.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_until: Option<Timestamp>,
}

struct Inner {
    watch: LinkWatch,
    route: Route,
    mode: Mode,
    relay: Option<RelayPeer>,
    since: Timestamp,
    detail: String,
    mode_changes: u64,
    /// Booths that failed to relay, until when they are skipped.
    relay_failed: HashMap<String, Timestamp>,
    last_sync: Option<Timestamp>,
    last_sync_error: Option<String>,
    /// Orders the hub has taken from this booth since the node started.
    delivered: u64,
    pending: Vec<Pending>,
    /// The hub's clock against this booth's, from its last answer that stated it.
    hub_clock: Option<HubClock>,
    /// How often to send heartbeats while the degrade level says so (else
    /// `[uplink] probe_every`).
    heartbeat_every: Option<Duration>,
}

/// The hub's time minus this booth's.
#[derive(Debug, Clone, Copy)]
struct HubClock {
    offset_ms: i64,
    /// Measured on a proven heartbeat answer (else from the time header of a refusal:
    /// good only to sign the next request with).
    proven: bool,
    /// The stretch of trusted time it was measured in (see [`BoothClock::epoch`]).
    epoch: u64,
}

/// What the uplink reads from the rest of the booth.
pub struct Parts {
    pub manifest: Arc<LiveManifest>,
    pub clock: Arc<BoothClock>,
    pub orders: OrderQueue,
    pub peers: Arc<Peers>,
    /// What enrolled kiosks hold in their offline queues (counted in the runway).
    pub kiosks: Arc<crate::kiosks::Kiosks>,
    /// Whose printers' state goes into every heartbeat.
    pub printing: Arc<crate::printing::Printing>,
    pub data_dir: std::path::PathBuf,
    pub meters: Arc<Meters>,
}

pub struct Uplink {
    manifest: Arc<LiveManifest>,
    clock: Arc<BoothClock>,
    orders: OrderQueue,
    peers: Arc<Peers>,
    /// What enrolled kiosks hold in their offline queues (counted in the runway).
    kiosks: Arc<crate::kiosks::Kiosks>,
    /// Whose printers' state goes into every heartbeat (the fleet view).
    printing: Arc<crate::printing::Printing>,
    /// Every call to the hub is metered (spend) by purpose.
    meters: Arc<Meters>,
    data_dir: std::path::PathBuf,
    http: reqwest::Client,
    inner: Mutex<Inner>,
    /// Wakes the sync worker when the mode changes.
    changed: Notify,
    /// Wakes the heartbeat loop when the degrade level changes its pace.
    paced: Notify,
}

/// How the booth reaches the hub, for the status API, the dashboard and its peers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UplinkView {
    pub mode: Mode,
    /// `up`, `down`, or `not_checked`.
    pub uplink: &'static str,
    /// The mode and its reason, in words staff understand.
    pub detail: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    pub seconds_in_mode: i64,
    pub route: Route,
    pub relay_via: Option<RelayPeer>,
    /// Paired booths that could relay now.
    pub relay_candidates: Vec<RelayPeer>,
    pub hub: Option<String>,
    pub booth: Option<String>,
    pub probe_rtt_ms: Option<f64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_heartbeat: Option<Timestamp>,
    pub last_probe_error: Option<String>,
    pub mode_changes: u64,
    pub queue_depth: i64,
    pub quarantined: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_unsynced: Option<Timestamp>,
    pub oldest_unsynced_seconds: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync: Option<Timestamp>,
    pub last_sync_error: Option<String>,
    pub delivered: u64,
    pub runway: Runway,
    pub approvals: Vec<Pending>,
}

#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    #[error("no booth {0} is paired and reachable")]
    UnknownPeer(String),
    #[error("no order waits for approval under quote {0}")]
    NoSuchApproval(String),
    #[error(transparent)]
    Orders(#[from] crate::orders::OrderError),
}

/// An order over an offline limit, not approved.
#[derive(Debug, thiserror::Error)]
#[error("The uplink is down and {reason}. Staff can approve it on the booth screen (Sync), then send it again.")]
pub struct NeedsApproval {
    pub reason: String,
}

impl Uplink {
    pub fn new(parts: Parts) -> Uplink {
        let Parts { manifest, clock, orders, peers, kiosks, printing, data_dir, meters } = parts;
        let now = clock.now();
        // The hub by the public roots; a relaying booth by its pinned CA.
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(peers.client_config())
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client with rustls builds");
        let mut inner = Inner {
            watch: LinkWatch::new(now),
            route: Route::Auto,
            mode: Mode::Local,
            relay: None,
            since: now,
            detail: String::new(),
            mode_changes: 0,
            relay_failed: HashMap::new(),
            last_sync: None,
            last_sync_error: None,
            delivered: 0,
            pending: Vec::new(),
            hub_clock: None,
            heartbeat_every: None,
        };
        let configured = manifest.current().manifest.uplink.hub().is_some();
        (inner.mode, inner.relay, inner.detail) = decide(&inner, configured, &[], now);
        Uplink {
            manifest,
            clock,
            orders,
            peers,
            kiosks,
            printing,
            meters,
            data_dir,
            http,
            inner: Mutex::new(inner),
            changed: Notify::new(),
            paced: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn mode(&self) -> Mode {
        self.lock().mode
    }

    pub fn route(&self) -> Route {
        self.lock().route.clone()
    }

    /// The way orders go now: the mode and, when relaying, the booth.
    pub fn way(&self) -> (Mode, Option<RelayPeer>) {
        let inner = self.lock();
        (inner.mode, inner.relay.clone())
    }

    pub fn health(&self) -> LinkHealth {
        self.lock().watch.health()
    }

    /// Since when the uplink has been down, while it is (for the runbooks' triggers).
    pub fn down_since(&self) -> Option<Timestamp> {
        let inner = self.lock();
        (inner.watch.health() == LinkHealth::Down).then(|| inner.watch.since())
    }

    /// Paired, reachable booths of this event whose own uplink is up.
    fn candidates(&self) -> Vec<RelayPeer> {
        let event = self.manifest.current().manifest.event.id.clone();
        let mut booths: Vec<_> = self
            .peers
            .fleet()
            .into_iter()
            .filter(|b| b.paired && b.reachable)
            .filter_map(|b| {
                let s = b.status.as_ref()?;
                (s.mode == Mode::Online.as_str() && s.event == event).then(|| {
                    (
                        b.rtt_ms.unwrap_or(f64::MAX),
                        RelayPeer {
                            id: s.id.clone(),
                            name: b.name.clone(),
                            url: b.url.parse().ok(),
                        },
                    )
                })
            })
            .collect();
        booths.sort_by(|a, b| a.0.total_cmp(&b.0));
        booths.into_iter().map(|(_, p)| p).collect()
    }

    /// Recomputes the mode from the watch, the route and the fleet; wakes the sync
    /// worker and resets every order's backoff when a way upstream opens.
    pub async fn refresh_mode(&self) {
        let now = self.clock.now();
        let configured = self.manifest.current().manifest.uplink.hub().is_some();
        let candidates = self.candidates();
        let opened = {
            let mut inner = self.lock();
            inner.relay_failed.retain(|_, until| *until > now);
            let usable: Vec<RelayPeer> = candidates
                .into_iter()
                .filter(|c| !inner.relay_failed.contains_key(&c.id))
                .collect();
            let (mode, relay, detail) = decide(&inner, configured, &usable, now);
            let changed = mode != inner.mode
                || relay.as_ref().map(|r| &r.id) != inner.relay.as_ref().map(|r| &r.id);
            inner.detail = detail;
            if !changed {
                return;
            }
            tracing::info!(from = inner.mode.as_str(), to = mode.as_str(), via = relay.as_ref().map(|r| r.id.as_str()), detail = %inner.detail, "uplink mode changed");
            inner.mode = mode;
            inner.relay = relay;
            inner.since = now;
            inner.mode_changes += 1;
            matches!(mode, Mode::Online | Mode::Relay)
        };
        if opened {
            if let Err(e) = self.orders.make_all_due().await {
                tracing::warn!(error = %e, "could not make the waiting orders due");
            }
        }
        self.changed.notify_one();
    }

    /// The operator's choice of way upstream.
    pub async fn set_route(&self, route: Route) -> Result<(), UplinkError> {
        if let Route::Peer { peer } = &route {
            if !self
                .peers
                .fleet()
                .iter()
                .any(|b| b.paired && b.id.as_deref() == Some(peer.as_str()))
            {
                return Err(UplinkError::UnknownPeer(peer.clone()));
            }
        }
        {
            let mut inner = self.lock();
            tracing::info!(?route, "uplink route set by the operator");
            inner.route = route;
            inner.relay_failed.clear();
        }
        self.refresh_mode().await;
        Ok(())
    }

    /// A failed delivery counts as a failed probe (direct), or benches the booth that
    /// failed to relay.
    pub async fn delivery_failed(&self, via: Option<&RelayPeer>, reason: &str) {
        let now = self.clock.now();
        {
            let mut inner = self.lock();
            inner.last_sync_error = Some(reason.to_owned());
            match via {
                Some(peer) => {
                    inner.relay_failed.insert(peer.id.clone(), now + RELAY_PENALTY);
                }
                None => {
                    let s = self.manifest.current().manifest.uplink.sync;
                    inner.watch.observe(Err(reason.to_owned()), s.down_after, s.up_after, now);
                }
            }
        }
        self.refresh_mode().await;
    }

    pub fn delivered(&self, n: usize) {
        let mut inner = self.lock();
        inner.last_sync = Some(self.clock.now());
        inner.last_sync_error = None;
        inner.delivered += n as u64;
    }

    pub fn sync_error(&self, reason: &str) {
        self.lock().last_sync_error = Some(reason.to_owned());
    }

    /// The degrade level's heartbeat pace (`None`: `[uplink] probe_every`). A first
    /// failure is still confirmed quickly, whatever the pace.
    pub fn set_heartbeat_every(&self, every: Option<Duration>) {
        let changed = std::mem::replace(&mut self.lock().heartbeat_every, every) != every;
        if changed {
            self.paced.notify_one();
        }
    }

    /// The hub's time minus this booth's (ms): measured on the hub's proven answers, or
    /// else through a paired booth that measured its own.
    pub fn hub_offset_ms(&self) -> Option<i64> {
        let epoch = self.clock.epoch();
        let own = self.lock().hub_clock.filter(|c| c.epoch == epoch).map(|c| c.offset_ms);
        own.or_else(|| self.peers.hub_offset_via_peers())
    }

    /// The hub's time minus this booth's (ms) as measured on the hub's own proven answers:
    /// what this booth tells its peers (an unproven figure is never passed on).
    pub fn proven_hub_offset_ms(&self) -> Option<i64> {
        let epoch = self.clock.epoch();
        self.lock().hub_clock.filter(|c| c.proven && c.epoch == epoch).map(|c| c.offset_ms)
    }

    /// Notes the time the hub stated on a refusal (`TIME_HEADER`) of a request sent at
    /// `sent`: unproven, but the next request is signed in it, so a booth whose clock is
    /// more than the hub's window off gets in on its next try.
    pub(crate) fn hub_refused(&self, res: &reqwest::Response, sent: Stamp) {
        // 401 is the hub's "not authenticated" (a clock past its window among the
        // reasons); 403 is a revoked booth, where the time is not the question.
        if res.status() != reqwest::StatusCode::UNAUTHORIZED {
            return;
        }
        let Some(theirs) = crate::peers::stated_time(res.headers()) else { return };
        let now = self.clock.stamp();
        if now.epoch != sent.epoch {
            return;
        }
        let measured = boothcloud_core::timekeeping::offset_ms(
            theirs,
            sent.at.as_millisecond(),
            now.at.as_millisecond(),
        );
        if let Some(offset_ms) = measured {
            let mut inner = self.lock();
            // A proven offset of this stretch of time that the hub still refused is the
            // one to doubt; one measured before a jump of trusted time is worthless.
            inner.hub_clock = Some(HubClock { offset_ms, proven: false, epoch: now.epoch });
        }
    }

    /// Now in the hub's time, Unix seconds: what this booth signs hub requests with, so
    /// a laptop clock minutes off still lands inside the hub's window.
    pub(crate) fn hub_seconds(&self) -> i64 {
        (self.clock.now_ms() + self.hub_offset_ms().unwrap_or(0)).div_euclid(1000)
    }

    /// One heartbeat: this booth's report, signed; up only if the hub answered 200.
    async fn heartbeat(&self) -> Option<Result<f64, String>> {
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        let (upstream, booth, credential) = m.uplink.hub()?;
        let counts = match self.orders.counts().await {
            Ok(c) => c,
            Err(e) => return Some(Err(format!("cannot read the order queue: {e}"))),
        };
        let now = self.clock.now();
        let report = BoothReport {
            event_id: m.event.id.clone(),
            name: m.node.name.clone(),
            mode: self.mode().as_str().to_owned(),
            queue_depth: counts.captured + counts.syncing,
            oldest_unsynced: counts.oldest_unsynced,
            quarantined: counts.quarantined,
            at: now,
            clock_offset_ms: self.hub_offset_ms().map(|o| -o),
            clock_in_doubt: self.clock.standing().in_doubt,
            clock_steps: self.clock.steps_seen() as i64,
            printers: self.printing.report(),
        };
        let body = serde_json::to_vec(&report).expect("reports serialize");
        let sig = HubSignature::sign(
            credential,
            "POST",
            HEARTBEAT_PATH,
            booth,
            self.hub_seconds(),
            &body,
        );
        let url = match upstream.join("hub/heartbeat") {
            Ok(u) => u,
            Err(e) => return Some(Err(format!("the hub address is not usable: {e}"))),
        };
        let started = Instant::now();
        let stamp = self.clock.stamp();
        let auth = sig.to_header();
        let asked = request_bytes(
            "POST",
            &url,
            &[(AUTH_HEADER, &auth), ("content-type", "application/json")],
            body.len(),
        );
        let sent = self
            .http
            .post(url)
            .header(AUTH_HEADER, auth)
            .header("content-type", "application/json")
            .body(body)
            .timeout(m.uplink.sync.probe_timeout.unsigned_abs())
            .send()
            .await;
        Some(match sent {
            Ok(res) if res.status().is_success() => {
                let rtt = started.elapsed();
                let head = answer_bytes(res.headers(), 0);
                let proof = res
                    .headers()
                    .get(PROOF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let answer = res.bytes().await.unwrap_or_default();
                self.meters.upstream(Purpose::Heartbeat, asked + head + answer.len() as u64);
                match proof.filter(|p| sig.answer_is_proven(credential, 200, &answer, p)) {
                    Some(_) => self.hub_time(&answer, stamp, rtt),
                    None => tracing::warn!(
                        "the hub's heartbeat answer carries no valid proof: its time is not used"
                    ),
                }
                Ok(rtt.as_secs_f64() * 1000.0)
            }
            Ok(res) if matches!(res.status().as_u16(), 401 | 403) => {
                // The hub says why: a wrong credential, a clock too far from the hub's, or
                // a booth its operator revoked.
                self.hub_refused(&res, stamp);
                let head = answer_bytes(res.headers(), 0);
                let answer = res.bytes().await.unwrap_or_default();
                self.meters.upstream(Purpose::Heartbeat, asked + head + answer.len() as u64);
                let why = serde_json::from_slice::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
                Err(format!(
                    "the hub refused this booth: {} (check [uplink] booth and credential, and this laptop's clock)",
                    why.unwrap_or_else(|| "not authenticated".into())
                ))
            }
            Ok(res) => {
                let bytes = answer_bytes(res.headers(), 0);
                self.meters.upstream(Purpose::Heartbeat, asked + bytes);
                Err(format!("the hub answered {}", res.status().as_u16()))
            }
            Err(e) if e.is_timeout() => Err("the hub did not answer in time".into()),
            Err(e) if e.is_connect() => Err("the hub cannot be reached".into()),
            Err(_) => Err("the connection to the hub broke".into()),
        })
    }

    /// The hub's proven time (its answer to a heartbeat sent at `sent`, after `rtt`):
    /// this booth's offset to the hub, and a second source for its clock.
    fn hub_time(&self, answer: &[u8], sent: Stamp, rtt: Duration) {
        let Ok(a) = serde_json::from_slice::<HeartbeatAnswer>(answer) else { return };
        let now = self.clock.stamp();
        if now.epoch != sent.epoch {
            return;
        }
        let half = jiff::SignedDuration::try_from(rtt / 2).unwrap_or_default();
        let sent_ms = sent.at.as_millisecond();
        let answered_ms = sent_ms.saturating_add(rtt.as_millis() as i64);
        // A hub more than a year off is not believed (and no arithmetic goes out of range).
        let Some(offset_ms) =
            boothcloud_core::timekeeping::offset_ms(a.now.as_millisecond(), sent_ms, answered_ms)
        else {
            return;
        };
        self.lock().hub_clock = Some(HubClock { offset_ms, proven: true, epoch: now.epoch });
        self.clock.witness("the hub", a.now + half, half);
    }

    /// Probes the hub until the node stops: every `probe_every`, and sooner to
    /// confirm a first failure.
    pub async fn keep_watching(self: Arc<Self>, mut stopping: tokio::sync::watch::Receiver<bool>) {
        loop {
            let s = self.manifest.current().manifest.uplink.sync;
            let mut delay = self.lock().heartbeat_every.unwrap_or(s.probe_every.unsigned_abs());
            if let Some(result) = self.heartbeat().await {
                let now = self.clock.now();
                let mut inner = self.lock();
                if let Some(h) = inner.watch.observe(result, s.down_after, s.up_after, now) {
                    tracing::info!(health = ?h, error = inner.watch.last_error.as_deref(), "uplink health changed");
                }
                if inner.watch.wavering() {
                    delay = delay.min(Duration::from_millis(100));
                }
            }
            self.refresh_mode().await;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                // A new pace (a degrade level) applies now, not after the old interval.
                () = self.paced.notified() => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    }

    /// Whether an order may be taken now; while offline, past a limit, only once the
    /// operator approved its quote.
    pub async fn admit(
        &self,
        quote_id: &str,
        total: i64,
        payment: &str,
    ) -> Result<(), NeedsApproval> {
        if self.mode() != Mode::Offline {
            return Ok(());
        }
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        if m.uplink.hub().is_none() || !m.offline.applies_to.iter().any(|p| p == payment) {
            return Ok(());
        }
        let now = self.clock.now();
        {
            let inner = self.lock();
            if inner
                .pending
                .iter()
                .any(|p| p.quote_id == quote_id && p.approved_until.is_some_and(|u| u > now))
            {
                return Ok(());
            }
        }
        let figures = match self.orders.offline_exposure(&m.offline.applies_to).await {
            Ok((exposure, oldest_unsynced)) => runway::OfflineFigures {
                exposure,
                oldest_unsynced,
                ..runway::OfflineFigures::default()
            },
            Err(e) => {
                // Cannot tell: sell (the order itself is stored safely either way).
                tracing::warn!(error = %e, "could not read the offline figures");
                return Ok(());
            }
        };
        let Some(reason) =
            runway::needs_approval(&m.offline, &figures, total, m.event.currency, now)
        else {
            return Ok(());
        };
        let mut inner = self.lock();
        inner.pending.retain(|p| p.quote_id != quote_id && p.asked_at + APPROVAL_LIFETIME > now);
        if inner.pending.len() >= MAX_PENDING {
            inner.pending.remove(0);
        }
        inner.pending.push(Pending {
            quote_id: quote_id.to_owned(),
            total,
            currency: m.event.currency.to_string(),
            reason: reason.clone(),
            asked_at: now,
            approved_until: None,
        });
        Err(NeedsApproval { reason })
    }

    /// The operator approves an order refused over a limit; the kiosk sends it again.
    pub fn approve(&self, quote_id: &str) -> Result<Pending, UplinkError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let p = inner
            .pending
            .iter_mut()
            .find(|p| p.quote_id == quote_id)
            .ok_or_else(|| UplinkError::NoSuchApproval(quote_id.to_owned()))?;
        p.approved_until = Some(now + APPROVAL_LIFETIME);
        tracing::info!(quote = quote_id, total = p.total, "offline order approved by the operator");
        Ok(p.clone())
    }

    /// Everything the dashboard shows about the link, the queue and the runway.
    pub async fn view(&self) -> Result<UplinkView, UplinkError> {
        let now = self.clock.now();
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        let counts = self.orders.counts().await?;
        let mut figures =
            self.orders.offline_figures(&m.offline.applies_to, now - runway::RATE_WINDOW).await?;
        figures.disk_free_bytes = free_bytes(&self.data_dir);
        // Orders kiosks took offline are the booth's too, only not delivered yet.
        let held = self.kiosks.waiting();
        figures.exposure = figures.exposure.saturating_add(held.total);
        let runway =
            runway::runway(&m.offline, &figures, m.event.expires_at, m.event.currency, now);
        let candidates = self.candidates();
        let inner = self.lock();
        Ok(UplinkView {
            mode: inner.mode,
            uplink: match (m.uplink.hub().is_some(), inner.watch.health()) {
                (false, _) | (true, LinkHealth::Checking) => "not_checked",
                (true, LinkHealth::Up) => "up",
                (true, LinkHealth::Down) => "down",
            },
            detail: inner.detail.clone(),
            since: inner.since,
            seconds_in_mode: now.duration_since(inner.since).as_secs().max(0),
            route: inner.route.clone(),
            relay_via: inner.relay.clone(),
            relay_candidates: candidates,
            hub: m.uplink.upstream.as_ref().map(|u| u.origin().ascii_serialization()),
            booth: m.uplink.booth.clone(),
            probe_rtt_ms: inner.watch.rtt_ms,
            last_heartbeat: inner.watch.last_ok,
            last_probe_error: inner.watch.last_error.clone(),
            mode_changes: inner.mode_changes,
            queue_depth: counts.captured + counts.syncing,
            quarantined: counts.quarantined,
            oldest_unsynced: counts.oldest_unsynced,
            oldest_unsynced_seconds: counts
                .oldest_unsynced
                .map(|t| now.duration_since(t).as_secs().max(0)),
            last_sync: inner.last_sync,
            last_sync_error: inner.last_sync_error.clone(),
            delivered: inner.delivered,
            runway,
            approvals: inner
                .pending
                .iter()
                .filter(|p| p.asked_at + APPROVAL_LIFETIME > now)
                .cloned()
                .collect(),
        })
    }
}

/// The mode, the relay booth and the reason, from the watch, the route and the booths
/// that could relay.
fn decide(
    inner: &Inner,
    configured: bool,
    candidates: &[RelayPeer],
    _now: Timestamp,
) -> (Mode, Option<RelayPeer>, String) {
    if !configured {
        return (
            Mode::Local,
            None,
            "No regional hub is set up in the manifest ([uplink] upstream, booth, credential): every order stays on this laptop.".into(),
        );
    }
    let health = inner.watch.health();
    let checking = match &inner.watch.last_error {
        Some(e) => format!("Checking the uplink… (last try: {e})"),
        None => "Checking the uplink…".into(),
    };
    let why_down = inner.watch.last_error.clone().unwrap_or_else(|| "no answer yet".into());
    let relay = |c: &RelayPeer, why: String| (Mode::Relay, Some(c.clone()), why);
    match &inner.route {
        Route::OfflineOnly => (Mode::Offline, None, "Offline only, as the operator chose: orders are kept here and sent nothing.".into()),
        Route::Peer { peer } => match candidates.iter().find(|c| &c.id == peer) {
            Some(c) => relay(c, format!("Relaying through {}, as the operator chose.", c.name)),
            None => (
                Mode::Offline,
                None,
                "The chosen booth cannot relay now (its uplink is down or it is not answering); orders are kept here.".into(),
            ),
        },
        Route::Regional | Route::Auto if health == LinkHealth::Up => {
            (Mode::Online, None, "Online: orders go straight to the regional hub.".into())
        }
        Route::Regional if health == LinkHealth::Checking => (Mode::Offline, None, checking),
        Route::Regional => (Mode::Offline, None, format!("The uplink is down ({why_down}); orders are kept here until it returns.")),
        Route::Auto => match (health, candidates.first()) {
            (LinkHealth::Checking, _) => (Mode::Offline, None, checking),
            (_, Some(c)) => relay(c, format!("The uplink is down ({why_down}); relaying through {}.", c.name)),
            (_, None) => (
                Mode::Offline,
                None,
                format!("The uplink is down ({why_down}) and no paired booth can relay; orders are kept here and sent when it returns."),
            ),
        },
    }
}

/// Free bytes on the file system holding `dir`.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    fs4::available_space(dir).ok()
}
