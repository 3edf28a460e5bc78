//! The teardown routes in-process: the request must be confirmed, the folder is
//! checked before anything is closed or made, and only the operator may ask.

use axum::http::StatusCode;
use serde_json::json;

use super::{call, harness, AUTH};

#[tokio::test]
async fn the_http_contract_confirms_checks_the_folder_and_needs_the_operator() {
    let h = harness().await;
    let body = json!({"confirm": true});
    let (s, _) = call(&h.app, "POST", "/api/v1/ops/teardown", Some(body.clone()), &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&h.app, "GET", "/api/v1/ops/teardown", None, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(&h.app, "GET", "/api/v1/ops/teardown", None, &[AUTH]).await;
    assert_eq!(
        (s, v["state"].as_str(), v["closed"].as_bool()),
        (StatusCode::OK, Some("not_started"), Some(false))
    );
    assert_eq!(v["steps"].as_array().unwrap().len(), 8);

    let (s, v) =
        call(&h.app, "POST", "/api/v1/ops/teardown", Some(json!({"confirm": false})), &[AUTH])
            .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm_required"))
    );
    for bad in [
        "relative/folder",
        "/tmp/../etc",
        &h.dir().join("reports").to_string_lossy(),
        &"/x".repeat(600),
    ] {
        let (s, v) = call(
            &h.app,
            "POST",
            "/api/v1/ops/teardown",
            Some(json!({"confirm": true, "export_dir": bad})),
            &[AUTH],
        )
        .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_export_dir")),
            "{bad}"
        );
    }
    assert!(!h.services.teardown.is_closed(), "a refused request closes nothing");
    assert!(
        !h.dir().join("reports").exists(),
        "a folder refused inside the data folder is not made there"
    );

    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("new-folder");
    let (s, v) = call(
        &h.app,
        "POST",
        "/api/v1/ops/teardown",
        Some(json!({"confirm": true, "export_dir": folder.to_str().unwrap()})),
        &[AUTH],
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert!(v["closed"].as_bool().unwrap() && folder.is_dir(), "closed at once; the folder made");
    assert_eq!(v["export_dir"].as_str().unwrap(), folder.canonicalize().unwrap().to_str().unwrap());
    let audit = h.services.audit.list(None, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "teardown" && e.result == "ok"), "{audit:?}");
    assert!(
        audit.iter().any(|e| e.action == "teardown" && e.result != "ok"),
        "refusals are audited too"
    );
}
