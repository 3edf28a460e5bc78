//! The plain-HTTP port's rule: what may be asked without TLS.
//!
//! Owns: the one decision per request on the plain port. From the booth laptop itself
//! (loopback, or a client whose address is the one the request arrived at: the desktop
//! app's window, scripts on the laptop) everything is served, as nothing crosses the
//! venue network. From anywhere else only: the booth CA and the
//! enrollment page, health, and — unless the manifest turns it off
//! (`node.shop_on_http = false`) — the public shop (catalogue, quotes, orders, an
//! order's state, storefront assets, the shop's pages, receipts and the pickup board)
//! for customers' phones, which cannot enroll. Other pages
//! are redirected to HTTPS; every other API call is refused with `403 https_required`
//! and never reaches a handler. Never: answers an operator, staff, peer or upload
//! route to the network in clear.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::Ports;
use crate::live_manifest::LiveManifest;

#[derive(Clone)]
pub struct Policy {
    pub ports: Ports,
    pub manifest: std::sync::Arc<LiveManifest>,
}

/// What the plain port does with a request from the network.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Serve,
    Redirect,
    Refuse,
}

/// The decision, on the method and path alone (and whether the shop is open on HTTP).
pub fn verdict(method: &Method, path: &str, shop_on_http: bool) -> Verdict {
    let read = method == Method::GET || method == Method::HEAD;
    let always = ["/ca.pem", "/ca.crt", "/enroll", "/healthz"];
    if read && always.contains(&path) {
        return Verdict::Serve;
    }
    if shop_on_http {
        let shop_read = path == "/api/v1/catalogue"
            || path.starts_with("/assets/")
            || is_order_state(path)
            || is_shop_page(path)
            || path == "/api/v1/pickup"
            || path.strip_prefix("/api/v1/receipts/").is_some_and(|r| {
                !r.is_empty() && r.trim_end_matches("/qr.svg").find('/').is_none()
            });
        let shop = (read && shop_read)
            || (method == Method::POST && (path == "/api/v1/quotes" || path == "/api/v1/orders"))
            // CORS preflights of those, from a shop page on another origin.
            || (method == Method::OPTIONS
                && matches!(path, "/api/v1/quotes" | "/api/v1/orders" | "/api/v1/catalogue"));
        if shop {
            return Verdict::Serve;
        }
    }
    let api = path.starts_with("/api/") || path == "/metrics" || path.starts_with("/media/");
    if read && !api {
        Verdict::Redirect
    } else {
        Verdict::Refuse
    }
}

