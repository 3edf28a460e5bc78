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
use crate::assets::figures::Totals;
use crate::services::Services;
use crate::spend::MICRO;
use crate::telemetry::prometheus::{self, Exposition, MetricKind};
use crate::telemetry::{RouteFigures, SessionFigures};

/// A per-prefix cache counter: name, help, and how to read it from a prefix's totals.
type PerPrefix = (&'static str, &'static str, fn(&Totals) -> u64);

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(ops_telemetry))
}

/// The Prometheus scrape, apart: a degrade level may shed it.
pub fn scrape_routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(metrics))
}

#[utoipa::path(get, path = "/metrics", tag = "operator", security(("operator" = [])),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"), (status = 401, body = ErrorBody)))]
async fn metrics(
    _: Operator,
    State(state): State<Services>,
) -> Result<impl IntoResponse, ApiError> {
    let mut ex = Exposition::default();
    prometheus::write_latency(&mut ex, &state.telemetry);
    ex.family(
        "boothcloud_rate_limited_total",
        MetricKind::Counter,
        "Requests refused (429) because their client was over its rate limit, by route.",
    );
    for (route, n) in state.limits.refused() {
        ex.sample("boothcloud_rate_limited_total", &[("route", &route)], n);
    }

    let totals = state.assets.figures().totals();
    ex.family(
        "boothcloud_cache_requests_total",
        MetricKind::Counter,
        "Asset requests by route prefix and how they were served (X-Cache).",
    );
    for (prefix, t) in &totals {
        for (outcome, n) in
            [("hit", t.hits), ("stale", t.stale), ("peer", t.peer), ("miss", t.misses)]
        {
            ex.sample(
                "boothcloud_cache_requests_total",
                &[("prefix", prefix), ("outcome", outcome)],
                n,
            );
        }
    }
    let per_prefix: [PerPrefix; 4] = [
        (
            "boothcloud_cache_revalidations_total",
            "Stored assets confirmed by the origin with a 304.",
            |t| t.revalidations,
        ),
        (
            "boothcloud_cache_served_bytes_total",
            "Body bytes sent to clients from the cache.",
            |t| t.bytes_from_cache,
        ),
        (
            "boothcloud_cache_origin_bytes_total",
            "Bytes fetched from the origin (egress), warm-up included.",
            |t| t.bytes_from_origin,
        ),
        ("boothcloud_cache_origin_errors_total", "Origin fetches that failed.", |t| {
            t.origin_errors
        }),
    ];
    for (name, help, value) in per_prefix {
        ex.family(name, MetricKind::Counter, help);
        for (prefix, t) in &totals {
            ex.sample(name, &[("prefix", prefix)], value(t));
        }
    }
    let usage = state.assets.store().usage();
    ex.family("boothcloud_cache_objects", MetricKind::Gauge, "Objects stored in the asset cache.");
    ex.sample("boothcloud_cache_objects", &[], usage.objects);
    ex.family(
        "boothcloud_cache_stored_bytes",
        MetricKind::Gauge,
        "Bytes stored in the asset cache, by tier.",
    );
    ex.sample("boothcloud_cache_stored_bytes", &[("tier", "memory")], usage.memory_bytes);
    ex.sample("boothcloud_cache_stored_bytes", &[("tier", "disk")], usage.disk_bytes);
    ex.family(
        "boothcloud_cache_capacity_bytes",
        MetricKind::Gauge,
        "The asset cache's bounds, by tier.",
    );
    ex.sample("boothcloud_cache_capacity_bytes", &[("tier", "memory")], usage.memory_limit);
    ex.sample("boothcloud_cache_capacity_bytes", &[("tier", "disk")], usage.disk_limit);

    let orders = state.orders.counts().await?;
    ex.family("boothcloud_orders", MetricKind::Gauge, "Orders in the queue, by state.");
    for (s, n) in [
        ("captured", orders.captured),
        ("syncing", orders.syncing),
        ("synced", orders.synced),
        ("quarantined", orders.quarantined),
    ] {
        ex.sample("boothcloud_orders", &[("state", s)], n);
    }
    ex.family(
        "boothcloud_revenue_minor_units",
        MetricKind::Gauge,
        "Sum of every order's total, in minor units of the event's currency.",
    );
    let currency = state.manifest.current().manifest.event.currency.to_string();
    ex.sample("boothcloud_revenue_minor_units", &[("currency", &currency)], orders.revenue);

    write_spend(&mut ex, &state);

    let sessions = state.telemetry.sessions().figures(state.telemetry.now_ms());
    ex.family(
        "boothcloud_sessions_open",
        MetricKind::Gauge,
        "Sessions with a request in the last five minutes, by feature.",
    );
    for s in &sessions {
        ex.sample("boothcloud_sessions_open", &[("feature", s.feature.name())], s.open);
    }
    ex.family(
        "boothcloud_sessions_finished_total",
        MetricKind::Counter,
        "Sessions that ended (five idle minutes), by feature.",
    );
    for s in &sessions {
        ex.sample(
            "boothcloud_sessions_finished_total",
            &[("feature", s.feature.name())],
            s.finished,
        );
    }

    ex.family(
        "boothcloud_telemetry_sampling_ratio",
        MetricKind::Gauge,
        "Share of requests whose detail is logged.",
    );
    ex.sample("boothcloud_telemetry_sampling_ratio", &[], state.telemetry.sampling());
    ex.family("boothcloud_uptime_seconds", MetricKind::Gauge, "Seconds since this node started.");
    let up = state.clock.now().duration_since(state.started_at).as_secs_f64().max(0.0);
    ex.sample("boothcloud_uptime_seconds", &[], up);

    Ok(([(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)], ex.finish()))
}

