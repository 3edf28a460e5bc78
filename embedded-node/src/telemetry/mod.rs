//! The node's telemetry: what every HTTP route's latency is, aggregated at the edge.
//!
//! Owns the registry of routes (keyed by method and route *template*, never the raw
//! path, so no client-chosen text becomes a label), the middleware that times every
//! request, the sampling rate for per-request detail (which the degrade control can
//! lower), the redaction applied to anything that leaves it, and the Prometheus
//! exposition. Nothing here stores who a client is.

pub mod latency;
pub mod prometheus;
pub mod redact;
pub mod sessions;
pub mod shard;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use std::net::SocketAddr;

use axum::http::{header, Method};
use serde::Serialize;

use crate::clock::Clock;
use crate::spend::{Component, Meters};
pub use latency::{Figures, LastMinute, RouteLatency, Window};
pub use sessions::{Feature, SessionFigures, Sessions};

/// Routes tracked; the router has far fewer, this only guards against a bug.
pub const MAX_ROUTES: usize = 256;
/// The label of requests no route matched (404s and the like).
pub const UNMATCHED: &str = "(unmatched)";
/// Sampling is stored in parts per million.
const PPM: u32 = 1_000_000;

/// One route (template and method) as one shard sees it.
pub struct RouteSlot {
    method: Method,
    route: Box<str>,
    latency: Mutex<RouteLatency>,
    /// What recording needs besides the slot: reached through the slot, so a request
    /// holds one reference (its thread's slot) and bumps no counter shared by every core.
    recorder: Arc<Recorder>,
}

type Slot = Arc<RouteSlot>;
/// Route template → the methods seen on it, for one shard.
/// FxHash: route templates come from the node's own router, never from a client, so
/// the flooding resistance of SipHash is not needed, and SipHash was the largest single
/// cost of timing a request (measured with callgrind).
type Routes = HashMap<Box<str>, Vec<Slot>, BuildHasherDefault<shard::FxHasher>>;

/// The clock, the meters and the sampling rate: shared by every slot.
struct Recorder {
    clock: Arc<dyn Clock>,
    /// What costs money; every request is one edge execution.
    meters: Arc<Meters>,
    sampling_ppm: AtomicU32,
    /// What request latency is measured with: quanta reads the CPU's time-stamp counter
    /// where it is steady (calibrated against the OS clock once per process) and the
    /// OS's monotonic clock elsewhere. Two raw readings and a scaling are ~40
    /// instructions and ~23 ns here, where `std::time::Instant`'s pair (two
    /// `clock_gettime` calls) is ~130 instructions and ~59 ns: the largest single cost of
    /// timing a request.
    ticks: quanta::Clock,
}

/// Whether a route template is one the booth's customers (kiosks, phones, signage) use,
/// as opposed to the operator's own views: what the latency tile and chart show.
pub fn serves_customers(route: &str) -> bool {
    route.starts_with("/assets/")
        || (route.starts_with("/api/v1/") && !route.starts_with("/api/v1/ops/") && route != "/api/v1/openapi.json")
}

/// The registry. One per node, shared by handle.
pub struct Telemetry {
    /// One registry per shard: a worker thread only ever locks its own, so requests on
    /// different threads never wait for each other. Reads add the shards up.
    shards: [RwLock<Routes>; shard::SHARDS],
    recorder: Arc<Recorder>,
    sessions: Sessions,
    timing: bool,
}

/// One route's figures over every window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RouteFigures {
    pub method: String,
    /// The route template, e.g. `/api/v1/quotes` or `/assets/{*path}`.
    pub route: String,
    pub last_minute: Figures,
    pub last_15_minutes: Figures,
    pub event: Figures,
}

impl Telemetry {
    pub fn new(clock: Arc<dyn Clock>) -> Telemetry {
        Telemetry {
            shards: Default::default(),
            recorder: Arc::new(Recorder {
                clock,
                meters: Arc::default(),
                sampling_ppm: AtomicU32::new(PPM / 10),
                ticks: quanta::Clock::new(),
            }),
            sessions: Sessions::default(),
            timing: true,
        }
    }

