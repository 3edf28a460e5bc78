//! The controls in-process, without HTTP: a test booth with a manual clock, so a
//! runbook's trigger is tested with fed latency and time that moves only when the test
//! says. (What the levels do to routes is tested at the edge, `http::tests::controls`.)

use axum::http::Method;
use jiff::SignedDuration;

use crate::audit::{AuditEntry, Who};
use crate::orders::PaymentMethod;
use crate::testing::TestBooth;
use boothcloud_core::manifest::{Sheddable, DEMO_MANIFEST};
use boothcloud_core::pricing::BasketLine;

/// The demo, plus a runbook that degrades when kiosks are slow (700 ms fires it, the
/// demo's own `kiosks-slow` at 1 s does not).
fn slow_booth() -> String {
    format!(
        "{DEMO_MANIFEST}\n[[runbooks]]\nname = \"slow-sheds\"\ntrigger = \"p99 over 500ms for 30s\"\n\
         steps = [\"degrade essential\", \"pause uploads\", \"notify Slow: essential mode\"]\n"
    )
}

fn slow_minute(b: &TestBooth) {
    for _ in 0..25 {
        b.services.telemetry.record(&Method::POST, "/api/v1/quotes", 200, 700_000);
    }
}

async fn audit(b: &TestBooth) -> Vec<AuditEntry> {
    b.services.audit.list(None, 50).await.unwrap()
}

fn operator() -> Who {
    Who::operator("dashboard")
}

#[tokio::test]
async fn a_slow_booth_runs_its_runbook_once_after_holding_for_thirty_seconds() {
    let b = TestBooth::with(Some(&slow_booth())).await;
    let controls = &b.services.controls;
    slow_minute(&b);
    assert!(controls.tick().await.is_empty(), "the condition has only just started holding");
    b.clock.advance(SignedDuration::from_secs(20));
    slow_minute(&b);
    assert!(controls.tick().await.is_empty(), "20 s is not 30 s");
    b.clock.advance(SignedDuration::from_secs(11));
    assert_eq!(controls.tick().await, ["slow-sheds"]);

    let view = controls.view();
    assert_eq!(view.level, "essential");
    assert!(view.uploads_paused_by_hand && b.services.media.forwarder.is_paused());
    assert_eq!(view.notices[0].text, "Slow: essential mode");
    let paused = controls.gate().paused(Sheddable::Metrics).expect("essential sheds /metrics");
    assert_eq!(paused.retry_after_s, 60);

    // Every step and the run itself are in the audit log, as the runbook's.
    let log = audit(&b).await;
    let by_runbook: Vec<&str> = log
        .iter()
        .filter(|e| e.actor == "runbook" && e.why == "runbook slow-sheds")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(by_runbook, ["run runbook", "notify", "media forwarding", "degrade"]);
    assert_eq!(log[0].after.as_deref(), Some("trigger: p99 over 500ms for 30s"));

    // Still slow a second later: it has run for this stretch and does not run again.
    b.clock.advance(SignedDuration::from_secs(1));
    slow_minute(&b);
    assert!(controls.tick().await.is_empty());
}

