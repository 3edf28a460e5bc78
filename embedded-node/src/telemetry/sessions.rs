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

    /// The feature a request path belongs to, if it is interactive: `/assets/{*path}`,
    /// the catalogue, quotes and orders.
    pub fn of_path(path: &str) -> Option<Feature> {
        if path.starts_with("/assets/") {
            Some(Feature::Browsing)
        } else if matches!(path, "/api/v1/catalogue" | "/api/v1/quotes" | "/api/v1/orders")
            || path.starts_with("/api/v1/orders/")
        {
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
    state: Mutex<State>,
}

struct State {
    /// Keyed by the client's keyed hash.
    open: HashMap<(u64, Feature), Open>,
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
            state: Mutex::new(State {
                open: HashMap::default(),
                finished: [Finished::new(), Finished::new()],
                untracked: 0,
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
        let ended: Vec<(u64, Feature)> = self
            .open
            .iter()
            .filter(|(_, s)| now_ms - s.last_ms > IDLE_GAP_MS)
            .map(|(k, _)| *k)
            .collect();
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

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request from `addr` (with its `User-Agent`) to `feature` at `now_ms`.
    pub fn seen(&self, addr: IpAddr, user_agent: &[u8], feature: Feature, now_ms: i64) {
        let key = (self.client(addr, user_agent), feature);
        let mut st = self.state();
        if let Some(s) = st.open.get_mut(&key) {
            if now_ms - s.last_ms <= IDLE_GAP_MS {
                s.last_ms = s.last_ms.max(now_ms);
                s.requests += 1;
                return;
            }
            let ended = *s;
            st.open.remove(&key);
            st.finish(feature, ended);
        }
        if st.open.len() >= MAX_OPEN {
            st.sweep(now_ms);
            if st.open.len() >= MAX_OPEN {
                st.untracked += 1;
                return;
            }
        }
        st.open.insert(key, Open { started_ms: now_ms, last_ms: now_ms, requests: 1 });
    }

    /// Ends the sessions idle for longer than the gap.
    pub fn sweep(&self, now_ms: i64) {
        self.state().sweep(now_ms);
    }

    pub fn figures(&self, now_ms: i64) -> Vec<SessionFigures> {
        let mut st = self.state();
        st.sweep(now_ms);
        let mut open = [0u64; 2];
        for (_, feature) in st.open.keys() {
            open[index(*feature)] += 1;
        }
        let (finished, untracked) = (&st.finished, st.untracked);
        Feature::ALL
            .into_iter()
            .map(|feature| {
                let f = &finished[index(feature)];
                let n = f.durations_ms.len();
                let q =
                    |p: f64| (n > 0).then(|| f.durations_ms.value_at_quantile(p) as f64 / 1000.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &[u8] = b"Mozilla/5.0 (Linux; Android 14) Mobile";

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
        let f = &s.figures(1)[1];
        assert_eq!((f.open, f.untracked), (MAX_OPEN as u64, 5), "{f:?}");
        // Once they go idle, there is room again.
        s.seen(ip(1), UA, Feature::Browsing, IDLE_GAP_MS + 10);
        assert_eq!(s.figures(IDLE_GAP_MS + 10)[1].open, 1);
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
