//! Media over HTTP: the tus endpoint devices upload to (`/api/v1/uploads/`, with an
//! upload token), the operator's uploads, tokens and transcodes (`/api/v1/ops/…`), and
//! the finished clips (`/media/clips/<job>/<file>`, whose unguessable job id is the key,
//! so the screen wall and phones can play them; byte ranges for seeking).

use boothcloud_core::signing::upload::{self as upload_signing, UploadRequest, UploadSignature};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::options;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Operator};
use crate::controls::shed::ShedGate;
use crate::media::tokens::{IssueRequest, Issued, TokenView, UploadGrant, UploadTokenError};
use crate::media::transcode::{JobView, StartRequest, TranscodeError};
use crate::media::tus::{self, TusError};
use crate::media::uploads::{UploadError, UploadInfo, UploadView};
use crate::media::{MediaError, MediaSummary};
use crate::services::Services;
use boothcloud_core::manifest::Sheddable;

/// The tus endpoint: every answer carries `Tus-Resumable`, errors included (a shed
/// upload's `503` too, so a tus client reads it as "come back later").
pub fn tus_routes(gate: Arc<ShedGate>) -> Router<Services> {
    let routes = Router::new()
        .route("/api/v1/uploads", options(tus_options).post(tus_create))
        .route("/api/v1/uploads/", options(tus_options).post(tus_create))
        .route(
            "/api/v1/uploads/{id}",
            axum::routing::head(tus_head).patch(tus_patch).delete(tus_delete).options(tus_options),
        )
        .layer(axum::middleware::from_fn(prove_answers));
    // Shed inside the tus headers, so a paused upload's 503 still speaks tus.
    super::shed::gated_plain(routes, gate, Sheddable::Uploads)
        .layer(axum::middleware::map_response(|mut res: Response| async move {
            res.headers_mut().insert("tus-resumable", HeaderValue::from_static(tus::VERSION));
            if res.status() == StatusCode::PRECONDITION_FAILED {
                res.headers_mut().insert("tus-version", HeaderValue::from_static(tus::VERSION));
            }
            res
        }))
        .layer(axum::middleware::from_fn(tus_cors))
}

/// Filled by the `Uploader` extractor when a signed request checked out (its signature
/// and the token's key), read by [`prove_answers`] once the handler answered.
#[derive(Clone, Default)]
struct ProverSlot(Arc<std::sync::Mutex<Option<(UploadSignature, [u8; 32])>>>);

/// A signed tus request's answer carries the node's proof (`X-Boothcloud-Upload-Proof`)
/// over its status, `Upload-Offset` and `Location`, so a forwarding booth believes only
/// what this node said.
async fn prove_answers(mut req: Request, next: axum::middleware::Next) -> Response {
    if !req.headers().contains_key(upload_signing::SIGNATURE_HEADER) {
        return next.run(req).await;
    }
    let slot = ProverSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    let proven = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((sig, key)) = proven {
        let text = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
        let answer = upload_signing::UploadAnswer {
            status: res.status().as_u16(),
            offset: text("upload-offset"),
            location: text("location"),
        };
        let proof = sig.prove_answer(&key, &answer);
        if let Ok(v) = HeaderValue::from_str(&proof) {
            res.headers_mut().insert(upload_signing::PROOF_HEADER, v);
        }
    }
    res
}

/// Finished clips, as files.
pub fn clip_routes() -> Router<Services> {
    Router::new().route("/media/clips/{id}/{file}", axum::routing::get(clip_file))
}

