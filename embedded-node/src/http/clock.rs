//! The booth's clock over HTTP: what time the booth keeps and why (`GET`), and the lead
//! settling a doubt (`POST .../confirm`: the laptop's clock is right, or the booth's).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::services::Services;
use crate::timekeeping::{self, ClockView, Trust};

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(view)).routes(routes!(confirm))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTime {
    /// `laptop`: the laptop's clock is right (the booth's time jumps to it); `booth`: the
    /// booth's time is right and the laptop's clock is off.
    trust: Trust,
}

/// The booth's time, the laptop's clock, whether the booth doubts it (in words), and
/// this event's steps of the laptop's clock.
#[utoipa::path(get, path = "/api/v1/ops/clock", tag = "operator", operation_id = "clock_view", security(("operator" = [])),
    responses((status = 200, body = ClockView), (status = 401, body = ErrorBody)))]
async fn view(_: Operator, State(state): State<Services>) -> Result<Json<ClockView>, ApiError> {
    let v = timekeeping::view(&state.booth_clock, &state.db, &state.manifest)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(v))
}

/// The lead settles the booth's doubt about the time; held automations may run again.
/// Audited.
#[utoipa::path(post, path = "/api/v1/ops/clock/confirm", tag = "operator", operation_id = "confirm_time", security(("operator" = [])),
    request_body = ConfirmTime,
    responses((status = 200, body = ClockView), (status = 401, body = ErrorBody)))]
async fn confirm(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<ConfirmTime>,
) -> Result<Json<ClockView>, ApiError> {
    let before = state.booth_clock.standing();
    state.booth_clock.confirm(req.trust);
    // Kept at once: a restart right after the lead's word must not doubt again.
    timekeeping::save(&state.booth_clock, &state.db).await.map_err(ApiError::internal)?;
    state
        .audit
        .record(
            &op.who,
            "confirm time",
            Some(format!("laptop {} / booth {}", before.wall, before.trusted)),
            Some(match req.trust {
                Trust::Laptop => "the laptop's clock is right".into(),
                Trust::Booth => "the booth's time is right; the laptop's clock is off".into(),
            }),
            Ok(()),
        )
        .await;
    let v = timekeeping::view(&state.booth_clock, &state.db, &state.manifest)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(v))
}
