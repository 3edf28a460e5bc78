//! Enrolled kiosks over HTTP, for the lead: enroll one by name (its token shown once),
//! list them, revoke one (refused from that moment). Operator only; audited by name,
//! never with a token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::kiosks::{KioskError, KioskView};
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(list, enroll)).routes(routes!(revoke))
}

impl From<KioskError> for ApiError {
    fn from(e: KioskError) -> ApiError {
        let (status, code) = match &e {
            KioskError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            KioskError::Unknown => (StatusCode::NOT_FOUND, "not_found"),
            KioskError::TooMany => (StatusCode::CONFLICT, "too_many_kiosks"),
            KioskError::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKiosk {
    /// What the lead calls it ("Kiosk by the door").
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrolledKiosk {
    kiosk: KioskView,
    /// Sent by the kiosk as `X-Boothcloud-Kiosk` on each request. Shown only here.
    token: String,
}

/// The kiosks and tablets enrolled (never their tokens).
#[utoipa::path(get, path = "/api/v1/ops/kiosks", tag = "operator", operation_id = "kiosks_list", security(("operator" = [])),
    responses((status = 200, body = Vec<KioskView>), (status = 401, body = ErrorBody)))]
async fn list(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<Vec<KioskView>>, ApiError> {
    Ok(Json(state.kiosks.list().await?))
}

/// Enrolls a kiosk or tablet: its token, shown once. Audited (without the token).
#[utoipa::path(post, path = "/api/v1/ops/kiosks", tag = "operator", operation_id = "kiosks_enroll", security(("operator" = [])),
    request_body = NewKiosk,
    responses((status = 201, body = EnrolledKiosk), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn enroll(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<NewKiosk>,
) -> Result<(StatusCode, Json<EnrolledKiosk>), ApiError> {
    let done = state.kiosks.enroll(&req.name).await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state
        .audit
        .record(&op.who, "enroll kiosk", None, Some(req.name.trim().to_owned()), result)
        .await;
    let (kiosk, token) = done?;
    Ok((StatusCode::CREATED, Json(EnrolledKiosk { kiosk, token })))
}

/// Revokes a kiosk: its token is refused from this answer on. Audited.
#[utoipa::path(delete, path = "/api/v1/ops/kiosks/{id}", tag = "operator", operation_id = "kiosks_revoke", security(("operator" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke(
    op: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let done = state.kiosks.revoke(&id).await;
    let said = done.as_ref().cloned().unwrap_or_else(|_| id.clone());
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "revoke kiosk", Some(said), None, result).await;
    done?;
    Ok(StatusCode::NO_CONTENT)
}