    /// With `false`, requests are not timed (nor metered as edge executions): only for
    /// measuring what timing costs.
    pub fn timing(self, on: bool) -> Telemetry {
        Telemetry { timing: on, ..self }
    }

    pub fn is_timing(&self) -> bool {
        self.timing
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The usage meters the spend ledger prices.
    pub fn meters(&self) -> &Arc<Meters> {
        &self.recorder.meters
    }

    pub fn now_ms(&self) -> i64 {
        self.recorder.now_ms()
    }

    /// This thread's slot for a route, made on first use (bounded: past `MAX_ROUTES`
    /// per shard, new templates count as `(unmatched)`). The request path finds it
    /// through its route's [`RouteTiming`] instead, without the shard's lock or hash.
    fn find_slot(&self, method: &Method, route: &str) -> Slot {
        let method = known_method(method);
        let shard = &self.shards[shard::current()];
        if let Some(found) = shard.read().unwrap_or_else(|e| e.into_inner()).get(route).and_then(|ms| find(ms, &method)) {
            return found;
        }
        let mut routes = shard.write().unwrap_or_else(|e| e.into_inner());
        let count: usize = routes.values().map(Vec::len).sum();
        let route = if count >= MAX_ROUTES && !routes.contains_key(route) { UNMATCHED } else { route };
        let methods = routes.entry(route.into()).or_default();
        if let Some(found) = find(methods, &method) {
            return found;
        }
        let slot = Arc::new(RouteSlot { method, route: route.into(), latency: Mutex::default(), recorder: self.recorder.clone() });
        methods.push(slot.clone());
        slot
    }

    /// Records one request: `route` is its template, `us` the time to the response head.
    pub fn record(&self, method: &Method, route: &str, status: u16, us: u64) {
        self.find_slot(method, route).record(status, us);
    }

    /// Every route's latency, the shards added up, in (route, method) order.
    fn merged(&self) -> Vec<(String, String, RouteLatency)> {
        let mut all: std::collections::BTreeMap<(String, String), RouteLatency> = std::collections::BTreeMap::new();
        for shard in &self.shards {
            let routes = shard.read().unwrap_or_else(|e| e.into_inner());
            for slot in routes.values().flatten() {
                let latency = slot.latency.lock().unwrap_or_else(|e| e.into_inner());
                match all.entry((slot.route.to_string(), slot.method.to_string())) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(latency.clone());
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().absorb(&latency),
                }
            }
        }
        all.into_iter().map(|((route, method), l)| (route, method, l)).collect()
    }

    /// The share of requests whose detail is logged (at debug level), 0.0–1.0.
    pub fn sampling(&self) -> f64 {
        f64::from(self.recorder.sampling_ppm.load(Ordering::Relaxed)) / f64::from(PPM)
    }

    pub fn set_sampling(&self, share: f64) {
        let ppm = (share.clamp(0.0, 1.0) * f64::from(PPM)).round() as u32;
        self.recorder.sampling_ppm.store(ppm, Ordering::Relaxed);
    }

    /// Every route's figures, busiest (by requests in the last minute, then the event) first.
    pub fn routes(&self) -> Vec<RouteFigures> {
        let now = self.now_ms();
        let mut out: Vec<RouteFigures> = self
            .merged()
            .into_iter()
            .map(|(route, method, r)| RouteFigures {
                method,
                route,
                last_minute: r.figures(Window::LastMinute, now),
                last_15_minutes: r.figures(Window::Last15Minutes, now),
                event: r.figures(Window::Event, now),
            })
            .collect();
        out.sort_by(|a, b| {
            (b.last_minute.requests, b.event.requests, &a.route, &a.method).cmp(&(
                a.last_minute.requests,
                a.event.requests,
                &b.route,
                &b.method,
            ))
        });
        out
    }

