//! Staff over HTTP: the lead adds people, resets their PINs and removes them
//! (`/api/v1/ops/staff…`, operator only); staff sign in on a device with their name and
//! PIN and get a session (`/api/v1/staff/session`). A staff session prices customer
//! tiers at the counter; it opens no operator route. Every change and every sign-in is
//! audited by name; PINs and tokens never are.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::audit::Who;
use crate::services::Services;
use crate::staff::{Member, StaffError, StaffView, IDLE};

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(reset_pin))
        .routes(routes!(remove))
        .routes(routes!(sign_in, sign_out))
        .routes(routes!(me))
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> ApiError {
        let (status, code) = match &e {
            StaffError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            StaffError::NameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
            StaffError::Unknown => (StatusCode::NOT_FOUND, "not_found"),
            StaffError::WrongPin => (StatusCode::UNAUTHORIZED, "wrong_pin"),
            StaffError::Locked { .. } => (StatusCode::TOO_MANY_REQUESTS, "staff_locked"),
            StaffError::TooMany => (StatusCode::CONFLICT, "too_many_staff"),
            StaffError::Hash(_) | StaffError::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The staff member signed in on the device that sent `headers`, if any.
pub fn member_of(state: &Services, headers: &HeaderMap) -> Option<Member> {
    state.staff.session(bearer(headers)?)
}

/// A request from a device a staff member is signed in on.
pub struct StaffSession {
    pub member: Member,
    token: String,
}

impl FromRequestParts<Services> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Services) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).unwrap_or_default().to_owned();
        match state.staff.session(&token) {
            Some(member) => Ok(StaffSession { member, token }),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "staff_session_needed",
                "sign in with your name and PIN first (your session may have ended after a while unused)",
            )),
        }
    }
}

fn staff_who(name: &str) -> Who {
    Who { actor: "staff", client: "device", why: format!("staff {name}").into() }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Shown at the counter and in the audit log ("Ana").
    name: String,
    /// 4 to 12 digits, told to the person, never shown again.
    pin: String,
}

/// Everyone on the staff (never their PINs), by name.
#[utoipa::path(get, path = "/api/v1/ops/staff", tag = "operator", operation_id = "staff_list", security(("operator" = [])),
    responses((status = 200, body = Vec<StaffView>), (status = 401, body = ErrorBody)))]
async fn list(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    Ok(Json(state.staff.list().await?))
}

/// Adds someone to the staff with a PIN. Audited (without the PIN).
#[utoipa::path(post, path = "/api/v1/ops/staff", tag = "operator", operation_id = "staff_add", security(("operator" = [])),
    request_body = NewStaff,
    responses((status = 201, body = StaffView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let added = state.staff.add(&req.name, &req.pin).await;
    let result = added.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "add staff", None, Some(req.name.trim().to_owned()), result).await;
    Ok((StatusCode::CREATED, Json(added?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPin {
    /// 4 to 12 digits.
    pin: String,
}

/// Gives someone a new PIN: a lockout ends, and so do their sessions. Audited.
#[utoipa::path(post, path = "/api/v1/ops/staff/{id}/pin", tag = "operator", operation_id = "staff_reset_pin", security(("operator" = [])),
    params(("id" = String, Path)), request_body = NewPin,
    responses((status = 200, body = StaffView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_pin(
    op: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewPin>,
) -> Result<Json<StaffView>, ApiError> {
    let done = state.staff.reset_pin(&id, &req.pin).await;
    let said = done.as_ref().map(|v| v.name.clone()).unwrap_or_else(|_| id.clone());
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "reset staff PIN", None, Some(said), result).await;
    Ok(Json(done?))
}

/// Removes someone from the staff: their sessions end at once. Audited.
#[utoipa::path(delete, path = "/api/v1/ops/staff/{id}", tag = "operator", operation_id = "staff_remove", security(("operator" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove(
    op: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let done = state.staff.remove(&id).await;
    let said = done.as_ref().cloned().unwrap_or_else(|_| id.clone());
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "remove staff", None, Some(said), result).await;
    done?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    name: String,
    pin: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// `Authorization: Bearer <token>` on this device's requests. Shown once.
    token: String,
    name: String,
    /// The session ends after this many minutes unused.
    idle_minutes: i64,
}

/// A staff member signs in on this device with their name and PIN. Too many wrong PINs
/// lock the person for a while (`429 staff_locked` with `Retry-After`). Audited.
#[utoipa::path(post, path = "/api/v1/staff/session", tag = "staff", request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, description = "the name and PIN do not match (`wrong_pin`)", body = ErrorBody),
              (status = 429, description = "locked after too many wrong PINs (`staff_locked`); see Retry-After", body = ErrorBody)))]
async fn sign_in(State(state): State<Services>, ApiJson(req): ApiJson<SignIn>) -> Response {
    let tried = state.staff.sign_in(&req.name, &req.pin).await;
    let typed: String = req.name.trim().chars().take(40).collect();
    let who = staff_who(&typed);
    let result = tried.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&who, "staff sign in", None, None, result).await;
    match tried {
        Ok((member, token)) => {
            Json(SignedIn { token, name: member.name, idle_minutes: IDLE.as_mins() })
                .into_response()
        }
        Err(e) => {
            let retry = match &e {
                StaffError::Locked { retry_after_s, .. } => Some(*retry_after_s),
                _ => None,
            };
            let mut res = ApiError::from(e).into_response();
            if let Some(s) = retry {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            res
        }
    }
}

/// Signs this device out.
#[utoipa::path(delete, path = "/api/v1/staff/session", tag = "staff", security(("staff" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn sign_out(session: StaffSession, State(state): State<Services>) -> StatusCode {
    state.staff.sign_out(&session.token);
    state
        .audit
        .record(&staff_who(&session.member.name), "staff sign out", None, None, Ok(()))
        .await;
    StatusCode::NO_CONTENT
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    name: String,
}

/// Who is signed in on this device.
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff", security(("staff" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(session: StaffSession) -> Json<Me> {
    Json(Me { name: session.member.name })
}
