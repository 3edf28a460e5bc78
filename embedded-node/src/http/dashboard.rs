//! The booth screen's files, embedded in the binary and served at `/`, so an ops lead
//! can open any booth's dashboard from a tablet with nothing installed.
//!
//! Owns: `GET /` and `GET /_app/{file}` (Vite's hashed bundles: cached for a year) and
//! the favicon. `index.html` is never cached, so a new build is picked up at once.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

use super::error::ApiError;
use crate::services::Services;

static UI: Dir<'static> = include_dir!("$BOOTHCLOUD_UI_DIR");

pub fn routes() -> Router<Services> {
    Router::new()
        .route("/", get(|| async { file("index.html", false) }))
        .route("/index.html", get(|| async { file("index.html", false) }))
        .route("/favicon.png", get(|| async { file("favicon.png", false) }))
        .route(
            "/_app/{*file}",
            get(|Path(name): Path<String>| async move { file(&format!("_app/{name}"), true) }),
        )
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
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
        );
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
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }
}
