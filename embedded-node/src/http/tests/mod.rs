//! Router tests: the whole app in-process with `oneshot` over a test booth (a real
//! SQLite file, and a manual clock so expiry is tested without waiting).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;
use crate::testing::TestBooth;

mod conformance;
mod controls;
mod plain;
mod teardown;

/// A test booth and its app, called in-process with `oneshot`.
pub(crate) struct Harness {
    pub(crate) booth: TestBooth,
    pub(crate) app: Router,
}

impl std::ops::Deref for Harness {
    type Target = TestBooth;

    fn deref(&self) -> &TestBooth {
        &self.booth
    }
}

pub(crate) async fn harness() -> Harness {
    harness_with(None).await
}

/// The app on `manifest` (TOML text), or on the demo manifest.
pub(crate) async fn harness_with(manifest: Option<&str>) -> Harness {
    let booth = TestBooth::with(manifest).await;
    Harness {
        app: app(
            booth.services.clone(),
            super::Ports { https: 8787, http: 8788, bound: [0, 0, 0, 0].into() },
        ),
        booth,
    }
}

pub(crate) async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => {
            req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap()
        }
        None => req.body(Body::empty()).unwrap(),
    };
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    conformance::check(method, uri, status.as_u16(), &body);
    (status, body)
}

#[tokio::test]
async fn a_quote_expires_on_the_clock_not_on_the_wall() {
    let h = harness().await;
    let (s, q) = call(
        &h.app,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(q["total"], 400, "no happy hour at 09:00");
    assert_eq!(q["expires_at"], "2026-06-10T07:05:00Z");
    let order = json!({"quote_token": q["token"], "payment": {"method": "pay_at_pickup"}});

    h.clock.advance(SignedDuration::from_secs(300));
    let (s, e) =
        call(&h.app, "POST", "/api/v1/orders", Some(order.clone()), &[("idempotency-key", "late")])
            .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quote_expired"))
    );

    h.clock.advance(SignedDuration::from_secs(-1));
    let (s, _) =
        call(&h.app, "POST", "/api/v1/orders", Some(order), &[("idempotency-key", "in-time")])
            .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn happy_hour_follows_the_event_time_zone() {
    let h = harness().await;
    // 16:30 in Berlin (summer time) is 14:30 UTC.
    h.clock.set("2026-06-10T14:30:00Z".parse().unwrap());
    let (_, q) = call(
        &h.app,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})),
        &[],
    )
    .await;
    assert_eq!(q["total"], 320, "20% off 4.00 during happy hour");
    h.clock.set("2026-06-10T16:00:00Z".parse().unwrap()); // 18:00 Berlin: over.
    let (_, q) = call(
        &h.app,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})),
        &[],
    )
    .await;
    assert_eq!(q["total"], 400);
}

