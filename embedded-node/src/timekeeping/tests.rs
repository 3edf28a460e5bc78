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

#[tokio::test]
async fn a_restart_after_a_step_nobody_confirmed_keeps_the_booths_time_in_doubt() {
    let b = TestBooth::demo().await;
    let s = &b.services;
    let before = s.clock.now();
    b.clock.step_wall(SignedDuration::from_hours(3));
    s.booth_clock.look();
    save(&s.booth_clock, &s.db).await.unwrap();
    let restarted = BoothClock::new(Arc::new(b.clock.clone()));
    restarted.settle_start(&start_facts(&s.db, &s.manifest, None).await.unwrap());
    assert!(restarted.now().duration_since(before).abs() < SignedDuration::from_secs(1));
    assert!(restarted.holds_automations(), "the step is still unconfirmed");

    // Confirmed, and saved at once: the next restart trusts the laptop without doubt.
    restarted.confirm(Trust::Laptop);
    save(&restarted, &s.db).await.unwrap();
    let again = BoothClock::new(Arc::new(b.clock.clone()));
    again.settle_start(&start_facts(&s.db, &s.manifest, None).await.unwrap());
    assert!(!again.holds_automations());
    assert!(again.now().duration_since(before) >= SignedDuration::from_mins(179));
}

#[tokio::test]
async fn offsets_measured_before_the_booths_own_time_jumped_are_dropped() {
    let b = TestBooth::demo().await;
    let (s, peer) = (&b.services, "peer-node");
    let answer = |theirs: Timestamp, status: u16| {
        let res = axum::http::Response::builder()
            .status(status)
            .header(crate::peers::TIME_HEADER, theirs.as_millisecond().to_string())
            .body(Vec::<u8>::new())
            .unwrap();
        reqwest::Response::from(res)
    };
    let three_min = SignedDuration::from_mins(3);
    let asked = s.peers.stamp();
    s.peers.note_time(peer, &answer(s.clock.now() + three_min, 200), asked);
    let offset = s.peers.offset_ms(peer).expect("measured");
    assert!((offset - 180_000).abs() < 1_000, "{offset}");

    // A step the lead confirms moves the booth's own time: the old offset means nothing.
    let epoch = s.booth_clock.epoch();
    b.clock.step_wall(SignedDuration::from_hours(1));
    s.booth_clock.look();
    assert_eq!(s.booth_clock.epoch(), epoch, "a step alone moves no trusted time");
    s.booth_clock.confirm(Trust::Booth);
    assert_eq!(s.booth_clock.epoch(), epoch, "keeping the booth's time moves nothing");
    b.clock.step_wall(SignedDuration::from_hours(1));
    s.booth_clock.look();
    s.booth_clock.confirm(Trust::Laptop);
    assert_ne!(s.booth_clock.epoch(), epoch);
    assert_eq!(s.peers.offset_ms(peer), None);
    // An answer to a question asked before the jump is not believed either.
    s.peers.note_time(peer, &answer(s.clock.now() + three_min, 200), asked);
    assert_eq!(s.peers.offset_ms(peer), None);
    let asked = s.peers.stamp();
    s.peers.note_time(peer, &answer(s.clock.now() - three_min, 401), asked);
    let offset = s.peers.offset_ms(peer).expect("measured again");
    assert!((offset + 180_000).abs() < 1_000, "{offset}");
}
