//! `/assets/` over HTTP: the asset cache as kiosks, phones and paired booths see it, and
//! the operator's cache controls.
//!
//! Owns: reading the request (path from the raw URI, varied headers, `only-if-cached`,
//! a peer's signed question), the client side of HTTP caching on what the cache returns
//! — `If-None-Match`/`If-Modified-Since` → 304, single byte ranges → 206/416 with
//! `If-Range` — the `X-Cache: HIT|STALE|PEER|MISS` header on every response, and the
//! routes `GET /api/v1/ops/assets`, `POST /api/v1/ops/assets/purge`,
//! `POST /api/v1/ops/assets/warm`. Bodies are streamed from disk, never read whole.

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::assets::figures::{CacheStatus, FiguresView};
use crate::assets::store::Usage;
use crate::assets::warm::WarmView;
use crate::assets::{AssetError, AssetRequest, PassedBody, Served};
use crate::services::Services;
use boothcloud_core::cache::key::{negotiate_encoding, AssetPath, VARY_HEADERS};
use boothcloud_core::cache::policy;
use boothcloud_core::signing::peer::{Request, PROOF_HEADER, SIGNATURE_HEADER};

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(ops_assets)).routes(routes!(purge)).routes(routes!(warm))
}

/// A storefront file, cache-first from the manifest's origin (`X-Cache: HIT`, `STALE`,
/// `PEER` or `MISS`), with conditionals and single byte ranges. Registered outside the
/// API's CORS: a stored object carries the origin's own headers.
#[utoipa::path(get, path = "/assets/{path}", tag = "commerce",
    params(("path" = String, Path, description = "the file's path at the origin, e.g. `img/mug.jpg`"),
        ("Cache-Control" = Option<String>, Header, description = "only `only-if-cached` is honoured")),
    responses((status = 200, description = "the file, as the origin sent it"), (status = 206, description = "a byte range"),
        (status = 304, description = "not modified"), (status = 400, description = "the path escapes or is malformed", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 405, body = ErrorBody),
        (status = 416, description = "the range is outside the file"),
        (status = 502, description = "the origin failed and nothing is stored", body = ErrorBody),
        (status = 503, description = "the cache could not store or read the file", body = ErrorBody),
        (status = 504, description = "`only-if-cached` and nothing is stored", body = ErrorBody),
        (status = "default", description = "another answer of the origin's, passed through and not stored")))]
pub async fn serve_asset(
    State(state): State<Services>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (method, uri, headers) = (&method, &uri, &headers);
    let raw = uri.path().strip_prefix("/assets/").unwrap_or_default();
    let with_query;
    let text = match uri.query() {
        Some(q) => {
            with_query = format!("{raw}?{q}");
            &with_query
        }
        None => raw,
    };
    let path = match AssetPath::parse(text) {
        Ok(p) => p,
        Err(e) => {
            return with_x_cache(
                ApiError::new(StatusCode::BAD_REQUEST, "bad_asset_path", e.to_string())
                    .into_response(),
                CacheStatus::Miss,
            )
        }
    };
    // A paired booth's question: signed over exactly what was sent.
    let question = match headers.get(SIGNATURE_HEADER) {
        None => None,
        Some(header) => {
            let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            let signed = state.peers.verify(
                header.to_str().ok(),
                &Request { method: method.as_str(), target, body: b"" },
            );
            match signed {
                Ok(sig) => Some(sig),
                Err(e) => {
                    tracing::warn!(error = %e, "refused a peer question");
                    return with_x_cache(
                        super::peers::refusal(e).into_response(),
                        CacheStatus::Miss,
                    );
                }
            }
        }
    };
    let only_if_cached = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| policy::CacheControl::parse([v]).only_if_cached);
    // Accept-Encoding is forwarded as the one coding negotiated for it, so the stored
    // variant is the one every client mapping to that coding can decode.
    let forwarded = VARY_HEADERS
        .iter()
        .zip(&VARY_HEADER_NAMES)
        .filter_map(|(name, header)| {
            headers.get(header).and_then(|v| v.to_str().ok()).map(|v| (*name, v))
        })
        .filter_map(|(name, v)| match name {
            "accept-encoding" => negotiate_encoding(v).map(|c| (name, c.to_owned())),
            _ => Some((name, v.to_owned())),
        })
        .collect();
    let req =
        AssetRequest { path, headers: forwarded, only_if_cached, from_peer: question.is_some() };
    let figures = state.assets.figures();
    match state.assets.get(&req).await {
        Ok(Served::Cached { entry, outcome, age }) => {
            let proof =
                question.as_ref().and_then(|sig| state.peers.prove(sig, 200, &entry.meta.sha256));
            let (response, bytes) =
                cached_response(method, headers, &entry, outcome, age, proof).await;
            figures.served(req.path.prefix(), outcome, bytes);
            response
        }
        Ok(Served::Passed { status, headers: passed, body }) => {
            figures.served(req.path.prefix(), CacheStatus::Miss, 0);
            let mut response = Response::new(match body {
                _ if method == Method::HEAD => Body::empty(),
                PassedBody::Bytes(b) => Body::from(b),
                PassedBody::Stream(s) => Body::from_stream(s),
            });
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            copy_headers(response.headers_mut(), &passed);
            with_x_cache(response, CacheStatus::Miss)
        }
        Err(e) => with_x_cache(asset_error(e).into_response(), CacheStatus::Miss),
    }
}

