//! The controls against the real binary: degrading measured in what the node actually
//! does (its own log, its answers to kiosks and tus clients), a level that outlives a
//! crash, and the audit trail of it all.

use std::time::Duration;

use boothcloud_tests::{Kiosk, Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

async fn control(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let res = TestNode::client()
        .request(method, format!("{}{path}", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn degrade(node: &TestNode, level: &str) {
    let (status, body) =
        control(node, reqwest::Method::POST, "/api/v1/ops/degrade", json!({ "level": level }))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["level"], level);
}

/// A tus client starting an upload (with no upload token).
async fn tus_create(http: &reqwest::Client, node: &TestNode) -> reqwest::Response {
    http.post(format!("{}/api/v1/uploads/", node.url))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap()
}

/// Lines of per-request detail the node has logged so far.
fn sampled_lines(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("boothcloud_node::telemetry") && l.contains(" request "))
        .count()
}

/// Sends `n` kiosk requests, then waits until the log has stopped growing.
async fn traffic(kiosk: &Kiosk, n: usize, log: &std::path::Path) -> usize {
    let before = sampled_lines(log);
    for _ in 0..n {
        assert_eq!(kiosk.get("/api/v1/catalogue").await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sampled_lines(log) - before
}

#[tokio::test]
async fn degrading_lowers_the_sampling_the_node_actually_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("node.log");
    let node = TestNode::start_with(Options {
        env: vec![("BOOTHCLOUD_LOG".into(), "warn,boothcloud_node::telemetry=debug".into())],
        stderr: Some(log.clone()),
        ..Options::default()
    });
    let kiosk = Kiosk::enrolled(&node.url).await;
    // 800 requests each: normal samples 10% (mean 80), reduced 1% (mean 8), essential none.
    let normal = traffic(&kiosk, 800, &log).await;
    degrade(&node, "reduced").await;
    let reduced = traffic(&kiosk, 800, &log).await;
    degrade(&node, "essential").await;
    let essential = traffic(&kiosk, 800, &log).await;
    eprintln!(
        "sampled lines per 800 requests: normal {normal}, reduced {reduced}, essential {essential}"
    );
    assert!(normal >= 40, "normal sampling logs about 10%: {normal}");
    assert!(reduced <= 30, "reduced logs about 1%: {reduced}");
    assert_eq!(essential, 0, "essential logs no request detail");
    degrade(&node, "normal").await;
    assert!(traffic(&kiosk, 800, &log).await >= 40, "back to 10%");
}

#[tokio::test]
async fn a_degraded_booth_stays_degraded_after_a_crash_and_keeps_selling() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let node = TestNode::start_with(Options { data_dir: Some(data.clone()), ..Options::default() });
    degrade(&node, "essential").await;
    node.kill();

    let node = TestNode::start_with(Options { data_dir: Some(data.clone()), ..Options::default() });
    let kiosk = Kiosk::enrolled(&node.url).await;
    let view = kiosk.ops_get("/api/v1/ops/controls").await;
    assert_eq!(view.body["level"], "essential", "{}", view.body);
    assert_eq!(view.body["set_by"], "operator (api)");
    assert_eq!(view.body["uploads_paused"], true);

    // Shed: a tus client is told, tus-style, to come back later.
    let http = TestNode::client();
    let res = tus_create(&http, &node).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "60");
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    let metrics =
        http.get(format!("{}/metrics", node.url)).bearer_auth(OPERATOR_TOKEN).send().await.unwrap();
    assert_eq!(metrics.status(), 503);

    // Essential: the storefront, quotes and orders.
    let asset = http.get(format!("{}/assets/index.html", node.url)).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(kiosk.buy("crash-then-sell-1", &[("COCOA", 2)]).await.status, 201);

    degrade(&node, "normal").await;
    let res = tus_create(&http, &node).await;
    assert_eq!(res.status(), 401, "uploads are open again (and need an upload token)");

    let audit = kiosk.ops_get("/api/v1/ops/audit").await;
    let levels: Vec<(&str, &str)> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "degrade")
        .map(|e| (e["before"].as_str().unwrap(), e["after"].as_str().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [("essential", "normal"), ("normal", "essential")],
        "both changes, across the crash"
    );
}

#[tokio::test]
async fn a_runbook_run_by_hand_fails_over_and_pauses_forwarding_and_says_so() {
    let node = TestNode::start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    let (status, report) =
        control(&node, reqwest::Method::POST, "/api/v1/ops/runbooks/uplink-trouble/run", json!({}))
            .await;
    assert_eq!(status, 200, "{report}");
    let view = kiosk.ops_get("/api/v1/ops/controls").await.body;
    assert_eq!(
        (view["level"].as_str(), view["path"].as_str()),
        (Some("essential"), Some("offline"))
    );
    assert_eq!(view["uploads_paused_by_hand"], true);
    assert_eq!(view["notices"][0]["text"], "Selling offline: orders sync when the network is back");
    let media = kiosk.ops_get("/api/v1/ops/media").await.body;
    assert_eq!(media["forwarding"]["paused"], true);
    assert_eq!(media["transcodes"]["degraded"], true);
    let runbook = view["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "uplink-trouble")
        .unwrap()
        .clone();
    assert_eq!(runbook["last_run"]["by"], "operator");
    // Without the token, nothing can be pressed.
    let res = TestNode::client()
        .post(format!("{}/api/v1/ops/runbooks/all-clear/run", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(kiosk.ops_get("/api/v1/ops/controls").await.body["level"], "essential");
}

/// Polls the teardown's progress until `state` (or the node stops answering).
async fn teardown_until(node: &TestNode, state: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let a = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/teardown").await;
        assert_eq!(a.status, 200, "{}", a.body);
        if a.body["state"] == state {
            return a.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "teardown not {state} within 60 s: {:#}",
            a.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_offline_teardown_survives_sigkill_exports_wipes_and_stops_the_node() {
    let node = TestNode::start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    let mut sold = Vec::new();
    for i in 0..4 {
        let q = kiosk.quote(&[("TOTE", 1)], None).await;
        let body = json!({"quote_token": q.body["token"], "payment": {"method": "card"}, "customer": {"email": format!("visitor{i}@example.net")}});
        let o = kiosk.order(&format!("closing-{i}"), &body).await;
        assert_eq!(o.status, 201, "{}", o.body);
        sold.push(o.body["order_id"].as_str().unwrap().to_owned());
    }

    // Hold-to-confirm is the UI's; the API wants it said.
    let (status, body) =
        control(&node, reqwest::Method::POST, "/api/v1/ops/teardown", json!({"confirm": false}))
            .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("confirm_required")));
    // No hub in the demo and no folder: closed at once, then it stops and asks.
    let (status, body) =
        control(&node, reqwest::Method::POST, "/api/v1/ops/teardown", json!({"confirm": true}))
            .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["closed"], true);
    let blocked = teardown_until(&node, "blocked").await;
    assert_eq!(blocked["orders_at_risk"], 4, "{blocked:#}");
    let q = kiosk.quote(&[("TOTE", 1)], None).await;
    assert_eq!((q.status, q.code()), (410, "booth_closed"), "{}", q.body);

    // Power cut.
    let data = node.kill().expect("the data folder");
    let node = TestNode::start_with(Options {
        data_dir: Some(data.path().to_owned()),
        ..Options::default()
    });
    let kiosk = Kiosk::enrolled(&node.url).await;
    let q = kiosk.quote(&[("TOTE", 1)], None).await;
    assert_eq!((q.status, q.code()), (410, "booth_closed"), "closed after the restart too");
    let after = teardown_until(&node, "blocked").await;
    assert_eq!(after["steps"][0]["state"], "done");
    let held = ["boothcloud.db", "boothcloud.db-wal"]
        .iter()
        .any(|f| file_contains(&data.path().join(f), "visitor0@example.net"));
    assert!(held, "nothing wiped yet");

    // Continue with a folder.
    let export = tempfile::tempdir().unwrap();
    let (status, body) = control(
        &node,
        reqwest::Method::POST,
        "/api/v1/ops/teardown",
        json!({"confirm": true, "export_dir": export.path()}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let mut node = node;
    let exit = node
        .wait_for_exit(Duration::from_secs(90))
        .expect("the node stops by itself at the end of teardown");
    assert!(exit.success(), "{exit:?}");

    let exported: Vec<Value> = serde_json::from_slice(
        &std::fs::read(export.path().join("harbour-lights-2026-orders-not-synced.json")).unwrap(),
    )
    .unwrap();
    let ids: Vec<&str> = exported.iter().map(|o| o["order_id"].as_str().unwrap()).collect();
    for id in &sold {
        assert!(ids.contains(&id.as_str()), "{id} exported");
    }
    assert!(exported
        .iter()
        .all(|o| o["customer"]["email"].as_str().unwrap().ends_with("@example.net")));
    let report = export.path().join("harbour-lights-2026-report");
    for file in ["report.html", "summary.json", "orders.csv", "latency.png", "spend.png"] {
        assert!(report.join(file).is_file(), "{file} in the report");
    }
    for file in ["boothcloud.db", "boothcloud.db-wal"] {
        assert!(
            !file_contains(&data.path().join(file), "@example.net"),
            "an e-mail address is left in {file}"
        );
    }

    // Started again for the same event, the booth is still closed and says it finished.
    let node = TestNode::start_with(Options {
        data_dir: Some(data.path().to_owned()),
        ..Options::default()
    });
    let q = Kiosk::enrolled(&node.url).await.quote(&[("TOTE", 1)], None).await;
    assert_eq!(q.status, 410);
    let view = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/teardown").await.body;
    assert_eq!(view["state"], "finished", "{view:#}");
}