    /// Every route's figures over the last minute only, as (method, route), busiest
    /// first (then by route and method): what the
    /// controls' once-a-second look and a peer's status need. Each slot's last minute is
    /// added up under its lock with nothing cloned; [`Telemetry::routes`] clones every
    /// record (22 histograms) to give all three windows, which at once a second took
    /// milliseconds of a core that the request workers were using.
    pub fn last_minute(&self) -> Vec<(String, String, Figures)> {
        let now = self.now_ms();
        let mut all: std::collections::BTreeMap<(&str, &str), LastMinute> = std::collections::BTreeMap::new();
        let shards: Vec<_> = self.shards.iter().map(|s| s.read().unwrap_or_else(|e| e.into_inner())).collect();
        for slot in shards.iter().flat_map(|routes| routes.values().flatten()) {
            let acc = all.entry((slot.method.as_str(), &slot.route)).or_default();
            slot.latency.lock().unwrap_or_else(|e| e.into_inner()).add_last_minute(now, acc);
        }
        let mut out: Vec<(String, String, Figures)> =
            all.into_iter().map(|((method, route), acc)| (method.to_owned(), route.to_owned(), acc.figures())).collect();
        out.sort_by(|a, b| b.2.requests.cmp(&a.2.requests).then_with(|| (&a.1, &a.0).cmp(&(&b.1, &b.0))));
        out
    }

    /// Visits every route's latency (for the exposition), in a stable order.
    pub fn each_route(&self, mut visit: impl FnMut(&str, &str, &RouteLatency)) {
        for (route, method, r) in self.merged() {
            visit(&route, &method, &r);
        }
    }
}

fn find(methods: &[Slot], method: &Method) -> Option<Slot> {
    methods.iter().find(|s| s.method == *method).cloned()
}
/// A client may send any method token; only the standard ones become labels.
fn known_method(m: &Method) -> Method {
    match *m {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS => m.clone(),
        _ => Method::from_bytes(b"OTHER").expect("a valid token"),
    }
}

/// What one route's guard (one route template and method, as the router lays them
/// out) keeps to time its requests: its slot on each shard, found on the shard's first
/// request. A request then reaches its slot with a thread-local read and a comparison,
/// with no lock, hash or shared counter (finding it through the registry each time was
/// a sixth of what timing a cache hit cost; a per-thread memo, still ~130 instructions).
/// Requests the slot does not fit (a `HEAD` on a `GET` route, a fallback) take the
/// registry's way.
pub struct RouteTiming {
    telemetry: Arc<Telemetry>,
    slots: [std::sync::OnceLock<Kept>; shard::SHARDS],
}

/// A shard's slot, and where the template it was found for lay (address, length): the
/// router hands every request the same template string, so the same address and length
/// mean the same template without comparing its bytes. That holds because the strings
/// a guard is given outlive it: `&'static` templates, and the router's own `MatchedPath`
/// strings, dropped only with the router that holds the guard. Any other address falls
/// back to comparing the bytes.
struct Kept {
    slot: Slot,
    template: (usize, usize),
}

fn place(s: &str) -> (usize, usize) {
    (s.as_ptr() as usize, s.len())
}

impl RouteTiming {
    pub fn new(telemetry: Arc<Telemetry>) -> RouteTiming {
        RouteTiming { telemetry, slots: Default::default() }
    }

    /// Starts timing a request to `route` (its template); [`Timer::finish`] records it.
    pub fn timer(&self, method: &Method, route: &str) -> Timer {
        let started = self.telemetry.recorder.ticks.raw();
        let kept = &self.slots[shard::current()];
        let slot = match kept.get() {
            Some(k) if k.slot.method == *method && (k.template == place(route) || *k.slot.route == *route) => k.slot.clone(),
            Some(_) => self.telemetry.find_slot(method, route),
            None => kept.get_or_init(|| Kept { slot: self.telemetry.find_slot(method, route), template: place(route) }).slot.clone(),
        };
        Timer { started, slot }
    }
}

