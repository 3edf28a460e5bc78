//! The front end's files, embedded in the binary: the booth screen at `/` (so an ops
//! lead can open any booth's dashboard from a tablet with nothing installed), the shop
//! at `/shop/` with its web app manifest and service worker, the counter at
//! `/counter/`, the pickup board at `/pickup/` and receipts at `/r/<id>`.
//!
//! Owns: those pages, `GET /_app/{file}` (Vite's hashed bundles: cached for a year),
//! the icons, and the shop's manifest, made from the event (name, colours). Pages and
//! the service worker are never cached, so a new build is picked up at once.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

use super::error::ApiError;
use crate::services::Services;

static UI: Dir<'static> = include_dir!("$BOOTHCLOUD_UI_DIR");

pub fn routes() -> Router<Services> {
    let page = |name: &'static str| get(move || async move { file(name, false) });
    Router::new()
        .route("/", page("index.html"))
        .route("/index.html", page("index.html"))
        .route("/favicon.png", page("favicon.png"))
        .route("/shop", get(|| async { Redirect::permanent("/shop/") }))
        .route("/shop/", page("shop.html"))
        .route("/shop.html", page("shop.html"))
        .route("/shop/manifest.webmanifest", get(web_app_manifest))
        .route("/shop-sw.js", page("shop-sw.js"))
        .route("/shop-icon-192.png", page("shop-icon-192.png"))
        .route("/shop-icon-512.png", page("shop-icon-512.png"))
        .route("/counter", get(|| async { Redirect::permanent("/counter/") }))
        .route("/counter/", page("counter.html"))
        .route("/counter.html", page("counter.html"))
        .route("/pickup", get(|| async { Redirect::permanent("/pickup/") }))
        .route("/pickup/", page("pickup.html"))
        .route("/pickup.html", page("pickup.html"))
        .route("/r/{receipt_id}", page("receipt.html"))
        .route("/receipt.html", page("receipt.html"))
        .route(
            "/_app/{*file}",
            get(|Path(name): Path<String>| async move { file(&format!("_app/{name}"), true) }),
        )
}

/// The shop's web app manifest, from the event: its name and the shop's colours.
async fn web_app_manifest(State(state): State<Services>) -> Response {
    let loaded = state.manifest.current();
    let m = &loaded.manifest;
    let shop = &m.selling.shop;
    let short: String = m.event.name.chars().take(12).collect();
    let body = serde_json::json!({
        "name": m.event.name,
        "short_name": short,
        "id": "/shop/",
        "start_url": "/shop/",
        "scope": "/shop/",
        "display": "standalone",
        "theme_color": shop.theme_color,
        "background_color": shop.background_color,
        "icons": [
            {"src": "/shop-icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/shop-icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"}
        ]
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
        .into_response()
}

fn file(path: &str, immutable: bool) -> Response {
    // `include_dir` paths never contain `..`; anything else is simply not found.
    let Some(found) = UI.get_file(path) else {
        return ApiError::not_found("this file").into_response();
    };
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = (StatusCode::OK, found.contents()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if path == "shop.html" {
        // The shop compiles the price engine (WebAssembly) on an enrolled kiosk, to sell
        // while it cannot reach the node: `wasm-unsafe-eval` allows exactly that, no eval.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
        );
    } else if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'"),
        );
    }
    if path == "shop-sw.js" {
        // Its scope is the shop only (`/shop/`), from the site's root.
        headers.insert("service-worker-allowed", HeaderValue::from_static("/shop/"));
    }
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_page_is_embedded() {
        assert!(
            UI.get_file("index.html").is_some(),
            "index.html must be embedded (built UI or the placeholder)"
        );
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(content_type("_app/index-3f2a.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("_app/boothcloud_pricing_bg-1a2b.wasm"), "application/wasm");
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }
}