/// CORS for the app window's uploads. A preflight is an OPTIONS with
/// `Access-Control-Request-Method`; a plain OPTIONS is tus asking what the node speaks.
async fn tus_cors(req: Request, next: axum::middleware::Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| super::APP_WINDOW_ORIGINS.iter().any(|a| o.as_bytes() == a.as_bytes()))
        .cloned();
    let preflight = req.method() == axum::http::Method::OPTIONS
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = match (&origin, preflight) {
        (Some(_), true) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, HEAD, PATCH, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, tus-resumable, upload-length, upload-offset, upload-metadata, upload-checksum",
                ),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            res
        }
        _ => next.run(req).await,
    };
    if let Some(origin) = origin {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("location, tus-resumable, tus-version, tus-extension, tus-max-size, upload-offset, upload-length, upload-expires, upload-metadata"),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    res
}

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(list_uploads))
        .routes(routes!(delete_upload))
        .routes(routes!(upload_file))
        .routes(routes!(list_transcodes, start_transcode))
        .routes(routes!(get_transcode))
        .routes(routes!(cancel_transcode))
        .routes(routes!(remove_output))
        .routes(routes!(media_summary))
        .routes(routes!(set_degraded))
        .routes(routes!(retry_forwards))
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> ApiError {
        let (status, code) = match &e {
            UploadError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            UploadError::Gone => (StatusCode::GONE, "upload_expired"),
            UploadError::OffsetMismatch { .. } => (StatusCode::CONFLICT, "offset_mismatch"),
            UploadError::ChecksumMismatch => {
                (StatusCode::from_u16(tus::CHECKSUM_MISMATCH).expect("460"), "checksum_mismatch")
            }
            UploadError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large"),
            UploadError::PastLength => (StatusCode::PAYLOAD_TOO_LARGE, "past_upload_length"),
            UploadError::QuotaFull { .. } => (StatusCode::INSUFFICIENT_STORAGE, "media_quota_full"),
            UploadError::TooManyOpen(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_open_uploads"),
            UploadError::Allowance(_) => (StatusCode::FORBIDDEN, "upload_allowance_used"),
            UploadError::Busy => (StatusCode::LOCKED, "upload_busy"),
            UploadError::Preempted => (StatusCode::CONFLICT, "upload_preempted"),
            UploadError::BodyCut(_) => (StatusCode::BAD_REQUEST, "body_cut"),
            UploadError::Io(_) | UploadError::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<TranscodeError> for ApiError {
    fn from(e: TranscodeError) -> ApiError {
        let (status, code) = match &e {
            TranscodeError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            TranscodeError::NoUpload(_) => (StatusCode::UNPROCESSABLE_ENTITY, "upload_not_ready"),
            TranscodeError::UnknownPreset(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_preset")
            }
            TranscodeError::BadTrim(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_trim"),
            TranscodeError::QueueFull(_) => (StatusCode::TOO_MANY_REQUESTS, "transcode_queue_full"),
            TranscodeError::Finished(_) => (StatusCode::CONFLICT, "job_finished"),
            TranscodeError::BudgetSpent => (StatusCode::CONFLICT, "transcode_budget_spent"),
            TranscodeError::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<UploadTokenError> for ApiError {
    fn from(e: UploadTokenError) -> ApiError {
        let (status, code) = match &e {
            UploadTokenError::Unknown => (StatusCode::UNAUTHORIZED, "upload_token_unknown"),
            UploadTokenError::Expired => (StatusCode::UNAUTHORIZED, "upload_token_expired"),
            UploadTokenError::Revoked => (StatusCode::UNAUTHORIZED, "upload_token_revoked"),
            UploadTokenError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            UploadTokenError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "too_many_upload_tokens"),
            UploadTokenError::Signature(_) | UploadTokenError::Replayed => {
                (StatusCode::UNAUTHORIZED, "upload_signature_refused")
            }
            UploadTokenError::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> ApiError {
        match e {
            MediaError::Uploads(e) => e.into(),
            MediaError::Transcodes(e) => e.into(),
        }
    }
}

impl From<TusError> for ApiError {
    fn from(e: TusError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_tus_header", e.to_string())
    }
}

/// A device with a valid upload token (or the operator).
pub struct Uploader(pub UploadGrant);

impl FromRequestParts<Services> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Services) -> Result<Self, ApiError> {
        if let Some(h) = header_text(&parts.headers, upload_signing::SIGNATURE_HEADER) {
            // A booth forwarding media: signed with the token this node issued it.
            let sig = UploadSignature::parse(h).map_err(UploadTokenError::from)?;
            let headers = &parts.headers;
            let req = UploadRequest {
                method: parts.method.as_str(),
                target: parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str()),
                length: header_text(headers, "upload-length"),
                offset: header_text(headers, "upload-offset"),
                metadata: header_text(headers, "upload-metadata"),
                checksum: header_text(headers, "upload-checksum"),
                content_type: header_text(headers, "content-type"),
                carries_bytes: headers.contains_key(header::TRANSFER_ENCODING)
                    || header_text(headers, "content-length").is_some_and(|n| n.trim() != "0")
                    || header_text(headers, "content-type") == Some(tus::OFFSET_STREAM),
            };
            let (grant, key) =
                state.media.tokens.check_signed(&sig, &req, state.clock.now()).await?;
            if let Some(slot) = parts.extensions.get::<ProverSlot>() {
                *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((sig, key));
            }
            return Ok(Uploader(grant));
        }
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = presented else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "uploads need Authorization: Bearer <upload token> (or a booth's X-Boothcloud-Upload-Signature); the operator issues tokens on the Media screen",
            ));
        };
        if state.operator_token.is(token) {
            return Ok(Uploader(UploadGrant::operator()));
        }
        Ok(Uploader(state.media.tokens.check(token, state.clock.now()).await?))
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// tus: every request but OPTIONS names the protocol version it speaks (412 otherwise,
/// with `Tus-Version`, added by the router's answer layer).
fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match header_text(headers, "tus-resumable") {
        Some(tus::VERSION) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_unsupported",
            format!(
                "this node speaks tus {}; the request said {}",
                tus::VERSION,
                other.unwrap_or("nothing (no Tus-Resumable header)")
            ),
        )),
    }
}

fn number(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, ApiError> {
    match header_text(headers, name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_tus_header",
                format!("{name} must be a non-negative whole number"),
            )
        }),
    }
}

