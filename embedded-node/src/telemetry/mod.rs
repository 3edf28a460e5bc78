//! The node's telemetry: what every HTTP route's latency is, aggregated at the edge.
//!
//! Owns the registry of routes (keyed by method and route *template*, never the raw
//! path, so no client-chosen text becomes a label), the sampling rate for per-request
//! detail (which the degrade control can lower), the sessions per feature, the
//! redaction applied to anything that leaves it, and the Prometheus exposition. The
//! HTTP edge times each request and hands the figure over (`Telemetry::record`).
//! Nothing here stores who a client is.

pub mod latency;
pub mod prometheus;
pub mod redact;
pub mod sessions;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::Method;
use boothcloud_core::clock::Clock;
use serde::Serialize;

pub use latency::{LatencyFigures, LatencyWindow, RouteLatency};
pub use sessions::{Feature, SessionFigures, Sessions};

/// Routes tracked; the router has far fewer, this only guards against a bug.
pub const MAX_ROUTES: usize = 256;
/// The label of requests no route matched (404s and the like).
pub const UNMATCHED: &str = "(unmatched)";
/// Sampling is stored in parts per million.
const PPM: u32 = 1_000_000;

/// Whether a route template is one the booth's customers (kiosks, phones, signage) use,
/// as opposed to the operator's own views: what the latency tile and chart show.
pub fn serves_customers(route: &str) -> bool {
    route.starts_with("/assets/")
        || (route.starts_with("/api/v1/")
            && !route.starts_with("/api/v1/ops/")
            && route != "/api/v1/openapi.json")
}

/// The registry. One per node, shared by handle.
pub struct Telemetry {
    clock: Arc<dyn Clock>,
    /// (route template, method) → its latency.
    routes: Mutex<BTreeMap<(String, String), RouteLatency>>,
    sampling_ppm: AtomicU32,
    sessions: Sessions,
}

/// One route's figures over every window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RouteFigures {
    pub method: String,
    /// The route template, e.g. `/api/v1/quotes` or `/assets/{*path}`.
    pub route: String,
    pub last_minute: LatencyFigures,
    pub last_15_minutes: LatencyFigures,
    pub event: LatencyFigures,
}

