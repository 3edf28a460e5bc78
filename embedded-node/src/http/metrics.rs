//! `GET /metrics` (Prometheus text) and `GET /api/v1/ops/telemetry` (the same figures
//! as JSON, with percentiles per window), both behind the operator token: a scraper
//! sends it as `authorization: { credentials: ... }` in its scrape config.
//!
//! Owns which families the node exposes and their names; the writing is in
//! [`crate::telemetry::prometheus`].

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::Operator;
use super::AppState;
use crate::assets::figures::Totals;
use crate::telemetry::prometheus::{self, Exposition, Kind};
use crate::telemetry::RouteFigures;

/// A per-prefix cache counter: name, help, and how to read it from a prefix's totals.
type PerPrefix = (&'static str, &'static str, fn(&Totals) -> u64);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics)).routes(routes!(ops_telemetry))
}

#[utoipa::path(get, path = "/metrics", tag = "operator", security(("operator" = [])),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"), (status = 401, body = ErrorBody)))]
async fn metrics(_: Operator, State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let mut ex = Exposition::default();
    prometheus::write_latency(&mut ex, &state.telemetry);

    let totals = state.assets.figures().totals();
    ex.family("boothcloud_cache_requests_total", Kind::Counter, "Asset requests by route prefix and how they were served (X-Cache).");
    for (prefix, t) in &totals {
        for (outcome, n) in [("hit", t.hits), ("stale", t.stale), ("peer", t.peer), ("miss", t.misses)] {
            ex.sample("boothcloud_cache_requests_total", &[("prefix", prefix), ("outcome", outcome)], n);
        }
    }
    let per_prefix: [PerPrefix; 4] = [
        ("boothcloud_cache_revalidations_total", "Stored assets confirmed by the origin with a 304.", |t| t.revalidations),
        ("boothcloud_cache_served_bytes_total", "Body bytes sent to clients from the cache.", |t| t.bytes_from_cache),
        ("boothcloud_cache_origin_bytes_total", "Bytes fetched from the origin (egress), warm-up included.", |t| t.bytes_from_origin),
        ("boothcloud_cache_origin_errors_total", "Origin fetches that failed.", |t| t.origin_errors),
    ];
    for (name, help, value) in per_prefix {
        ex.family(name, Kind::Counter, help);
        for (prefix, t) in &totals {
            ex.sample(name, &[("prefix", prefix)], value(t));
        }
    }
    let usage = state.assets.store().usage();
    ex.family("boothcloud_cache_objects", Kind::Gauge, "Objects stored in the asset cache.");
    ex.sample("boothcloud_cache_objects", &[], usage.objects);
    ex.family("boothcloud_cache_stored_bytes", Kind::Gauge, "Bytes stored in the asset cache, by tier.");
    ex.sample("boothcloud_cache_stored_bytes", &[("tier", "memory")], usage.memory_bytes);
    ex.sample("boothcloud_cache_stored_bytes", &[("tier", "disk")], usage.disk_bytes);
    ex.family("boothcloud_cache_capacity_bytes", Kind::Gauge, "The asset cache's bounds, by tier.");
    ex.sample("boothcloud_cache_capacity_bytes", &[("tier", "memory")], usage.memory_limit);
    ex.sample("boothcloud_cache_capacity_bytes", &[("tier", "disk")], usage.disk_limit);

    let orders = state.orders.counts().await?;
    ex.family("boothcloud_orders", Kind::Gauge, "Orders in the queue, by state.");
    for (s, n) in
        [("captured", orders.captured), ("syncing", orders.syncing), ("synced", orders.synced), ("quarantined", orders.quarantined)]
    {
        ex.sample("boothcloud_orders", &[("state", s)], n);
    }
    ex.family("boothcloud_revenue_minor_units", Kind::Gauge, "Sum of every order's total, in minor units of the event's currency.");
    let currency = state.manifest.current().manifest.event.currency.to_string();
    ex.sample("boothcloud_revenue_minor_units", &[("currency", &currency)], orders.revenue);

    ex.family("boothcloud_telemetry_sampling_ratio", Kind::Gauge, "Share of requests whose detail is logged.");
    ex.sample("boothcloud_telemetry_sampling_ratio", &[], state.telemetry.sampling());
    ex.family("boothcloud_uptime_seconds", Kind::Gauge, "Seconds since this node started.");
    let up = state.clock.now().duration_since(state.started_at).as_secs_f64().max(0.0);
    ex.sample("boothcloud_uptime_seconds", &[], up);

    Ok(([(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)], ex.finish()))
}

/// Latency per route, busiest first, and the sampling rate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TelemetryView {
    /// Share of requests whose detail is logged (0–1).
    sampling: f64,
    routes: Vec<RouteFigures>,
}

#[utoipa::path(get, path = "/api/v1/ops/telemetry", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = TelemetryView), (status = 401, body = ErrorBody)))]
async fn ops_telemetry(_: Operator, State(state): State<AppState>) -> Json<TelemetryView> {
    Json(TelemetryView { sampling: state.telemetry.sampling(), routes: state.telemetry.routes() })
}
