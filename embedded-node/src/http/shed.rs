//! The shed gate at the edge: a request to a route group the current degrade level has
//! paused is answered `503` with `Retry-After` and a JSON error in words. Layered on the
//! sheddable routers only, so quotes, orders and the storefront never pass through it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use super::error::ApiError;
use crate::controls::shed::ShedGate;
use crate::services::Services;
use boothcloud_core::manifest::Sheddable;

/// `router`'s routes behind the gate for `what`.
pub fn gated(
    router: OpenApiRouter<Services>,
    gate: Arc<ShedGate>,
    what: Sheddable,
) -> OpenApiRouter<Services> {
    router.route_layer(axum::middleware::from_fn_with_state((gate, what), refuse_if_paused))
}

/// The same, for a router outside the OpenAPI document.
pub fn gated_plain(
    router: Router<Services>,
    gate: Arc<ShedGate>,
    what: Sheddable,
) -> Router<Services> {
    router.route_layer(axum::middleware::from_fn_with_state((gate, what), refuse_if_paused))
}

async fn refuse_if_paused(
    State((gate, what)): State<(Arc<ShedGate>, Sheddable)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(paused) = gate.paused(what) else { return next.run(req).await };
    let retry = paused.retry_after_s;
    let mut res = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "shed",
        format!("The booth is in {} mode and has paused {}; try again in {retry} s. Sales are not affected.", paused.level, what.name()),
    )
    .into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    res
}
