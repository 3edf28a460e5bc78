//! The node's HTTP API: routes, shared state, limits, and the OpenAPI document that is
//! generated from the route handlers themselves (`utoipa`), so it cannot drift from
//! the code.

mod assets;
pub mod charts;
mod commerce;
mod controls;
mod cores;
mod dashboard;
pub mod error;
mod extract;
mod guard;
mod live;
mod media;
mod metrics;
pub mod peers;
pub mod serve;
mod status;
mod teardown;
mod uplink;
mod wire;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use sqlx::SqlitePool;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::controls::shed::{ShedGate, ShedLayer};
use crate::manifest::watch::LiveManifest;
use crate::manifest::Sheddable;
use crate::orders::OrderQueue;
use crate::quote_token::QuoteSigner;
use error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a request handler may use: one `Arc`, cloned per request. (As a struct
/// of handles, each clone bumped some twenty reference counts that every core shares;
/// now it is one.) Fields are reached through `Deref`: `state.orders`.
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

impl From<Handles> for AppState {
    fn from(handles: Handles) -> AppState {
        AppState(Arc::new(handles))
    }
}

impl AppState {
    /// A copy with some handles replaced (tests: a node "restarted" over the same parts).
    #[cfg(test)]
    pub(crate) fn with(&self, change: impl FnOnce(&mut Handles)) -> AppState {
        let mut handles = Handles::clone(&self.0);
        change(&mut handles);
        AppState::from(handles)
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Handles {
    pub manifest: Arc<LiveManifest>,
    pub orders: OrderQueue,
    pub signer: QuoteSigner,
    pub db: SqlitePool,
    pub clock: Arc<dyn Clock>,
    pub operator_token: Arc<str>,
    pub secrets_store: &'static str,
    pub secrets_fallback: Option<Arc<str>>,
    pub started_at: Timestamp,
    /// Turns true when the node begins to stop; long-lived responses (the live
    /// stream) end then, so shutdown never waits for a dashboard.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    pub assets: Arc<crate::assets::AssetCache>,
    pub telemetry: Arc<crate::telemetry::Telemetry>,
    pub spend: Arc<crate::spend::Ledger>,
    pub charts: Arc<crate::charts::Charts>,
    pub peers: Arc<crate::peers::Peers>,
    /// `None` when mDNS is off or could not start.
    pub discovery: Option<Arc<crate::discovery::Discovery>>,
    pub media: Arc<crate::media::Media>,
    pub uplink: Arc<crate::uplink::Uplink>,
    pub audit: Arc<crate::audit::Audit>,
    pub controls: Arc<crate::controls::Controls>,
    pub teardown: Arc<crate::teardown::Teardown>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Boothcloud node API", description = "The booth's micro-cloud node: catalogue, quotes, orders and operator controls. \
        Money is always an integer number of minor units of the event's currency. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    modifiers(&OperatorAuth),
    tags((name = "commerce", description = "What kiosks use"), (name = "status"), (name = "operator", description = "Needs the operator token"),
        (name = "peers", description = "Booth to booth: signed with the pairing key"))
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
    api_with(None)
}

/// The routes, the sheddable ones behind `gate` (none for the document alone).
fn api_with(gate: Option<&Arc<ShedGate>>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(commerce::routes())
        .merge(status::routes())
        .merge(live::routes())
        .merge(assets::routes())
        .merge(metrics::routes())
        .merge(gated(metrics::scrape_routes(), gate, Sheddable::Metrics))
        .merge(gated(charts::routes(), gate, Sheddable::Charts))
        .merge(peers::routes())
        .merge(media::routes())
        .merge(uplink::routes())
        .merge(controls::routes())
        .merge(teardown::routes())
        .split_for_parts()
}

/// `router` behind the shed gate for `what`: only these routers pay for the check.
fn gated(router: OpenApiRouter<AppState>, gate: Option<&Arc<ShedGate>>, what: Sheddable) -> OpenApiRouter<AppState> {
    match gate {
        None => router,
        Some(gate) => router.route_layer(ShedLayer { gate: gate.clone(), what }),
    }
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let gate = state.controls.gate().clone();
    let (router, openapi) = api_with(Some(&gate));
    let openapi = Arc::new(openapi);
    let router = router
        .route("/api/v1/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .merge(dashboard::routes())
        .fallback(|| async { ApiError::not_found("this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this path does not accept that method")
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(app_window_cors())
        // After the CORS layer: cached assets carry the origin's own headers (its Vary),
        // not the API's, so that what a peer or a client stores is what the origin said.
        .route(ASSET_ROUTE, get(assets::serve_asset).fallback(assets::other_method))
        // Also after it: tus answers its own OPTIONS (protocol discovery), which the CORS
        // layer would take for a preflight; it gets CORS of its own (`media::tus_cors`).
        .merge(media::tus_routes(gate.clone()))
        .merge(media::clip_routes(gate))
        // Outermost: a panic anywhere becomes the JSON 500, and every answer is timed.
        .layer(guard::GuardLayer { telemetry: state.telemetry.is_timing().then(|| state.telemetry.clone()) });
    router.with_state(state)
}

/// The node as the accept loop serves it: `GET` and `HEAD` under `/assets/` go straight
/// to the cache, everything else to [`app`]'s router.
///
/// Why a door before the router: a cache hit is the booth's hottest path (a kiosk's
/// page is dozens of them), and walking the route table, capturing `{*path}` and
/// naming the matched route cost about a tenth of a hit's instructions (callgrind).
/// The asset route stays in the router too (other methods get its 405, tests reach it
/// there); both answer through the same handler and the same panic guard and timing.
#[derive(Clone)]
pub struct FrontDoor {
    router: Router,
    assets: guard::Guard<AssetService>,
}

/// `/assets/` without the router.
#[derive(Clone)]
pub struct AssetService(AppState);

impl<B> tower::Service<axum::http::Request<B>> for AssetService {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<axum::response::Response, std::convert::Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let state = self.0.clone();
        let (parts, _) = req.into_parts();
        Box::pin(async move { Ok(assets::serve_parts(state, parts).await) })
    }
}

/// The front door of the whole node (see [`FrontDoor`]).
pub fn front_door(state: AppState) -> FrontDoor {
    let telemetry = state.telemetry.is_timing().then(|| state.telemetry.clone());
    FrontDoor { router: app(state.clone()), assets: guard::Guard::fixed(AssetService(state), telemetry, ASSET_ROUTE) }
}

/// The asset route's template (as the router and telemetry name it).
pub const ASSET_ROUTE: &str = "/assets/{*path}";

impl tower::Service<axum::http::Request<hyper::body::Incoming>> for FrontDoor {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::Either<
        guard::Guarded<<AssetService as tower::Service<axum::http::Request<hyper::body::Incoming>>>::Future>,
        <Router as tower::Service<axum::http::Request<hyper::body::Incoming>>>::Future,
    >;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        // Both inner services are always ready.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        use axum::http::Method;
        use futures_util::future::Either;
        let hot = (req.method() == Method::GET || req.method() == Method::HEAD) && req.uri().path().starts_with("/assets/");
        if hot {
            Either::Left(tower::Service::call(&mut self.assets, req))
        } else {
            Either::Right(tower::Service::call(&mut self.router, req))
        }
    }
}

/// The desktop app's window loads the dashboard from its own origin (`tauri://localhost`
/// on Linux and macOS, `http://tauri.localhost` on Windows) and calls the embedded node
/// across origins. Only those origins are allowed; the dashboard the node serves itself
/// is same-origin and needs nothing.
pub const APP_WINDOW_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

fn app_window_cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(APP_WINDOW_ORIGINS.map(HeaderValue::from_static))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(extract::CLIENT_HEADER),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

#[cfg(test)]
pub(crate) mod tests;
