//! Telemetry against the real binary: every route is timed under its template, the
//! figures are operator-only, and `/metrics` is valid for Prometheus' own tools —
//! `promtool check metrics` (from Debian's prometheus package, extracted by
//! `scripts/setup`) and the `prometheus_client` parser.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use boothcloud_tests::{Kiosk, Options, TestNode, OPERATOR_TOKEN};

async fn metrics_text(node: &TestNode) -> String {
    let r = TestNode::client()
        .get(format!("{}/metrics", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    r.text().await.unwrap()
}

fn run_with_stdin(program: &Path, args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} cannot run ({e}); run scripts/setup", program.display()));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_timed_by_route_template_and_exposed_for_prometheus() {
    let node = TestNode::start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    for _ in 0..5 {
        assert_eq!(kiosk.quote(&[("MUG-GLOW", 1)], None).await.status, 200);
    }
    // Two different raw paths, one template; a 404 that matched no route.
    for path in ["/assets/img/coffee.jpg", "/assets/img/not-here.jpg", "/nothing/jane@example.com"]
    {
        TestNode::client().get(format!("{}{path}", node.url)).send().await.unwrap();
    }

    // Operator-only, both forms.
    assert_eq!(kiosk.get("/api/v1/ops/telemetry").await.status, 401);
    assert_eq!(kiosk.get("/metrics").await.status, 401);

    let view = kiosk.ops_get("/api/v1/ops/telemetry").await;
    assert_eq!(view.status, 200);
    let routes = view.body["routes"].as_array().unwrap();
    let find = |m: &str, r: &str| {
        routes
            .iter()
            .find(|x| x["method"] == m && x["route"] == r)
            .unwrap_or_else(|| panic!("{m} {r} in {routes:?}"))
    };
    let quotes = find("POST", "/api/v1/quotes");
    assert_eq!(quotes["last_minute"]["requests"], 5);
    assert_eq!(quotes["event"]["errors"], 0);
    let p50 = quotes["last_minute"]["p50_us"].as_u64().unwrap();
    let p99 = quotes["last_minute"]["p99_us"].as_u64().unwrap();
    assert!(
        p50 > 0 && p50 <= p99 && p99 <= quotes["last_minute"]["max_us"].as_u64().unwrap(),
        "{quotes}"
    );
    assert_eq!(find("GET", "/assets/{*path}")["event"]["requests"], 2);
    assert_eq!(find("GET", "(unmatched)")["event"]["requests"], 1);
    assert_eq!(find("GET", "/metrics")["event"]["requests"], 1, "the refused scrape is timed too");
    let text = view.body.to_string();
    assert!(!text.contains("coffee") && !text.contains("jane@"), "raw paths leaked: {text}");

    let metrics = metrics_text(&node).await;
    assert!(metrics.contains("# TYPE boothcloud_http_request_duration_seconds histogram"));
    assert!(metrics.contains(r#"boothcloud_http_request_duration_seconds_count{method="POST",route="/api/v1/quotes"} 5"#), "{metrics}");
    let img_misses = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"boothcloud_cache_requests_total{prefix="img",outcome="miss"} "#)
        })
        .and_then(|v| v.parse::<u64>().ok());
    assert!(img_misses >= Some(1), "the missing image is a miss: {metrics}");
    assert!(!metrics.contains("jane@") && !metrics.contains("127.0.0.1"), "{metrics}");

    // Prometheus' own linter: no problems at all.
    let promtool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/promtool");
    let (ok, said) = run_with_stdin(&promtool, &["check", "metrics"], &metrics);
    assert!(ok && said.trim().is_empty(), "promtool check metrics:\n{said}");

    // And a real parser: every family and sample reads back.
    let parse = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
h = fams["boothcloud_http_request_duration_seconds"]
assert h.type == "histogram", h.type
count = [s for s in h.samples if s.name.endswith("_count") and s.labels["route"] == "/api/v1/quotes"]
assert count and count[0].value == 5, count
print(len(fams), "families")
"#;
    let (ok, said) = run_with_stdin(Path::new("/usr/bin/python3"), &["-c", parse], &metrics);
    assert!(ok, "prometheus_client could not read /metrics:\n{said}");
    for family in [
        "boothcloud_spend_minor_units_total",
        "boothcloud_budget_minor_units",
        "boothcloud_sessions_open",
    ] {
        assert!(metrics.contains(&format!("# TYPE {family} ")), "{family} missing:\n{metrics}");
    }
    assert!(
        metrics
            .contains(r#"boothcloud_budget_minor_units{component="total",currency="EUR"} 15000"#),
        "{metrics}"
    );
}

fn spend_of(status: &serde_json::Value, component: &str) -> (u64, i64) {
    let c = status["spend"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == component)
        .unwrap();
    (c["usage"].as_u64().unwrap(), c["spent_micro"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn spend_is_metered_priced_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        TestNode::start_with(Options {
            data_dir: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
    };
    let node = start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    for _ in 0..200 {
        assert_eq!(kiosk.get("/api/v1/catalogue").await.status, 200);
    }
    let status = kiosk.ops_get("/api/v1/ops/status").await;
    assert_eq!(status.status, 200);
    let spend = &status.body["spend"];
    assert_eq!(
        (spend["currency"].as_str(), spend["total"]["budget"].as_i64()),
        (Some("EUR"), Some(15000))
    );
    let (edge_usage, edge_micro) = spend_of(&status.body, "edge");
    assert!(edge_usage >= 200, "every request is an edge execution: {spend}");
    // The demo prices 1,000 executions at 2 cents: 2,000 micro-cents each.
    assert_eq!(edge_micro, edge_usage as i64 * 2_000, "{spend}");
    let (egress, _) = spend_of(&status.body, "egress");
    assert!(egress > 0, "the warm-up fetched from the origin: {spend}");
    assert_eq!(spend["state"], "ok");
    assert_eq!(status.body["latency"]["p95_target_ms"], 250);
    let routes = status.body["latency"]["routes"].as_array().unwrap();
    assert_eq!(
        routes[0]["route"], "/api/v1/catalogue",
        "the busiest customer route first: {routes:?}"
    );
    assert!(
        routes.iter().all(|r| !r["route"].as_str().unwrap().starts_with("/api/v1/ops")),
        "operator routes are not the booth's latency"
    );

    // Sessions: one client, one shopping session, and no address in sight.
    let telemetry = kiosk.ops_get("/api/v1/ops/telemetry").await.body;
    let shopping = telemetry["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["feature"] == "shopping")
        .unwrap()
        .clone();
    assert_eq!(shopping["open"], 1, "{telemetry}");
    assert!(!telemetry.to_string().contains("127.0.0.1"));

    // A clean stop saves the ledger; the next run starts from it.
    assert!(node.terminate().success());
    let node = start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    let again = kiosk.ops_get("/api/v1/ops/status").await;
    let (usage, micro) = spend_of(&again.body, "edge");
    assert!(
        usage > edge_usage && micro > edge_micro,
        "the money carried over: {usage} after {edge_usage}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn charts_are_served_as_svg_and_png_to_the_operator() {
    let node = TestNode::start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    assert_eq!(kiosk.get("/api/v1/ops/charts/spend.svg").await.status, 401);
    let client = TestNode::client();
    let get =
        |path: &str| client.get(format!("{}{path}", node.url)).bearer_auth(OPERATOR_TOKEN).send();
    for chart in ["latency", "hit-ratio", "spend", "transcodes"] {
        let r = get(&format!("/api/v1/ops/charts/{chart}.svg?theme=dark&width=640&height=300"))
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()),
            (200, "image/svg+xml"),
            "{chart}"
        );
        let body = r.text().await.unwrap();
        assert!(
            body.starts_with("<svg") && body.contains(r#"width="640""#),
            "{chart}: {}",
            &body[..body.len().min(200)]
        );
    }
    let r = get("/api/v1/ops/charts/spend.png?span=event").await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(get("/api/v1/ops/charts/orders.svg").await.unwrap().status(), 404);
    assert_eq!(get("/api/v1/ops/charts/spend.gif").await.unwrap().status(), 404);
    assert_eq!(get("/api/v1/ops/charts/spend.svg?width=99999").await.unwrap().status(), 400);
    assert_eq!(get("/api/v1/ops/charts/spend.svg?theme=neon").await.unwrap().status(), 400);
    assert_eq!(get("/api/v1/ops/charts/spend.svg?span=forever").await.unwrap().status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_plays_a_booth_and_the_node_sees_it() {
    let node = TestNode::start();
    let out = tokio::process::Command::new(boothcloud_tests::node_binary())
        .args([
            "simulate",
            "--target",
            &node.url,
            "--ca",
            node.data_dir.join("tls/booth-ca.pem").to_str().unwrap(),
            "--duration",
            "4s",
            "--pace",
            "0.1",
            "--kiosks",
            "2",
            "--phones",
            "4",
        ])
        .args(["--burst-every", "2s", "--burst-size", "3"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(said.trim()).unwrap();
    assert!(report["orders"].as_u64() > Some(0) && report["assets"].as_u64() > Some(0), "{report}");
    assert!(report["bursts"].as_u64() >= Some(1), "{report}");
    assert_eq!(report["failures"], 0);

    let kiosk = Kiosk::enrolled(&node.url).await;
    let status = kiosk.ops_get("/api/v1/ops/status").await.body;
    let (edge, _) = spend_of(&status, "edge");
    assert!(
        edge >= report["requests"].as_u64().unwrap(),
        "every simulated request was metered: {edge} < {report}"
    );
    assert!(status["today"]["orders"].as_u64() == report["orders"].as_u64(), "{status}");
    // Each simulated device has its own user agent: one browsing session each.
    let telemetry = kiosk.ops_get("/api/v1/ops/telemetry").await.body;
    let browsing = telemetry["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["feature"] == "browsing")
        .unwrap()
        .clone();
    assert!(browsing["open"].as_u64() >= Some(4 + 3), "{browsing}");

    // A node that is not there: a clear message and a failing exit code.
    let out = std::process::Command::new(boothcloud_tests::node_binary())
        .args(["simulate", "--target", "http://127.0.0.1:9", "--duration", "1s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not answer"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
