//! How long people use the booth's interactive features, without knowing who they are.
//!
//! A **session** is one client's run of requests to one feature (shopping: catalogue,
//! quotes and orders; browsing: assets) with no gap longer than [`IDLE_GAP_MS`]. A
//! client is told apart from others by a keyed hash of its address and user agent; the
//! key is random, made when the node starts and never stored, so the hash cannot be
//! reversed (not even by trying every IPv4 address) and sessions cannot be linked
//! across restarts. Neither the address nor the user agent is kept, only the 64-bit
//! hash, and only while the session is open.
//!
//! Owns: the open sessions (bounded by [`MAX_OPEN`]; past that, new clients are
//! counted as untracked rather than evicting anyone), and the durations and request
//! counts of finished sessions, per feature, in HDR histograms.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::Serialize;

/// A session ends after this long without a request.
pub const IDLE_GAP_MS: i64 = 5 * 60_000;
/// Open sessions tracked at once.
pub const MAX_OPEN: usize = 10_000;
/// The open sessions are split by client hash so that requests from different clients
/// rarely wait for one another; each part holds at most `MAX_OPEN / PARTS`.
const PARTS: usize = 16;
/// The longest duration recorded exactly (longer ones are recorded as this): a day.
const MAX_DURATION_MS: u64 = 24 * 3_600_000;

/// An interactive feature of the booth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Looking at the catalogue, quoting and ordering (kiosks, phones).
    Shopping,
    /// Loading the storefront's assets (phones, signage).
    Browsing,
}

impl Feature {
    const ALL: [Feature; 2] = [Feature::Shopping, Feature::Browsing];

    /// The feature a request path belongs to, if it is interactive. Read from the path
    /// before routing (where the connection's address is at hand), so it mirrors the
    /// router's templates: `/assets/{*path}`, the catalogue, quotes and orders.
    pub fn of_path(path: &str) -> Option<Feature> {
        if path.starts_with("/assets/") {
            Some(Feature::Browsing)
        } else if matches!(path, "/api/v1/catalogue" | "/api/v1/quotes" | "/api/v1/orders") || path.starts_with("/api/v1/orders/") {
            Some(Feature::Shopping)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Feature::Shopping => "shopping",
            Feature::Browsing => "browsing",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Open {
    started_ms: i64,
    last_ms: i64,
    requests: u64,
}

struct Finished {
    durations_ms: Histogram<u32>,
    requests: Histogram<u32>,
}

impl Finished {
    fn new() -> Finished {
        Finished {
            durations_ms: Histogram::new_with_bounds(1, MAX_DURATION_MS, 2).expect("valid bounds"),
            requests: Histogram::new_with_bounds(1, 1_000_000, 2).expect("valid bounds"),
        }
    }
}

/// The sessions of one node.
pub struct Sessions {
    keys: std::collections::hash_map::RandomState,
    parts: [Mutex<State>; PARTS],
}

struct State {
    /// Keyed by the client's keyed hash: hashed again only cheaply (see `FxHasher`).
    open: HashMap<(u64, Feature), Open, std::hash::BuildHasherDefault<super::shard::FxHasher>>,
    finished: [Finished; 2],
    untracked: u64,
}

/// One feature's sessions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq)]
pub struct SessionFigures {
    pub feature: Feature,
    /// Sessions with a request in the last five minutes.
    pub open: u64,
    /// Sessions that have ended since the node started.
    pub finished: u64,
    pub p50_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
    pub median_requests: Option<u64>,
    /// New clients not tracked because too many sessions were open.
    pub untracked: u64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            keys: std::collections::hash_map::RandomState::new(),
            parts: std::array::from_fn(|_| {
                Mutex::new(State { open: HashMap::default(), finished: [Finished::new(), Finished::new()], untracked: 0 })
            }),
        }
    }
}

fn index(f: Feature) -> usize {
    f as usize
}

impl State {
    fn finish(&mut self, feature: Feature, s: Open) {
        let f = &mut self.finished[index(feature)];
        let ms = (s.last_ms - s.started_ms).clamp(1, MAX_DURATION_MS as i64) as u64;
        let _ = f.durations_ms.record(ms);
        let _ = f.requests.record(s.requests.clamp(1, 1_000_000));
    }

