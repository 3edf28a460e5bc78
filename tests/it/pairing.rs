//! A booth on the demo's public pairing key does not pair by it: it says so on the
//! Devices and Fleet screens, signs nothing, and pairs only with a pairing code.

use std::time::{Duration, Instant};

use boothcloud_tests::{demo_manifest_as_printed, Kiosk, Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

async fn ops_post(node: &TestNode, path: &str, body: Value) -> (u16, Value) {
    let r = TestNode::client()
        .post(format!("{}{path}", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let a = Kiosk::answer_of("POST", r).await;
    (a.status, a.body)
}

async fn fleet_until(node: &TestNode, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fleet = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/fleet").await.body;
        if ok(&fleet) {
            return fleet;
        }
        assert!(Instant::now() < deadline, "{what}: {fleet:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn booths_on_the_demo_key_do_not_pair_by_it_and_pair_with_a_code() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = TestNode::start_with(Options {
        manifest: Some(demo_manifest_as_printed(dir_b.path())),
        ..Options::default()
    });
    let path_a = demo_manifest_as_printed(dir_a.path());
    let text = std::fs::read_to_string(&path_a).unwrap().replace(
        "peers = []",
        &format!(
            "peers = [{{ name = \"Stand B\", url = \"{}/\", ca = \"{}\" }}]",
            b.url,
            boothcloud_tests::test_ca().fingerprint
        ),
    );
    std::fs::write(&path_a, text).unwrap();
    let a = TestNode::start_with(Options { manifest: Some(path_a), ..Options::default() });

    let devices = Kiosk::enrolled(&a.url).await.ops_get("/api/v1/ops/devices").await.body;
    assert_eq!(devices["discovery"]["key_source"], "published", "{devices:#}");
    assert_eq!(devices["discovery"]["fingerprint"], "", "no key in force");
    let notice = devices["discovery"]["key_notice"].as_str().unwrap();
    assert!(notice.contains("anyone can read") && notice.contains("pairing code"), "{notice}");

    // Both hold the same public key, yet nothing pairs and nothing is signed with it.
    let fleet = fleet_until(&a, "A lists B", |f| {
        f["booths"].as_array().is_some_and(|b| b.iter().any(|b| b["id"].is_string()))
    })
    .await;
    let stand_b = &fleet["booths"][0];
    assert_eq!(stand_b["paired"], false, "{fleet:#}");
    assert!(stand_b["detail"].as_str().unwrap().contains("no pairing key"), "{stand_b}");
    let id_b = stand_b["id"].as_str().unwrap().to_owned();

    // The code shown on B pairs them (B makes a key of its own for it).
    let (status, shown) = ops_post(&b, "/api/v1/ops/pairing-code", json!({})).await;
    assert_eq!(status, 200, "{shown}");
    let (status, booth) =
        ops_post(&a, &format!("/api/v1/ops/peers/{id_b}/pair"), json!({ "code": shown["code"] }))
            .await;
    assert_eq!((status, &booth["paired"]), (200, &json!(true)), "{booth:#}");
    let devices = Kiosk::enrolled(&a.url).await.ops_get("/api/v1/ops/devices").await.body;
    assert_eq!(devices["discovery"]["key_source"], "pairing_code");
    assert_eq!(devices["discovery"]["key_notice"], Value::Null);
}