/// A connection's sessions: each request is counted in its client's session when it is
/// part of an interactive feature, and what is still counted here is handed over when
/// the connection closes (when this is dropped). Kept by the accept loop's per-connection
/// service, which knows the connection's address and calls it once per request, in
/// turn: hence a `RefCell`, not a lock.
pub struct ConnectionSessions {
    telemetry: Arc<Telemetry>,
    connection: std::cell::RefCell<sessions::Connection>,
}

impl ConnectionSessions {
    pub fn new(telemetry: Arc<Telemetry>, peer: SocketAddr) -> ConnectionSessions {
        ConnectionSessions { telemetry, connection: std::cell::RefCell::new(sessions::Connection::new(peer.ip())) }
    }

    /// A request arrives on the connection.
    pub fn arrived<B>(&self, req: &axum::http::Request<B>) {
        if let Some(feature) = Feature::of_path(req.uri().path()) {
            let now_ms = self.telemetry.now_ms();
            self.connection.borrow_mut().seen(&self.telemetry.sessions, || req.headers().get(header::USER_AGENT), feature, now_ms);
        }
    }
}

impl Drop for ConnectionSessions {
    fn drop(&mut self) {
        self.connection.get_mut().hand_over(&self.telemetry.sessions);
    }
}

impl Recorder {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn sampled(&self) -> bool {
        let ppm = self.sampling_ppm.load(Ordering::Relaxed);
        // The level check first: with debug logging off (the default) no random draw is made.
        ppm > 0 && tracing::enabled!(tracing::Level::DEBUG) && (ppm >= PPM || rand::random_range(0..PPM) < ppm)
    }
}

impl RouteSlot {
    fn record(&self, status: u16, us: u64) {
        let r = &self.recorder;
        let now_ms = r.now_ms();
        r.meters.add(Component::Edge, 1);
        self.latency.lock().unwrap_or_else(|e| e.into_inner()).record(now_ms, us, status >= 500);
        if r.sampled() {
            tracing::debug!(method = %self.method, route = &*self.route, status, us, "request");
        }
    }
}

/// One request being timed, from the router's match to its response head. Holds only
/// its thread's slot for the route.
pub struct Timer {
    /// The recorder's `ticks` when the request was matched.
    started: u64,
    slot: Slot,
}