/// Metered usage in base units, spend and budgets in minor units, transcodes now.
fn write_spend(ex: &mut Exposition, state: &Services) {
    let current = state.manifest.current();
    let view = state.spend.view(state.clock.now(), &current.manifest);
    let usage: [(&str, &str, f64); 4] = [
        (
            "boothcloud_edge_executions_total",
            "Requests the node answered, each an edge execution.",
            1.0,
        ),
        ("boothcloud_egress_bytes_total", "Bytes fetched from the origin or upstream.", 1.0),
        ("boothcloud_transcode_seconds_total", "Seconds of media transcoded.", 1e-3),
        ("boothcloud_upstream_calls_total", "Calls made to the origin or upstream.", 1.0),
    ];
    for (line, (name, help, scale)) in view.components.iter().zip(usage) {
        ex.family(name, MetricKind::Counter, help);
        ex.sample(name, &[], line.usage as f64 * scale);
    }
    let cur = view.currency.as_str();
    let spent = "boothcloud_spend_minor_units_total";
    ex.family(spent, MetricKind::Counter, "Spend for the event by component, in minor units of the event's currency (exact to 10^-6).");
    for c in &view.components {
        ex.sample(
            spent,
            &[("component", c.component.name()), ("currency", cur)],
            c.line.spent_micro as f64 / MICRO as f64,
        );
    }
    let budget = "boothcloud_budget_minor_units";
    ex.family(budget, MetricKind::Gauge, "Budgets from the manifest, by component and in total.");
    let budgets = view
        .components
        .iter()
        .map(|c| (c.component.name(), c.line.budget))
        .chain([("total", view.total.budget)]);
    for (name, b) in budgets.filter_map(|(n, b)| b.map(|b| (n, b))) {
        ex.sample(budget, &[("component", name), ("currency", cur)], b);
    }
    let projected = "boothcloud_spend_projected_minor_units";
    ex.family(
        projected,
        MetricKind::Gauge,
        "Spend at the event's end at the last 15 minutes' burn rate.",
    );
    let projections = view
        .components
        .iter()
        .map(|c| (c.component.name(), c.line.projected))
        .chain([("total", view.total.projected)]);
    for (name, p) in projections.filter_map(|(n, p)| p.map(|p| (n, p))) {
        ex.sample(projected, &[("component", name), ("currency", cur)], p);
    }
    ex.family("boothcloud_transcodes_running", MetricKind::Gauge, "Transcodes running now.");
    ex.sample("boothcloud_transcodes_running", &[], view.transcodes_running);
    ex.family(
        "boothcloud_transcodes_peak",
        MetricKind::Gauge,
        "The most transcodes at once since the node started.",
    );
    ex.sample("boothcloud_transcodes_peak", &[], view.transcodes_peak);
    ex.family(
        "boothcloud_transcode_wall_seconds_total",
        MetricKind::Counter,
        "Wall-clock seconds transcodes ran since the node started.",
    );
    ex.sample(
        "boothcloud_transcode_wall_seconds_total",
        &[],
        state.spend.meters().transcode_wall_ms() as f64 / 1e3,
    );
}

/// Latency per route, busiest first, and the sampling rate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TelemetryView {
    /// Share of requests whose detail is logged (0–1).
    sampling: f64,
    routes: Vec<RouteFigures>,
    /// Sessions per interactive feature.
    sessions: Vec<SessionFigures>,
    /// Requests refused because their client was over its rate limit, by route.
    rate_limited: Vec<RateLimited>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RateLimited {
    /// The route template, as in `routes`.
    route: String,
    refused: u64,
}

#[utoipa::path(get, path = "/api/v1/ops/telemetry", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = TelemetryView), (status = 401, body = ErrorBody)))]
async fn ops_telemetry(_: Operator, State(state): State<Services>) -> Json<TelemetryView> {
    let sessions = state.telemetry.sessions().figures(state.telemetry.now_ms());
    Json(TelemetryView {
        sampling: state.telemetry.sampling(),
        routes: state.telemetry.route_figures(),
        sessions,
        rate_limited: state
            .limits
            .refused()
            .into_iter()
            .map(|(route, refused)| RateLimited { route, refused })
            .collect(),
    })
}
