//! Teardown in-process: the whole app on a data folder, orders with contact details,
//! the pipeline run to its end, stopped short for a folder, and "crashed" at every
//! step (before and after the step's effect) and continued by a fresh `Teardown` read
//! back from the same database, as after a restart.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{Step, Teardown};
use crate::audit::Who;
use crate::http::tests::{call, harness, harness_with, Harness, AUTH};
use crate::http::AppState;
use crate::manifest::DEMO_MANIFEST;

const EVENT: &str = "harbour-lights-2026";

async fn sell(h: &Harness, n: usize) -> Vec<(String, String)> {
    let mut sold = Vec::new();
    for i in 0..n {
        let (s, q) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1 + i % 3}]})), &[]).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        let key = format!("teardown-order-{i}");
        let body = json!({"quote_token": q["token"], "payment": {"method": "card"},
            "customer": {"email": format!("guest{i}@example.org"), "phone": format!("+4917000000{i:02}")}});
        let (s, o) = call(&h.app, "POST", "/api/v1/orders", Some(body), &[("idempotency-key", &key)]).await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        sold.push((o["order_id"].as_str().unwrap().to_owned(), key));
    }
    sold
}

fn operator() -> Who {
    Who::operator("api")
}

/// Every byte of the database, its WAL included.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["t.db", "t.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn steps_done(state: &AppState) -> Vec<String> {
    sqlx::query_scalar("SELECT step FROM teardown_steps WHERE state = 'done' ORDER BY at_ms, rowid").fetch_all(&state.db).await.unwrap()
}

/// What must hold after a finished teardown of `sold` exported to `export`.
async fn assert_torn_down(state: &AppState, dir: &std::path::Path, sold: &[(String, String)], export: &std::path::Path) {
    let view = state.teardown.view(state).await.unwrap();
    assert_eq!(view.state, "finished", "{view:?}");
    assert!(view.steps.iter().all(|s| s.state == "done"), "{:?}", view.steps);
    assert_eq!(view.orders_at_risk, 0);
    // Every order is in the export file, with the contact details staff need.
    let file = export.join(format!("{EVENT}-orders-not-synced.json"));
    let exported: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(exported.len(), sold.len());
    for (id, _) in sold {
        let o = exported.iter().find(|o| o["order_id"] == id.as_str()).unwrap_or_else(|| panic!("{id} not exported"));
        assert!(o["customer"]["email"].as_str().unwrap().ends_with("@example.org"));
    }
    // …and gone from the node, from the database file itself.
    let bytes = database_bytes(dir);
    assert!(!contains(&bytes, "@example.org"), "an e-mail address is still in the database file");
    assert!(!contains(&bytes, "+491700000"), "a phone number is still in the database file");
    // The report: HTML with the charts as images, CSV without contact details, JSON figures.
    let report = export.join(format!("{EVENT}-report"));
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for chart in ["latency", "hit-ratio", "transcodes", "spend"] {
        assert!(html.contains(&format!("src=\"{chart}.png\"")), "the report shows {chart}");
        let png = std::fs::read(report.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}.png is a PNG");
    }
    assert!(html.contains("teardown: stop taking new orders"), "the audit log is in the report");
    let csv = std::fs::read_to_string(report.join("orders.csv")).unwrap();
    assert_eq!(csv.lines().count(), sold.len() + 1);
    assert!(!csv.contains("@example.org"));
    let summary: Value = serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    let revenue: i64 = sqlx::query_scalar("SELECT SUM(total) FROM orders").fetch_one(&state.db).await.unwrap();
    assert_eq!(summary["revenue"], revenue);
    assert_eq!(summary["orders"]["total"], sold.len());
    assert_eq!(summary["orders"]["by_payment"][0]["payment"], "card");
    assert_eq!(summary["orders"]["by_payment"][0]["orders"], sold.len());
    assert!(summary["latency"].as_array().unwrap().iter().any(|r| r["route"] == "POST /api/v1/orders"), "{summary}");
    // Each step ran to done once.
    let done = steps_done(state).await;
    assert_eq!(done.len(), Step::ALL.len(), "{done:?}");
}

