//! `GET /api/v1/ops/charts/{chart}` (operator): the booth's charts as SVG for the
//! dashboard, or PNG.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Operator};
use crate::charts::render::{Size, Theme};
use crate::charts::{ChartError, Span, NAMES};
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(chart))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    State(state): State<Services>,
    Path(chart): Path<String>,
    ApiQuery(q): ApiQuery<ChartQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (name, format) = chart.rsplit_once('.').ok_or_else(|| ApiError::not_found("that chart"))?;
    if !matches!(format, "svg" | "png") || !NAMES.contains(&name) {
        return Err(ApiError::not_found("that chart"));
    }
    let theme = match q.theme.as_deref() {
        None | Some("light") => Theme::light(),
        Some("dark") => Theme::dark(),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "theme must be light or dark",
            ))
        }
    };
    let (width, height) = (q.width.unwrap_or(960), q.height.unwrap_or(420));
    if !(320..=2400).contains(&width) || !(200..=1600).contains(&height) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "width must be 320–2400 and height 200–1600 pixels",
        ));
    }
    let svg =
        state.charts.draw(name, q.span.unwrap_or_default(), &theme, Size { width, height })?;
    let cache = [(header::CACHE_CONTROL, "no-store")];
    if format == "svg" {
        return Ok(
            (cache, [(header::CONTENT_TYPE, "image/svg+xml")], svg.into_bytes()).into_response()
        );
    }
    let png = state.charts.to_png(svg).await?;
    Ok((cache, [(header::CONTENT_TYPE, "image/png")], png).into_response())
}
