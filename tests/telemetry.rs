//! Telemetry against the real binary: every route is timed under its template, the
//! figures are operator-only, and `/metrics` is valid for Prometheus' own tools —
//! `promtool check metrics` (from Debian's prometheus package, extracted by
//! `scripts/setup`) and the `prometheus_client` parser.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use boothcloud_tests::{Kiosk, TestNode, OPERATOR_TOKEN};

async fn metrics_text(node: &TestNode) -> String {
    let r = TestNode::client().get(format!("{}/metrics", node.url)).bearer_auth(OPERATOR_TOKEN).send().await.unwrap();
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
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_timed_by_route_template_and_exposed_for_prometheus() {
    let node = TestNode::start();
    let kiosk = Kiosk::new(&node.url);
    for _ in 0..5 {
        assert_eq!(kiosk.quote(&[("MUG-GLOW", 1)], None).await.status, 200);
    }
    // Two different raw paths, one template; a 404 that matched no route.
    for path in ["/assets/img/coffee.jpg", "/assets/img/not-here.jpg", "/nothing/jane@example.com"] {
        TestNode::client().get(format!("{}{path}", node.url)).send().await.unwrap();
    }

    // Operator-only, both forms.
    assert_eq!(kiosk.get("/api/v1/ops/telemetry").await.status, 401);
    assert_eq!(kiosk.get("/metrics").await.status, 401);

    let view = kiosk.ops_get("/api/v1/ops/telemetry").await;
    assert_eq!(view.status, 200);
    let routes = view.body["routes"].as_array().unwrap();
    let find =
        |m: &str, r: &str| routes.iter().find(|x| x["method"] == m && x["route"] == r).unwrap_or_else(|| panic!("{m} {r} in {routes:?}"));
    let quotes = find("POST", "/api/v1/quotes");
    assert_eq!(quotes["last_minute"]["requests"], 5);
    assert_eq!(quotes["event"]["errors"], 0);
    let p50 = quotes["last_minute"]["p50_us"].as_u64().unwrap();
    let p99 = quotes["last_minute"]["p99_us"].as_u64().unwrap();
    assert!(p50 > 0 && p50 <= p99 && p99 <= quotes["last_minute"]["max_us"].as_u64().unwrap(), "{quotes}");
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
        .find_map(|l| l.strip_prefix(r#"boothcloud_cache_requests_total{prefix="img",outcome="miss"} "#))
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
}
