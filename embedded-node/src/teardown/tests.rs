//! Teardown in-process, without HTTP: a test booth on a data folder, orders with contact
//! details, the pipeline run to its end, stopped short for a folder, and "crashed" at
//! every step (before and after the step's effect) and continued by a fresh `Teardown`
//! read back from the same database, as after a restart.

use std::sync::Arc;

use serde_json::Value;

use super::{Teardown, TeardownStep};
use crate::audit::Who;
use crate::checkout::{CheckoutError, OrderAttempt};
use crate::orders::{Captured, Contact, PaymentMethod};
use crate::services::Services;
use crate::testing::TestBooth;
use boothcloud_core::manifest::DEMO_MANIFEST;
use boothcloud_core::pricing::BasketLine;

const EVENT: &str = "harbour-lights-2026";

/// Sells `n` orders, each with a customer's contact details: (order id, key).
async fn sell(b: &TestBooth, n: usize) -> Vec<(String, String)> {
    let mut sold = Vec::new();
    for i in 0..n {
        let quote = b
            .services
            .checkout
            .quote(vec![BasketLine { sku: "COCOA".into(), qty: 1 + i as i64 % 3 }], None)
            .unwrap();
        let key = format!("teardown-order-{i}");
        let attempt = OrderAttempt {
            idempotency_key: key.clone(),
            request_hash: [i as u8; 32],
            quote_token: quote.token,
            payment: PaymentMethod::Card,
            reference: None,
            tendered: None,
            seller: crate::checkout::Seller::Kiosk,
            customer: Some(Contact {
                email: Some(format!("guest{i}@example.org")),
                phone: Some(format!("+4917000000{i:02}")),
            }),
        };
        let Captured::New(receipt) = b.services.checkout.place_order(attempt).await.unwrap() else {
            panic!("a new order")
        };
        let receipt: Value = serde_json::from_str(&receipt).unwrap();
        sold.push((receipt["order_id"].as_str().unwrap().to_owned(), key));
    }
    sold
}

fn operator() -> Who {
    Who::operator("api")
}

/// Every byte of the database, its WAL included.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["boothcloud.db", "boothcloud.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn steps_done(services: &Services) -> Vec<String> {
    sqlx::query_scalar("SELECT step FROM teardown_steps WHERE state = 'done' ORDER BY at_ms, rowid")
        .fetch_all(&services.db)
        .await
        .unwrap()
}