/// `VARY_HEADERS` as header names, in the same order.
const VARY_HEADER_NAMES: [HeaderName; 6] = [
    header::ACCEPT_ENCODING,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::ORIGIN,
    header::ACCESS_CONTROL_REQUEST_METHOD,
    header::ACCESS_CONTROL_REQUEST_HEADERS,
];

/// Any other method under `/assets/`: the JSON 405 every route gives (this route sits
/// outside the router's own fallback), with `Allow` and `X-Cache`.
pub async fn other_method() -> Response {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "files are read with GET or HEAD",
    )
    .into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    with_x_cache(response, CacheStatus::Miss)
}

fn asset_error(e: AssetError) -> ApiError {
    use crate::assets::origin::OriginError;
    match e {
        AssetError::NotCached => ApiError::new(StatusCode::GATEWAY_TIMEOUT, "not_cached", "this file is not in the booth's cache"),
        AssetError::Origin(OriginError::NotConfigured) => {
            ApiError::new(StatusCode::NOT_FOUND, "no_origin", "this booth has no storefront origin; set [uplink] origin in the manifest")
        }
        AssetError::Origin(e) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "origin_unavailable",
            format!("this file is not cached yet and the storefront's origin cannot help ({e}); files already cached keep working"),
        ),
        AssetError::TooLarge { limit } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "asset_too_large",
            format!("the file is larger than the booth caches ({limit} bytes; assets.max_object)"),
        ),
        AssetError::Store(m) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "cache_unavailable", format!("the cache could not store or read the file: {m}"))
        }
    }
}

fn with_x_cache(mut response: Response, outcome: CacheStatus) -> Response {
    response.headers_mut().insert(X_CACHE, HeaderValue::from_static(outcome.as_header()));
    response
}

fn copy_headers(to: &mut HeaderMap, from: &[(String, String)]) {
    for (name, value) in from {
        if let (Ok(n), Ok(v)) =
            (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        {
            to.append(n, v);
        }
    }
}

/// A byte range of a body of `len` bytes: `Some(Ok((first, last)))`, `Some(Err(()))`
/// when it cannot be satisfied, `None` when the header is ignored (another unit,
/// several ranges, or malformed), which serves the whole body.
pub fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let n: u64 = last.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(n), len - 1)));
    }
    let first: u64 = first.parse().ok()?;
    let last: Option<u64> = if last.is_empty() { None } else { Some(last.parse().ok()?) };
    if last.is_some_and(|l| l < first) {
        return None;
    }
    if first >= len {
        return Some(Err(()));
    }
    Some(Ok((first, last.map_or(len - 1, |l| l.min(len - 1)))))
}

