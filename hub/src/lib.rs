//! The regional hub: the upstream that booths sync their orders to and report their
//! health to, on PostgreSQL. A different program from the booth's node, run by an ops
//! lead on another machine; it shares only the rules and the protocol (`boothcloud-core`).
//!
//! Owns: `boothcloud-hub`, its HTTP API (`/api/v1/hub/…`), and the hub's tables
//! (`store`). The hub is stateless: booth credentials are derived from the hub key
//! (`boothcloud_core::signing::hub`), every order and report is in the database, so any
//! number of hubs can serve one database behind a load balancer, on any engine that
//! speaks PostgreSQL.
//!
//! Invariants:
//! - An order is stored at most once: its id is the key (`INSERT … ON CONFLICT DO
//!   NOTHING`), and a batch is answered only after its transaction committed.
//! - A booth is trusted only with a valid signature under its credential; a relayed
//!   batch also needs the relaying booth's own signature.
//! - An order the hub can never accept is answered `rejected` with a reason (the booth
//!   quarantines it); one bad order never fails its batch.
//!
//! - [`store`]: the PostgreSQL tables.
//! - [`error`]: the hub's one HTTP error type.

pub mod error;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use boothcloud_core::clock::Clock;
use boothcloud_core::hub_protocol::wire::{
    self, BatchAnswer, BoothReport, HeartbeatAnswer, OrderBatch, MAX_BATCH_BYTES, MAX_BATCH_ORDERS,
};
use boothcloud_core::hub_protocol::{BOOTHS_PATH, HEARTBEAT_PATH, ORDERS_PATH};
use boothcloud_core::signing::hub::{
    self as auth, HubAuthError, HubSignature, AUTH_HEADER, PROOF_HEADER, RELAY_HEADER,
};
use boothcloud_core::signing::TIME_HEADER;
use sqlx::postgres::{PgPool, PgPoolOptions};
use subtle::ConstantTimeEq;

use error::ApiError;

/// Largest heartbeat body.
const MAX_REPORT_BYTES: usize = 16 * 1024;
/// Most requests served at once; past it new ones wait their turn.
const MAX_REQUESTS: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the hub key must be at least {} bytes (BOOTHCLOUD_HUB_KEY)", auth::MIN_KEY_BYTES)]
    ShortKey,
    #[error("cannot reach the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

pub struct HubConfig {
    pub database_url: String,
    pub listen: SocketAddr,
    /// The secret every booth credential derives from.
    pub key: Vec<u8>,
    /// Bearer token for `GET /api/v1/hub/booths`; `None` closes that view.
    pub operator_token: Option<String>,
}

#[derive(Clone)]
struct Hub {
    db: PgPool,
    key: Arc<[u8]>,
    operator_token: Option<Arc<str>>,
    clock: Arc<dyn Clock>,
}

/// Connects (retrying for up to 30 s while the database starts), migrates, binds.
pub async fn bind(
    config: HubConfig,
    clock: Arc<dyn Clock>,
) -> Result<(tokio::net::TcpListener, Router), HubError> {
    if config.key.len() < auth::MIN_KEY_BYTES {
        return Err(HubError::ShortKey);
    }
    let options = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let db = loop {
        match options.clone().connect(&config.database_url).await {
            Ok(db) => break db,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "the database is not answering yet; trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    store::MIGRATOR.run(&db).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| HubError::Listen { addr: config.listen, source })?;
    let hub = Hub {
        db,
        key: config.key.into(),
        operator_token: config.operator_token.map(Into::into),
        clock,
    };
    Ok((listener, router(hub)))
}

fn router(hub: Hub) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(ORDERS_PATH, post(orders).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)))
        .route(HEARTBEAT_PATH, post(heartbeat).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)))
        .route(BOOTHS_PATH, get(booths))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "this path was not found")
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the hub hit an internal error",
            ))
        }))
        .layer(axum::middleware::from_fn_with_state(hub.clock.clone(), stamp_time))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(MAX_REQUESTS))
        .with_state(hub)
}

/// States the hub's time (`X-Boothcloud-Time`, Unix ms) on every answer, refusals
/// included: a booth whose clock is past the signing window learns the time to sign
/// its next request in. Unsigned, so a booth uses it for nothing else.
async fn stamp_time(
    State(clock): State<Arc<dyn Clock>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    res.headers_mut().insert(TIME_HEADER, axum::http::HeaderValue::from(clock.now_ms()));
    res
}

fn refused(e: HubAuthError) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "booth_not_authenticated", e.to_string())
}

fn db_error(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "hub database error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "database_unavailable",
        "the hub's database did not answer; send it again",
    )
}