/// What must hold after `teardown` finished tearing down `sold`, exported to `export`.
async fn assert_torn_down(
    teardown: &Teardown,
    services: &Services,
    dir: &std::path::Path,
    sold: &[(String, String)],
    export: &std::path::Path,
) {
    let view = teardown.view().await.unwrap();
    assert_eq!(view.state, "finished", "{view:?}");
    assert!(view.steps.iter().all(|s| s.state == "done"), "{:?}", view.steps);
    assert_eq!(view.orders_at_risk, 0);
    // Every order is in the export file, with the contact details staff need.
    let file = export.join(format!("{EVENT}-orders-not-synced.json"));
    let exported: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(exported.len(), sold.len());
    for (id, _) in sold {
        let o = exported
            .iter()
            .find(|o| o["order_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} not exported"));
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
    let summary: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    let revenue = services.orders.counts().await.unwrap().revenue;
    assert_eq!(summary["revenue"], revenue);
    assert_eq!(summary["orders"]["total"], sold.len());
    assert_eq!(summary["orders"]["by_payment"][0]["payment"], "card");
    assert_eq!(summary["orders"]["by_payment"][0]["orders"], sold.len());
    // Each step ran to done once.
    let done = steps_done(services).await;
    assert_eq!(done.len(), TeardownStep::ALL.len(), "{done:?}");
}

#[tokio::test]
async fn offline_teardown_stops_for_a_folder_then_exports_reports_wipes_and_stops() {
    let h = TestBooth::demo().await;
    let sold = sell(&h, 5).await;
    // The kiosks' requests as the edge timed them: the report shows each route's latency.
    for _ in 0..5 {
        h.services.telemetry.record(&axum::http::Method::POST, "/api/v1/orders", 201, 4_000);
    }
    let export = tempfile::tempdir().unwrap();
    let before = h.services.keys.signer().fingerprint();
    // The laptop's clock jumped during the event: the report lists it.
    h.clock.step_wall(jiff::SignedDuration::from_mins(-10));
    h.services.booth_clock.look();
    let s = &h.services;
    crate::timekeeping::record(&s.booth_clock, &s.db, &s.audit, &s.manifest).await;

    // Without a folder: closed at once, then stopped at the orders (none synced: no hub).
    assert!(h.services.teardown.request(EVENT, &operator(), None).await.unwrap());
    assert!(h.services.teardown.is_closed());
    h.services.teardown.drive().await.unwrap();
    let view = h.services.teardown.view().await.unwrap();
    assert_eq!(view.state, "blocked", "{view:?}");
    let orders_step = view.steps.iter().find(|s| s.step == TeardownStep::Orders).unwrap();
    assert_eq!(orders_step.state, "blocked");
    assert!(
        orders_step.detail.as_deref().unwrap().contains("5 orders are not upstream"),
        "{orders_step:?}"
    );
    assert_eq!(view.orders_at_risk, 5);
    assert!(
        view.steps.iter().filter(|s| s.state == "done").count() == 2,
        "close and media only: {:?}",
        view.steps
    );
    assert!(contains(&database_bytes(h.dir()), "guest0@example.org"), "nothing was wiped");

    // Closed: no new quote or order; a retry of an order already taken still gets its receipt.
    let checkout = &h.services.checkout;
    assert!(matches!(
        checkout.quote(vec![BasketLine { sku: "COCOA".into(), qty: 1 }], None),
        Err(CheckoutError::Closed)
    ));
    let attempt = |key: &str, hash: u8| OrderAttempt {
        idempotency_key: key.into(),
        request_hash: [hash; 32],
        quote_token: "x".into(),
        payment: PaymentMethod::Cash,
        reference: None,
        tendered: None,
        seller: crate::checkout::Seller::Kiosk,
        customer: None,
    };
    assert!(matches!(
        checkout.place_order(attempt("new-one", 9)).await,
        Err(CheckoutError::Closed)
    ));
    assert!(matches!(
        checkout.place_order(attempt(&sold[0].1, 0)).await,
        Ok(Captured::Replayed(_))
    ));

    // Run again with a folder: it continues at the orders and finishes.
    assert!(!h.services.teardown.request(EVENT, &operator(), Some(export.path())).await.unwrap());
    h.services.teardown.drive().await.unwrap();
    assert_torn_down(&h.services.teardown, &h.services, h.dir(), &sold, export.path()).await;
    let summary = export.path().join(format!("{EVENT}-report")).join("summary.json");
    let summary: Value = serde_json::from_slice(&std::fs::read(summary).unwrap()).unwrap();
    assert!(
        summary["latency"].as_array().unwrap().iter().any(|r| r["route"] == "POST /api/v1/orders"),
        "{summary}"
    );
    assert_eq!(summary["clock_steps"][0]["by_ms"], -600_000, "{summary}");
    let html =
        std::fs::read_to_string(export.path().join(format!("{EVENT}-report/report.html"))).unwrap();
    assert!(html.contains("The laptop's clock jumped back 10 min 00 s at 09:00."), "{html}");
    assert_ne!(h.services.keys.signer().fingerprint(), before, "a new signing key");
    let stop = h.services.teardown.stop_requested();
    tokio::time::timeout(std::time::Duration::from_secs(10), stop)
        .await
        .expect("the node is asked to stop");

    let entries: Vec<String> =
        h.services.audit.list(None, 100).await.unwrap().into_iter().map(|e| e.action).collect();
    for step in TeardownStep::ALL {
        assert!(
            entries.iter().any(|a| *a == format!("teardown: {}", step.title().to_lowercase())),
            "{step:?} audited: {entries:?}"
        );
    }
}

#[tokio::test]
async fn interrupted_at_any_step_a_restarted_node_stays_closed_and_continues_where_it_stopped() {
    for step in TeardownStep::ALL {
        for after_effect in [false, true] {
            let h = TestBooth::demo().await;
            let sold = sell(&h, 3).await;
            let export = tempfile::tempdir().unwrap();
            let s = &h.services;
            s.teardown.request(EVENT, &operator(), Some(export.path())).await.unwrap();
            s.teardown.drive_until(Some((step, after_effect))).await.unwrap();

            // "Restart": a fresh teardown read back from the database.
            let fresh = Teardown::load(
                s.db.clone(),
                s.secrets.clone(),
                h.dir(),
                EVENT,
                s.teardown.scope().clone(),
            )
            .await
            .unwrap();
            let fresh = Arc::new(fresh);
            assert!(fresh.is_closed(), "closed after a crash at {step:?}");
            let view = fresh.view().await.unwrap();
            assert_eq!(view.state, "interrupted", "at {step:?}");
            let done_before = steps_done(s).await;
            let index = TeardownStep::ALL.iter().position(|st| *st == step).unwrap();
            assert_eq!(done_before.len(), index, "steps before {step:?} are done, it is not");

            fresh.request(EVENT, &operator(), None).await.unwrap();
            fresh.drive().await.unwrap();
            assert_torn_down(&fresh, s, h.dir(), &sold, export.path()).await;
        }
    }
}

#[tokio::test]
async fn the_wipe_itself_refuses_while_an_order_is_neither_synced_nor_exported() {
    let h = TestBooth::demo().await;
    sell(&h, 2).await;
    h.services.teardown.request(EVENT, &operator(), None).await.unwrap();
    // As if the steps before the wipe had been recorded done without exporting anything.
    for step in [
        TeardownStep::Close,
        TeardownStep::Media,
        TeardownStep::Orders,
        TeardownStep::Report,
        TeardownStep::Keys,
    ] {
        sqlx::query("INSERT INTO teardown_steps (event_id, step, state, detail, at_ms) VALUES (?, ?, 'done', 'test', 0)")
            .bind(EVENT)
            .bind(step.as_str())
            .execute(&h.services.db)
            .await
            .unwrap();
    }
    h.services.teardown.drive().await.unwrap();
    let view = h.services.teardown.view().await.unwrap();
    let wipe = view.steps.iter().find(|s| s.step == TeardownStep::Wipe).unwrap();
    assert_eq!(wipe.state, "blocked", "{wipe:?}");
    assert!(wipe
        .detail
        .as_deref()
        .unwrap()
        .contains("2 orders are neither synced upstream nor exported"));
    assert!(contains(&database_bytes(h.dir()), "guest1@example.org"), "nothing was wiped");
    assert!(matches!(
        h.services.orders.wipe_contacts().await,
        Err(crate::orders::OrderError::WouldLose(2))
    ));
}

#[tokio::test]
async fn teardown_starts_by_itself_after_the_end_time_and_from_a_runbook() {
    let manifest = DEMO_MANIFEST
        .replace("ends_at = 2027-12-31T22:00:00+01:00", "ends_at = 2026-06-10T10:00:00+02:00")
        .replace("# after_end = \"1h\"", "after_end = \"30m\"");
    let h = TestBooth::with(Some(&manifest)).await;
    h.services.teardown.start_if_due().await;
    assert!(!h.services.teardown.is_closed(), "09:00 is before the end");
    h.clock.advance(jiff::SignedDuration::from_mins(89));
    h.services.teardown.start_if_due().await;
    assert!(!h.services.teardown.is_closed(), "10:29 is before end + 30 min");
    h.clock.advance(jiff::SignedDuration::from_mins(2));
    h.services.teardown.start_if_due().await;
    let view = h.services.teardown.view().await.unwrap();
    assert!(!view.closed, "first the countdown");
    let countdown = view.countdown.expect("a countdown");
    assert_eq!(countdown.seconds_left, 300);
    assert_eq!(countdown.why, "the event's end time");
    h.clock.advance(jiff::SignedDuration::from_secs(299));
    h.services.teardown.start_if_due().await;
    assert!(!h.services.teardown.is_closed(), "one second left");
    h.clock.advance(jiff::SignedDuration::from_secs(1));
    h.services.teardown.start_if_due().await;
    let view = h.services.teardown.view().await.unwrap();
    assert!(view.closed);
    assert!(view.automatic && view.reopenable);
    assert_eq!(view.started_by.as_deref(), Some("the event's end time"));

    let manifest =
        format!("{DEMO_MANIFEST}\n[[runbooks]]\nname = \"close-up\"\ntrigger = \"manual\"\nsteps = [\"notify Closing\", \"teardown\"]\n");
    let h = TestBooth::with(Some(&manifest)).await;
    let dry = h.services.controls.run("close-up", Some(&operator()), true).await.unwrap();
    assert!(!h.services.teardown.is_closed(), "a dry run closes nothing");
    assert_eq!(dry.steps[1].result, "would change");
    h.services.controls.run("close-up", Some(&operator()), false).await.unwrap();
    let view = h.services.teardown.view().await.unwrap();
    assert!(view.closed);
    assert_eq!(view.started_by.as_deref(), Some("runbook close-up"), "{view:?}");
}

#[tokio::test]
async fn a_step_that_fails_stops_teardown_before_the_wipe_and_running_again_finishes() {
    let h = TestBooth::demo().await;
    let sold = sell(&h, 2).await;
    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("usb-stick");
    std::fs::create_dir_all(&folder).unwrap();
    h.services.teardown.request(EVENT, &operator(), Some(&folder)).await.unwrap();
    // The stick is pulled and something else now has its name: the export cannot be written.
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();
    h.services.teardown.drive().await.unwrap();
    let view = h.services.teardown.view().await.unwrap();
    assert_eq!(view.state, "failed", "{view:?}");
    let orders = view.steps.iter().find(|s| s.step == TeardownStep::Orders).unwrap();
    assert!(
        orders.state == "failed" && orders.detail.as_deref().unwrap().contains("cannot write"),
        "{orders:?}"
    );
    assert!(
        view.steps.iter().filter(|s| s.state == "pending").any(|s| s.step == TeardownStep::Wipe),
        "the wipe did not run"
    );
    assert!(contains(&database_bytes(h.dir()), "guest0@example.org"), "nothing was wiped");

    std::fs::remove_file(&folder).unwrap();
    std::fs::create_dir_all(&folder).unwrap();
    h.services.teardown.request(EVENT, &operator(), None).await.unwrap();
    h.services.teardown.drive().await.unwrap();
    assert_torn_down(&h.services.teardown, &h.services, h.dir(), &sold, &folder).await;
}

/// The demo ending at 10:00 Berlin (08:00 UTC) with teardown 30 minutes after; the test
/// booth starts at 09:00 Berlin.
fn ending_soon() -> String {
    DEMO_MANIFEST
        .replace("ends_at = 2027-12-31T22:00:00+01:00", "ends_at = 2026-06-10T10:00:00+02:00")
        .replace("# after_end = \"1h\"", "after_end = \"30m\"")
        .replace("countdown = \"5m\"", "countdown = \"1m\"")
}

#[tokio::test]
async fn a_forward_step_of_the_laptop_clock_past_the_end_starts_nothing() {
    let h = TestBooth::with(Some(&ending_soon())).await;
    h.clock.step_wall(jiff::SignedDuration::from_hours(3));
    h.services.booth_clock.look();
    h.services.teardown.start_if_due().await;
    let view = h.services.teardown.view().await.unwrap();
    assert!(!view.closed && view.countdown.is_none(), "{view:?}");
    // Once the end is truly reached (on the booth's time), the countdown comes.
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    h.services.teardown.start_if_due().await;
    assert!(h.services.teardown.view().await.unwrap().countdown.is_some());
}

#[tokio::test]
async fn a_cancelled_countdown_keeps_the_booth_open_for_the_rest_of_the_event() {
    let h = TestBooth::with(Some(&ending_soon())).await;
    let t = &h.services.teardown;
    assert!(matches!(
        t.cancel_countdown(&operator()).await,
        Err(super::TeardownError::NoCountdown)
    ));
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    t.start_if_due().await;
    assert!(t.view().await.unwrap().countdown.is_some());
    t.cancel_countdown(&operator()).await.unwrap();
    h.clock.advance(jiff::SignedDuration::from_mins(10));
    t.start_if_due().await;
    t.start_if_due().await;
    let view = t.view().await.unwrap();
    assert!(!view.closed && view.countdown.is_none() && view.stood_down, "{view:?}");
    let audit = h.services.audit.list(None, 20).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "teardown countdown cancelled"), "{audit:?}");
    // The lead can still tear down by hand.
    assert!(t.request(EVENT, &operator(), None).await.unwrap());
    assert!(t.is_closed());
}