fn checksum(headers: &HeaderMap) -> Result<Option<tus::Checksum>, ApiError> {
    header_text(headers, "upload-checksum").map(tus::parse_checksum).transpose().map_err(Into::into)
}

fn is_offset_stream(headers: &HeaderMap) -> bool {
    header_text(headers, "content-type").is_some_and(|t| {
        t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(tus::OFFSET_STREAM))
    })
}

fn set(res: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        res.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

fn with_progress(mut res: Response, info: &UploadInfo) -> Response {
    set(&mut res, "upload-offset", info.received);
    if let Some(e) = info.expires_at {
        set(&mut res, "upload-expires", tus::http_date(e));
    }
    res
}

/// tus protocol discovery: the version, extensions, checksum algorithms and largest upload.
#[utoipa::path(options, path = "/api/v1/uploads/", tag = "uploads",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Checksum-Algorithm`, `Tus-Max-Size`")))]
pub(super) async fn tus_options(State(state): State<Services>) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    set(&mut res, "tus-version", tus::VERSION);
    set(&mut res, "tus-extension", tus::EXTENSIONS);
    set(&mut res, "tus-checksum-algorithm", tus::CHECKSUM_ALGORITHMS);
    set(&mut res, "tus-max-size", state.manifest.current().manifest.media.max_upload_bytes);
    res
}

/// Creates an upload (tus `creation`, `creation-with-upload`, `creation-defer-length`,
/// `checksum`, `expiration`). Bytes are on disk before `Upload-Offset` says so.
#[utoipa::path(post, path = "/api/v1/uploads/", tag = "uploads", security(("upload" = [])),
    params(("Tus-Resumable" = String, Header), ("Upload-Length" = Option<u64>, Header), ("Upload-Metadata" = Option<String>, Header)),
    responses((status = 201, description = "created; `Location` names it, `Upload-Offset` says what is stored"),
        (status = 400, description = "a tus header is missing or malformed, or the body was cut", body = ErrorBody),
        (status = 401, description = "no upload token", body = ErrorBody),
        (status = 403, description = "the token's allowance is used up, or it was revoked", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "offset mismatch, or preempted by a newer request", body = ErrorBody),
        (status = 410, description = "the upload expired, or the booth has closed", body = ErrorBody),
        (status = 412, description = "Tus-Resumable is not 1.0.0", body = ErrorBody),
        (status = 413, description = "larger than the upload or the node accepts", body = ErrorBody),
        (status = 415, description = "PATCH without application/offset+octet-stream", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody),
        (status = 429, description = "too many unfinished uploads", body = ErrorBody),
        (status = 460, description = "the Upload-Checksum does not match", body = ErrorBody),
        (status = 503, description = "uploads are paused by the degrade level (`shed`)", body = ErrorBody),
        (status = 507, description = "the media quota is full", body = ErrorBody)))]
