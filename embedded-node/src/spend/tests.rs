//! The ledger against hand-computed cases, a real SQLite file and a manual clock.

use jiff::{SignedDuration, Timestamp};

use super::*;
use boothcloud_core::manifest::parse::parse;

const T0: &str = "2026-06-10T10:00:00Z";

fn manifest() -> Manifest {
    let mut m = parse(boothcloud_core::manifest::DEMO_MANIFEST).unwrap();
    // 2 per 1k executions, 9 per GB, 1 per minute, 4 per 1k calls (the demo's rates).
    m.costs = CostModel {
        edge_per_1k_executions: Some(2),
        egress_per_gb: Some(9),
        transcode_per_minute: Some(1),
        upstream_per_1k_calls: Some(4),
    };
    m.budgets.total = Some(100);
    m.budgets.edge = Some(50);
    m.budgets.egress = None;
    m.event.ends_at = "2026-06-10T12:00:00Z".parse().unwrap();
    m
}

async fn db() -> (tempfile::TempDir, SqlitePool) {
    let dir = tempfile::tempdir().unwrap();
    let (pool, _writer) = crate::storage::open(&dir.path().join("t.db")).await.unwrap();
    (dir, pool)
}

fn at(offset_s: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + SignedDuration::from_secs(offset_s)
}

fn component(v: &SpendView, c: Component) -> &ComponentLine {
    v.components.iter().find(|l| l.component == c).unwrap()
}

#[tokio::test]
async fn metered_usage_costs_what_was_computed_by_hand() {
    let (_dir, pool) = db().await;
    let meters = Arc::new(Meters::default());
    let ledger = Ledger::load(&pool, "ev", meters.clone()).await.unwrap();
    let m = manifest();
    meters.add(Component::Edge, 12_345); // 24.69
    meters.add(Component::Egress, 1_000_000_000); // 9.00
    meters.add(Component::Transcode, 90_000); // 1.50
    meters.add(Component::Upstream, 250); // 1.00
    let v = ledger.view(at(0), &m);
    assert_eq!(component(&v, Component::Edge).line.spent_micro, 24_690_000);
    assert_eq!(component(&v, Component::Edge).line.spent, 25);
    assert_eq!(component(&v, Component::Egress).line.spent, 9);
    assert_eq!(component(&v, Component::Transcode).line.spent, 2);
    assert_eq!(component(&v, Component::Upstream).line.spent, 1);
    // The total is the exact sum rounded once: 36.19 → 36 (not 25 + 9 + 2 + 1 = 37).
    assert_eq!(v.total.spent_micro, 36_190_000);
    assert_eq!(v.total.spent, 36);
    assert_eq!(component(&v, Component::Edge).usage, 12_345);
    assert_eq!(v.currency, "EUR");
    // Edge: 24.69 of 50 is under 80%; no burn rate yet, so no projection.
    assert_eq!(component(&v, Component::Edge).line.state, BudgetState::Ok);
    assert_eq!(component(&v, Component::Egress).line.state, BudgetState::Unbudgeted);
    assert_eq!(v.total.projected, None);
}

#[tokio::test]
async fn a_new_rate_applies_to_usage_after_it_only() {
    let (_dir, pool) = db().await;
    let meters = Arc::new(Meters::default());
    let ledger = Ledger::load(&pool, "ev", meters.clone()).await.unwrap();
    let mut m = manifest();
    meters.add(Component::Edge, 1_000);
    ledger.tick(at(0), &m.costs);
    m.costs.edge_per_1k_executions = Some(10);
    meters.add(Component::Edge, 1_000);
    // 1,000 at 2 per 1k + 1,000 at 10 per 1k.
    assert_eq!(component(&ledger.view(at(1), &m), Component::Edge).line.spent, 12);
    // A rate removed from the manifest stops the cost, keeping what was spent.
    m.costs.edge_per_1k_executions = None;
    meters.add(Component::Edge, 5_000);
    let v = ledger.view(at(2), &m);
    assert_eq!(
        (component(&v, Component::Edge).line.spent, component(&v, Component::Edge).usage),
        (12, 7_000)
    );
}