#[tokio::test]
async fn a_booth_the_end_time_closed_is_reopened_by_the_lead_and_sells_but_one_the_lead_closed_is_not(
) {
    let h = TestBooth::with(Some(&ending_soon())).await;
    sell(&h, 1).await;
    let t = &h.services.teardown;
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    t.start_if_due().await;
    h.clock.advance(jiff::SignedDuration::from_mins(1));
    t.start_if_due().await;
    assert!(t.is_closed());
    // The pipeline runs until it stops for a folder (an order is not upstream): before the wipe.
    t.drive().await.unwrap();
    let view = t.view().await.unwrap();
    assert_eq!(view.state, "blocked", "{view:?}");
    assert!(view.reopenable);
    t.reopen(&operator()).await.unwrap();
    let view = t.view().await.unwrap();
    assert!(!view.closed && view.state == "not_started" && view.stood_down, "{view:?}");
    let quote = h
        .services
        .checkout
        .quote(vec![BasketLine { sku: "COCOA".into(), qty: 1 }], None)
        .expect("it quotes again");
    let attempt = OrderAttempt {
        idempotency_key: "after-reopening".into(),
        request_hash: [9; 32],
        quote_token: quote.token,
        payment: PaymentMethod::Card,
        reference: None,
        tendered: None,
        seller: crate::checkout::Seller::Kiosk,
        customer: None,
    };
    assert!(
        matches!(h.services.checkout.place_order(attempt).await, Ok(Captured::New(_))),
        "it sells again"
    );
    h.clock.advance(jiff::SignedDuration::from_mins(30));
    t.start_if_due().await;
    assert!(t.view().await.unwrap().countdown.is_none(), "it does not start by itself again");
    let audit = h.services.audit.list(None, 50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "teardown reopened"), "{audit:?}");

    t.request(EVENT, &operator(), None).await.unwrap();
    assert!(matches!(t.reopen(&operator()).await, Err(super::TeardownError::StartedByLead)));
    assert!(t.is_closed(), "closed by the lead stays closed");
}