pub(super) async fn tus_create(
    State(state): State<Services>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, Response> {
    let (mut parts, body) = req.into_parts();
    let mut body = Some(body);
    let answer = match Uploader::from_request_parts(&mut parts, &state).await {
        Ok(Uploader(grant)) => create(&state, &grant, &headers, &mut body).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(res) => Ok(res),
        Err(e) => Err(refused(e, body).await),
    }
}

/// An error answer, after reading what the client is still sending (bounded; see
/// `uploads::drain`), so it gets the answer rather than a reset connection.
async fn refused(e: ApiError, body: Option<Body>) -> Response {
    if let Some(body) = body {
        crate::media::uploads::drain(body.into_data_stream()).await;
    }
    e.into_response()
}

async fn create(
    state: &Services,
    grant: &UploadGrant,
    headers: &HeaderMap,
    body: &mut Option<Body>,
) -> Result<Response, ApiError> {
    check_version(headers)?;
    if state.teardown.is_closed() {
        return Err(ApiError::booth_closed("uploads"));
    }
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "defer_length_unsupported",
            "send Upload-Length: this node needs the size up front",
        ));
    }
    let length = number(headers, "upload-length")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload_length_missing",
            "send Upload-Length with the file's size in bytes",
        )
    })?;
    let metadata = tus::parse_metadata(header_text(headers, "upload-metadata").unwrap_or(""))?;
    let limits = state.media.limits();
    let with_body = is_offset_stream(headers);
    let sum = if with_body { checksum(headers)? } else { None };
    let mut info = state.media.uploads.create(grant, length, &metadata, &limits).await?;
    if with_body && length > 0 {
        // creation-with-upload: what arrived whole is kept; anything else is left for a PATCH.
        match state.media.uploads.append(&info.id, grant, 0, sum, body, &limits).await {
            Ok(after) => info = after,
            Err(UploadError::PastLength) => return Err(UploadError::PastLength.into()),
            Err(e @ (UploadError::Io(_) | UploadError::Database(_))) => return Err(e.into()),
            Err(e) => tracing::debug!(error = %e, "the body sent with a creation was not kept"),
        }
    }
    if info.done {
        state.media.forwarder.nudge();
    }
    let mut res = StatusCode::CREATED.into_response();
    set(&mut res, "location", format!("/api/v1/uploads/{}", info.id));
    Ok(with_progress(res, &info))
}

/// Where an upload stands (`Upload-Offset`, `Upload-Length`), to resume it.
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads", security(("upload" = [])),
    params(("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Expires`"), (status = 400, description = "a tus header is missing or malformed, or the body was cut", body = ErrorBody),
        (status = 401, description = "no upload token", body = ErrorBody),
        (status = 403, description = "the token's allowance is used up, or it was revoked", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "offset mismatch, or preempted by a newer request", body = ErrorBody),
        (status = 410, description = "the upload expired, or the booth has closed", body = ErrorBody),
        (status = 412, description = "Tus-Resumable is not 1.0.0", body = ErrorBody),
        (status = 413, description = "larger than the upload or the node accepts", body = ErrorBody),
        (status = 415, description = "PATCH without application/offset+octet-stream", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody),
        (status = 429, description = "too many unfinished uploads", body = ErrorBody),
        (status = 460, description = "the Upload-Checksum does not match", body = ErrorBody),
        (status = 503, description = "uploads are paused by the degrade level (`shed`)", body = ErrorBody),
        (status = 507, description = "the media quota is full", body = ErrorBody)))]
