//! The manifest tools and hot reload, against the real binary.

use std::process::Command;
use std::time::{Duration, Instant};

use boothcloud_tests::{demo_manifest_in, node_binary, Kiosk, Options, TestNode};
use serde_json::json;

#[test]
fn manifest_example_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_manifest_in(dir.path());
    let ok = Command::new(node_binary()).args(["manifest", "check"]).arg(&path).output().unwrap();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok — event harbour-lights-2026"));

    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen("price = 1400", "price = \"cheap\"", 1);
    std::fs::write(&path, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("\"cheap\"")).unwrap() + 1;
    let out = Command::new(node_binary()).args(["manifest", "check"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("booth.toml:{line}:9: ")), "{stdout}");

    let semantic = text.replacen("percent = 20", "percent = 0", 1).replacen(
        "sku = \"TOTE\"",
        "sku = \"TOTE BAG\"",
        1,
    );
    std::fs::write(&path, &semantic).unwrap();
    let out = Command::new(node_binary()).args(["manifest", "check"]).arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("percent must be between 1 and 100") && stdout.contains("sku `TOTE BAG`"),
        "{stdout}"
    );
    assert!(stdout.contains("2 problem(s)"), "{stdout}");

    let missing = Command::new(node_binary())
        .args(["manifest", "check", "/nonexistent/booth.toml"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the manifest"));
}

#[test]
fn serve_refuses_an_invalid_manifest_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[event]\nid = \"x\"\n").unwrap();
    let out = Command::new(node_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--secrets", "file", "--data-dir"])
        .arg(dir.path())
        .arg("--manifest")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 1") && stderr.contains("missing field"), "{stderr}");
}

async fn wait_for<F: Fn(&serde_json::Value) -> bool>(
    k: &Kiosk,
    path: &str,
    what: &str,
    ok: F,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = k.get(path).await.body;
        if ok(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn valid_edits_apply_live_and_invalid_edits_keep_the_last_good_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_manifest_in(dir.path());
    let node = TestNode::start_with(Options { manifest: Some(path.clone()), ..Options::default() });
    let k = Kiosk::enrolled(&node.url).await;
    let old_quote = k.quote(&[("TOTE", 1)], None).await;
    assert_eq!(old_quote.body["total"], 900);
    assert_eq!(old_quote.body["manifest_version"], 1);

    // A valid edit: the tote now costs 11.00. Written in place, as an editor would.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("price = 900", "price = 1100", 1)).unwrap();
    wait_for(&k, "/api/v1/status", "version 2", |s| s["manifest"]["version"] == 2).await;
    assert_eq!(k.quote(&[("TOTE", 1)], None).await.body["total"], 1100);
    // A quote issued before the edit is honoured at its price until it expires.
    let o = k
        .order(
            "old",
            &json!({"quote_token": old_quote.body["token"], "payment": {"method": "card"}}),
        )
        .await;
    assert_eq!((o.status, o.body["total"].as_i64()), (201, Some(900)));

    // An invalid edit, replacing the file (rename), as many editors do.
    let broken = text.replacen("price = 900", "price = 1100", 1).replacen(
        "percent = 20",
        "percent = 250",
        1,
    );
    let line = broken.lines().position(|l| l.contains("percent = 250")).unwrap() + 1;
    let tmp = dir.path().join("booth.toml.swp");
    std::fs::write(&tmp, &broken).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let status = wait_for(&k, "/api/v1/status", "a reload failure", |s| {
        !s["manifest"]["last_failure"].is_null()
    })
    .await;
    assert_eq!(status["manifest"]["version"], 2, "the last good manifest stays in force");
    let problem = &status["manifest"]["last_failure"]["problems"][0];
    assert_eq!(problem["line"], line);
    assert!(problem["message"].as_str().unwrap().contains("percent"));
    assert_eq!(
        k.quote(&[("TOTE", 1)], None).await.body["total"],
        1100,
        "still selling on version 2"
    );

    // Mending it applies it and clears the failure.
    std::fs::write(&path, text.replacen("price = 900", "price = 1200", 1)).unwrap();
    let status =
        wait_for(&k, "/api/v1/status", "version 3", |s| s["manifest"]["version"] == 3).await;
    assert!(status["manifest"]["last_failure"].is_null());
    assert_eq!(k.quote(&[("TOTE", 1)], None).await.body["total"], 1200);

    // The operator can force a reload; a refused one says why.
    let r = k
        .http
        .post(format!("{}/api/v1/ops/manifest/reload", node.url))
        .bearer_auth(boothcloud_tests::OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    std::fs::write(&path, "not = [valid").unwrap();
    let r = k
        .http
        .post(format!("{}/api/v1/ops/manifest/reload", node.url))
        .bearer_auth(boothcloud_tests::OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(k.quote(&[("TOTE", 1)], None).await.body["total"], 1200);
}
