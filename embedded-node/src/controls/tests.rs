//! The controls in-process: the whole app with a manual clock, so a runbook's trigger
//! is tested with fed latency and time that moves only when the test says.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jiff::SignedDuration;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::http::tests::{call, harness, harness_with, Harness, AUTH};
use crate::manifest::{TranscodeMode, DEMO_MANIFEST};

/// The demo, plus a runbook that degrades when kiosks are slow (700 ms fires it, the
/// demo's own `kiosks-slow` at 1 s does not).
fn slow_booth() -> String {
    format!(
        "{DEMO_MANIFEST}\n[[runbooks]]\nname = \"slow-sheds\"\ntrigger = \"p99 over 500ms for 30s\"\n\
         steps = [\"degrade essential\", \"pause uploads\", \"notify Slow: essential mode\"]\n"
    )
}

/// Status and the `Retry-After` header of a GET.
async fn get(h: &Harness, uri: &str, auth: bool) -> (StatusCode, Option<String>) {
    let mut req = Request::builder().method("GET").uri(uri);
    if auth {
        req = req.header(AUTH.0, AUTH.1);
    }
    let res = h.app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    (res.status(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()))
}

async fn order(h: &Harness, token: &Value, key: &str) -> (StatusCode, Value) {
    let body = json!({"quote_token": token, "payment": {"method": "cash"}});
    call(&h.app, "POST", "/api/v1/orders", Some(body), &[("idempotency-key", key)]).await
}

async fn audit(h: &Harness) -> Vec<Value> {
    let (s, body) = call(&h.app, "GET", "/api/v1/ops/audit?limit=50", None, &[AUTH]).await;
    assert_eq!(s, StatusCode::OK);
    body.as_array().unwrap().clone()
}

fn slow_minute(h: &Harness) {
    for _ in 0..25 {
        h.state.telemetry.record(&Method::POST, "/api/v1/quotes", 200, 700_000);
    }
}

#[tokio::test]
async fn a_slow_booth_runs_its_runbook_once_after_holding_for_thirty_seconds() {
    let h = harness_with(Some(&slow_booth())).await;
    let controls = &h.state.controls;
    slow_minute(&h);
    assert!(controls.tick().await.is_empty(), "the condition has only just started holding");
    h.clock.advance(SignedDuration::from_secs(20));
    slow_minute(&h);
    assert!(controls.tick().await.is_empty(), "20 s is not 30 s");
    h.clock.advance(SignedDuration::from_secs(11));
    assert_eq!(controls.tick().await, ["slow-sheds"]);

    let view = controls.view();
    assert_eq!(view.level, "essential");
    assert!(view.uploads_paused_by_hand && h.state.media.forwarder.is_paused());
    assert_eq!(view.notices[0].text, "Slow: essential mode");
    assert_eq!(get(&h, "/metrics", true).await, (StatusCode::SERVICE_UNAVAILABLE, Some("60".into())));

    // Every step and the run itself are in the audit log, as the runbook's.
    let log = audit(&h).await;
    let by_runbook: Vec<&str> =
        log.iter().filter(|e| e["actor"] == "runbook" && e["why"] == "runbook slow-sheds").map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(by_runbook, ["run runbook", "notify", "media forwarding", "degrade"]);
    assert_eq!(log[0]["after"], "trigger: p99 over 500ms for 30s");

    // Still slow a second later: it has run for this stretch and does not run again.
    h.clock.advance(SignedDuration::from_secs(1));
    slow_minute(&h);
    assert!(controls.tick().await.is_empty());
}

#[tokio::test]
async fn a_fast_booth_runs_nothing() {
    let h = harness_with(Some(&slow_booth())).await;
    for second in 0..120 {
        for _ in 0..25 {
            h.state.telemetry.record(&Method::POST, "/api/v1/quotes", 200, 40_000);
        }
        assert!(h.state.controls.tick().await.is_empty(), "second {second}");
        h.clock.advance(SignedDuration::from_secs(1));
    }
    assert_eq!(h.state.controls.level(), "normal");
}

