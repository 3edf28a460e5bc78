//! The operator's view of the link to the hub and its controls: the mode and runway,
//! the way upstream (automatic, regional, a chosen booth, offline only), approving an
//! order over an offline limit, and retrying or exporting quarantined orders.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Operator};
use crate::audit::AuditEntry;
use crate::orders::{OrderView, SyncState};
use crate::services::Services;
use crate::uplink::{Pending, UplinkError, UplinkView};
use boothcloud_core::uplink::Route;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(view))
        .routes(routes!(set_route))
        .routes(routes!(failover))
        .routes(routes!(audit_log))
        .routes(routes!(approve))
        .routes(routes!(retry_order))
        .routes(routes!(export_orders))
}

impl From<UplinkError> for ApiError {
    fn from(e: UplinkError) -> ApiError {
        match e {
            UplinkError::UnknownPeer(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_booth", e.to_string())
            }
            UplinkError::NoSuchApproval(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "no_such_approval", e.to_string())
            }
            UplinkError::Orders(e) => e.into(),
        }
    }
}

/// The link: mode (`local`, `online`, `offline`, `relay`) with its reason and time in
/// mode, the route, the booths that could relay, the queue, the last sync, the offline
/// runway and the orders waiting for approval.
#[utoipa::path(get, path = "/api/v1/ops/uplink", tag = "operator", operation_id = "uplink_view", security(("operator" = [])),
    responses((status = 200, body = UplinkView), (status = 401, body = ErrorBody)))]
async fn view(_: Operator, State(state): State<Services>) -> Result<Json<UplinkView>, ApiError> {
    Ok(Json(state.uplink.view().await?))
}

/// Chooses the way upstream: `{"route":"auto"}`, `{"route":"regional"}`,
/// `{"route":"peer","peer":"<node id>"}` or `{"route":"offline_only"}`.
#[utoipa::path(put, path = "/api/v1/ops/uplink/route", tag = "operator", security(("operator" = [])), request_body = Route,
    responses((status = 200, body = UplinkView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_route(
    op: Operator,
    State(state): State<Services>,
    ApiJson(route): ApiJson<Route>,
) -> Result<Json<UplinkView>, ApiError> {
    choose(&op, &state, route).await
}

/// Sets the route (the controls write the change, or the refusal, in the audit log).
async fn choose(
    op: &Operator,
    state: &Services,
    route: Route,
) -> Result<Json<UplinkView>, ApiError> {
    state.controls.failover(route, &op.who).await?;
    Ok(Json(state.uplink.view().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailoverRequest {
    /// `regional`, `offline`, `peer:<node id>`, or `auto` (automatic failover, the default).
    path: String,
}

/// One call to switch the way upstream (the controls' failover): `regional`, `offline`,
/// `peer:<node id>`, or `auto` to hand the choice back to automatic failover.
#[utoipa::path(post, path = "/api/v1/ops/failover", tag = "operator", security(("operator" = [])), request_body = FailoverRequest,
    responses((status = 200, body = UplinkView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn failover(
    op: Operator,
    State(state): State<Services>,
    ApiJson(req): ApiJson<FailoverRequest>,
) -> Result<Json<UplinkView>, ApiError> {
    let route = Route::from_path(&req.path).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_path",
            format!("`{}` is not regional, offline, peer:<node id> or auto", req.path),
        )
    })?;
    choose(&op, &state, route).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    /// Entries older than this id (the last `id` of the previous page).
    before: Option<i64>,
    /// 1–500, default 100.
    limit: Option<u32>,
}

/// Every control action, newest first: who, from what, from and to what, why, result.
#[utoipa::path(get, path = "/api/v1/ops/audit", tag = "operator", security(("operator" = [])), params(AuditPage),
    responses((status = 200, body = [AuditEntry]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn audit_log(
    _: Operator,
    State(state): State<Services>,
    ApiQuery(page): ApiQuery<AuditPage>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let limit = page.limit.unwrap_or(100);
    if !(1..=crate::audit::MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be between 1 and 500",
        ));
    }
    Ok(Json(state.audit.list(page.before, limit).await.map_err(ApiError::internal)?))
}

/// Approves an order refused over an offline limit (by its quote id); the kiosk sends
/// it again within ten minutes.
#[utoipa::path(post, path = "/api/v1/ops/uplink/approvals/{quote_id}", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = Pending), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn approve(
    op: Operator,
    State(state): State<Services>,
    Path(quote_id): Path<String>,
) -> Result<Json<Pending>, ApiError> {
    let done = state.uplink.approve(&quote_id);
    let after = done.as_ref().ok().map(|p| format!("quote {quote_id}, {} {}", p.total, p.currency));
    state
        .audit
        .record(
            &op.who,
            "approve offline order",
            None,
            after,
            done.as_ref().map(|_| ()).map_err(ToString::to_string),
        )
        .await;
    Ok(Json(done?))
}

/// Puts a quarantined order back in line (after the cause was fixed upstream).
#[utoipa::path(post, path = "/api/v1/ops/orders/{order_id}/retry", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_order(
    op: Operator,
    State(state): State<Services>,
    Path(order_id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = state.orders.get(&order_id, false).await?;
    if order.status != SyncState::Quarantined {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_quarantined",
            "only a quarantined order can be put back in line",
        ));
    }
    state.orders.requeue(&order_id, state.clock.now()).await?;
    state
        .audit
        .record(
            &op.who,
            "send order again",
            Some(format!("{order_id} quarantined")),
            Some("captured".into()),
            Ok(()),
        )
        .await;
    state.uplink.refresh_mode().await;
    Ok(Json(state.orders.get(&order_id, true).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportFilter {
    /// `quarantined` (default) or `unsynced` (captured and syncing).
    status: Option<String>,
}

/// Downloads orders as a JSON file, contact details included: the quarantined ones, or
/// every order not yet delivered (to hand over by other means when the uplink stays down).
#[utoipa::path(get, path = "/api/v1/ops/orders/export", tag = "operator", security(("operator" = [])), params(ExportFilter),
    responses((status = 200, description = "a JSON array of orders", body = [OrderView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn export_orders(
    op: Operator,
    State(state): State<Services>,
    ApiQuery(filter): ApiQuery<ExportFilter>,
) -> Result<Response, ApiError> {
    let states: &[SyncState] = match filter.status.as_deref() {
        None | Some("quarantined") => &[SyncState::Quarantined],
        Some("unsynced") => &[SyncState::Captured, SyncState::Syncing],
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("status `{other}` is not quarantined or unsynced"),
            ))
        }
    };
    // All of them at once: paging by creation time would skip orders committed in the
    // same millisecond (a group commit) at a page's edge.
    let all: Vec<OrderView> = state
        .orders
        .not_synced()
        .await?
        .into_iter()
        .filter(|o| states.contains(&o.status))
        .collect();
    // Contact details leave the node in this file: the log says so.
    let what =
        format!("{} orders ({})", all.len(), filter.status.as_deref().unwrap_or("quarantined"));
    state.audit.record(&op.who, "export orders", None, Some(what), Ok(())).await;
    let body = serde_json::to_vec_pretty(&all).map_err(ApiError::internal)?;
    let name = format!(
        "{}-{}-orders.json",
        state.manifest.current().manifest.event.id,
        filter.status.as_deref().unwrap_or("quarantined")
    );
    let mut res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .map_err(ApiError::internal)?,
    );
    Ok(res)
}
