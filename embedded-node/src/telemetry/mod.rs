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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::clock::Clock;
use crate::spend::{Component, Meters};
pub use latency::{Figures, RouteLatency, Window};
pub use sessions::{Feature, SessionFigures, Sessions};

/// Routes tracked; the router has far fewer, this only guards against a bug.
pub const MAX_ROUTES: usize = 256;
/// The label of requests no route matched (404s and the like).
pub const UNMATCHED: &str = "(unmatched)";
/// Sampling is stored in parts per million.
const PPM: u32 = 1_000_000;

type Shared = Arc<Mutex<RouteLatency>>;
/// Route template → the methods seen on it, each with its latency.
type Routes = HashMap<Box<str>, Vec<(Method, Shared)>>;

/// Whether a route template is one the booth's customers (kiosks, phones, signage) use,
/// as opposed to the operator's own views: what the latency tile and chart show.
pub fn serves_customers(route: &str) -> bool {
    route.starts_with("/assets/")
        || (route.starts_with("/api/v1/") && !route.starts_with("/api/v1/ops/") && route != "/api/v1/openapi.json")
}

/// The registry. One per node, shared by handle.
pub struct Telemetry {
    clock: Arc<dyn Clock>,
    routes: RwLock<Routes>,
    sampling_ppm: AtomicU32,
    /// What costs money; every request is one edge execution.
    meters: Arc<Meters>,
    sessions: Sessions,
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
            clock,
            routes: RwLock::default(),
            sampling_ppm: AtomicU32::new(PPM / 10),
            meters: Arc::default(),
            sessions: Sessions::default(),
        }
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The usage meters the spend ledger prices.
    pub fn meters(&self) -> &Arc<Meters> {
        &self.meters
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now().as_millisecond()
    }

    fn route(&self, method: &Method, route: &str) -> Shared {
        if let Some(found) = self.routes.read().unwrap_or_else(|e| e.into_inner()).get(route).and_then(|ms| find(ms, method)) {
            return found;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let count: usize = routes.values().map(Vec::len).sum();
        let route = if count >= MAX_ROUTES && !routes.contains_key(route) { UNMATCHED } else { route };
        let methods = routes.entry(route.into()).or_default();
        if let Some(found) = find(methods, method) {
            return found;
        }
        let shared = Shared::default();
        methods.push((method.clone(), shared.clone()));
        shared
    }

    /// Records one request: `route` is its template, `us` the time to the response head.
    pub fn record(&self, method: &Method, route: &str, status: u16, us: u64) {
        let method = known_method(method);
        let now = self.now_ms();
        self.meters.add(Component::Edge, 1);
        self.route(&method, route).lock().unwrap_or_else(|e| e.into_inner()).record(now, us, status >= 500);
        if self.sampled() {
            tracing::debug!(%method, route, status, us, "request");
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
        ppm > 0 && tracing::enabled!(tracing::Level::DEBUG) && (ppm >= PPM || rand::random_range(0..PPM) < ppm)
    }

    /// Every route's figures, busiest (by requests in the last minute, then the event) first.
    pub fn routes(&self) -> Vec<RouteFigures> {
        let now = self.now_ms();
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<RouteFigures> = routes
            .iter()
            .flat_map(|(route, methods)| methods.iter().map(move |(m, r)| (route, m, r)))
            .map(|(route, method, r)| {
                let r = r.lock().unwrap_or_else(|e| e.into_inner());
                RouteFigures {
                    method: method.to_string(),
                    route: route.to_string(),
                    last_minute: r.figures(Window::LastMinute, now),
                    last_15_minutes: r.figures(Window::Last15Minutes, now),
                    event: r.figures(Window::Event, now),
                }
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

    /// Visits every route's latency (for the exposition), in a stable order.
    pub fn each_route(&self, mut visit: impl FnMut(&str, &str, &RouteLatency)) {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<(&str, &Method, &Shared)> =
            routes.iter().flat_map(|(route, ms)| ms.iter().map(move |(m, r)| (&**route, m, r))).collect();
        keys.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
        for (route, method, r) in keys {
            visit(route, method.as_str(), &r.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }
}

fn find(methods: &[(Method, Shared)], method: &Method) -> Option<Shared> {
    methods.iter().find(|(m, _)| m == method).map(|(_, r)| r.clone())
}

/// A client may send any method token; only the standard ones become labels.
fn known_method(m: &Method) -> Method {
    match *m {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS => m.clone(),
        _ => Method::from_bytes(b"OTHER").expect("a valid token"),
    }
}

/// The middleware: times each request to its response head and records it under the
/// route template the router matched.
pub async fn time_request(State(telemetry): State<Arc<Telemetry>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let template = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    if let (Some(feature), Some(ConnectInfo(peer))) = (Feature::of_route(template), req.extensions().get::<ConnectInfo<SocketAddr>>()) {
        let agent = req.headers().get(header::USER_AGENT).map_or(&b""[..], |v| v.as_bytes());
        telemetry.sessions.seen(peer.ip(), agent, feature, telemetry.now_ms());
    }
    let response = next.run(req).await;
    let us = started.elapsed().as_micros() as u64;
    telemetry.record(&method, template, response.status().as_u16(), us);
    response
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
    fn windows_follow_the_injected_clock() {
        let (t, clock) = telemetry();
        t.record(&Method::GET, "/healthz", 200, 1_000);
        clock.advance(jiff::SignedDuration::from_secs(120));
        let r = &t.routes()[0];
        assert_eq!((r.last_minute.requests, r.last_15_minutes.requests, r.event.requests), (0, 1, 1));
    }
}