    fn sweep(&mut self, now_ms: i64) {
        let ended: Vec<(u64, Feature)> = self.open.iter().filter(|(_, s)| now_ms - s.last_ms > IDLE_GAP_MS).map(|(k, _)| *k).collect();
        for key in ended {
            if let Some(s) = self.open.remove(&key) {
                self.finish(key.1, s);
            }
        }
    }
}

impl Sessions {
    /// The keyed hash a client is known by while its session is open.
    fn client(&self, addr: IpAddr, user_agent: &[u8]) -> u64 {
        let mut h = self.keys.build_hasher();
        addr.hash(&mut h);
        user_agent.hash(&mut h);
        h.finish()
    }

    fn part(&self, client: u64) -> std::sync::MutexGuard<'_, State> {
        self.parts[(client % PARTS as u64) as usize].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request from `addr` (with its `User-Agent`) to `feature` at `now_ms`.
    pub fn seen(&self, addr: IpAddr, user_agent: &[u8], feature: Feature, now_ms: i64) {
        self.seen_many(self.client(addr, user_agent), feature, now_ms, now_ms, 1);
    }

    /// `requests` requests from `client` to `feature`, the first at `first_ms` and the
    /// last at `last_ms`, all within the idle gap of each other.
    fn seen_many(&self, client: u64, feature: Feature, first_ms: i64, last_ms: i64, requests: u64) {
        let key = (client, feature);
        let mut st = self.part(key.0);
        if let Some(s) = st.open.get_mut(&key) {
            if first_ms - s.last_ms <= IDLE_GAP_MS {
                s.last_ms = s.last_ms.max(last_ms);
                s.requests += requests;
                return;
            }
            let ended = *s;
            st.open.remove(&key);
            st.finish(feature, ended);
        }
        if st.open.len() >= MAX_OPEN / PARTS {
            st.sweep(last_ms);
            if st.open.len() >= MAX_OPEN / PARTS {
                st.untracked += 1;
                return;
            }
        }
        st.open.insert(key, Open { started_ms: first_ms, last_ms, requests });
    }

    /// Ends the sessions idle for longer than the gap.
    pub fn sweep(&self, now_ms: i64) {
        for part in &self.parts {
            part.lock().unwrap_or_else(|e| e.into_inner()).sweep(now_ms);
        }
    }

    pub fn figures(&self, now_ms: i64) -> Vec<SessionFigures> {
        let mut open = [0u64; 2];
        let mut finished = [Finished::new(), Finished::new()];
        let mut untracked = 0;
        for part in &self.parts {
            let mut st = part.lock().unwrap_or_else(|e| e.into_inner());
            st.sweep(now_ms);
            for (_, feature) in st.open.keys() {
                open[index(*feature)] += 1;
            }
            for (all, f) in finished.iter_mut().zip(&st.finished) {
                let _ = all.durations_ms.add(&f.durations_ms);
                let _ = all.requests.add(&f.requests);
            }
            untracked += st.untracked;
        }
        Feature::ALL
            .into_iter()
            .map(|feature| {
                let f = &finished[index(feature)];
                let n = f.durations_ms.len();
                let q = |p: f64| (n > 0).then(|| f.durations_ms.value_at_quantile(p) as f64 / 1000.0);
                SessionFigures {
                    feature,
                    open: open[index(feature)],
                    finished: n,
                    p50_seconds: q(0.5),
                    p95_seconds: q(0.95),
                    median_requests: (n > 0).then(|| f.requests.value_at_quantile(0.5)),
                    untracked,
                }
            })
            .collect()
    }
}

/// How often a connection hands its requests over to the shared sessions: at most once
/// a second, and when it closes.
pub const HAND_OVER_MS: i64 = 1_000;

/// One keep-alive connection's side of the sessions. A connection keeps its client's
/// hash and counts its requests itself, handing them to the shared [`Sessions`] at most
/// once a second and when it closes: a busy connection neither hashes nor takes a
/// shared lock per request (both were most of what sessions cost a cache hit, and the
/// lock was shared by every connection from one client).
///
/// The `User-Agent` is read on the connection's first request and again whenever a
/// hand-over is due, not on every request (looking it up was a third of what counting a
/// request cost): if it has changed (a proxy carrying several clients), what the
/// connection counted goes to the client it had, and the new one starts there. So on
/// such a connection up to a second's requests may be put down to the client before.
pub struct Connection {
    addr: IpAddr,
    /// The `User-Agent` the hash was made with, and the hash.
    client: Option<(axum::http::HeaderValue, u64)>,
    pending: [Pending; 2],
}

/// Requests of one feature not yet handed over.
#[derive(Clone, Copy, Default)]
struct Pending {
    requests: u64,
    first_ms: i64,
    last_ms: i64,
    /// When requests were last handed over; `None` before the first.
    handed_ms: Option<i64>,
}

impl Connection {
    pub fn new(addr: IpAddr) -> Connection {
        Connection { addr, client: None, pending: [Pending::default(); 2] }
    }