pub(super) async fn tus_head(
    State(state): State<Services>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Uploader(grant): Uploader,
) -> Result<Response, Response> {
    check_version(&headers).map_err(IntoResponse::into_response)?;
    let info = state
        .media
        .uploads
        .info(&id, &grant)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let mut res = with_progress(StatusCode::OK.into_response(), &info);
    set(&mut res, "upload-length", info.length);
    if !info.metadata.is_empty() {
        set(&mut res, "upload-metadata", &info.metadata);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Appends bytes at `Upload-Offset`; answered once they are on disk.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads", security(("upload" = [])),
    params(("id" = String, Path), ("Tus-Resumable" = String, Header), ("Upload-Offset" = u64, Header), ("Upload-Checksum" = Option<String>, Header)),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "stored; `Upload-Offset` is the new offset"), (status = 400, description = "a tus header is missing or malformed, or the body was cut", body = ErrorBody),
        (status = 401, description = "no upload token", body = ErrorBody),
        (status = 403, description = "the token's allowance is used up, or it was revoked", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "offset mismatch, or preempted by a newer request", body = ErrorBody),
        (status = 410, description = "the upload expired, or the booth has closed", body = ErrorBody),
        (status = 412, description = "Tus-Resumable is not 1.0.0", body = ErrorBody),
        (status = 413, description = "larger than the upload or the node accepts", body = ErrorBody),
        (status = 415, description = "PATCH without application/offset+octet-stream", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody),
        (status = 429, description = "too many unfinished uploads", body = ErrorBody),
        (status = 460, description = "the Upload-Checksum does not match", body = ErrorBody),
        (status = 503, description = "uploads are paused by the degrade level (`shed`)", body = ErrorBody),
        (status = 507, description = "the media quota is full", body = ErrorBody)))]
pub(super) async fn tus_patch(
    State(state): State<Services>,
    Path(id): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, Response> {
    let (mut parts, body) = req.into_parts();
    let mut body = Some(body);
    let answer = match Uploader::from_request_parts(&mut parts, &state).await {
        Ok(Uploader(grant)) => patch(&state, &id, &grant, &headers, &mut body).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(res) => Ok(res),
        Err(e) => Err(refused(e, body).await),
    }
}

async fn patch(
    state: &Services,
    id: &str,
    grant: &UploadGrant,
    headers: &HeaderMap,
    body: &mut Option<Body>,
) -> Result<Response, ApiError> {
    check_version(headers)?;
    if !is_offset_stream(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("PATCH bodies are Content-Type: {}", tus::OFFSET_STREAM),
        ));
    }
    let offset = number(headers, "upload-offset")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload_offset_missing",
            "send Upload-Offset: the offset this body starts at",
        )
    })?;
    let sum = checksum(headers)?;
    let info =
        state.media.uploads.append(id, grant, offset, sum, body, &state.media.limits()).await?;
    if info.done {
        state.media.forwarder.nudge();
    }
    Ok(with_progress(StatusCode::NO_CONTENT.into_response(), &info))
}

/// Ends an upload and frees its bytes (tus `termination`).
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads", security(("upload" = [])),
    params(("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 204, description = "terminated"), (status = 400, description = "a tus header is missing or malformed, or the body was cut", body = ErrorBody),
        (status = 401, description = "no upload token", body = ErrorBody),
        (status = 403, description = "the token's allowance is used up, or it was revoked", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "offset mismatch, or preempted by a newer request", body = ErrorBody),
        (status = 410, description = "the upload expired, or the booth has closed", body = ErrorBody),
        (status = 412, description = "Tus-Resumable is not 1.0.0", body = ErrorBody),
        (status = 413, description = "larger than the upload or the node accepts", body = ErrorBody),
        (status = 415, description = "PATCH without application/offset+octet-stream", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody),
        (status = 429, description = "too many unfinished uploads", body = ErrorBody),
        (status = 460, description = "the Upload-Checksum does not match", body = ErrorBody),
        (status = 503, description = "uploads are paused by the degrade level (`shed`)", body = ErrorBody),
        (status = 507, description = "the media quota is full", body = ErrorBody)))]
