//! The node's HTTP edge: routes, limits, the one error type, and the OpenAPI document
//! generated from the route handlers themselves (`utoipa`), so it cannot drift from the
//! code. The only module that knows HTTP: it parses requests into calls on
//! [`Services`] and turns their answers and errors into responses. Nothing outside it
//! imports it.

mod assets;
mod charts;
mod clock;
mod commerce;
mod controls;
mod dashboard;
mod enroll;
pub mod error;
mod extract;
mod kiosks;
mod limits;
mod live;
mod media;
mod metrics;
mod offline_sales;
mod openapi;
mod operator_token;
mod peers;
pub mod plain;
mod printing;
mod selling;
pub mod serve;
mod shed;
mod staff;
mod status;
mod teardown;
mod timing;
mod uplink;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::services::Services;
use boothcloud_core::manifest::Sheddable;
use error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Boothcloud node API", description = "The booth's micro-cloud node: catalogue, quotes, orders and operator controls. \
        Money is always an integer number of minor units of the event's currency. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    modifiers(&SecuritySchemes),
    paths(assets::serve_asset, media::tus_options, media::tus_create, media::tus_head, media::tus_patch, media::tus_delete,
        media::clip_file),
    components(schemas(crate::charts::Span)),
    tags((name = "commerce", description = "What kiosks use"), (name = "status"), (name = "operator", description = "Needs the operator token"),
        (name = "peers", description = "Booth to booth: signed with the pairing key"),
        (name = "uploads", description = "Resumable uploads (tus 1.0.0) from the booth's devices, and the clips made from them"),
        (name = "staff", description = "Staff signed in on a device with their name and PIN"),
        (name = "enrollment", description = "Public, on both ports: the booth CA and how a device comes to trust it"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let scheme =
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description));
            SecurityScheme::Http(scheme.build())
        };
        components.add_security_scheme("operator", bearer("The booth's operator token"));
        components.add_security_scheme(
            "upload",
            bearer("An upload token the operator issued (or the operator token)"),
        );
        components.add_security_scheme(
            "staff",
            bearer("A staff session token (`POST /api/v1/staff/session`)"),
        );
    }
}

/// The OpenAPI document describing exactly the routes [`app`] serves.
pub fn document() -> serde_json::Value {
    openapi::complete(api_with(None).1)
}

/// The routes, the sheddable ones behind the shed gate of `services` (none for the
/// document alone).
fn api_with(services: Option<&Services>) -> (Router<Services>, utoipa::openapi::OpenApi) {
    let gated = |router, what| match services {
        Some(s) => shed::gated(router, s.controls.gate().clone(), what),
        None => router,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(commerce::routes())
        .merge(status::routes())
        .merge(live::routes())
        .merge(assets::routes())
        .merge(metrics::routes())
        .merge(gated(metrics::scrape_routes(), Sheddable::Metrics))
        .merge(gated(charts::routes(), Sheddable::Charts))
        .merge(peers::routes())
        .merge(media::routes())
        .merge(uplink::routes())
        .merge(controls::routes())
        .merge(teardown::routes())
        .merge(clock::routes())
        .merge(operator_token::routes())
        .merge(staff::routes())
        .merge(enroll::routes())
        .merge(kiosks::routes())
        .merge(selling::routes())
        .merge(offline_sales::routes())
        .merge(printing::routes())
        .split_for_parts()
}

/// The node's two ports, as bound.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub https: u16,
    pub http: u16,
    /// The address the HTTPS port is bound to (unspecified: every interface).
    pub bound: std::net::IpAddr,
}

/// What the plain-HTTP port serves: the same application behind [`plain::enforce`].
pub fn plain_app(services: Services, ports: Ports) -> Router {
    let policy = plain::Policy { ports, manifest: services.manifest.clone() };
    app(services, ports).layer(axum::middleware::from_fn_with_state(policy, plain::enforce))
}

/// The whole application, ready to serve (on the HTTPS port).
pub fn app(services: Services, ports: Ports) -> Router {
    let gate = services.controls.gate().clone();
    let (router, openapi) = api_with(Some(&services));
    let openapi = Arc::new(openapi::complete(openapi));
    let router = router
        .route(openapi::DOCUMENT_PATH, get(move || async move { Json(openapi.as_ref().clone()) }))
        .merge(dashboard::routes())
        .fallback(|| async { ApiError::not_found("this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not accept that method",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(app_window_cors())
        // After the CORS layer: cached assets carry the origin's own headers (its Vary),
        // not the API's, so that what a peer or a client stores is what the origin said.
        .route(ASSET_ROUTE, get(assets::serve_asset).fallback(assets::other_method))
        // Also after it: tus answers its own OPTIONS (protocol discovery), which the CORS
        // layer would take for a preflight; it gets CORS of its own (`media::tus_cors`).
        .merge(media::tus_routes(gate.clone()))
        .merge(shed::gated_plain(media::clip_routes(), gate, Sheddable::Clips))
        // A panic anywhere becomes the JSON 500; outermost, every answer is timed
        // (under the route template the router matched) and metered.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the node hit an internal error; it has been logged",
                )
                .into_response()
            },
        ))
        // Over its client's limit, a request is refused before any handler (timed and
        // counted under its route all the same).
        .layer(axum::middleware::from_fn_with_state(
            limits::Gate { limits: services.limits.clone(), kiosks: services.kiosks.clone() },
            limits::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            timing::Timing::of(&services),
            timing::time_request,
        ))
        .layer(axum::middleware::from_fn_with_state(services.clock.clone(), peers::stamp_time))
        .layer(axum::Extension(ports));
    router.with_state(services)
}

/// The asset route's template (as the router and telemetry name it).
pub const ASSET_ROUTE: &str = "/assets/{*path}";

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
        // The Sell screen waits as long as the node asks after a 429 or 503.
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("idempotent-replayed")])
        .max_age(std::time::Duration::from_secs(600))
}

#[cfg(test)]
mod tests;