    /// A request on this connection to `feature` at `now_ms`; `user_agent` reads its
    /// `User-Agent`, and is called only when the client is checked (see above).
    pub fn seen<'a>(
        &mut self,
        sessions: &Sessions,
        user_agent: impl FnOnce() -> Option<&'a axum::http::HeaderValue>,
        feature: Feature,
        now_ms: i64,
    ) {
        let due = self.pending[index(feature)].handed_ms.is_none_or(|h| now_ms - h >= HAND_OVER_MS);
        let client = match &self.client {
            Some((_, hash)) if !due => *hash,
            _ => self.check_client(sessions, user_agent()),
        };
        let p = &mut self.pending[index(feature)];
        // After an idle gap, what came before it is its own run.
        if p.requests > 0 && now_ms - p.last_ms > IDLE_GAP_MS {
            sessions.seen_many(client, feature, p.first_ms, p.last_ms, p.requests);
            p.requests = 0;
        }
        if p.requests == 0 {
            p.first_ms = now_ms;
        }
        p.requests += 1;
        p.last_ms = p.last_ms.max(now_ms);
        if due {
            sessions.seen_many(client, feature, p.first_ms, p.last_ms, p.requests);
            p.requests = 0;
            p.handed_ms = Some(now_ms);
        }
    }

    /// The client's hash for `user_agent`: the one kept while it is unchanged; for
    /// another (a proxy's next client), what the last one did is handed over first.
    fn check_client(&mut self, sessions: &Sessions, user_agent: Option<&axum::http::HeaderValue>) -> u64 {
        let agent = user_agent.map_or(&b""[..], |v| v.as_bytes());
        if let Some((known, hash)) = &self.client {
            if known.as_bytes() == agent {
                return *hash;
            }
        }
        self.hand_over(sessions);
        let hash = sessions.client(self.addr, agent);
        self.client = Some((user_agent.cloned().unwrap_or_else(|| axum::http::HeaderValue::from_static("")), hash));
        hash
    }

    /// Hands over every request not yet counted (the connection is closing, or its
    /// client changed).
    pub fn hand_over(&mut self, sessions: &Sessions) {
        let Some((_, client)) = self.client else { return };
        for feature in Feature::ALL {
            let p = &mut self.pending[index(feature)];
            if p.requests > 0 {
                sessions.seen_many(client, feature, p.first_ms, p.last_ms, p.requests);
                p.requests = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &[u8] = b"Mozilla/5.0 (Linux; Android 14) Mobile";
    const T0: i64 = 1_800_000_000_000;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 168, 1, last])
    }

    #[test]
    fn a_run_of_requests_is_one_session_and_an_idle_gap_ends_it() {
        let s = Sessions::default();
        // A phone shops for three minutes in six requests, then leaves.
        for i in 0..6 {
            s.seen(ip(7), UA, Feature::Shopping, i * 36_000);
        }
        // Another phone, same model, different address: its own session, 1 request.
        s.seen(ip(8), UA, Feature::Shopping, 10_000);
        let f = &s.figures(180_000)[0];
        assert_eq!((f.open, f.finished), (2, 0));
        // Five minutes and a second after their last requests, both have ended.
        let f = &s.figures(180_000 + IDLE_GAP_MS + 1_000)[0];
        assert_eq!((f.open, f.finished), (0, 2));
        // Three minutes, within the histogram's stated precision (two significant digits: 1%).
        let p95 = f.p95_seconds.unwrap();
        assert!((p95 - 180.0).abs() <= 1.8, "{p95}");
        assert_eq!(f.median_requests, Some(1));
        // The first phone comes back after the gap: a new session.
        s.seen(ip(7), UA, Feature::Shopping, 900_000);
        assert_eq!(s.figures(900_000)[0].open, 1);
    }

    #[test]
    fn features_and_user_agents_are_kept_apart() {
        let s = Sessions::default();
        s.seen(ip(7), UA, Feature::Shopping, 0);
        s.seen(ip(7), UA, Feature::Browsing, 0);
        s.seen(ip(7), b"kiosk/2.1", Feature::Shopping, 0);
        let f = s.figures(1);
        assert_eq!((f[0].feature, f[0].open), (Feature::Shopping, 2));
        assert_eq!((f[1].feature, f[1].open), (Feature::Browsing, 1));
    }