pub(super) async fn tus_delete(
    State(state): State<Services>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Uploader(grant): Uploader,
) -> Result<Response, Response> {
    check_version(&headers).map_err(IntoResponse::into_response)?;
    state
        .media
        .uploads
        .terminate(&id, &grant)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A file from the disk, with byte ranges and a type from its name.
async fn send_file(path: std::path::PathBuf, req: Request) -> Response {
    match tower_http::services::ServeFile::new(path).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A finished clip (or poster), with byte ranges; the id is its key.
#[utoipa::path(get, path = "/media/clips/{id}/{file}", tag = "uploads",
    params(("id" = String, Path), ("file" = String, Path)),
    responses((status = 200, description = "video/mp4 or image/jpeg"), (status = 206, description = "a byte range"),
        (status = 404, body = ErrorBody), (status = 416, description = "the range is outside the file"),
        (status = 503, description = "clips are paused by the degrade level (`shed`)", body = ErrorBody)))]
pub(super) async fn clip_file(
    State(state): State<Services>,
    Path((id, file)): Path<(String, String)>,
    req: Request,
) -> Response {
    match state.media.transcoder.output(&id, &file).await {
        Some(path) => {
            let mut res = send_file(path, req).await;
            // The id is the key: caches may keep it, nobody else may list it.
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
            res
        }
        None => ApiError::not_found("this clip").into_response(),
    }
}

/// Issues an upload token for a device. The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/ops/upload-tokens", tag = "operator", security(("operator" = [])), request_body = IssueRequest,
    responses((status = 201, body = Issued), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn issue_token(
    _: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<IssueRequest>,
) -> Result<(StatusCode, Json<Issued>), ApiError> {
    let quota = state.manifest.current().manifest.media.quota_bytes;
    Ok((StatusCode::CREATED, Json(state.media.tokens.issue(req, quota, state.clock.now()).await?)))
}

/// Upload tokens, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/ops/upload-tokens", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody)))]
async fn list_tokens(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(state.media.tokens.list(state.clock.now()).await?))
}

/// Revokes an upload token at once (what it uploaded stays).
#[utoipa::path(delete, path = "/api/v1/ops/upload-tokens/{id}", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    match state.media.tokens.revoke(&id, state.clock.now()).await {
        Err(UploadTokenError::Unknown) => Err(ApiError::not_found("this upload token")),
        other => Ok(Json(other?)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// 1–500 (default 100).
    limit: Option<u32>,
}

impl Limit {
    fn get(&self) -> Result<u32, ApiError> {
        let n = self.limit.unwrap_or(100);
        if (1..=500).contains(&n) {
            Ok(n)
        } else {
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "limit must be between 1 and 500",
            ))
        }
    }
}

/// Uploads, newest first: in progress, done, expired.
#[utoipa::path(get, path = "/api/v1/ops/uploads", tag = "operator", security(("operator" = [])), params(Limit),
    responses((status = 200, body = Vec<UploadView>), (status = 401, body = ErrorBody)))]
async fn list_uploads(
    _: Operator,
    State(state): State<Services>,
    ApiQuery(limit): ApiQuery<Limit>,
) -> Result<Json<Vec<UploadView>>, ApiError> {
    Ok(Json(state.media.uploads.list(limit.get()?).await?))
}

/// Deletes an upload (finished or not) and frees its bytes.
#[utoipa::path(delete, path = "/api/v1/ops/uploads/{id}", tag = "operator", security(("operator" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_upload(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.media.uploads.terminate(&id, &UploadGrant::operator()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A finished upload's bytes, with byte ranges.
#[utoipa::path(get, path = "/api/v1/ops/uploads/{id}/file", tag = "operator", security(("operator" = [])),
    responses((status = 200, description = "The file"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn upload_file(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    if !crate::media::is_id(&id) {
        return Err(ApiError::not_found("this upload"));
    }
    let (path, _) = state.media.uploads.finished(&id).await.map_err(|e| match e {
        UploadError::OffsetMismatch { .. } => ApiError::new(
            StatusCode::CONFLICT,
            "upload_unfinished",
            "this upload is still arriving",
        ),
        e => e.into(),
    })?;
    Ok(send_file(path, req).await)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    jobs: Vec<JobView>,
}

/// Transcode jobs, newest first, with progress.
#[utoipa::path(get, path = "/api/v1/ops/transcodes", tag = "operator", security(("operator" = [])), params(Limit),
    responses((status = 200, body = JobList), (status = 401, body = ErrorBody)))]