async fn cached_response(
    method: &Method,
    request: &HeaderMap,
    entry: &crate::assets::store::Entry,
    outcome: CacheStatus,
    age: u64,
    proof: Option<String>,
) -> (Response, u64) {
    let meta = &entry.meta;
    // Room for the stored headers and the few added here, so the map never regrows.
    let mut headers = HeaderMap::with_capacity(entry.parsed_headers.len() + 6);
    for (name, value) in &entry.parsed_headers {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(header::AGE, HeaderValue::from(age));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(X_CACHE, HeaderValue::from_static(outcome.as_header()));
    if let Some(proof) = proof.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert(PROOF_HEADER, proof);
    }
    let get = |name: header::HeaderName| request.get(name).and_then(|v| v.to_str().ok());

    // Conditional requests: If-None-Match wins; If-Modified-Since only without it.
    let not_modified = match (get(header::IF_NONE_MATCH), get(header::IF_MODIFIED_SINCE)) {
        (Some(inm), _) => policy::none_match(inm, meta.etag.as_deref()),
        (None, Some(ims)) => matches!(
            (policy::parse_http_date(ims), meta.last_modified.as_deref().and_then(policy::parse_http_date)),
            (Some(since), Some(lm)) if lm <= since
        ),
        _ => false,
    };
    if not_modified {
        for name in [header::CONTENT_TYPE, header::CONTENT_LANGUAGE, header::CONTENT_ENCODING] {
            headers.remove(name);
        }
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        return (response, 0);
    }

    let len = meta.len;
    let if_range_ok = match get(header::IF_RANGE) {
        None => true,
        Some(v) if v.starts_with('"') => meta.etag.as_deref() == Some(v.trim()),
        Some(v) if v.starts_with("W/") => false,
        Some(v) => meta.last_modified.as_deref().is_some_and(|lm| lm == v.trim()),
    };
    let range = if *method == Method::GET && if_range_ok {
        get(header::RANGE).and_then(|r| parse_range(r, len))
    } else {
        None
    };
    let (status, first, count) = match range {
        Some(Err(())) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"),
            );
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {len} bytes"),
            )
            .into_response();
            for (name, value) in [header::CONTENT_RANGE, X_CACHE, header::ACCEPT_RANGES]
                .iter()
                .filter_map(|n| Some((n.clone(), headers.get(n)?.clone())))
            {
                response.headers_mut().insert(name, value);
            }
            return (response, 0);
        }
        Some(Ok((first, last))) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")).expect("ascii"),
            );
            (StatusCode::PARTIAL_CONTENT, first, last - first + 1)
        }
        None => (StatusCode::OK, 0, len),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let body = if *method == Method::HEAD {
        Body::empty()
    } else if let Some(bytes) = &entry.memory {
        Body::from(bytes.slice(first as usize..(first + count) as usize))
    } else if let Some(file) = &entry.file {
        match open_at(file, first).await {
            Ok(f) => Body::from_stream(
                tokio_util::io::ReaderStream::with_capacity(f.take(count), 64 * 1024)
                    .map(|r| r.map_err(axum::Error::new)),
            ),
            // Evicted between lookup and read: the client retries and gets a fresh copy.
            Err(e) => {
                return (
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "cache_busy",
                        format!("the cached file moved while it was read ({e}); try again"),
                    )
                    .into_response(),
                    0,
                )
            }
        }
    } else {
        Body::empty()
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    let sent = if *method == Method::HEAD { 0 } else { count };
    (response, sent)
}

async fn open_at(path: &std::path::Path, offset: u64) -> std::io::Result<tokio::fs::File> {
    let mut f = tokio::fs::File::open(path).await?;
    if offset > 0 {
        f.seek(SeekFrom::Start(offset)).await?;
    }
    Ok(f)
}

/// The cache as the operator sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetsStatus {
    pub origin: Option<String>,
    pub figures: FiguresView,
    pub storage: Usage,
    pub warm_up: WarmView,
}

pub fn assets_status(state: &Services) -> AssetsStatus {
    use boothcloud_core::manifest::Origin;
    let origin = state.manifest.current().manifest.uplink.origin.as_ref().map(|o| match o {
        Origin::Url(u) => u.to_string(),
        Origin::Folder(p) => p.display().to_string(),
        Origin::DemoStorefront => "demo:storefront".to_owned(),
    });
    AssetsStatus {
        origin,
        figures: state.assets.figures().view(),
        storage: state.assets.store().usage(),
        warm_up: state.assets.warm_progress().view(state.assets.now_ms()),
    }
}