impl Timer {
    pub fn finish(self, status: u16) {
        let ticks = &self.slot.recorder.ticks;
        self.slot.record(status, ticks.delta_as_nanos(self.started, ticks.raw()) / 1_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn telemetry() -> (Telemetry, ManualClock) {
        let clock = ManualClock::new("2026-11-23T10:00:00Z".parse().unwrap());
        (Telemetry::new(Arc::new(clock.clone())), clock)
    }

    #[test]
    fn routes_are_kept_apart_by_method_and_template() {
        let (t, _) = telemetry();
        t.record(&Method::POST, "/api/v1/quotes", 200, 100);
        t.record(&Method::POST, "/api/v1/quotes", 500, 100);
        t.record(&Method::GET, "/api/v1/quotes", 405, 10);
        t.record(&Method::GET, "/assets/{*path}", 200, 10);
        let routes = t.routes();
        assert_eq!(routes.len(), 3);
        assert_eq!((routes[0].method.as_str(), routes[0].route.as_str()), ("POST", "/api/v1/quotes"));
        assert_eq!((routes[0].event.requests, routes[0].event.errors), (2, 1));
    }

    #[test]
    fn odd_methods_and_too_many_routes_are_bounded() {
        let (t, _) = telemetry();
        t.record(&Method::from_bytes(b"BREW").unwrap(), "/x", 404, 1);
        assert_eq!(t.routes()[0].method, "OTHER");
        for i in 0..MAX_ROUTES + 50 {
            t.record(&Method::GET, &format!("/r{i}"), 200, 1);
        }
        let routes = t.routes();
        assert!(routes.len() <= MAX_ROUTES + 1, "{}", routes.len());
        assert!(routes.iter().any(|r| r.route == UNMATCHED));
    }

    #[test]
    fn sampling_is_clamped() {
        let (t, _) = telemetry();
        t.set_sampling(3.0);
        assert_eq!(t.sampling(), 1.0);
        t.set_sampling(-1.0);
        assert_eq!(t.sampling(), 0.0);
        t.set_sampling(0.25);
        assert_eq!(t.sampling(), 0.25);
    }

    #[test]
    fn a_route_s_timing_keeps_its_slot_but_times_other_requests_where_they_belong() {
        let (t, _) = telemetry();
        let t = Arc::new(t);
        let timing = RouteTiming::new(t.clone());
        let owned = String::from("/api/v1/orders/{id}");
        // The first request fixes this shard's slot; the same template at another
        // address, a HEAD on the route and another template (a fallback) must each be
        // counted under their own method and template.
        for (method, route) in [
            (Method::GET, "/api/v1/orders/{id}"),
            (Method::GET, owned.as_str()),
            (Method::GET, "/api/v1/orders/{id}"),
            (Method::HEAD, "/api/v1/orders/{id}"),
            (Method::GET, UNMATCHED),
        ] {
            timing.timer(&method, route).finish(200);
        }
        let counts: Vec<(String, String, u64)> = t.routes().into_iter().map(|r| (r.method, r.route, r.event.requests)).collect();
        assert_eq!(
            counts,
            [
                ("GET".into(), "/api/v1/orders/{id}".into(), 3),
                ("GET".into(), UNMATCHED.into(), 1),
                ("HEAD".into(), "/api/v1/orders/{id}".into(), 1)
            ]
        );
    }

    #[test]
    fn the_last_minute_alone_matches_what_every_window_gives() {
        let (t, clock) = telemetry();
        // Two threads (two shards) on the same routes, an error, and a minute that has
        // partly rolled over.
        std::thread::scope(|s| {
            for n in 0..2u64 {
                let t = &t;
                s.spawn(move || {
                    for i in 0..500u64 {
                        t.record(&Method::GET, "/assets/{*path}", if i % 50 == 0 { 500 } else { 200 }, 100 + i * (n + 1));
                        t.record(&Method::POST, "/api/v1/quotes", 200, 2_000 + i);
                    }
                });
            }
        });
        let both = |t: &Telemetry| {
            let mut minute = t.last_minute();
            let mut every: Vec<_> = t.routes().into_iter().map(|r| (r.method, r.route, r.last_minute)).collect();
            minute.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            every.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            assert_eq!(minute, every);
            minute
        };
        assert!(t.last_minute().windows(2).all(|w| w[0].2.requests >= w[1].2.requests), "busiest first");
        let minute = both(&t);
        assert_eq!(minute.iter().map(|m| m.2.requests).sum::<u64>(), 2_000);
        assert_eq!(minute.iter().map(|m| m.2.errors).sum::<u64>(), 20);
        clock.advance(jiff::SignedDuration::from_secs(40));
        t.record(&Method::GET, "/assets/{*path}", 200, 9_000);
        clock.advance(jiff::SignedDuration::from_secs(30));
        // The first 2,000 have left the minute; the late request has not.
        let minute = both(&t);
        assert_eq!(minute.iter().map(|m| m.2.requests).sum::<u64>(), 1);
    }

    #[test]
    fn windows_follow_the_injected_clock() {
        let (t, clock) = telemetry();
        t.record(&Method::GET, "/healthz", 200, 1_000);
        clock.advance(jiff::SignedDuration::from_secs(120));
        let r = &t.routes()[0];
        assert_eq!((r.last_minute.requests, r.last_15_minutes.requests, r.event.requests), (0, 1, 1));
    }
}