async fn list_transcodes(
    _: Operator,
    State(state): State<Services>,
    ApiQuery(limit): ApiQuery<Limit>,
) -> Result<Json<JobList>, ApiError> {
    Ok(Json(JobList { jobs: state.media.transcoder.list(limit.get()?).await? }))
}

/// Queues a transcode of a finished upload into a preset, optionally trimmed.
#[utoipa::path(post, path = "/api/v1/ops/transcodes", tag = "operator", security(("operator" = [])), request_body = StartRequest,
    responses((status = 202, body = JobView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 507, body = ErrorBody)))]
async fn start_transcode(
    _: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<StartRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.media.start_transcode(req).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// Seconds to wait for the job to end before answering, 0–60 (default 0: answer at
    /// once). The answer comes as soon as the job is done, failed, cancelled, timed out
    /// or stopped, or with the job as it is when the time is up.
    wait: Option<u32>,
}

/// Longest a caller may wait for a job in one request.
const MAX_WAIT_SECS: u32 = 60;

/// A job, with its progress; with `wait`, once it has ended (a long poll).
#[utoipa::path(get, path = "/api/v1/ops/transcodes/{id}", tag = "operator", security(("operator" = [])), params(Wait),
    responses((status = 200, body = JobView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_transcode(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
    ApiQuery(wait): ApiQuery<Wait>,
) -> Result<Json<JobView>, ApiError> {
    match wait.wait.unwrap_or(0) {
        0 => Ok(Json(state.media.transcoder.get(&id).await?)),
        s if s <= MAX_WAIT_SECS => {
            // A node that is stopping answers at once: a waiting caller never holds up
            // the shutdown.
            let mut stopping = state.stopping.clone();
            let transcoder = &state.media.transcoder;
            tokio::select! {
                job = transcoder.wait(&id, Duration::from_secs(u64::from(s))) => Ok(Json(job?)),
                // (The guard `wait_for` returns is not `Send`: dropped before the await.)
                () = async { drop(stopping.wait_for(|stop| *stop).await) } => Ok(Json(transcoder.get(&id).await?)),
            }
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("wait must be between 0 and {MAX_WAIT_SECS} seconds"),
        )),
    }
}

/// Cancels a job: a queued one at once, a running one by stopping its ffmpeg.
#[utoipa::path(post, path = "/api/v1/ops/transcodes/{id}/cancel", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_transcode(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(state.media.transcoder.cancel(&id).await?))
}

/// Deletes a finished job's output, freeing its bytes from the quota.
#[utoipa::path(delete, path = "/api/v1/ops/transcodes/{id}/output", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_output(
    _: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(state.media.transcoder.remove_output(&id).await?))
}

/// Media at a glance: quota, open uploads, transcodes (ffmpeg, running, minutes today),
/// forwarding, presets.
#[utoipa::path(get, path = "/api/v1/ops/media", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = MediaSummary), (status = 401, body = ErrorBody)))]
async fn media_summary(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<MediaSummary>, ApiError> {
    Ok(Json(state.media.summary().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Degraded {
    degraded: bool,
}

/// The degrade control for media: reduced-quality presets and fewer transcodes at once.
#[utoipa::path(put, path = "/api/v1/ops/media/degraded", tag = "operator", security(("operator" = [])), request_body = Degraded,
    responses((status = 200, body = MediaSummary), (status = 401, body = ErrorBody)))]
async fn set_degraded(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<Degraded>,
) -> Result<Json<MediaSummary>, ApiError> {
    let words = |d: bool| if d { "reduced quality" } else { "full quality" }.to_owned();
    let before = state.media.summary().await?.transcodes.degraded;
    state.media.transcoder.set_degraded(req.degraded);
    state
        .audit
        .record(&op.who, "media quality", Some(words(before)), Some(words(req.degraded)), Ok(()))
        .await;
    Ok(Json(state.media.summary().await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Requeued {
    requeued: u64,
}

/// Sends quarantined media items to the upstream again.
#[utoipa::path(post, path = "/api/v1/ops/media/forwards/retry", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = Requeued), (status = 401, body = ErrorBody)))]
async fn retry_forwards(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<Requeued>, ApiError> {
    Ok(Json(Requeued {
        requeued: state.media.forwarder.retry_quarantined().await.map_err(ApiError::internal)?,
    }))
}