/// The cache tile's figures, in every live snapshot: the headline ratios without the
/// per-prefix table (that stays in `GET /api/v1/ops/assets`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CacheSummary {
    /// Share of requests served without the origin over the last minute, 0–1; absent
    /// when there were none.
    pub hit_ratio_now: Option<f64>,
    /// The same for the whole event (earlier runs of the node included).
    pub hit_ratio_event: Option<f64>,
    /// Share of the event's requests served stale.
    pub stale_share: Option<f64>,
    /// Requests and stale answers over the last minute, and origin failures in it.
    pub requests_last_minute: u64,
    pub stale_last_minute: u64,
    pub origin_errors_last_minute: u64,
    /// Requests for the event, and bytes fetched from the origin (egress).
    pub requests: u64,
    pub bytes_from_origin: u64,
    pub storage: Usage,
    pub warm_up: WarmView,
}

pub fn cache_summary(state: &Services) -> CacheSummary {
    let f = state.assets.figures().view();
    CacheSummary {
        hit_ratio_now: f.hit_ratio_now,
        hit_ratio_event: f.hit_ratio_event,
        stale_share: f.stale_share,
        requests_last_minute: f.last_minute.requests(),
        stale_last_minute: f.last_minute.stale,
        origin_errors_last_minute: f.last_minute.origin_errors,
        requests: f.total.requests(),
        bytes_from_origin: f.total.bytes_from_origin,
        storage: state.assets.store().usage(),
        warm_up: state.assets.warm_progress().view(state.assets.now_ms()),
    }
}

#[utoipa::path(get, path = "/api/v1/ops/assets", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = AssetsStatus), (status = 401, body = ErrorBody)))]
async fn ops_assets(_: Operator, State(state): State<Services>) -> Json<AssetsStatus> {
    Json(assets_status(&state))
}

/// What to purge: exactly one of `path`, `prefix` or `all: true`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    pub path: Option<String>,
    pub prefix: Option<String>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Purged {
    /// Stored variants removed.
    pub purged: u64,
}

#[utoipa::path(post, path = "/api/v1/ops/assets/purge", tag = "operator", security(("operator" = [])), request_body = PurgeRequest,
    responses((status = 200, body = Purged), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn purge(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<PurgeRequest>,
) -> Result<Json<Purged>, ApiError> {
    let what = match (&req.path, &req.prefix, req.all) {
        (Some(p), _, _) => format!("path {p}"),
        (_, Some(p), _) => format!("prefix {p}"),
        _ => "everything".to_owned(),
    };
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_purge", m.to_owned());
    let store = state.assets.store();
    let purged = match (req.path, req.prefix, req.all) {
        (Some(p), None, false) => {
            let p = AssetPath::parse(&p).map_err(|e| bad(&e.to_string()))?;
            store.purge(|stored| stored == p.as_str())
        }
        (None, Some(prefix), false) => {
            if prefix.is_empty() || prefix.len() > boothcloud_core::cache::key::MAX_PATH_BYTES {
                return Err(bad("the prefix must be 1 to 1024 bytes, such as img/"));
            }
            store.purge(|stored| stored.starts_with(&prefix))
        }
        (None, None, true) => store.purge(|_| true),
        _ => return Err(bad("give exactly one of path, prefix, or all: true")),
    };
    tracing::info!(purged, "cache purged by the operator");
    state
        .audit
        .record(
            &op.who,
            "empty cache",
            Some(what),
            Some(format!("{purged} objects removed")),
            Ok(()),
        )
        .await;
    Ok(Json(Purged { purged }))
}

#[utoipa::path(post, path = "/api/v1/ops/assets/warm", tag = "operator", security(("operator" = [])),
    responses((status = 202, body = WarmView), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn warm(
    _: Operator,
    State(state): State<Services>,
) -> Result<(StatusCode, Json<WarmView>), ApiError> {
    if !crate::assets::warm::start(&state.assets) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "warm_up_running",
            "a warm-up is already running; its progress is in GET /api/v1/ops/assets",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(state.assets.warm_progress().view(state.assets.now_ms()))))
}

#[cfg(test)]
mod tests {
    use super::{parse_range, VARY_HEADERS, VARY_HEADER_NAMES};

    #[test]
    fn the_vary_header_names_are_the_vary_headers() {
        let names: Vec<&str> = VARY_HEADER_NAMES.iter().map(|n| n.as_str()).collect();
        assert_eq!(names, VARY_HEADERS);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-5000", 1000), Some(Ok((0, 999))));
        assert_eq!(parse_range("bytes=500-5000", 1000), Some(Ok((500, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=-0", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=x-1", 1000), None);
    }
}