/// The booth that signed the request, and the booth that carried it, if relayed —
/// both with valid signatures, neither revoked.
async fn authenticate(
    hub: &Hub,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, Option<String>), ApiError> {
    let (booth, relayed_by) = check_signatures(hub, headers, path, body)?;
    let parties: Vec<&str> = std::iter::once(booth.as_str()).chain(relayed_by.as_deref()).collect();
    if let Some(revoked) = store::revoked(&hub.db, &parties).await.map_err(db_error)?.first() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "booth_revoked",
            format!("the hub's operator revoked booth {revoked}"),
        ));
    }
    Ok((booth, relayed_by))
}

fn check_signatures(
    hub: &Hub,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, Option<String>), ApiError> {
    let now = hub.clock.now().as_second();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sig = HubSignature::parse(header(AUTH_HEADER)).map_err(refused)?;
    sig.check(&hub.key, "POST", path, body, now).map_err(refused)?;
    let relay = match header(RELAY_HEADER) {
        None => None,
        Some(h) => {
            let by = HubSignature::parse(Some(h)).map_err(refused)?;
            by.check(&hub.key, "POST", path, body, now).map_err(refused)?;
            (by.booth != sig.booth).then_some(by.booth)
        }
    };
    Ok((sig.booth, relay))
}

/// Healthy when the database answers.
async fn healthz(State(hub): State<Hub>) -> Result<Json<serde_json::Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&hub.db).await.map_err(db_error)?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// A batch of orders from one booth (perhaps carried by another): each stored once,
/// answered per order once the transaction committed.
async fn orders(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchAnswer>, ApiError> {
    let (booth, relayed_by) = authenticate(&hub, &headers, ORDERS_PATH, &body).await?;
    let batch: OrderBatch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_batch",
            format!("the batch could not be read: {e}"),
        )
    })?;
    if batch.orders.len() > MAX_BATCH_ORDERS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("send at most {MAX_BATCH_ORDERS} orders at once"),
        ));
    }
    if batch.refunds.len() > wire::MAX_BATCH_REFUNDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("send at most {} refunds at once", wire::MAX_BATCH_REFUNDS),
        ));
    }
    let results = store::store_orders(&hub.db, &booth, relayed_by.as_deref(), &batch.orders)
        .await
        .map_err(db_error)?;
    let refunds = if batch.refunds.is_empty() {
        Vec::new()
    } else {
        store::store_refunds(&hub.db, &booth, &batch.refunds).await.map_err(db_error)?
    };
    let stored = results.iter().filter(|r| r.outcome == wire::Disposition::Stored).count();
    tracing::info!(booth, relayed_by, orders = batch.orders.len(), stored, "batch received");
    Ok(Json(BatchAnswer { results, refunds }))
}

/// A booth's heartbeat: its report is kept, and the answer proves the hub and its
/// database both work (a booth counts its uplink as up only on this answer). The answer
/// states the hub's time and carries a proof under the booth's credential, so the booth
/// may trust that time.
async fn heartbeat(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let (booth, _) = authenticate(&hub, &headers, HEARTBEAT_PATH, &body).await?;
    let report: BoothReport = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            format!("the report could not be read: {e}"),
        )
    })?;
    wire::check_report(&report)
        .map_err(|why| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_report", why))?;
    store::store_report(&hub.db, &booth, &report, hub.clock.now()).await.map_err(db_error)?;
    // The time is read last, just before the answer leaves.
    let answer = serde_json::to_vec(&HeartbeatAnswer { now: hub.clock.now() })
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let sig = HubSignature::parse(headers.get(AUTH_HEADER).and_then(|v| v.to_str().ok()))
        .map_err(refused)?;
    let proof = sig.prove_answer(&auth::credential(&hub.key, &booth), 200, &answer);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json".to_owned()),
            (axum::http::HeaderName::from_static(PROOF_HEADER), proof),
        ],
        answer,
    )
        .into_response())
}

/// Every booth: its newest report and what it delivered (hub operator token).
async fn booths(
    State(hub): State<Hub>,
    headers: HeaderMap,
) -> Result<Json<Vec<store::BoothAtHub>>, ApiError> {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = match (&hub.operator_token, presented) {
        (Some(t), Some(p)) => bool::from(t.as_bytes().ct_eq(p.trim().as_bytes())),
        _ => false,
    };
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <hub operator token>",
        ));
    }
    Ok(Json(store::booths(&hub.db).await.map_err(db_error)?))
}

/// Revokes a booth at the hub behind `database_url` (`boothcloud-hub revoke`).
pub async fn revoke(database_url: &str, booth: &str, reason: Option<&str>) -> Result<(), HubError> {
    let db = PgPoolOptions::new().max_connections(1).connect(database_url).await?;
    store::MIGRATOR.run(&db).await?;
    store::revoke(&db, booth, reason).await?;
    Ok(())
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
        tracing::error!(error = %e, "the hub stopped serving");
    }
}