/// The public shop's pages and what they load: the shop (without its service worker,
/// which browsers allow only over HTTPS), receipts, the pickup board, the bundles and
/// icons.
fn is_shop_page(path: &str) -> bool {
    matches!(
        path,
        "/shop"
            | "/shop/"
            | "/shop.html"
            | "/shop/manifest.webmanifest"
            | "/pickup"
            | "/pickup/"
            | "/pickup.html"
            | "/receipt.html"
            | "/favicon.png"
            | "/shop-icon-192.png"
            | "/shop-icon-512.png"
    ) || path.strip_prefix("/_app/").is_some_and(|f| !f.is_empty())
        || path.strip_prefix("/r/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// `/api/v1/orders/{id}` (one segment, no deeper).
fn is_order_state(path: &str) -> bool {
    path.strip_prefix("/api/v1/orders/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// `host` from a Host header value (`host:port`, `[v6]:port`, `host`).
pub fn host_only(value: &str) -> &str {
    if value.starts_with('[') {
        // `[v6]` with its brackets; a `[` never closed is taken whole (and refused later).
        return value.find(']').map_or(value, |end| &value[..=end]);
    }
    value.split(':').next().unwrap_or(value)
}

/// A host fit to put in a URL: `[v6]`, or a name or IPv4 address (letters, digits,
/// dots, hyphens).
pub fn valid_host(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.len() <= 253
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    }
}

pub async fn enforce(State(policy): State<Policy>, req: Request, next: Next) -> Response {
    let from = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    let here = req.extensions().get::<super::serve::Arrived>().map(|a| a.0.ip().to_canonical());
    if from.is_some_and(|ip| ip.is_loopback() || Some(ip) == here) {
        return next.run(req).await;
    }
    // An enrolled kiosk, staff and the lead talk HTTPS only: their tokens are not taken
    // in clear from the venue network.
    if req.headers().contains_key(crate::kiosks::KIOSK_HEADER)
        || req.headers().contains_key(header::AUTHORIZATION)
    {
        return refuse(&policy);
    }
    let shop = policy.manifest.current().manifest.node.shop_on_http;
    match verdict(req.method(), req.uri().path(), shop) {
        Verdict::Serve => next.run(req).await,
        Verdict::Redirect => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(host_only)
                .filter(|h| valid_host(h));
            let Some(host) = host else { return refuse(&policy) };
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let target = format!("https://{host}:{}{path}", policy.ports.https);
            match HeaderValue::from_str(&target) {
                Ok(location) => {
                    let mut r = StatusCode::PERMANENT_REDIRECT.into_response();
                    r.headers_mut().insert(header::LOCATION, location);
                    r
                }
                Err(_) => refuse(&policy),
            }
        }
        Verdict::Refuse => refuse(&policy),
    }
}

fn refuse(policy: &Policy) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "https_required",
        format!(
            "This booth answers this only over HTTPS (port {}). Enroll the device first: open /enroll on this port.",
            policy.ports.https
        ),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_staff_peer_and_upload_routes_are_refused_pages_redirected() {
        for (m, p) in [
            (Method::GET, "/api/v1/ops/status"),
            (Method::POST, "/api/v1/ops/operator-token/rotate"),
            (Method::POST, "/api/v1/staff/session"),
            (Method::GET, "/api/v1/staff/me"),
            (Method::GET, "/api/v1/peer/status"),
            (Method::POST, "/api/v1/peer/relay/orders"),
            (Method::POST, "/api/v1/uploads/"),
            (Method::GET, "/metrics"),
            (Method::GET, "/api/v1/orders/abc/retry"),
            (Method::DELETE, "/api/v1/orders/abc"),
            (Method::GET, "/api/v1/openapi.json"),
            (Method::GET, "/media/clips/a/b.mp4"),
        ] {
            assert_eq!(verdict(&m, p, true), Verdict::Refuse, "{m} {p}");
        }
        for p in ["/", "/index.html", "/counter/", "/counter.html", "/shop-sw.js", "/r/a/b"] {
            assert_eq!(verdict(&Method::GET, p, true), Verdict::Redirect, "{p}");
        }
        for (m, p) in [
            (Method::GET, "/api/v1/counter/orders"),
            (Method::POST, "/api/v1/counter/orders/abc/refunds"),
            (Method::GET, "/api/v1/receipts/a/b/qr.svg"),
        ] {
            assert_eq!(verdict(&m, p, true), Verdict::Refuse, "{m} {p}");
        }
    }

    #[test]
    fn the_public_shop_and_enrollment_are_served_and_the_shop_can_be_turned_off() {
        let shop = [
            (Method::GET, "/api/v1/catalogue"),
            (Method::POST, "/api/v1/quotes"),
            (Method::POST, "/api/v1/orders"),
            (Method::GET, "/api/v1/orders/0190-abc"),
            (Method::GET, "/assets/img/tote.jpg"),
            (Method::GET, "/shop/"),
            (Method::GET, "/_app/shop-1a2b.js"),
            (Method::GET, "/r/0123456789abcdefghjkmnpqrs"),
            (Method::GET, "/pickup/"),
            (Method::GET, "/api/v1/pickup"),
            (Method::GET, "/api/v1/receipts/0123456789abcdefghjkmnpqrs"),
            (Method::GET, "/api/v1/receipts/0123456789abcdefghjkmnpqrs/qr.svg"),
        ];
        for (m, p) in &shop {
            assert_eq!(verdict(m, p, true), Verdict::Serve, "{m} {p}");
            // With the shop off, its calls are refused and its pictures sent to HTTPS.
            let off = if p.starts_with("/api/") || *m != Method::GET {
                Verdict::Refuse
            } else {
                Verdict::Redirect
            };
            assert_eq!(verdict(m, p, false), off, "{m} {p} with the shop off");
        }
        for p in ["/ca.pem", "/ca.crt", "/enroll", "/healthz"] {
            assert_eq!(verdict(&Method::GET, p, false), Verdict::Serve, "{p}");
        }
        assert_eq!(verdict(&Method::POST, "/ca.pem", true), Verdict::Refuse);
    }

    #[test]
    fn host_only_strips_the_port() {
        assert_eq!(host_only("10.0.0.7:8788"), "10.0.0.7");
        assert_eq!(host_only("booth.local"), "booth.local");
        assert_eq!(host_only("[fe80::1]:8788"), "[fe80::1]");
        assert_eq!(host_only("["), "[");
        assert_eq!(host_only("[::1"), "[::1");
        assert_eq!(host_only(""), "");
        assert!(valid_host("[fe80::1]") && valid_host("10.0.0.7") && valid_host("booth.local"));
        for bad in ["", "[", "[::1", "[zz]", "a/b", "a b", "evil.com/x"] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