    #[test]
    fn the_number_of_open_sessions_is_bounded() {
        let s = Sessions::default();
        for i in 0..(MAX_OPEN as u32 + 5) {
            s.seen(IpAddr::from(i.to_be_bytes()), UA, Feature::Browsing, 0);
        }
        // Each part of the map is bounded, so a few are refused before the total is reached.
        let f = &s.figures(1)[1];
        assert!(f.open <= MAX_OPEN as u64 && f.untracked >= 5, "{f:?}");
        assert_eq!(f.open + f.untracked, MAX_OPEN as u64 + 5);
        // Once they go idle, there is room again.
        s.seen(ip(1), UA, Feature::Browsing, IDLE_GAP_MS + 10);
        assert_eq!(s.figures(IDLE_GAP_MS + 10)[1].open, 1);
    }

    #[test]
    fn a_connection_counts_every_request_and_hands_them_over_at_most_once_a_second() {
        let (batched, direct) = (Sessions::default(), Sessions::default());
        let ua = axum::http::HeaderValue::from_static("Mozilla/5.0 kiosk");
        let mut conn = Connection::new(ip(7));
        // 50 requests 100 ms apart, then a 6-minute pause, then 3 more.
        let mut times: Vec<i64> = (0..50).map(|i| T0 + i * 100).collect();
        times.extend([T0 + 4_900 + 360_000, T0 + 5_000 + 360_000, T0 + 5_100 + 360_000]);
        for &t in &times {
            conn.seen(&batched, || Some(&ua), Feature::Browsing, t);
            direct.seen(ip(7), ua.as_bytes(), Feature::Browsing, t);
        }
        // Before the connection closes, at most a second's requests are still its own.
        let open = |s: &Sessions| s.parts.iter().map(|p| p.lock().unwrap().open.values().map(|o| o.requests).sum::<u64>()).sum::<u64>();
        assert_eq!(open(&batched), 1, "the first request after the pause was handed over, the two after it not yet");
        conn.hand_over(&batched);
        assert_eq!(open(&batched), open(&direct));
        let end = T0 + 5_100 + 360_000 + IDLE_GAP_MS + 1;
        assert_eq!(batched.figures(end), direct.figures(end), "the same sessions, durations and counts");
        let browsing = &batched.figures(end)[1];
        assert_eq!((browsing.open, browsing.finished), (0, 2), "the pause ended the first session: {browsing:?}");
    }

    #[test]
    fn a_new_user_agent_on_a_connection_is_another_client() {
        let s = Sessions::default();
        let mut conn = Connection::new(ip(8));
        let (a, b) = (axum::http::HeaderValue::from_static("a"), axum::http::HeaderValue::from_static("b"));
        let reads = std::cell::Cell::new(0);
        let mut seen = |ua: Option<&axum::http::HeaderValue>, at: i64| {
            conn.seen(
                &s,
                || {
                    reads.set(reads.get() + 1);
                    ua
                },
                Feature::Shopping,
                at,
            )
        };
        // A proxy carrying three clients, each a second or more after the last.
        seen(Some(&a), T0);
        seen(Some(&a), T0 + 10);
        seen(Some(&b), T0 + 1_000);
        seen(None, T0 + 2_500);
        assert_eq!(reads.get(), 3, "the User-Agent is read when a hand-over is due, not on every request");
        // Within the second, a change is only seen at the next hand-over: the request
        // at +2_600 still counts for the client without a User-Agent.
        seen(Some(&a), T0 + 2_600);
        seen(Some(&a), T0 + 3_600);
        conn.hand_over(&s);
        let shopping = &s.figures(T0 + 3_600)[0];
        assert_eq!(shopping.open, 3, "a, b and no User-Agent are three clients: {shopping:?}");
        let requests = |s: &Sessions| s.parts.iter().map(|p| p.lock().unwrap().open.values().map(|o| o.requests).sum::<u64>()).sum::<u64>();
        assert_eq!(requests(&s), 6, "no request lost or counted twice");
    }

    #[test]
    fn paths_map_to_features() {
        assert_eq!(Feature::of_path("/api/v1/quotes"), Some(Feature::Shopping));
        assert_eq!(Feature::of_path("/api/v1/orders/0193e5d2-7c1a"), Some(Feature::Shopping));
        assert_eq!(Feature::of_path("/assets/img/tee.jpg"), Some(Feature::Browsing));
        assert_eq!(Feature::of_path("/api/v1/ops/orders"), None);
        assert_eq!(Feature::of_path("/metrics"), None);
    }
}
