//! Timing every request at the edge: its latency goes to telemetry under the route
//! template the router matched (never the raw path), each answer counts as one edge
//! execution in spend's meters, and an interactive request counts in its client's
//! session (hashed there at once).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::services::Services;
use crate::spend::{Component, Meters};
use crate::telemetry::{Telemetry, UNMATCHED};

/// What timing writes to.
#[derive(Clone)]
pub struct Timing {
    telemetry: Arc<Telemetry>,
    meters: Arc<Meters>,
}

impl Timing {
    pub fn of(services: &Services) -> Timing {
        Timing { telemetry: services.telemetry.clone(), meters: services.meters.clone() }
    }
}

pub async fn time_request(State(timing): State<Timing>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |m| m.as_str().to_owned());
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        let agent = req.headers().get(header::USER_AGENT).map_or(&b""[..], |v| v.as_bytes());
        timing.telemetry.client_seen(peer.ip(), agent, req.uri().path());
    }
    let response = next.run(req).await;
    let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    timing.telemetry.record(&method, &route, response.status().as_u16(), us);
    timing.meters.add(Component::Edge, 1);
    response
}
