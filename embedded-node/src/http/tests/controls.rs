//! The controls' routes in-process: what a degrade level does to the routes a client
//! sees (shed groups answer 503 in words, sales never), who may press the controls, and
//! a runbook switching the storefront's origin.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{call, harness, harness_with, Harness, AUTH};
use boothcloud_core::manifest::{TranscodeMode, DEMO_MANIFEST};

/// Status and the `Retry-After` header of a GET.
async fn get(h: &Harness, uri: &str, auth: bool) -> (StatusCode, Option<String>) {
    let mut req = Request::builder().method("GET").uri(uri);
    if auth {
        req = req.header(AUTH.0, AUTH.1);
    }
    let res = h.app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    (res.status(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()))
}

async fn audit(h: &Harness) -> Vec<Value> {
    let (s, body) = call(&h.app, "GET", "/api/v1/ops/audit?limit=50", None, &[AUTH]).await;
    assert_eq!(s, StatusCode::OK);
    body.as_array().unwrap().clone()
}

/// The body of `GET /assets/{path}`.
async fn asset(h: &Harness, path: &str) -> String {
    let req = Request::builder()
        .method("GET")
        .uri(format!("/assets/{path}"))
        .body(Body::empty())
        .unwrap();
    let res = h.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec())
        .unwrap()
}

#[tokio::test]
async fn each_degrade_effect_takes_hold_at_once_and_normal_undoes_them_all() {
    let h = harness().await;
    let s = &h.services;
    let sampling = s.telemetry.sampling();
    let (status, view) =
        call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "essential"})), &[AUTH])
            .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["level"], "essential");
    assert_eq!(s.telemetry.sampling(), 0.0);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::EssentialOnly);
    assert!(s.media.forwarder.is_paused());
    assert_eq!(s.assets.serve_stale(), 86_400);
    // Shed: 503 with Retry-After, in words.
    assert_eq!(
        get(&h, "/metrics", true).await,
        (StatusCode::SERVICE_UNAVAILABLE, Some("60".into()))
    );
    assert_eq!(
        get(&h, "/api/v1/ops/charts/spend.svg", true).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, e) = call(&h.app, "GET", "/metrics", None, &[AUTH]).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("shed"))
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("Sales are not affected"));
    // Essential: catalogue, quotes, orders, the storefront, the operator's own views.
    assert_eq!(get(&h, "/api/v1/catalogue", false).await.0, StatusCode::OK);
    assert_eq!(get(&h, "/assets/index.html", false).await.0, StatusCode::OK);
    let (status, q) = call(
        &h.app,
        "POST",
        "/api/v1/quotes",
        Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let order = json!({"quote_token": q["token"], "payment": {"method": "pay_at_pickup"}});
    let (status, o) = call(
        &h.app,
        "POST",
        "/api/v1/orders",
        Some(order),
        &[("idempotency-key", "degraded-order-1")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    assert_eq!(get(&h, "/api/v1/ops/status", true).await.0, StatusCode::OK);

    let (status, _) =
        call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "reduced"})), &[AUTH])
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.telemetry.sampling(), 0.01);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::Reduced);
    assert!(!s.media.forwarder.is_paused(), "reduced keeps forwarding");
    assert_eq!(get(&h, "/metrics", true).await.0, StatusCode::OK, "reduced sheds charts only");
    assert_eq!(
        get(&h, "/api/v1/ops/charts/spend.svg", true).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let (status, view) =
        call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "normal"})), &[AUTH])
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["shed"], json!([]));
    assert_eq!(s.telemetry.sampling(), sampling);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::Full);
    assert_eq!(s.assets.serve_stale(), 0);
    assert_eq!(get(&h, "/api/v1/ops/charts/spend.svg", true).await.0, StatusCode::OK);

    let log = audit(&h).await;
    let changes: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e["action"] == "degrade")
        .map(|e| (e["before"].as_str().unwrap(), e["after"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, [("reduced", "normal"), ("essential", "reduced"), ("normal", "essential")]);
}

#[tokio::test]
async fn control_calls_need_the_operator_and_a_level_that_exists() {
    let h = harness().await;
    for (method, uri, body) in [
        ("GET", "/api/v1/ops/controls", None),
        ("POST", "/api/v1/ops/degrade", Some(json!({"level": "essential"}))),
        ("PUT", "/api/v1/ops/media/forwarding", Some(json!({"paused": true}))),
        ("POST", "/api/v1/ops/runbooks/rush-hour/run", None),
        ("POST", "/api/v1/ops/runbooks/rush-hour/dry-run", None),
        ("POST", "/api/v1/ops/failover", Some(json!({"path": "offline"}))),
    ] {
        let (status, e) =
            call(&h.app, method, uri, body, &[("authorization", "Bearer not-the-token")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {e}");
    }
    assert_eq!(h.services.controls.level(), "normal");
    assert!(!h.services.media.forwarder.is_paused());

    let (status, e) =
        call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "panic"})), &[AUTH]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "unknown_level");
    assert!(e["error"]["message"].as_str().unwrap().contains("normal, reduced, essential"));
    let (status, _) = call(&h.app, "POST", "/api/v1/ops/runbooks/nope/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let refused = &audit(&h).await[0];
    assert_eq!(
        (refused["action"].as_str(), refused["after"].as_str()),
        (Some("degrade"), Some("panic"))
    );
    assert!(refused["result"].as_str().unwrap().contains("no degrade level"));
}

