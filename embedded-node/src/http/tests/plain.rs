//! The plain-HTTP port's application, called as a device on the venue network would
//! call it (its address in `ConnectInfo`, another than the one the request arrived at),
//! as the desktop window on the same machine does, and over loopback.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::super::serve::Arrived;
use super::super::{plain_app, Ports};
use crate::testing::TestBooth;

const TOKEN_HEADER: &str = "authorization";

async fn ask(
    app: &axum::Router,
    from: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder().method(method).uri(uri).header("host", "10.0.0.1:8788");
    if let Some(t) = token {
        req = req.header(TOKEN_HEADER, format!("Bearer {t}"));
    }
    let mut req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let from: SocketAddr = format!("{from}:50000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(from));
    req.extensions_mut().insert(Arrived("10.0.0.1:8788".parse().unwrap()));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, location, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_network_gets_the_shop_and_enrollment_and_nothing_else_in_clear() {
    let booth = TestBooth::with(None).await;
    let token = booth.services.operator_token.current().to_string();
    let app = plain_app(
        booth.services.clone(),
        Ports { https: 8787, http: 8788, bound: [0, 0, 0, 0].into() },
    );
    let phone = "10.0.0.57";
    for (method, path) in [
        ("GET", "/api/v1/ops/status"),
        ("POST", "/api/v1/ops/operator-token/rotate"),
        ("POST", "/api/v1/staff/session"),
        ("GET", "/api/v1/peer/status"),
        ("POST", "/api/v1/uploads/"),
        ("GET", "/metrics"),
        ("GET", "/api/v1/openapi.json"),
    ] {
        let (status, _, body) = ask(&app, phone, method, path, Some(json!({})), Some(&token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "https_required", "{method} {path}");
    }
    let (status, location, _) = ask(&app, phone, "GET", "/?a=1", None, None).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::PERMANENT_REDIRECT, Some("https://10.0.0.1:8787/?a=1"))
    );
    // A Host header with a bracket never closed: refused, not a crash.
    let mut req = Request::builder().uri("/").header("host", "[").body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo::<SocketAddr>("10.0.0.57:1".parse().unwrap()));
    assert_eq!(app.clone().oneshot(req).await.unwrap().status(), StatusCode::FORBIDDEN);

    let (status, _, _) = ask(&app, phone, "GET", "/api/v1/catalogue", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, quote) = ask(
        &app,
        phone,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    let (status, _, _) = ask(&app, phone, "GET", "/ca.pem", None, None).await;
    assert_eq!(status, StatusCode::OK);
    // A kiosk's, staff's or the lead's token is never taken in clear, even on a shop route.
    for (name, value) in
        [("x-boothcloud-kiosk", "bck_anything"), ("authorization", "Bearer staff-or-lead")]
    {
        let mut req = Request::builder()
            .method("POST")
            .uri("/api/v1/quotes")
            .header("content-type", "application/json")
            .header(name, value)
            .body(Body::from(json!({"lines": [{"sku": "COCOA", "qty": 1}]}).to_string()))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo::<SocketAddr>("10.0.0.57:1".parse().unwrap()));
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{name}"
        );
    }

    // The same machine, by loopback or by its own address (the desktop window when the
    // booth listens on one address): everything.
    for here in ["127.0.0.1", "10.0.0.1"] {
        let (status, _, body) =
            ask(&app, here, "GET", "/api/v1/ops/status", None, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{here}: {body}");
    }
}

#[tokio::test]
async fn a_manifest_can_close_the_shop_on_plain_http() {
    let text = boothcloud_core::manifest::DEMO_MANIFEST.replacen(
        "name = \"Stand 14 laptop\"",
        "name = \"Stand 14 laptop\"\nshop_on_http = false",
        1,
    );
    let booth = TestBooth::with(Some(&text)).await;
    let app = plain_app(
        booth.services.clone(),
        Ports { https: 8787, http: 8788, bound: [0, 0, 0, 0].into() },
    );
    let (status, _, body) = ask(&app, "10.0.0.57", "GET", "/api/v1/catalogue", None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("https_required"))
    );
    let (status, _, _) = ask(&app, "10.0.0.57", "GET", "/ca.pem", None, None).await;
    assert_eq!(status, StatusCode::OK);
}