#[tokio::test]
async fn a_booth_that_doubts_its_time_at_start_holds_the_automatic_teardown_until_confirmed() {
    let h = TestBooth::with(Some(&ending_soon())).await;
    h.services.booth_clock.settle_start(&boothcloud_core::timekeeping::StartFacts {
        built_at: Some("2026-06-10T07:00:00Z".parse().unwrap()),
        event_expires: Some("2026-06-10T06:00:00Z".parse().unwrap()),
        ..Default::default()
    });
    assert!(h.services.booth_clock.holds_automations());
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    h.services.teardown.start_if_due().await;
    let view = h.services.teardown.view().await.unwrap();
    assert!(view.countdown.is_none() && view.waiting_for_time, "{view:?}");
    h.services.booth_clock.confirm(crate::timekeeping::Trust::Laptop);
    h.services.teardown.start_if_due().await;
    assert!(h.services.teardown.view().await.unwrap().countdown.is_some());
}

#[tokio::test]
async fn a_countdown_stops_when_the_manifest_moves_the_end_and_a_cancel_at_its_last_moment_wins_or_loses_whole(
) {
    let h = TestBooth::with(Some(&ending_soon())).await;
    let t = &h.services.teardown;
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    t.start_if_due().await;
    assert!(t.view().await.unwrap().countdown.is_some());
    // The lead moves the end an hour later while the countdown runs.
    let later = ending_soon().replace("2026-06-10T10:00:00+02:00", "2026-06-10T11:00:00+02:00");
    std::fs::write(h.dir().join("booth.toml"), later).unwrap();
    h.services.manifest.reload().unwrap();
    t.start_if_due().await;
    h.clock.advance(jiff::SignedDuration::from_mins(2));
    t.start_if_due().await;
    let view = t.view().await.unwrap();
    assert!(!view.closed && view.countdown.is_none() && !view.stood_down, "{view:?}");
    let audit = h.services.audit.list(None, 20).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "teardown countdown withdrawn"), "{audit:?}");
    // The new end counts down in its turn.
    h.clock.advance(jiff::SignedDuration::from_mins(60));
    t.start_if_due().await;
    assert!(t.view().await.unwrap().countdown.is_some());

    // At the countdown's last moment a cancel and the close race: whichever comes first
    // wins whole (here the cancel: the booth stays open and is stood down)...
    h.clock.advance(jiff::SignedDuration::from_mins(1));
    let staff = operator();
    let (cancelled, ()) = tokio::join!(t.cancel_countdown(&staff), t.start_if_due());
    cancelled.unwrap();
    let view = t.view().await.unwrap();
    assert!(!view.closed && view.stood_down && view.countdown.is_none(), "{view:?}");

    // ...and here the close: the booth closes, and the cancel finds nothing to cancel.
    let h = TestBooth::with(Some(&ending_soon())).await;
    let t = &h.services.teardown;
    h.clock.advance(jiff::SignedDuration::from_mins(91));
    t.start_if_due().await;
    h.clock.advance(jiff::SignedDuration::from_mins(1));
    let ((), cancelled) = tokio::join!(t.start_if_due(), t.cancel_countdown(&staff));
    assert!(matches!(cancelled, Err(super::TeardownError::NoCountdown)));
    let view = t.view().await.unwrap();
    assert!(view.closed && !view.stood_down && view.countdown.is_none(), "{view:?}");
}

#[tokio::test]
async fn a_lead_asking_for_the_teardown_the_end_time_started_makes_it_theirs() {
    let h = TestBooth::with(Some(&ending_soon())).await;
    let t = &h.services.teardown;
    h.clock.advance(jiff::SignedDuration::from_mins(92));
    t.start_if_due().await;
    h.clock.advance(jiff::SignedDuration::from_mins(1));
    t.start_if_due().await;
    assert!(t.view().await.unwrap().reopenable);
    assert!(!t.request(EVENT, &operator(), None).await.unwrap(), "it joins the run");
    assert!(!t.view().await.unwrap().reopenable);
    assert!(matches!(t.reopen(&operator()).await, Err(super::TeardownError::StartedByLead)));
    assert!(t.is_closed());
}