#[tokio::test]
async fn a_runbook_switches_the_storefront_to_its_fallback_origin_and_back() {
    let origins = tempfile::tempdir().unwrap();
    for (name, text) in [("primary", "from the primary"), ("mirror", "from the mirror")] {
        std::fs::create_dir_all(origins.path().join(name)).unwrap();
        std::fs::write(origins.path().join(name).join("menu.txt"), text).unwrap();
    }
    let (primary, mirror) = (origins.path().join("primary"), origins.path().join("mirror"));
    let manifest = format!(
        "{}\n[[runbooks]]\nname = \"mirror\"\ntrigger = \"manual\"\nsteps = [\"origin fallback\"]\n\n\
         [[runbooks]]\nname = \"primary\"\ntrigger = \"manual\"\nsteps = [\"origin primary\"]\n",
        DEMO_MANIFEST.replacen(
            "origin = \"demo:storefront\"",
            &format!("origin = \"{}\"\nfallback_origin = \"{}\"", primary.display(), mirror.display()),
            1
        )
    );
    let h = harness_with(Some(&manifest)).await;
    assert_eq!(asset(&h, "menu.txt").await, "from the primary");

    let (_, dry) = call(&h.app, "POST", "/api/v1/ops/runbooks/mirror/dry-run", None, &[AUTH]).await;
    assert_eq!(
        (dry["steps"][0]["before"].as_str(), dry["steps"][0]["after"].as_str()),
        (Some("primary origin"), Some("fallback origin"))
    );
    let (status, run) =
        call(&h.app, "POST", "/api/v1/ops/runbooks/mirror/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (_, view) = call(&h.app, "GET", "/api/v1/ops/controls", None, &[AUTH]).await;
    assert_eq!(view["origin"], "fallback");
    h.services.assets.store().purge(|_| true);
    assert_eq!(asset(&h, "menu.txt").await, "from the mirror", "a miss now goes to the mirror");
    let saved: String = sqlx::query_scalar("SELECT value FROM control_state WHERE name = 'origin'")
        .fetch_one(&h.services.db)
        .await
        .unwrap();
    assert_eq!(saved, "fallback", "kept for a restart");

    call(&h.app, "POST", "/api/v1/ops/runbooks/primary/run", None, &[AUTH]).await;
    h.services.assets.store().purge(|_| true);
    assert_eq!(asset(&h, "menu.txt").await, "from the primary");
    let log = audit(&h).await;
    assert!(
        log.iter().any(|e| e["action"] == "asset origin"
            && e["after"] == "fallback origin"
            && e["result"] == "ok"),
        "{log:?}"
    );
}
