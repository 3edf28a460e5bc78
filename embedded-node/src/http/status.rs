//! Health, the public status of the booth, and the operator's views.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Operator};
use crate::live_manifest::ReloadFailure;
use crate::orders::{OrderView, QueueCounts, SyncState};
use crate::services::Services;
use crate::telemetry::{serves_customers, RouteFigures};

/// Routes the status shows latency for, busiest first.
const BUSIEST_ROUTES: usize = 5;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(status))
        .routes(routes!(ops_status))
        .routes(routes!(ops_orders))
        .routes(routes!(ops_reload))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Healthz {
    status: &'static str,
}

/// Liveness and readiness: 200 when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "status",
    responses((status = 200, body = Healthz), (status = 503, body = ErrorBody)))]
async fn healthz(State(state): State<Services>) -> Result<Json<Healthz>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.db).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the node's database does not answer",
        )
    })?;
    Ok(Json(Healthz { status: "ok" }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventStatus {
    id: String,
    name: String,
    currency: String,
    timezone: String,
    #[schema(value_type = String, format = DateTime)]
    starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    ends_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ManifestStatus {
    /// A file path, or "embedded demo manifest".
    source: String,
    version: u64,
    #[schema(value_type = String, format = DateTime)]
    loaded_at: Timestamp,
    items: usize,
    promotions: usize,
    /// The last edit that was refused (the previous version stayed in force), until a
    /// valid edit replaces it.
    last_failure: Option<ReloadFailure>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Status {
    version: &'static str,
    #[schema(value_type = String, format = DateTime)]
    started_at: Timestamp,
    event: EventStatus,
    manifest: ManifestStatus,
    /// The booth has begun its teardown: it takes no new orders (kiosks may say so).
    closed: bool,
}

fn public_status(state: &Services) -> Status {
    let loaded = state.manifest.current();
    let e = &loaded.manifest.event;
    Status {
        version: env!("CARGO_PKG_VERSION"),
        started_at: state.started_at,
        event: EventStatus {
            id: e.id.clone(),
            name: e.name.clone(),
            currency: e.currency.to_string(),
            timezone: e.timezone_name.clone(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            expires_at: e.expires_at,
        },
        manifest: ManifestStatus {
            source: state.manifest.source().describe(),
            version: loaded.version,
            loaded_at: loaded.loaded_at,
            items: loaded.manifest.catalogue.len(),
            promotions: loaded.book.rule_count(),
            last_failure: state.manifest.last_failure(),
        },
        closed: state.teardown.is_closed(),
    }
}

/// The booth at a glance: event, manifest in force, any refused manifest edit.
#[utoipa::path(get, path = "/api/v1/status", tag = "status", responses((status = 200, body = Status)))]
async fn status(State(state): State<Services>) -> Json<Status> {
    Json(public_status(&state))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SecretsStatus {
    /// "os-keyring" or "file".
    store: &'static str,
    /// Why the keyring is not used, when it is not.
    fallback_reason: Option<String>,
}

/// Orders since the start of the booth's day, in the event's time zone.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Today {
    #[schema(value_type = String, format = DateTime)]
    since: Timestamp,
    orders: i64,
    /// Minor units of the event's currency.
    revenue: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OpsStatus {
    #[schema(value_type = String, format = DateTime)]
    now: Timestamp,
    #[serde(flatten)]
    #[schema(inline)]
    status: Status,
    /// The uplink: mode (`local`, `online`, `offline`, `relay`), reason, time in mode,
    /// queue depth, the oldest unsynced order, the last sync and the offline runway.
    link: crate::uplink::UplinkView,
    today: Today,
    orders: QueueCounts,
    secrets: SecretsStatus,
    cache: super::assets::CacheSummary,
    /// Spend per component and in total, against the budgets, with the projection.
    spend: crate::spend::SpendView,
    latency: LatencySummary,
    /// Uploads, transcodes (minutes today, running, peak) and forwarding.
    media: crate::media::MediaSummary,
}

/// The busiest customer routes (at most five) and the manifest's latency targets.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LatencySummary {
    p95_target_ms: u32,
    p99_target_ms: u32,
    routes: Vec<RouteFigures>,
}

/// The operator's whole picture of the booth: what `/api/v1/ops/status` answers and
/// what the live stream sends every second.
pub async fn ops_snapshot(state: &Services) -> Result<OpsStatus, ApiError> {
    let now = state.clock.now();
    let tz = state.manifest.current().manifest.event.timezone.clone();
    let since = now.to_zoned(tz).start_of_day().map(|z| z.timestamp()).unwrap_or(now);
    let (orders, revenue) = state.orders.taken_since(since).await?;
    Ok(OpsStatus {
        now,
        status: public_status(state),
        link: state.uplink.view().await?,
        today: Today { since, orders, revenue },
        orders: state.orders.counts().await?,
        secrets: SecretsStatus {
            store: state.secrets_kind(),
            fallback_reason: state.secrets_fallback.as_deref().map(str::to_owned),
        },
        cache: super::assets::cache_summary(state),
        spend: state.spend.view(now, &state.manifest.current().manifest),
        latency: LatencySummary {
            p95_target_ms: state.manifest.current().manifest.telemetry.p95_target_ms,
            p99_target_ms: state.manifest.current().manifest.telemetry.p99_target_ms,
            routes: state
                .telemetry
                .route_figures()
                .into_iter()
                .filter(|r| serves_customers(&r.route))
                .take(BUSIEST_ROUTES)
                .collect(),
        },
        media: state.media.summary().await?,
    })
}

/// Everything in `/api/v1/status`, plus the link, today's orders, the order queue,
/// where secrets are kept, the cache's headline figures, spend against budget and the
/// busiest routes' latency.
#[utoipa::path(get, path = "/api/v1/ops/status", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = OpsStatus), (status = 401, body = ErrorBody)))]
async fn ops_status(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<OpsStatus>, ApiError> {
    Ok(Json(ops_snapshot(&state).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderFilter {
    /// Only orders in this state.
    status: Option<SyncState>,
    /// Page size, 1–500 (default 50).
    limit: Option<u32>,
    /// Orders created before this instant (the `next_before` of the previous page).
    #[param(value_type = Option<String>, format = DateTime)]
    before: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderPage {
    orders: Vec<OrderView>,
    /// Pass as `before` for the next page; absent on the last page.
    #[schema(value_type = Option<String>, format = DateTime)]
    next_before: Option<Timestamp>,
}

/// Orders, newest first, with contact details (operator only).
#[utoipa::path(get, path = "/api/v1/ops/orders", tag = "operator", security(("operator" = [])), params(OrderFilter),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn ops_orders(
    _: Operator,
    State(state): State<Services>,
    ApiQuery(filter): ApiQuery<OrderFilter>,
) -> Result<Json<OrderPage>, ApiError> {
    let limit = filter.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be between 1 and 500",
        ));
    }
    let orders = state.orders.list(filter.status, filter.before, limit, true).await?;
    let next_before =
        (orders.len() == limit as usize).then(|| orders.last().map(|o| o.created_at)).flatten();
    Ok(Json(OrderPage { orders, next_before }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReloadOutcome {
    /// The manifest version in force after the reload.
    version: u64,
}

/// Re-reads the manifest file now (it is also watched). A refused edit answers 422
/// with the problems; the previous version stays in force.
#[utoipa::path(post, path = "/api/v1/ops/manifest/reload", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = ReloadOutcome), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ops_reload(
    op: Operator,
    State(state): State<Services>,
) -> Result<Json<ReloadOutcome>, ApiError> {
    let live = state.manifest.clone();
    let before = format!("version {}", state.manifest.current().version);
    let done =
        tokio::task::spawn_blocking(move || live.reload()).await.map_err(ApiError::internal)?;
    let after = done.as_ref().ok().map(|v| format!("version {v}"));
    state
        .audit
        .record(
            &op.who,
            "reload price list",
            Some(before),
            after,
            done.as_ref().map(|_| ()).map_err(ToString::to_string),
        )
        .await;
    match done {
        Ok(version) => Ok(Json(ReloadOutcome { version })),
        Err(e) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest", e.to_string()))
        }
    }
}