#[tokio::test]
async fn offline_teardown_stops_for_a_folder_then_exports_reports_wipes_and_stops() {
    let h = harness().await;
    h.state.telemetry.set_sampling(1.0);
    let sold = sell(&h, 5).await;
    let export = tempfile::tempdir().unwrap();
    let before = h.state.signer.fingerprint();

    // Without a folder: closed at once, then stopped at the orders (none synced: no hub).
    assert!(h.state.teardown.request(EVENT, &operator(), None).await.unwrap());
    assert!(h.state.teardown.is_closed());
    h.state.teardown.drive(&h.state).await.unwrap();
    let view = h.state.teardown.view(&h.state).await.unwrap();
    assert_eq!(view.state, "blocked", "{view:?}");
    let orders_step = view.steps.iter().find(|s| s.step == Step::Orders).unwrap();
    assert_eq!(orders_step.state, "blocked");
    assert!(orders_step.detail.as_deref().unwrap().contains("5 orders are not upstream"), "{orders_step:?}");
    assert_eq!(view.orders_at_risk, 5);
    assert!(view.steps.iter().filter(|s| s.state == "done").count() == 2, "close and media only: {:?}", view.steps);
    assert!(contains(&database_bytes(h.dir()), "guest0@example.org"), "nothing was wiped");

    // Closed: kiosks hear so, in words; a retry of an order already taken still gets its receipt.
    let (s, body) = call(&h.app, "POST", "/api/v1/quotes", Some(json!({"lines": [{"sku": "COCOA", "qty": 1}]})), &[]).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::GONE, Some("booth_closed")));
    assert!(body["error"]["message"].as_str().unwrap().contains("closed"));
    let (s, body) = call(
        &h.app,
        "POST",
        "/api/v1/orders",
        Some(json!({"quote_token": "x", "payment": {"method": "cash"}})),
        &[("idempotency-key", "new-one")],
    )
    .await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::GONE, Some("booth_closed")));

    // Run again with a folder: it continues at the orders and finishes.
    assert!(!h.state.teardown.request(EVENT, &operator(), Some(export.path())).await.unwrap());
    h.state.teardown.drive(&h.state).await.unwrap();
    assert_torn_down(&h.state, h.dir(), &sold, export.path()).await;
    assert_ne!(h.state.signer.fingerprint(), before, "a new signing key");
    let stop = h.state.teardown.stop_requested();
    tokio::time::timeout(std::time::Duration::from_secs(10), stop).await.expect("the node is asked to stop");

    let entries: Vec<String> = h.state.audit.list(None, 100).await.unwrap().into_iter().map(|e| e.action).collect();
    for step in Step::ALL {
        assert!(entries.iter().any(|a| *a == format!("teardown: {}", step.title().to_lowercase())), "{step:?} audited: {entries:?}");
    }
}

#[tokio::test]
async fn interrupted_at_any_step_a_restarted_node_stays_closed_and_continues_where_it_stopped() {
    for step in Step::ALL {
        for after_effect in [false, true] {
            let h = harness().await;
            let sold = sell(&h, 3).await;
            let export = tempfile::tempdir().unwrap();
            h.state.teardown.request(EVENT, &operator(), Some(export.path())).await.unwrap();
            h.state.teardown.drive_until(&h.state, Some((step, after_effect))).await.unwrap();

            // "Restart": a fresh teardown read back from the database.
            let fresh = Teardown::load(h.state.db.clone(), h.secrets.clone(), h.state.clock.clone(), h.dir(), EVENT).await.unwrap();
            let state = h.state.with(|s| s.teardown = Arc::new(fresh));
            assert!(state.teardown.is_closed(), "closed after a crash at {step:?}");
            let view = state.teardown.view(&state).await.unwrap();
            assert_eq!(view.state, "interrupted", "at {step:?}");
            let done_before = steps_done(&state).await;
            let index = Step::ALL.iter().position(|s| *s == step).unwrap();
            assert_eq!(done_before.len(), index, "steps before {step:?} are done, it is not");

            state.teardown.request(EVENT, &operator(), None).await.unwrap();
            state.teardown.drive(&state).await.unwrap();
            assert_torn_down(&state, h.dir(), &sold, export.path()).await;
        }
    }
}

#[tokio::test]
async fn the_wipe_itself_refuses_while_an_order_is_neither_synced_nor_exported() {
    let h = harness().await;
    sell(&h, 2).await;
    h.state.teardown.request(EVENT, &operator(), None).await.unwrap();
    // As if the steps before the wipe had been recorded done without exporting anything.
    for step in [Step::Close, Step::Media, Step::Orders, Step::Report, Step::Keys] {
        sqlx::query("INSERT INTO teardown_steps (event_id, step, state, detail, at_ms) VALUES (?, ?, 'done', 'test', 0)")
            .bind(EVENT)
            .bind(step.as_str())
            .execute(&h.state.db)
            .await
            .unwrap();
    }
    h.state.teardown.drive(&h.state).await.unwrap();
    let view = h.state.teardown.view(&h.state).await.unwrap();
    let wipe = view.steps.iter().find(|s| s.step == Step::Wipe).unwrap();
    assert_eq!(wipe.state, "blocked", "{wipe:?}");
    assert!(wipe.detail.as_deref().unwrap().contains("2 orders are neither synced upstream nor exported"));
    assert!(contains(&database_bytes(h.dir()), "guest1@example.org"), "nothing was wiped");
    assert!(matches!(h.state.orders.wipe_contacts().await, Err(crate::orders::OrderError::WouldLose(2))));
}

