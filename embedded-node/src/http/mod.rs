//! The node's HTTP API: routes, shared state, limits, and the OpenAPI document that is
//! generated from the route handlers themselves (`utoipa`), so it cannot drift from
//! the code.

mod commerce;
pub mod error;
mod extract;
pub mod serve;
mod status;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use sqlx::SqlitePool;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::manifest::watch::LiveManifest;
use crate::orders::OrderQueue;
use crate::quote_token::QuoteSigner;
use error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a request handler may use; cloned per request (all handles).
#[derive(Clone)]
pub struct AppState {
    pub manifest: Arc<LiveManifest>,
    pub orders: OrderQueue,
    pub signer: QuoteSigner,
    pub db: SqlitePool,
    pub clock: Arc<dyn Clock>,
    pub operator_token: Arc<str>,
    pub secrets_store: &'static str,
    pub secrets_fallback: Option<Arc<str>>,
    pub started_at: Timestamp,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Boothcloud node API", description = "The booth's micro-cloud node: catalogue, quotes, orders and operator controls. \
        Money is always an integer number of minor units of the event's currency. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    modifiers(&OperatorAuth),
    tags((name = "commerce", description = "What kiosks use"), (name = "status"), (name = "operator", description = "Needs the operator token"))
)]
struct ApiDoc;

struct OperatorAuth;

impl Modify for OperatorAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("operator", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The routes and the OpenAPI document describing exactly them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(commerce::routes())
        .merge(status::routes())
        .split_for_parts()
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = api();
    let openapi = Arc::new(openapi);
    router
        .route("/api/v1/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async { ApiError::not_found("this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this path does not accept that method")
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the node hit an internal error; it has been logged").into_response()
}

#[cfg(test)]
mod tests;
