//! The booth's clock in a test booth: steps kept, audited, told in words; restarts.

use super::*;
use crate::testing::TestBooth;

#[tokio::test]
async fn a_step_is_kept_audited_and_told_in_words_and_the_booth_keeps_its_time() {
    let b = TestBooth::demo().await;
    let s = &b.services;
    let before = s.clock.now();
    b.clock.step_wall(SignedDuration::from_hours(1));
    assert!(s.booth_clock.look().is_some());
    record(&s.booth_clock, &s.db, &s.audit, &s.manifest).await;
    assert!(s.clock.now().duration_since(before).abs() < SignedDuration::from_secs(1));
    let v = view(&s.booth_clock, &s.db, &s.manifest).await.unwrap();
    assert!(v.in_doubt);
    assert_eq!(v.steps.len(), 1);
    assert_eq!(v.steps[0].by_ms, 3_600_000);
    assert!(v.steps[0].words.starts_with("The laptop's clock jumped forward 1 h 00 min at "));
    assert!(v.notice.unwrap().contains("until the hub, a paired booth or the lead confirms"));
    let audit = s.audit.list(None, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "clock step"), "{audit:?}");

    s.booth_clock.confirm(Trust::Laptop);
    record(&s.booth_clock, &s.db, &s.audit, &s.manifest).await;
    assert!(s.clock.now().duration_since(before) >= SignedDuration::from_mins(59));
    assert!(!view(&s.booth_clock, &s.db, &s.manifest).await.unwrap().in_doubt);
}

#[tokio::test]
async fn a_restart_never_starts_earlier_than_the_last_run() {
    let b = TestBooth::demo().await;
    let s = &b.services;
    save(&s.booth_clock, &s.db).await.unwrap();
    let saved = s.clock.now();
    b.clock.step_wall(-SignedDuration::from_hours(2));
    let restarted = BoothClock::new(Arc::new(b.clock.clone()));
    restarted.settle_start(&start_facts(&s.db, &s.manifest, None).await.unwrap());
    assert!(restarted.now() >= saved);
    assert!(restarted.holds_automations());
}
