//! The controls over HTTP: the degrade level, pausing media forwarding, and the
//! runbooks (list, dry run, run). Failover is in `uplink` with the rest of the link.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::controls::{ControlError, ControlsView, RunReport};
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(view))
        .routes(routes!(degrade))
        .routes(routes!(forwarding))
        .routes(routes!(dry_run))
        .routes(routes!(run))
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> ApiError {
        match e {
            ControlError::UnknownLevel(..) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_level", e.to_string())
            }
            ControlError::UnknownRunbook(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_runbook", e.to_string())
            }
            ControlError::Uplink(e) => e.into(),
            ControlError::Db(e) => ApiError::internal(e),
            ControlError::Secrets(e) => ApiError::internal(e),
            ControlError::Teardown(e) => e.into(),
            ControlError::NoFallbackOrigin => {
                ApiError::new(StatusCode::CONFLICT, "no_fallback_origin", e.to_string())
            }
        }
    }
}

/// The level and its effects, every level, what is shed, the way upstream, the
/// runbooks (trigger, whether its condition holds, last run) and recent notices.
#[utoipa::path(get, path = "/api/v1/ops/controls", tag = "operator", operation_id = "controls_view", security(("operator" = [])),
    responses((status = 200, body = ControlsView), (status = 401, body = ErrorBody)))]
async fn view(_: Operator, State(state): State<Services>) -> Json<ControlsView> {
    Json(state.controls.view())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradeRequest {
    /// `normal`, or a level the manifest defines under `[[degrade]]`.
    level: String,
}

/// Moves the booth to a degrade level, at once; `normal` undoes it. Quotes, orders and
/// the cached storefront are never shed.
#[utoipa::path(post, path = "/api/v1/ops/degrade", tag = "operator", security(("operator" = [])), request_body = DegradeRequest,
    responses((status = 200, body = ControlsView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn degrade(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<DegradeRequest>,
) -> Result<Json<ControlsView>, ApiError> {
    state.controls.degrade(&req.level, &op.who).await?;
    Ok(Json(state.controls.view()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forwarding {
    paused: bool,
}

/// Pauses or resumes sending uploads and clips upstream (they wait, durably, meanwhile).
/// A degrade level that pauses forwarding keeps it paused whatever this says.
#[utoipa::path(put, path = "/api/v1/ops/media/forwarding", tag = "operator", security(("operator" = [])), request_body = Forwarding,
    responses((status = 200, body = ControlsView), (status = 401, body = ErrorBody)))]
async fn forwarding(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<Forwarding>,
) -> Result<Json<ControlsView>, ApiError> {
    state.controls.pause_uploads(req.paused, &op.who).await?;
    Ok(Json(state.controls.view()))
}

/// What a runbook would do, step by step (before → after), changing nothing.
#[utoipa::path(post, path = "/api/v1/ops/runbooks/{name}/dry-run", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = RunReport), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dry_run(
    _: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<Json<RunReport>, ApiError> {
    Ok(Json(state.controls.run(&name, None, true).await?))
}

/// Runs a runbook now, whatever its trigger; every step is in the audit log.
#[utoipa::path(post, path = "/api/v1/ops/runbooks/{name}/run", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = RunReport), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn run(
    op: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<Json<RunReport>, ApiError> {
    Ok(Json(state.controls.run(&name, Some(&op.who), false).await?))
}
