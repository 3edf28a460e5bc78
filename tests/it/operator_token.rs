//! The lead's token rotated at once: over the API and with the CLI against a running
//! node; the old token refused from the moment the new one is shown, the rotation in the
//! audit log without the token.

use boothcloud_tests::{node_binary, Kiosk, TestNode, OPERATOR_TOKEN};

async fn ops(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> (u16, serde_json::Value) {
    let r = TestNode::client()
        .request(method.clone(), format!("{}{path}", node.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let a = Kiosk::answer_of(method.as_str(), r).await;
    (a.status, a.body)
}

#[tokio::test]
async fn a_rotated_token_is_in_force_at_once_and_the_old_one_is_refused() {
    let node = TestNode::start();
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    // A dashboard follows the live stream with the token about to be rotated.
    let mut live = TestNode::client()
        .get(format!("{}/api/v1/ops/stream", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.chunk().await.unwrap().is_some(), "a first snapshot");
    let (status, rotated) =
        ops(&node, post.clone(), "/api/v1/ops/operator-token/rotate", OPERATOR_TOKEN).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["token"].as_str().unwrap().to_owned();
    assert!(new.len() >= 32 && new != OPERATOR_TOKEN);
    assert!(rotated["note"].as_str().unwrap().contains("BOOTHCLOUD_OPERATOR_TOKEN"), "{rotated}");

    let (status, e) = ops(&node, get.clone(), "/api/v1/ops/status", OPERATOR_TOKEN).await;
    assert_eq!((status, e["error"]["code"].as_str()), (401, Some("unauthorized")));
    // The stream opened with the old token ends (at most a snapshot already on its way).
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while live.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the old token's stream outlived the rotation");
    let (status, _) =
        ops(&node, post.clone(), "/api/v1/ops/operator-token/rotate", OPERATOR_TOKEN).await;
    assert_eq!(status, 401, "the old token cannot rotate either");
    let (status, audit) = ops(&node, get.clone(), "/api/v1/ops/audit", &new).await;
    assert_eq!(status, 200);
    let entries = audit.as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "rotate operator token" && e["result"] == "ok"));
    assert!(!audit.to_string().contains(&new), "the audit log never holds a token");

    // The CLI rotates the running node's token too.
    let out = std::process::Command::new(node_binary())
        .args([
            "operator-token",
            "--rotate",
            "--secrets",
            "file",
            "--node",
            &format!("{}/", node.url),
        ])
        .arg("--data-dir")
        .arg(&node.data_dir)
        .env("BOOTHCLOUD_OPERATOR_TOKEN", &new)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let newer = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(newer.len() >= 32 && newer != new);
    assert_eq!(ops(&node, get.clone(), "/api/v1/ops/status", &new).await.0, 401);
    assert_eq!(ops(&node, get, "/api/v1/ops/status", &newer).await.0, 200);
}
