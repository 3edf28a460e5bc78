//! Router tests: the whole app in-process with `oneshot`, a real SQLite file, and a
//! manual clock so expiry is tested without waiting.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;
use crate::clock::ManualClock;
use crate::manifest::watch::ManifestSource;
use crate::secrets::{FileVault, Secrets};

struct Harness {
    app: Router,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    // Wednesday 2026-06-10 09:00 in Berlin: outside the demo's 16:00-18:00 happy hour.
    let clock = ManualClock::new("2026-06-10T07:00:00Z".parse::<Timestamp>().unwrap());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let manifest = Arc::new(LiveManifest::load(ManifestSource::Embedded, shared.clone()).unwrap());
    let secrets = Secrets::from_store(Arc::new(FileVault::open(dir.path()).unwrap()), None, Some("operator-token-for-tests".into())).unwrap();
    let (db, writer) = crate::storage::open(&dir.path().join("t.db")).await.unwrap();
    let (orders, _task) = OrderQueue::start(db.clone(), writer).await.unwrap();
    let state = AppState {
        manifest,
        orders,
        signer: QuoteSigner::new(secrets.quote_key),
        db,
        clock: shared,
        operator_token: "operator-token-for-tests".into(),
        secrets_store: "file",
        secrets_fallback: None,
        started_at: clock.now(),
    };
    Harness { app: app(state), clock, _dir: dir }
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_quote_expires_on_the_clock_not_on_the_wall() {
    let h = harness().await;
    let (s, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(q["total"], 400, "no happy hour at 09:00");
    assert_eq!(q["expires_at"], "2026-06-10T07:05:00Z");
    let order = json!({"quote_token": q["token"], "payment": {"method": "card"}});

    h.clock.advance(SignedDuration::from_secs(300));
    let (s, e) = call(&h.app, "POST", "/api/v1/orders", Some(order.clone()), &[("idempotency-key", "late")]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("quote_expired")));

    h.clock.advance(SignedDuration::from_secs(-1));
    let (s, _) = call(&h.app, "POST", "/api/v1/orders", Some(order), &[("idempotency-key", "in-time")]).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn happy_hour_follows_the_event_time_zone() {
    let h = harness().await;
    // 16:30 in Berlin (summer time) is 14:30 UTC.
    h.clock.set("2026-06-10T14:30:00Z".parse().unwrap());
    let (_, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]).await;
    assert_eq!(q["total"], 320, "20% off 4.00 during happy hour");
    h.clock.set("2026-06-10T16:00:00Z".parse().unwrap()); // 18:00 Berlin: over.
    let (_, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]).await;
    assert_eq!(q["total"], 400);
}

#[tokio::test]
async fn operator_routes_need_the_token() {
    let h = harness().await;
    let (s, e) = call(&h.app, "GET", "/api/v1/ops/status", None, &[]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (s, _) = call(&h.app, "GET", "/api/v1/ops/status", None, &[("authorization", "Bearer nope")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = call(&h.app, "GET", "/api/v1/ops/status", None, &[("authorization", "Bearer operator-token-for-tests")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["orders"]["captured"], 0);
    assert_eq!(body["secrets"]["store"], "file");
    let (s, e) = call(&h.app, "GET", "/api/v1/ops/orders?limit=0", None, &[("authorization", "Bearer operator-token-for-tests")]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
    let (s, e) = call(&h.app, "GET", "/api/v1/ops/orders?status=lost", None, &[("authorization", "Bearer operator-token-for-tests")]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
}

#[tokio::test]
async fn operator_order_list_pages_newest_first() {
    let h = harness().await;
    for i in 0..5 {
        let (_, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "TOTE", "qty": 1}]})), &[]).await;
        let key = format!("k{i}");
        let (s, _) = call(&h.app, "POST", "/api/v1/orders", Some(json!({"quote_token": q["token"], "payment": {"method": "cash"}})), &[("idempotency-key", &key)]).await;
        assert_eq!(s, StatusCode::CREATED);
        h.clock.advance(SignedDuration::from_secs(1));
    }
    let auth = [("authorization", "Bearer operator-token-for-tests")];
    let (_, page) = call(&h.app, "GET", "/api/v1/ops/orders?limit=3", None, &auth).await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 3);
    let before = page["next_before"].as_str().unwrap().to_owned();
    let (_, rest) = call(&h.app, "GET", &format!("/api/v1/ops/orders?limit=3&before={before}"), None, &auth).await;
    assert_eq!(rest["orders"].as_array().unwrap().len(), 2);
    assert!(rest["next_before"].is_null());
    let (_, captured) = call(&h.app, "GET", "/api/v1/ops/orders?status=captured", None, &auth).await;
    assert_eq!(captured["orders"].as_array().unwrap().len(), 5);
}