#[tokio::test]
async fn the_http_contract_confirms_checks_the_folder_and_needs_the_operator() {
    let h = harness().await;
    let body = json!({"confirm": true});
    let (s, _) = call(&h.app, "POST", "/api/v1/ops/teardown", Some(body.clone()), &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&h.app, "GET", "/api/v1/ops/teardown", None, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(&h.app, "GET", "/api/v1/ops/teardown", None, &[AUTH]).await;
    assert_eq!((s, v["state"].as_str(), v["closed"].as_bool()), (StatusCode::OK, Some("not_started"), Some(false)));
    assert_eq!(v["steps"].as_array().unwrap().len(), 8);

    let (s, v) = call(&h.app, "POST", "/api/v1/ops/teardown", Some(json!({"confirm": false})), &[AUTH]).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm_required")));
    for bad in ["relative/folder", "/tmp/../etc", &h.dir().join("reports").to_string_lossy(), &"/x".repeat(600)] {
        let (s, v) = call(&h.app, "POST", "/api/v1/ops/teardown", Some(json!({"confirm": true, "export_dir": bad})), &[AUTH]).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_export_dir")), "{bad}");
    }
    assert!(!h.state.teardown.is_closed(), "a refused request closes nothing");
    assert!(!h.dir().join("reports").exists(), "a folder refused inside the data folder is not made there");

    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("new-folder");
    let (s, v) =
        call(&h.app, "POST", "/api/v1/ops/teardown", Some(json!({"confirm": true, "export_dir": folder.to_str().unwrap()})), &[AUTH]).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert!(v["closed"].as_bool().unwrap() && folder.is_dir(), "closed at once; the folder made");
    assert_eq!(v["export_dir"].as_str().unwrap(), folder.canonicalize().unwrap().to_str().unwrap());
    let audit = h.state.audit.list(None, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "teardown" && e.result == "ok"), "{audit:?}");
    assert!(audit.iter().any(|e| e.action == "teardown" && e.result != "ok"), "refusals are audited too");
}

#[tokio::test]
async fn teardown_starts_by_itself_after_the_end_time_and_from_a_runbook() {
    let manifest = DEMO_MANIFEST
        .replace("ends_at = 2027-12-31T22:00:00+01:00", "ends_at = 2026-06-10T10:00:00+02:00")
        .replace("# after_end = \"1h\"", "after_end = \"30m\"");
    let h = harness_with(Some(&manifest)).await;
    h.state.teardown.start_if_due(&h.state).await;
    assert!(!h.state.teardown.is_closed(), "09:00 is before the end");
    h.clock.advance(jiff::SignedDuration::from_mins(89));
    h.state.teardown.start_if_due(&h.state).await;
    assert!(!h.state.teardown.is_closed(), "10:29 is before end + 30 min");
    h.clock.advance(jiff::SignedDuration::from_mins(2));
    h.state.teardown.start_if_due(&h.state).await;
    let view = h.state.teardown.view(&h.state).await.unwrap();
    assert!(view.closed);
    assert_eq!(view.started_by.as_deref(), Some("the event's end time"));

    let manifest =
        format!("{DEMO_MANIFEST}\n[[runbooks]]\nname = \"close-up\"\ntrigger = \"manual\"\nsteps = [\"notify Closing\", \"teardown\"]\n");
    let h = harness_with(Some(&manifest)).await;
    let dry = h.state.controls.run("close-up", Some(&operator()), true).await.unwrap();
    assert!(!h.state.teardown.is_closed(), "a dry run closes nothing");
    assert_eq!(dry.steps[1].result, "would change");
    h.state.controls.run("close-up", Some(&operator()), false).await.unwrap();
    let view = h.state.teardown.view(&h.state).await.unwrap();
    assert!(view.closed);
    assert_eq!(view.started_by.as_deref(), Some("runbook close-up"), "{view:?}");
}

#[tokio::test]
async fn a_step_that_fails_stops_teardown_before_the_wipe_and_running_again_finishes() {
    let h = harness().await;
    let sold = sell(&h, 2).await;
    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("usb-stick");
    std::fs::create_dir_all(&folder).unwrap();
    h.state.teardown.request(EVENT, &operator(), Some(&folder)).await.unwrap();
    // The stick is pulled and something else now has its name: the export cannot be written.
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();
    h.state.teardown.drive(&h.state).await.unwrap();
    let view = h.state.teardown.view(&h.state).await.unwrap();
    assert_eq!(view.state, "failed", "{view:?}");
    let orders = view.steps.iter().find(|s| s.step == Step::Orders).unwrap();
    assert!(orders.state == "failed" && orders.detail.as_deref().unwrap().contains("cannot write"), "{orders:?}");
    assert!(view.steps.iter().filter(|s| s.state == "pending").any(|s| s.step == Step::Wipe), "the wipe did not run");
    assert!(contains(&database_bytes(h.dir()), "guest0@example.org"), "nothing was wiped");

    std::fs::remove_file(&folder).unwrap();
    std::fs::create_dir_all(&folder).unwrap();
    h.state.teardown.request(EVENT, &operator(), None).await.unwrap();
    h.state.teardown.drive(&h.state).await.unwrap();
    assert_torn_down(&h.state, h.dir(), &sold, &folder).await;
}
