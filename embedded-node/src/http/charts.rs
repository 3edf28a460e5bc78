//! `GET /api/v1/ops/charts/{chart}` (operator): the booth's charts as SVG for the
//! dashboard or PNG for the post-event report; and the sampler that records a point of
//! history every ten seconds (and ends idle sessions).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Operator};
use super::AppState;
use crate::charts::render::{self, Axis, Size, SpendSeries, Theme};
use crate::charts::{ChartError, Point, RoutePoint, Span};
use crate::spend::{Component, MICRO};
use crate::telemetry::serves_customers;

/// Routes a latency point keeps.
const ROUTES_PER_POINT: usize = 5;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(chart))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    /// `hour` (default) or `event`.
    span: Option<Span>,
    /// `light` (default) or `dark`, as the dashboard.
    theme: Option<String>,
    /// Pixels, 320–2400 (default 960).
    width: Option<u32>,
    /// Pixels, 200–1600 (default 420).
    height: Option<u32>,
}

impl From<ChartError> for ApiError {
    fn from(e: ChartError) -> ApiError {
        ApiError::internal(e)
    }
}

/// One chart: `latency`, `hit-ratio`, `spend` or `transcodes`, each `.svg` or `.png`.
#[utoipa::path(get, path = "/api/v1/ops/charts/{chart}", tag = "operator", security(("operator" = [])),
    params(("chart" = String, Path, description = "e.g. `latency.svg`, `spend.png`"), ChartQuery),
    responses((status = 200, description = "image/svg+xml or image/png"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn chart(
    _: Operator,
    State(state): State<AppState>,
    Path(chart): Path<String>,
    ApiQuery(q): ApiQuery<ChartQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (name, format) = chart.rsplit_once('.').ok_or_else(|| ApiError::not_found("that chart"))?;
    if !matches!(format, "svg" | "png") || !matches!(name, "latency" | "hit-ratio" | "spend" | "transcodes") {
        return Err(ApiError::not_found("that chart"));
    }
    let theme = match q.theme.as_deref() {
        None | Some("light") => Theme::light(),
        Some("dark") => Theme::dark(),
        Some(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "theme must be light or dark")),
    };
    let (width, height) = (q.width.unwrap_or(960), q.height.unwrap_or(420));
    if !(320..=2400).contains(&width) || !(200..=1600).contains(&height) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "width must be 320–2400 and height 200–1600 pixels"));
    }
    let svg = draw(&state, name, q.span.unwrap_or_default(), &theme, Size { width, height })?;
    let cache = [(header::CACHE_CONTROL, "no-store")];
    if format == "svg" {
        return Ok((cache, [(header::CONTENT_TYPE, "image/svg+xml")], svg.into_bytes()).into_response());
    }
    let charts = state.charts.clone();
    let png = tokio::task::spawn_blocking(move || render::to_png(&svg, charts.fonts())).await.map_err(ApiError::internal)??;
    Ok((cache, [(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// One chart as SVG: `latency`, `hit-ratio`, `transcodes` or `spend` (anything else).
pub fn draw(state: &AppState, name: &str, span: Span, theme: &Theme, size: Size) -> Result<String, ChartError> {
    let now = state.clock.now();
    let current = state.manifest.current();
    let m = &current.manifest;
    let axis = Axis { tz: &m.event.timezone };
    // The recorded points, and one for this moment, so a chart is never behind the tiles.
    let mut points = state.charts.history.points(span, now.as_second());
    points.push(point(state));
    Ok(match name {
        "latency" => render::latency(&points, (m.telemetry.p95_target_ms, m.telemetry.p99_target_ms), &axis, theme, size)?,
        "hit-ratio" => render::hit_ratio(&points, &axis, theme, size)?,
        "transcodes" => render::transcodes(&points, &axis, theme, size)?,
        _ => {
            let (mut samples, latest) = state.spend.history(now, &m.costs);
            samples.push(latest);
            let since = if span == Span::Hour { now.as_second() - 3_600 } else { i64::MIN };
            let total = |s: &[i64; 4]| s.iter().sum::<i64>() as f64 / MICRO as f64;
            let samples: Vec<(i64, f64)> = samples.iter().filter(|(at, _)| *at >= since).map(|(at, s)| (*at, total(s))).collect();
            let view = state.spend.view(now, m);
            let projection = view.total.projected.map(|p| ((now.as_second(), total(&latest.1)), (m.event.ends_at.as_second(), p as f64)));
            let currency = m.event.currency.to_string();
            let series = SpendSeries {
                samples: &samples,
                budget: m.budgets.total.map(|b| b as f64),
                projection,
                currency: &currency,
                minor_per_major: 100.0,
            };
            render::spend(&series, &axis, theme, size)?
        }
    })
}

/// What the charts record now.
pub fn point(state: &AppState) -> Point {
    let now = state.clock.now();
    // The last minute alone (not every window of every route, which clones them all),
    // busiest first.
    let routes = state
        .telemetry
        .last_minute()
        .into_iter()
        .filter(|(_, route, m)| serves_customers(route) && m.requests > 0)
        .take(ROUTES_PER_POINT)
        .map(|(method, route, m)| RoutePoint {
            route: format!("{method} {route}"),
            p95_ms: m.p95_us as f64 / 1000.0,
            p99_ms: m.p99_us as f64 / 1000.0,
        })
        .collect();
    let spend = state.spend.view(now, &state.manifest.current().manifest);
    let transcode_ms = spend.components.iter().find(|c| c.component == Component::Transcode).map_or(0, |c| c.usage);
    Point {
        at: now.as_second(),
        routes,
        hit_ratio: state.assets.figures().view().hit_ratio_now,
        transcode_minutes: transcode_ms as f64 / 60_000.0,
        transcodes_running: spend.transcodes_running,
    }
}

/// Records a point every ten seconds until the node stops, and ends idle sessions.
pub async fn keep_history(state: AppState) {
    let mut ticks = crate::clock::Ticker::new(Duration::from_secs(10), state.stopping.clone());
    while ticks.next().await.is_some() {
        state.charts.history.record(point(&state));
        state.telemetry.sessions().sweep(state.telemetry.now_ms());
    }
}