#[tokio::test]
async fn each_degrade_effect_takes_hold_at_once_and_normal_undoes_them_all() {
    let h = harness().await;
    let s = &h.state;
    let sampling = s.telemetry.sampling();
    let (status, view) = call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "essential"})), &[AUTH]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["level"], "essential");
    assert_eq!(s.telemetry.sampling(), 0.0);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::EssentialOnly);
    assert!(s.media.forwarder.is_paused());
    assert_eq!(s.assets.serve_stale(), 86_400);
    // Shed: 503 with Retry-After, in words.
    assert_eq!(get(&h, "/metrics", true).await, (StatusCode::SERVICE_UNAVAILABLE, Some("60".into())));
    assert_eq!(get(&h, "/api/v1/ops/charts/spend.svg", true).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let (status, e) = call(&h.app, "GET", "/metrics", None, &[AUTH]).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("shed")));
    assert!(e["error"]["message"].as_str().unwrap().contains("Sales are not affected"));
    // Essential: catalogue, quotes, orders, the storefront, the operator's own views.
    assert_eq!(get(&h, "/api/v1/catalogue", false).await.0, StatusCode::OK);
    assert_eq!(get(&h, "/assets/index.html", false).await.0, StatusCode::OK);
    let (status, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let order = json!({"quote_token": q["token"], "payment": {"method": "cash"}});
    let (status, o) = call(&h.app, "POST", "/api/v1/orders", Some(order), &[("idempotency-key", "degraded-order-1")]).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    assert_eq!(get(&h, "/api/v1/ops/status", true).await.0, StatusCode::OK);

    let (status, _) = call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "reduced"})), &[AUTH]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.telemetry.sampling(), 0.01);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::Reduced);
    assert!(!s.media.forwarder.is_paused(), "reduced keeps forwarding");
    assert_eq!(get(&h, "/metrics", true).await.0, StatusCode::OK, "reduced sheds charts only");
    assert_eq!(get(&h, "/api/v1/ops/charts/spend.svg", true).await.0, StatusCode::SERVICE_UNAVAILABLE);

    let (status, view) = call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "normal"})), &[AUTH]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["shed"], json!([]));
    assert_eq!(s.telemetry.sampling(), sampling);
    assert_eq!(s.media.transcoder.mode(), TranscodeMode::Full);
    assert_eq!(s.assets.serve_stale(), 0);
    assert_eq!(get(&h, "/api/v1/ops/charts/spend.svg", true).await.0, StatusCode::OK);

    let log = audit(&h).await;
    let changes: Vec<(&str, &str)> =
        log.iter().filter(|e| e["action"] == "degrade").map(|e| (e["before"].as_str().unwrap(), e["after"].as_str().unwrap())).collect();
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
        let (status, e) = call(&h.app, method, uri, body, &[("authorization", "Bearer not-the-token")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {e}");
    }
    assert_eq!(h.state.controls.level(), "normal");
    assert!(!h.state.media.forwarder.is_paused());

    let (status, e) = call(&h.app, "POST", "/api/v1/ops/degrade", Some(json!({"level": "panic"})), &[AUTH]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "unknown_level");
    assert!(e["error"]["message"].as_str().unwrap().contains("normal, reduced, essential"));
    let (status, _) = call(&h.app, "POST", "/api/v1/ops/runbooks/nope/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let refused = &audit(&h).await[0];
    assert_eq!((refused["action"].as_str(), refused["after"].as_str()), (Some("degrade"), Some("panic")));
    assert!(refused["result"].as_str().unwrap().contains("no degrade level"));
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_a_run_by_hand_is_the_operators() {
    let h = harness().await;
    let (status, dry) = call(&h.app, "POST", "/api/v1/ops/runbooks/uplink-trouble/dry-run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::OK);
    let steps: Vec<(&str, &str, &str, &str)> = dry["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["before"].as_str().unwrap(), s["after"].as_str().unwrap(), s["result"].as_str().unwrap()))
        .collect();
    assert_eq!(steps[0], ("failover offline", "auto", "offline", "would change"));
    assert_eq!(steps[1], ("degrade essential", "normal", "essential", "would change"));
    assert_eq!(steps[2], ("pause uploads", "uploads sending", "uploads paused", "would change"));
    assert_eq!(h.state.controls.level(), "normal");
    assert_eq!(h.state.uplink.route().path(), "auto");
    assert!(audit(&h).await.is_empty(), "a dry run writes nothing");

    let (status, run) =
        call(&h.app, "POST", "/api/v1/ops/runbooks/uplink-trouble/run", None, &[AUTH, ("x-boothcloud-client", "dashboard")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(run["steps"].as_array().unwrap().iter().all(|s| s["result"] == "ok"), "{run}");
    assert_eq!(h.state.controls.level(), "essential");
    assert_eq!(h.state.uplink.route().path(), "offline");
    let log = audit(&h).await;
    assert!(log.iter().all(|e| e["actor"] == "operator" && e["client"] == "dashboard" && e["why"] == "runbook uplink-trouble"));
    assert_eq!(log.len(), 5, "four steps and the run: {log:?}");

    // Run again: the same steps change nothing now.
    let (_, dry) = call(&h.app, "POST", "/api/v1/ops/runbooks/uplink-trouble/dry-run", None, &[AUTH]).await;
    assert!(dry["steps"].as_array().unwrap()[..3].iter().all(|s| s["result"] == "nothing to do"), "{dry}");
    // And the all-clear undoes it.
    let (status, _) = call(&h.app, "POST", "/api/v1/ops/runbooks/all-clear/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((h.state.controls.level().as_str(), h.state.uplink.route().path().as_str()), ("normal", "auto"));
    assert!(!h.state.media.forwarder.is_paused());
}

#[tokio::test]
async fn rotating_the_signing_key_refuses_old_quotes_and_survives_in_the_store() {
    let h = harness().await;
    let quote = || call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]);
    let (_, old) = quote().await;
    let (_, dry) = call(&h.app, "POST", "/api/v1/ops/runbooks/key-compromise/dry-run", None, &[AUTH]).await;
    let before = h.state.signer.fingerprint();
    assert_eq!(dry["steps"][0]["before"], format!("key {before}"));
    assert_eq!(dry["steps"][0]["result"], "would change");
    assert_eq!(h.state.signer.fingerprint(), before, "a dry run keeps the key");

    let (status, run) = call(&h.app, "POST", "/api/v1/ops/runbooks/key-compromise/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let after = h.state.signer.fingerprint();
    assert_ne!(after, before);
    // The keyring (here the file vault) holds the new key: a restart signs with it.
    let stored: [u8; 32] = h.secrets.get(crate::secrets::QUOTE_KEY).unwrap().unwrap().try_into().unwrap();
    assert_eq!(crate::quote_token::QuoteSigner::new(stored).fingerprint(), after);

    let (status, e) = order(&h, &old["token"], "old-key-order").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_quote_token")), "{e}");
    let (_, new) = quote().await;
    assert_eq!(order(&h, &new["token"], "new-key-order").await.0, StatusCode::CREATED);

    let log = audit(&h).await;
    let rotation = log.iter().find(|e| e["action"] == "rotate signing key").unwrap();
    assert_eq!(
        (rotation["before"].as_str(), rotation["after"].as_str()),
        (Some(&*format!("key {before}")), Some(&*format!("key {after}")))
    );
}

/// The body of `GET /assets/{path}`.
async fn asset(h: &Harness, path: &str) -> String {
    let req = Request::builder().method("GET").uri(format!("/assets/{path}")).body(Body::empty()).unwrap();
    let res = h.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
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
    assert_eq!((dry["steps"][0]["before"].as_str(), dry["steps"][0]["after"].as_str()), (Some("primary origin"), Some("fallback origin")));
    let (status, run) = call(&h.app, "POST", "/api/v1/ops/runbooks/mirror/run", None, &[AUTH]).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (_, view) = call(&h.app, "GET", "/api/v1/ops/controls", None, &[AUTH]).await;
    assert_eq!(view["origin"], "fallback");
    h.state.assets.store().purge(|_| true);
    assert_eq!(asset(&h, "menu.txt").await, "from the mirror", "a miss now goes to the mirror");
    let saved: String = sqlx::query_scalar("SELECT value FROM control_state WHERE name = 'origin'").fetch_one(&h.state.db).await.unwrap();
    assert_eq!(saved, "fallback", "kept for a restart");

    call(&h.app, "POST", "/api/v1/ops/runbooks/primary/run", None, &[AUTH]).await;
    h.state.assets.store().purge(|_| true);
    assert_eq!(asset(&h, "menu.txt").await, "from the primary");
    let log = audit(&h).await;
    assert!(log.iter().any(|e| e["action"] == "asset origin" && e["after"] == "fallback origin" && e["result"] == "ok"), "{log:?}");
}

#[test]
fn a_fallback_step_needs_a_fallback_origin_in_the_manifest() {
    let text = format!("{DEMO_MANIFEST}\n[[runbooks]]\nname = \"mirror\"\ntrigger = \"manual\"\nsteps = [\"origin fallback\"]\n");
    let problems = crate::manifest::parse(&text).unwrap_err();
    assert!(problems.0.iter().any(|p| p.message.contains("set [uplink] fallback_origin first")), "{problems:?}");
}
