//! Extractors that turn every malformed request into an `ApiError` instead of axum's
//! plain-text rejections: JSON bodies, query strings and the operator's bearer token.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::services::Services;

/// A JSON body, with JSON errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // A declared length over the limit is refused before a byte of the body is read
        // (and before hyper answers `Expect: 100-continue`), so a big upload is not sent for nothing.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > super::MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", clip(text))
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", clip(text))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        other => ApiError::new(other.status(), "bad_request", clip(other.body_text())),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
    )
}

/// serde's messages can quote what the client sent; keep them short.
fn clip(mut text: String) -> String {
    if text.len() > 300 {
        let cut = text.floor_char_boundary(300);
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A query string, with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", clip(e.body_text()))
            })
    }
}

/// Says which client sent an operator request, for the audit log: `app` (the desktop
/// window) or `dashboard` (the web dashboard); anything else is `api`.
pub const CLIENT_HEADER: &str = "x-boothcloud-client";

/// Proof that the request carries the operator token, and who to write in the audit log.
pub struct Operator {
    pub who: crate::audit::Who,
    /// The token's generation when it was checked ([`crate::operator_token::OperatorToken::generation`]).
    pub generation: u64,
}

impl FromRequestParts<Services> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Services) -> Result<Self, ApiError> {
        let generation = state.operator_token.generation();
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if state.operator_token.is(token) => {
                let client = match parts.headers.get(CLIENT_HEADER).and_then(|v| v.to_str().ok()) {
                    Some("app") => "app",
                    Some("dashboard") => "dashboard",
                    _ => "api",
                };
                Ok(Operator { who: crate::audit::Who::operator(client), generation })
            }
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this is an operator endpoint: send Authorization: Bearer <operator token>",
            )),
        }
    }
}