#[tokio::test]
async fn a_fast_booth_runs_nothing() {
    let b = TestBooth::with(Some(&slow_booth())).await;
    for second in 0..120 {
        for _ in 0..25 {
            b.services.telemetry.record(&Method::POST, "/api/v1/quotes", 200, 40_000);
        }
        assert!(b.services.controls.tick().await.is_empty(), "second {second}");
        b.clock.advance(SignedDuration::from_secs(1));
    }
    assert_eq!(b.services.controls.level(), "normal");
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_a_run_by_hand_is_the_operators() {
    let b = TestBooth::demo().await;
    let controls = &b.services.controls;
    let dry = controls.run("uplink-trouble", Some(&operator()), true).await.unwrap();
    let steps: Vec<(&str, &str, &str, &str)> = dry
        .steps
        .iter()
        .map(|s| (s.step.as_str(), s.before.as_str(), s.after.as_str(), s.result.as_str()))
        .collect();
    assert_eq!(steps[0], ("failover offline", "auto", "offline", "would change"));
    assert_eq!(steps[1], ("degrade essential", "normal", "essential", "would change"));
    assert_eq!(steps[2], ("pause uploads", "uploads sending", "uploads paused", "would change"));
    assert_eq!(controls.level(), "normal");
    assert_eq!(b.services.uplink.route().path(), "auto");
    assert!(audit(&b).await.is_empty(), "a dry run writes nothing");

    let run = controls.run("uplink-trouble", Some(&operator()), false).await.unwrap();
    assert!(run.steps.iter().all(|s| s.result == "ok"), "{run:?}");
    assert_eq!(controls.level(), "essential");
    assert_eq!(b.services.uplink.route().path(), "offline");
    let log = audit(&b).await;
    assert!(log.iter().all(|e| e.actor == "operator"
        && e.client == "dashboard"
        && e.why == "runbook uplink-trouble"));
    assert_eq!(log.len(), 5, "four steps and the run: {log:?}");

    // Run again: the same steps change nothing now.
    let dry = controls.run("uplink-trouble", Some(&operator()), true).await.unwrap();
    assert!(dry.steps[..3].iter().all(|s| s.result == "nothing to do"), "{dry:?}");
    // And the all-clear undoes it.
    controls.run("all-clear", Some(&operator()), false).await.unwrap();
    assert_eq!(
        (controls.level().as_str(), b.services.uplink.route().path().as_str()),
        ("normal", "auto")
    );
    assert!(!b.services.media.forwarder.is_paused());
}

#[tokio::test]
async fn rotating_the_signing_key_refuses_old_quotes_and_survives_in_the_store() {
    let b = TestBooth::demo().await;
    let (services, controls) = (&b.services, &b.services.controls);
    let cocoa = || vec![BasketLine { sku: "COCOA".into(), qty: 1 }];
    let old = services.checkout.quote(cocoa(), None).unwrap();
    let signer = services.keys.signer();
    let before = signer.fingerprint();
    let dry = controls.run("key-compromise", Some(&operator()), true).await.unwrap();
    assert_eq!(
        (dry.steps[0].before.as_str(), dry.steps[0].result.as_str()),
        (&*format!("key {before}"), "would change")
    );
    assert_eq!(signer.fingerprint(), before, "a dry run keeps the key");

    controls.run("key-compromise", Some(&operator()), false).await.unwrap();
    let after = signer.fingerprint();
    assert_ne!(after, before);
    // The keyring (here the file vault) holds the new key: a restart signs with it.
    let stored: [u8; 32] =
        services.secrets.get(crate::secrets::QUOTE_KEY).unwrap().unwrap().try_into().unwrap();
    assert_eq!(boothcloud_core::signing::quote::QuoteSigner::new(stored).fingerprint(), after);

    let event = &services.manifest.current().manifest.event.id;
    assert!(
        signer.verify(&old.token, event, boothcloud_core::clock::Clock::now(&b.clock)).is_err(),
        "a quote signed before is refused"
    );
    b.sell(&[("COCOA", 1)], PaymentMethod::Cash, "new-key-order").await;

    let log = audit(&b).await;
    let rotation = log.iter().find(|e| e.action == "rotate signing key").unwrap();
    assert_eq!(
        (rotation.before.as_deref(), rotation.after.as_deref()),
        (Some(&*format!("key {before}")), Some(&*format!("key {after}")))
    );
}

#[tokio::test]
async fn a_degrade_level_slows_the_fleet_view_and_says_so_and_normal_restores_it() {
    let b = TestBooth::with(None).await;
    let normal = b.services.manifest.current().manifest.discovery.probe_every.unsigned_abs();
    assert_eq!(b.services.peers.fleet_every(), normal);
    b.services.controls.degrade("reduced", &Who::operator("api")).await.unwrap();
    assert_eq!(b.services.peers.fleet_every(), std::time::Duration::from_secs(15));
    let m = b.services.manifest.current();
    let reduced = m.manifest.level("reduced").unwrap();
    let words = super::effects(&reduced, &m.manifest, 1.0, None);
    assert!(
        words.iter().any(|w| w.contains("Paired booths are asked how they are every 15s")),
        "{words:?}"
    );
    b.services.controls.degrade("essential", &Who::operator("api")).await.unwrap();
    assert_eq!(b.services.peers.fleet_every(), std::time::Duration::from_secs(60));
    b.services.controls.degrade("normal", &Who::operator("api")).await.unwrap();
    assert_eq!(b.services.peers.fleet_every(), normal);
}