impl Telemetry {
    pub fn new(clock: Arc<dyn Clock>) -> Telemetry {
        Telemetry {
            clock,
            routes: Mutex::default(),
            sampling_ppm: AtomicU32::new(PPM / 10),
            sessions: Sessions::default(),
        }
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), RouteLatency>> {
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one request: `route` is its template, `us` the time to the response head.
    /// Past `MAX_ROUTES` templates, new ones count as `(unmatched)`.
    pub fn record(&self, method: &Method, route: &str, status: u16, us: u64) {
        let now_ms = self.now_ms();
        let method = known_method(method);
        {
            let mut routes = self.routes();
            let full = routes.len() >= MAX_ROUTES;
            let key = (route.to_owned(), method.to_owned());
            let key = if full && !routes.contains_key(&key) {
                (UNMATCHED.to_owned(), method.to_owned())
            } else {
                key
            };
            routes.entry(key).or_default().record(now_ms, us, status >= 500);
        }
        if self.sampled() {
            tracing::debug!(method, route, status, us, "request");
        }
    }

    /// A request from a client (its address and user agent, hashed at once) to `path`,
    /// counted in that client's session when the path is an interactive feature.
    pub fn client_seen(&self, addr: IpAddr, user_agent: &[u8], path: &str) {
        if let Some(feature) = Feature::of_path(path) {
            self.sessions.seen(addr, user_agent, feature, self.now_ms());
        }
    }

    /// The share of requests whose detail is logged (at debug level), 0.0–1.0.
    pub fn sampling(&self) -> f64 {
        f64::from(self.sampling_ppm.load(Ordering::Relaxed)) / f64::from(PPM)
    }

    pub fn set_sampling(&self, share: f64) {
        let ppm = (share.clamp(0.0, 1.0) * f64::from(PPM)).round() as u32;
        self.sampling_ppm.store(ppm, Ordering::Relaxed);
    }

    fn sampled(&self) -> bool {
        let ppm = self.sampling_ppm.load(Ordering::Relaxed);
        // The level check first: with debug logging off (the default) no random draw is made.
        ppm > 0
            && tracing::enabled!(tracing::Level::DEBUG)
            && (ppm >= PPM || rand::random_range(0..PPM) < ppm)
    }

    /// Every route's figures, busiest (by requests in the last minute, then the event) first.
    pub fn route_figures(&self) -> Vec<RouteFigures> {
        let now = self.now_ms();
        let mut out: Vec<RouteFigures> = self
            .routes()
            .iter()
            .map(|((route, method), r)| RouteFigures {
                method: method.clone(),
                route: route.clone(),
                last_minute: r.figures(LatencyWindow::LastMinute, now),
                last_15_minutes: r.figures(LatencyWindow::Last15Minutes, now),
                event: r.figures(LatencyWindow::Event, now),
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

    /// Every route's figures over the last minute only, as (method, route, figures),
    /// busiest first (then by route and method): what the controls' once-a-second look
    /// and a peer's status need.
    pub fn last_minute(&self) -> Vec<(String, String, LatencyFigures)> {
        let now = self.now_ms();
        let mut out: Vec<(String, String, LatencyFigures)> = self
            .routes()
            .iter()
            .map(|((route, method), r)| {
                (method.clone(), route.clone(), r.figures(LatencyWindow::LastMinute, now))
            })
            .collect();
        out.sort_by(|a, b| {
            b.2.requests.cmp(&a.2.requests).then_with(|| (&a.1, &a.0).cmp(&(&b.1, &b.0)))
        });
        out
    }

    /// Visits every route's latency (for the exposition), in (route, method) order.
    pub fn each_route(&self, mut visit: impl FnMut(&str, &str, &RouteLatency)) {
        for ((route, method), r) in self.routes().iter() {
            visit(route, method, r);
        }
    }
}

/// A client may send any method token; only the standard ones become labels.
fn known_method(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boothcloud_core::clock::ManualClock;

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
        let routes = t.route_figures();
        assert_eq!(routes.len(), 3);
        assert_eq!(
            (routes[0].method.as_str(), routes[0].route.as_str()),
            ("POST", "/api/v1/quotes")
        );
        assert_eq!((routes[0].event.requests, routes[0].event.errors), (2, 1));
    }

    #[test]
    fn odd_methods_and_too_many_routes_are_bounded() {
        let (t, _) = telemetry();
        t.record(&Method::from_bytes(b"BREW").unwrap(), "/x", 404, 1);
        assert_eq!(t.route_figures()[0].method, "OTHER");
        for i in 0..MAX_ROUTES + 50 {
            t.record(&Method::GET, &format!("/r{i}"), 200, 1);
        }
        let routes = t.route_figures();
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
    fn the_last_minute_alone_matches_what_every_window_gives() {
        let (t, clock) = telemetry();
        // Two threads on the same routes, errors, and a minute that has partly rolled over.
        std::thread::scope(|s| {
            for n in 0..2u64 {
                let t = &t;
                s.spawn(move || {
                    for i in 0..500u64 {
                        t.record(
                            &Method::GET,
                            "/assets/{*path}",
                            if i % 50 == 0 { 500 } else { 200 },
                            100 + i * (n + 1),
                        );
                        t.record(&Method::POST, "/api/v1/quotes", 200, 2_000 + i);
                    }
                });
            }
        });
        let both = |t: &Telemetry| {
            let mut minute = t.last_minute();
            let mut every: Vec<_> =
                t.route_figures().into_iter().map(|r| (r.method, r.route, r.last_minute)).collect();
            minute.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            every.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            assert_eq!(minute, every);
            minute
        };
        assert!(
            t.last_minute().windows(2).all(|w| w[0].2.requests >= w[1].2.requests),
            "busiest first"
        );
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
        let r = &t.route_figures()[0];
        assert_eq!(
            (r.last_minute.requests, r.last_15_minutes.requests, r.event.requests),
            (0, 1, 1)
        );
    }
}