#[tokio::test]
async fn the_ledger_survives_a_restart() {
    let (_dir, pool) = db().await;
    let m = manifest();
    {
        let meters = Arc::new(Meters::default());
        let ledger = Ledger::load(&pool, "ev", meters.clone()).await.unwrap();
        meters.add(Component::Edge, 10_000);
        meters.add(Component::Egress, 2_000_000_000);
        ledger.tick(at(0), &m.costs);
        ledger.tick(at(60), &m.costs);
        ledger.persist(&pool).await.unwrap();
    }
    // A new process: its meters start from zero, the money does not.
    let meters = Arc::new(Meters::default());
    let ledger = Ledger::load(&pool, "ev", meters.clone()).await.unwrap();
    let v = ledger.view(at(120), &m);
    assert_eq!((v.total.spent, component(&v, Component::Edge).usage), (38, 10_000));
    meters.add(Component::Edge, 5_000);
    assert_eq!(ledger.view(at(121), &m).total.spent, 48);
    let (samples, _) = ledger.history(at(121), &m.costs);
    assert_eq!(samples.len(), 2, "both minute samples were saved");
    // Another event's ledger is its own.
    let other = Ledger::load(&pool, "another-event", Arc::new(Meters::default())).await.unwrap();
    assert_eq!(other.view(at(0), &m).total.spent_micro, 0);
}

#[tokio::test]
async fn the_burn_rate_projects_to_the_event_end_and_warns_before_the_budget_is_gone() {
    let (_dir, pool) = db().await;
    let meters = Arc::new(Meters::default());
    let ledger = Ledger::load(&pool, "ev", meters.clone()).await.unwrap();
    let m = manifest();
    // 1,000 executions a minute at 2 per 1k = 2 a minute = 120 an hour, for ten minutes.
    for minute in 0..=10 {
        ledger.tick(at(minute * 60), &m.costs);
        if minute < 10 {
            meters.add(Component::Edge, 1_000);
        }
    }
    let v = ledger.view(at(600), &m);
    let edge = &component(&v, Component::Edge).line;
    assert_eq!(edge.spent, 20);
    assert_eq!(edge.burn_per_hour, Some(120));
    // 1 h 50 min left at 2 a minute: 20 + 220 = 240, far past the edge budget of 50.
    assert_eq!(edge.projected, Some(240));
    assert_eq!(edge.state, BudgetState::Warn);
    assert_eq!(edge.reason, "At this rate the event ends at 480% of the budget.");
    assert_eq!(v.state, BudgetState::Warn);
    assert!(
        v.detail.starts_with("Requests served:") || v.detail.starts_with("Total:"),
        "{}",
        v.detail
    );
    // The burn window is the last 15 minutes: an idle half hour brings the rate to zero.
    for minute in 11..=40 {
        ledger.tick(at(minute * 60), &m.costs);
    }
    let v = ledger.view(at(600 + 1_800), &m);
    assert_eq!(component(&v, Component::Edge).line.burn_per_hour, Some(0));
    assert_eq!(component(&v, Component::Edge).line.state, BudgetState::Ok);
    // Spending the budget is over, whatever the projection.
    meters.add(Component::Edge, 25_000);
    let v = ledger.view(at(600 + 1_801), &m);
    assert_eq!(component(&v, Component::Edge).line.state, BudgetState::Over);
    assert_eq!(v.state, BudgetState::Over);
}

#[tokio::test]
async fn a_new_event_starts_a_new_ledger_and_keeps_the_old_one() {
    let (_dir, pool) = db().await;
    let meters = Arc::new(Meters::default());
    let ledger = Ledger::load(&pool, "first", meters.clone()).await.unwrap();
    let m = manifest();
    meters.add(Component::Edge, 50_000);
    ledger.switch_event(&pool, "second", &m.costs).await.unwrap();
    assert_eq!(ledger.event_id(), "second");
    meters.add(Component::Edge, 1_000);
    assert_eq!(ledger.view(at(0), &m).total.spent, 2);
    let first = Ledger::load(&pool, "first", Arc::new(Meters::default())).await.unwrap();
    assert_eq!(first.view(at(0), &m).total.spent, 100);
}

#[test]
fn concurrent_transcodes_are_counted_with_their_peak() {
    let meters = Arc::new(Meters::default());
    let a = meters.transcode_started();
    let b = meters.transcode_started();
    a.add_media(60_000);
    drop(a);
    assert_eq!(meters.transcodes(), (1, 2));
    drop(b);
    assert_eq!(meters.transcodes(), (0, 2));
    assert_eq!(meters.read()[Component::Transcode.index()], 60_000);
}
