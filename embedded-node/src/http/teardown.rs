//! Teardown over HTTP: start or continue it (`POST`, confirmed, with the folder for
//! what cannot be sent upstream), follow its progress (`GET`), cancel an automatic
//! start's countdown, and reopen a booth the manifest's end time closed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::services::Services;
use crate::teardown::{TeardownError, TeardownView};

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(progress, start))
        .routes(routes!(cancel_countdown))
        .routes(routes!(reopen))
}

impl From<TeardownError> for ApiError {
    fn from(e: TeardownError) -> ApiError {
        match e {
            TeardownError::BadExportDir
            | TeardownError::ExportInsideData
            | TeardownError::ExportDirUnusable(..) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_export_dir", e.to_string())
            }
            TeardownError::NoCountdown
            | TeardownError::NotClosed
            | TeardownError::StartedByLead
            | TeardownError::Wiped => ApiError::new(StatusCode::CONFLICT, "not_now", e.to_string()),
            TeardownError::StepRunning(_) => {
                ApiError::new(StatusCode::CONFLICT, "step_running", e.to_string())
            }
            TeardownError::Db(e) => ApiError::internal(e),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeardownRequest {
    /// Must be `true`: teardown cannot be undone.
    confirm: bool,
    /// An absolute folder (created if missing, outside the data folder) for orders and
    /// media the upstream does not have, and for the report. Needed only when something
    /// cannot be sent upstream; teardown stops and says so otherwise.
    export_dir: Option<String>,
}

/// Where teardown stands: every step with its state and what it did, whether the booth
/// is closed, the orders a wipe would lose, the report's folder.
#[utoipa::path(get, path = "/api/v1/ops/teardown", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = TeardownView), (status = 401, body = ErrorBody)))]
async fn progress(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<TeardownView>, ApiError> {
    Ok(Json(state.teardown.view().await?))
}

/// Starts teardown — or continues it after it stopped for a folder, or after a crash.
/// Answers at once (202) with the progress; the steps run behind it.
#[utoipa::path(post, path = "/api/v1/ops/teardown", tag = "operator", security(("operator" = [])), request_body = TeardownRequest,
    responses((status = 202, body = TeardownView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<TeardownRequest>,
) -> Result<(StatusCode, Json<TeardownView>), ApiError> {
    if !req.confirm {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirm_required",
            "teardown closes the booth and wipes it; send \"confirm\": true to go ahead",
        ));
    }
    let event = state.manifest.current().manifest.event.id.clone();
    let dir = match req.export_dir.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match state.teardown.check_export_dir(d) {
            Ok(p) => Some(p),
            Err(e) => {
                state
                    .audit
                    .record(
                        &op.who,
                        "teardown",
                        None,
                        Some(d.chars().take(200).collect()),
                        Err(e.to_string()),
                    )
                    .await;
                return Err(e.into());
            }
        },
    };
    let started = state.teardown.request(&event, &op.who, dir.as_deref()).await?;
    let what = if started { "started" } else { "continued" };
    let after = dir
        .as_ref()
        .map_or_else(|| what.to_owned(), |d| format!("{what}; export folder {}", d.display()));
    state.audit.record(&op.who, "teardown", None, Some(after), Ok(())).await;
    Ok((StatusCode::ACCEPTED, Json(state.teardown.view().await?)))
}

/// Cancels the countdown of an automatic teardown (staff hold the button): the booth
/// stays open and the end time does not start teardown again for this event. Audited.
#[utoipa::path(post, path = "/api/v1/ops/teardown/countdown/cancel", tag = "operator", operation_id = "cancel_teardown_countdown", security(("operator" = [])),
    responses((status = 200, body = TeardownView), (status = 401, body = ErrorBody),
        (status = 409, description = "no automatic teardown is counting down (`not_now`)", body = ErrorBody)))]
async fn cancel_countdown(
    op: Operator,
    State(state): State<Services>,
) -> Result<Json<TeardownView>, ApiError> {
    state.teardown.cancel_countdown(&op.who).await?;
    Ok(Json(state.teardown.view().await?))
}

/// Reopens a booth the manifest's end time closed, until the wipe has run. A teardown
/// the lead started stays closed. Audited.
#[utoipa::path(post, path = "/api/v1/ops/teardown/reopen", tag = "operator", operation_id = "reopen_booth", security(("operator" = [])),
    responses((status = 200, body = TeardownView), (status = 401, body = ErrorBody),
        (status = 409, description = "not closed, closed by the lead, already wiped (`not_now`), or a step is still running (`step_running`)", body = ErrorBody)))]
async fn reopen(
    op: Operator,
    State(state): State<Services>,
) -> Result<Json<TeardownView>, ApiError> {
    match state.teardown.reopen(&op.who).await {
        Ok(_) => Ok(Json(state.teardown.view().await?)),
        Err(e) => {
            state.audit.record(&op.who, "teardown reopened", None, None, Err(e.to_string())).await;
            Err(e.into())
        }
    }
}