#[tokio::test]
async fn operator_routes_need_the_token() {
    let h = harness().await;
    let (s, e) = call(&h.app, "GET", "/api/v1/ops/status", None, &[]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (s, _) =
        call(&h.app, "GET", "/api/v1/ops/status", None, &[("authorization", "Bearer nope")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = call(
        &h.app,
        "GET",
        "/api/v1/ops/status",
        None,
        &[("authorization", "Bearer operator-token-for-tests")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["orders"]["captured"], 0);
    assert_eq!(body["secrets"]["store"], "file");
    let (s, e) = call(
        &h.app,
        "GET",
        "/api/v1/ops/orders?limit=0",
        None,
        &[("authorization", "Bearer operator-token-for-tests")],
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
    let (s, e) = call(
        &h.app,
        "GET",
        "/api/v1/ops/orders?status=lost",
        None,
        &[("authorization", "Bearer operator-token-for-tests")],
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
}

#[tokio::test]
async fn operator_order_list_pages_newest_first() {
    let h = harness().await;
    for i in 0..5 {
        let (_, q) = call(
            &h.app,
            "POST",
            "/api/v1/quotes",
            Some(json!({"lines": [{"sku": "TOTE", "qty": 1}]})),
            &[],
        )
        .await;
        let key = format!("k{i}");
        let (s, _) = call(
            &h.app,
            "POST",
            "/api/v1/orders",
            Some(json!({"quote_token": q["token"], "payment": {"method": "pay_at_pickup"}})),
            &[("idempotency-key", &key)],
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        h.clock.advance(SignedDuration::from_secs(1));
    }
    let auth = [("authorization", "Bearer operator-token-for-tests")];
    let (_, page) = call(&h.app, "GET", "/api/v1/ops/orders?limit=3", None, &auth).await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 3);
    let before = page["next_before"].as_str().unwrap().to_owned();
    let (_, rest) =
        call(&h.app, "GET", &format!("/api/v1/ops/orders?limit=3&before={before}"), None, &auth)
            .await;
    assert_eq!(rest["orders"].as_array().unwrap().len(), 2);
    assert!(rest["next_before"].is_null());
    let (_, captured) =
        call(&h.app, "GET", "/api/v1/ops/orders?status=captured", None, &auth).await;
    assert_eq!(captured["orders"].as_array().unwrap().len(), 5);
}

pub(crate) const AUTH: (&str, &str) = ("authorization", "Bearer operator-token-for-tests");

async fn place(h: &Harness, key: &str) {
    let (_, q) = call(
        &h.app,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "TOTE", "qty": 1}]})),
        &[],
    )
    .await;
    let (s, _) = call(
        &h.app,
        "POST",
        "/api/v1/orders",
        Some(json!({"quote_token": q["token"], "payment": {"method": "pay_at_pickup"}})),
        &[("idempotency-key", key)],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn today_starts_at_midnight_in_the_event_time_zone() {
    let h = harness().await;
    // 23:30 Berlin on 9 June (21:30 UTC): yesterday for the booth on the 10th.
    h.clock.set("2026-06-09T21:30:00Z".parse().unwrap());
    place(&h, "yesterday").await;
    // 00:30 Berlin on 10 June is 22:30 UTC on the 9th: already today.
    h.clock.set("2026-06-09T22:30:00Z".parse().unwrap());
    place(&h, "after-midnight").await;
    h.clock.set("2026-06-10T07:00:00Z".parse().unwrap());
    place(&h, "morning").await;
    let (s, body) = call(&h.app, "GET", "/api/v1/ops/status", None, &[AUTH]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["today"]["since"], "2026-06-09T22:00:00Z");
    assert_eq!(body["today"]["orders"], 2);
    assert_eq!(body["today"]["revenue"], 2 * body["orders"]["revenue"].as_i64().unwrap() / 3);
    assert_eq!(body["orders"]["captured"], 3);
    assert_eq!(body["link"]["uplink"], "not_checked");
}

/// Reads the body of a streaming response until `want` SSE messages have arrived.
async fn sse_messages(res: axum::response::Response, want: usize) -> Vec<(String, Value)> {
    let mut body = res.into_body().into_data_stream();
    let mut text = String::new();
    let mut out = Vec::new();
    use futures_util::StreamExt;
    while out.len() < want {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
            .await
            .expect("a message within 5 s");
        let Some(chunk) = chunk else { break };
        text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = text.find("\n\n") {
            let message: String = text.drain(..end + 2).collect();
            let event = message
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("message")
                .to_owned();
            let data: String = message.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if !data.is_empty() {
                out.push((event, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_live_stream_sends_snapshots_and_ends_when_the_node_stops() {
    let h = harness().await;
    let req = |auth: bool| {
        let b = Request::builder().uri("/api/v1/ops/stream");
        let b = if auth { b.header(AUTH.0, AUTH.1) } else { b };
        b.body(Body::empty()).unwrap()
    };
    let res = h.app.clone().oneshot(req(false)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = h.app.clone().oneshot(req(true)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let first = sse_messages(res, 1).await;
    assert_eq!(first[0].0, "snapshot");
    assert_eq!(first[0].1["today"]["orders"], 0);
    assert_eq!(first[0].1["event"]["id"], "harbour-lights-2026");

    // A second stream sees an order placed after it opened, within a second or two.
    let res = h.app.clone().oneshot(req(true)).await.unwrap();
    place(&h, "live").await;
    let later = sse_messages(res, 2).await;
    assert_eq!(later.last().unwrap().1["today"]["orders"], 1);

    // Stopping the node ends open streams instead of holding shutdown.
    let res = h.app.clone().oneshot(req(true)).await.unwrap();
    h.lifecycle.begin_stopping();
    let mut body = res.into_body().into_data_stream();
    use futures_util::StreamExt;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        while let Some(chunk) = body.next().await {
            chunk.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream must end when the node stops");
}

#[tokio::test]
async fn only_the_app_window_may_call_across_origins() {
    let h = harness().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/ops/status")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization,content-type,x-boothcloud-client",
            )
            .body(Body::empty())
            .unwrap()
    };
    let res = h.app.clone().oneshot(preflight("tauri://localhost")).await.unwrap();
    assert_eq!(
        res.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("tauri://localhost")
    );
    // The app names itself for the audit log: that header must pass the preflight.
    let allowed = res
        .headers()
        .get("access-control-allow-headers")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default();
    assert!(
        allowed.contains("x-boothcloud-client") && allowed.contains("authorization"),
        "{allowed}"
    );
    let res = h.app.clone().oneshot(preflight("http://evil.example")).await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_dashboard_is_served_at_the_root() {
    let h = harness().await;
    let res = h
        .app
        .clone()
        .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let res = h
        .app
        .clone()
        .oneshot(Request::builder().uri("/_app/../../etc/passwd").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
