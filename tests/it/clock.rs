//! Time the booth can trust, against the real binary with its wall clock stepped under it
//! (libfaketime; monotonic time runs on, as in real life): a forward step past the
//! event's end closes nothing, the countdown comes once the end is truly reached and
//! staff can cancel it, a backward step re-opens no expired quote, a booth the end time
//! closed is reopened by the lead and sells, and every step is on the dashboard's clock
//! view and in the audit log. Two booths minutes apart relaying is in `uplink.rs`.

use std::time::{Duration, Instant};

use boothcloud_tests::{demo_manifest_in, Kiosk, Options, SteppedClock, TestNode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

/// The demo booth ending `ends_in` from now (real time), tearing down `after_end` later
/// after a countdown of `countdown`, with quotes good for `quote_ttl`.
fn manifest(
    dir: &std::path::Path,
    ends_in: SignedDuration,
    countdown: &str,
    quote_ttl: &str,
) -> std::path::PathBuf {
    let path = demo_manifest_in(dir);
    let ends = (Timestamp::now() + ends_in).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("ends_at = 2027-12-31T22:00:00+01:00", &format!("ends_at = {ends}"))
        .replace("# after_end = \"1h\"", "after_end = \"0s\"")
        .replace("countdown = \"5m\"", &format!("countdown = \"{countdown}\""))
        .replace("quote_ttl = \"5m\"", &format!("quote_ttl = \"{quote_ttl}\""));
    std::fs::write(&path, text).unwrap();
    path
}

fn start(manifest: std::path::PathBuf, clock: &SteppedClock) -> TestNode {
    TestNode::start_with(Options {
        manifest: Some(manifest),
        env: clock.env(),
        ..Options::default()
    })
}

async fn view(node: &TestNode, path: &str) -> Value {
    let a = Kiosk::enrolled(&node.url).await.ops_get(path).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.body
}

async fn ops_post(node: &TestNode, path: &str, body: Value) -> (u16, Value) {
    let r = TestNode::client()
        .post(format!("{}{path}", node.url))
        .bearer_auth(boothcloud_tests::OPERATOR_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let a = Kiosk::answer_of("POST", r).await;
    (a.status, a.body)
}

/// Waits until `check` holds for `GET path`.
async fn until(
    node: &TestNode,
    path: &str,
    what: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let v = view(node, path).await;
        if check(&v) {
            return v;
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}; last: {v:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn audited(node: &TestNode, action: &str) -> Vec<Value> {
    let entries = view(node, "/api/v1/ops/audit").await;
    entries.as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[tokio::test]
async fn a_forward_step_past_the_end_closes_nothing_and_the_true_end_counts_down_and_can_be_cancelled(
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SteppedClock::new(0);
    let node = start(manifest(dir.path(), SignedDuration::from_secs(25), "10s", "5m"), &clock);
    let kiosk = Kiosk::enrolled(&node.url).await;
    assert_eq!(kiosk.buy("before-the-step", &[("COCOA", 1)]).await.status, 201);

    // The laptop's clock jumps two hours forward: far past the event's end.
    clock.step_to(7200);
    let seen = until(&node, "/api/v1/ops/clock", "the step seen", Duration::from_secs(10), |v| {
        v["steps"].as_array().is_some_and(|s| !s.is_empty())
    })
    .await;
    let step = &seen["steps"][0];
    assert!((step["by_ms"].as_i64().unwrap() - 7_200_000).abs() < 3_000, "{seen:#}");
    assert!(
        step["words"]
            .as_str()
            .unwrap()
            .starts_with("The laptop's clock jumped forward 2 h 00 min at "),
        "{seen:#}"
    );
    assert_eq!(seen["in_doubt"], true);
    assert!(
        seen["notice"].as_str().unwrap().contains("keeps counting from its own time"),
        "{seen:#}"
    );
    let booth_time: Timestamp = seen["booth_time"].as_str().unwrap().parse().unwrap();
    assert!(booth_time.duration_since(Timestamp::now()).abs() < SignedDuration::from_secs(5));
    assert_eq!(audited(&node, "clock step").await.len(), 1);

    // Two seconds on, still well before the true end: open, no countdown, selling.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = view(&node, "/api/v1/ops/teardown").await;
    assert_eq!((t["closed"].clone(), t["countdown"].clone()), (json!(false), Value::Null), "{t:#}");
    assert_eq!(kiosk.buy("after-the-step", &[("COCOA", 1)]).await.status, 201);

    // The true end: the countdown, cancelled by staff; the booth stays open for good.
    let t = until(&node, "/api/v1/ops/teardown", "the countdown", Duration::from_secs(40), |v| {
        !v["countdown"].is_null()
    })
    .await;
    assert!(t["countdown"]["seconds_left"].as_i64().unwrap() <= 10, "{t:#}");
    assert_eq!(t["closed"], false);
    let (status, t) = ops_post(&node, "/api/v1/ops/teardown/countdown/cancel", json!({})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!((t["closed"].clone(), t["stood_down"].clone()), (json!(false), json!(true)));
    tokio::time::sleep(Duration::from_secs(12)).await;
    let t = view(&node, "/api/v1/ops/teardown").await;
    assert_eq!((t["closed"].clone(), t["countdown"].clone()), (json!(false), Value::Null), "{t:#}");
    assert_eq!(kiosk.buy("after-the-end", &[("COCOA", 1)]).await.status, 201);
    assert_eq!(audited(&node, "teardown countdown cancelled").await.len(), 1);
    let (status, _) = ops_post(&node, "/api/v1/ops/teardown/countdown/cancel", json!({})).await;
    assert_eq!(status, 409, "nothing left to cancel");

    // The lead says the laptop's clock is right: the booth's time jumps to it.
    let (status, c) =
        ops_post(&node, "/api/v1/ops/clock/confirm", json!({"trust": "laptop"})).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["in_doubt"], false);
    let booth_time: Timestamp = c["booth_time"].as_str().unwrap().parse().unwrap();
    assert!(booth_time.duration_since(Timestamp::now()) > SignedDuration::from_mins(119), "{c:#}");
    assert_eq!(audited(&node, "confirm time").await.len(), 1);
}

#[tokio::test]
async fn a_backward_step_reopens_no_expired_quote() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SteppedClock::new(0);
    let node = start(manifest(dir.path(), SignedDuration::from_hours(6), "5m", "3s"), &clock);
    let kiosk = Kiosk::enrolled(&node.url).await;
    let quote = kiosk.quote(&[("COCOA", 2)], None).await;
    assert_eq!(quote.status, 200, "{}", quote.body);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let body = json!({ "quote_token": quote.body["token"], "payment": {"method": "card"} });
    let late = kiosk.order("late", &body).await;
    assert_eq!((late.status, late.code()), (422, "quote_expired"), "{}", late.body);

    // The laptop's clock goes back an hour: the quote stays expired.
    clock.step_to(-3600);
    until(&node, "/api/v1/ops/clock", "the step seen", Duration::from_secs(10), |v| {
        v["steps"][0]["by_ms"].as_i64().is_some_and(|b| b < -3_590_000)
    })
    .await;
    let again = kiosk.order("after-the-step", &body).await;
    assert_eq!((again.status, again.code()), (422, "quote_expired"), "{}", again.body);
    // A fresh quote sells, and expires on the booth's time.
    assert_eq!(kiosk.buy("fresh", &[("COCOA", 1)]).await.status, 201);
}

#[tokio::test]
async fn a_booth_the_end_time_closed_is_reopened_by_the_lead_and_sells() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SteppedClock::new(0);
    let node = start(manifest(dir.path(), SignedDuration::from_secs(3), "10s", "5m"), &clock);
    let kiosk = Kiosk::enrolled(&node.url).await;
    // An order the booth cannot send anywhere (no hub): teardown stops before the wipe.
    assert_eq!(kiosk.buy("before-the-end", &[("COCOA", 1)]).await.status, 201);
    until(&node, "/api/v1/ops/teardown", "the countdown", Duration::from_secs(20), |v| {
        !v["countdown"].is_null()
    })
    .await;
    let t = until(&node, "/api/v1/ops/teardown", "closed", Duration::from_secs(30), |v| {
        v["closed"] == true
    })
    .await;
    assert_eq!(
        (t["automatic"].clone(), t["reopenable"].clone()),
        (json!(true), json!(true)),
        "{t:#}"
    );
    let refused = kiosk.quote(&[("COCOA", 1)], None).await;
    assert_eq!((refused.status, refused.code()), (410, "booth_closed"));

    let (status, t) = ops_post(&node, "/api/v1/ops/teardown/reopen", json!({})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (t["closed"].clone(), t["stood_down"].clone()),
        (json!(false), json!(true)),
        "{t:#}"
    );
    assert_eq!(kiosk.buy("reopened", &[("COCOA", 1)]).await.status, 201);
    assert_eq!(audited(&node, "teardown reopened").await.len(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = view(&node, "/api/v1/ops/teardown").await;
    assert_eq!((t["closed"].clone(), t["countdown"].clone()), (json!(false), Value::Null), "{t:#}");

    // A teardown the lead starts stays closed.
    let (status, _) = ops_post(&node, "/api/v1/ops/teardown", json!({"confirm": true})).await;
    assert_eq!(status, 202);
    let (status, e) = ops_post(&node, "/api/v1/ops/teardown/reopen", json!({})).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("stays closed"), "{e}");
}
