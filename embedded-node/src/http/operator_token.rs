//! Rotating the lead's token over HTTP: one call, the new token shown once, the old one
//! refused from that moment. Audited without the token.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::Operator;
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(rotate))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotatedToken {
    /// The new operator token. Shown only in this answer: keep it now.
    token: String,
    /// What changes, in words (e.g. that `BOOTHCLOUD_OPERATOR_TOKEN` sets the token again
    /// at the next start).
    note: String,
}

/// A new operator token, in force at once: the old one is refused from this answer on,
/// on every screen and script that used it. The token is kept in the OS keyring for the
/// next start.
#[utoipa::path(post, path = "/api/v1/ops/operator-token/rotate", tag = "operator", operation_id = "rotate_operator_token", security(("operator" = [])),
    responses((status = 200, body = RotatedToken), (status = 401, body = ErrorBody)))]
async fn rotate(
    op: Operator,
    State(state): State<Services>,
) -> Result<Json<RotatedToken>, ApiError> {
    let rotated = state.operator_token.rotate().await;
    let result = rotated.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "rotate operator token", None, None, result).await;
    let rotated = rotated.map_err(ApiError::internal)?;
    let mut note =
        "The old token is refused from now on; screens and scripts need the new one.".to_owned();
    if rotated.environment_wins_at_start {
        note.push_str(
            " BOOTHCLOUD_OPERATOR_TOKEN sets the token at each start: change it there too, or the old one returns at the next start.",
        );
    }
    Ok(Json(RotatedToken { token: rotated.token, note }))
}
