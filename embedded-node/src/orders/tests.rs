use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::*;
use boothcloud_core::money::Currency;

async fn queue(dir: &std::path::Path) -> (OrderQueue, QueueWriter) {
    let (pool, writer) = crate::storage::open(&dir.join("test.db")).await.unwrap();
    OrderQueue::start(pool, writer).await.unwrap()
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn order(key: &str, qid: &str, sku: &str, qty: u32, stock: Option<u32>) -> NewOrder {
    let claims = QuoteClaims {
        qid: qid.into(),
        event: "ev".into(),
        currency: Currency::parse("EUR").unwrap(),
        lines: vec![TokenLine {
            sku: sku.into(),
            qty,
            unit_price: 100,
            total: 100 * i64::from(qty),
        }],
        subtotal: 100 * i64::from(qty),
        discount: 0,
        total: 100 * i64::from(qty),
        tier: None,
        manifest_version: 1,
        issued_at: t0(),
        expires_at: t0() + SignedDuration::from_mins(5),
    };
    let mut hash = [0u8; 32];
    hash[..key.len().min(32)].copy_from_slice(&key.as_bytes()[..key.len().min(32)]);
    hash[31] = qty as u8;
    NewOrder {
        idempotency_key: key.into(),
        request_hash: hash,
        claims,
        payment: PaymentMethod::Card,
        customer: Some(Contact { email: Some("ann@example.org".into()), phone: None }),
        now: t0(),
        stock: vec![stock],
        payment_reference: None,
        tendered: None,
        sold_by: None,
        pickup_prefix: "A".into(),
        offline: None,
    }
}

fn id_of(c: &Captured) -> String {
    let body = match c {
        Captured::New(b) | Captured::Replayed(b) => b,
    };
    serde_json::from_str::<OrderReceipt>(body).unwrap().order_id
}

#[tokio::test]
async fn concurrent_orders_are_all_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let q = Arc::new(q);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move {
                q.capture(order(&format!("k{i}"), &format!("q{i}"), "A", 1, None)).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let c = t.await.unwrap().unwrap();
        assert!(matches!(c, Captured::New(_)));
        ids.insert(id_of(&c));
    }
    assert_eq!(ids.len(), 200);
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.captured, 200);
    assert_eq!(counts.revenue, 200 * 100);
}

#[tokio::test]
async fn replay_conflict_and_reused_quote() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let first = q.capture(order("k1", "q1", "A", 1, None)).await.unwrap();
    let again = q.capture(order("k1", "q1", "A", 1, None)).await.unwrap();
    assert!(matches!(again, Captured::Replayed(_)));
    assert_eq!(id_of(&first), id_of(&again));
    // Same key, different body.
    assert!(matches!(
        q.capture(order("k1", "q9", "A", 2, None)).await,
        Err(OrderError::KeyConflict)
    ));
    // Same quote, another key.
    assert!(matches!(q.capture(order("k2", "q1", "A", 1, None)).await, Err(OrderError::QuoteUsed)));
    assert_eq!(q.counts().await.unwrap().captured, 1);
}

#[tokio::test]
async fn tracked_stock_never_oversells_even_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let q = Arc::new(q);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move {
                q.capture(order(&format!("k{i}"), &format!("q{i}"), "MUG", 2, Some(15))).await
            })
        })
        .collect();
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(OrderError::OutOfStock { sku, .. }) => {
                assert_eq!(sku, "MUG");
                refused += 1
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, refused), (7, 13), "15 units in stock, 2 per order");
    assert_eq!(q.available("MUG", 15), 1);
    // The count survives a restart.
    drop(q);
    let (q2, _w) = queue(dir.path()).await;
    assert_eq!(q2.available("MUG", 15), 1);
}

#[tokio::test]
async fn a_quarantined_order_never_blocks_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut o = order(&format!("k{i}"), &format!("q{i}"), "A", 1, None);
        o.now = t0() + SignedDuration::from_secs(i);
        ids.push(id_of(&q.capture(o).await.unwrap()));
    }
    let now = t0() + SignedDuration::from_mins(1);
    let claimed = q.claim_due(now, 1).await.unwrap();
    assert_eq!(claimed[0].order_id, ids[0], "oldest first");
    q.quarantine(&ids[0], "upstream: unknown sku", now).await.unwrap();
    let next = q.claim_due(now, 10).await.unwrap();
    assert_eq!(next.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>(), ids[1..].to_vec());
    q.mark_synced(&[ids[1].clone()], now).await.unwrap();
    q.retry_later(&ids[2], "timeout", now + SignedDuration::from_secs(30), now).await.unwrap();
    assert!(q.claim_due(now, 10).await.unwrap().is_empty(), "not due yet");
    assert_eq!(q.claim_due(now + SignedDuration::from_secs(30), 10).await.unwrap().len(), 1);
    let view = q.get(&ids[0], false).await.unwrap();
    assert_eq!(
        (view.status, view.status_reason.as_deref()),
        (SyncState::Quarantined, Some("upstream: unknown sku"))
    );
    assert!(view.customer.is_none(), "contact hidden outside operator views");
    assert!(q.get(&ids[0], true).await.unwrap().customer.is_some());
    q.requeue(&ids[0], now).await.unwrap();
    assert_eq!(q.get(&ids[0], false).await.unwrap().status, SyncState::Captured);
    let c = q.counts().await.unwrap();
    assert_eq!((c.captured, c.syncing, c.synced, c.quarantined), (1, 1, 1, 0));
    assert!(matches!(q.quarantine("nope", "x", now).await, Err(OrderError::NotFound)));
}

#[tokio::test]
async fn orders_caught_mid_sync_go_back_in_line_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (q, writer) = queue(dir.path()).await;
    q.capture(order("k", "q", "A", 1, None)).await.unwrap();
    assert_eq!(q.claim_due(t0(), 10).await.unwrap().len(), 1);
    writer.stop().await;
    assert!(
        matches!(q.capture(order("k2", "q2", "A", 1, None)).await, Err(OrderError::Unavailable(_))),
        "a stopped queue takes no orders"
    );
    drop(q);
    let (q, _w) = queue(dir.path()).await;
    assert_eq!(q.counts().await.unwrap().captured, 1);
}

#[tokio::test]
async fn duplicates_inside_one_group_are_settled_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let q = Arc::new(q);
    // Twenty kiosks retry the same order at once; two others reuse its key or its quote.
    let mut tasks: Vec<_> = (0..20)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.capture(order("dup", "q-dup", "A", 1, None)).await })
        })
        .collect();
    let q2 = q.clone();
    tasks
        .push(tokio::spawn(async move { q2.capture(order("dup", "q-other", "A", 2, None)).await }));
    let q3 = q.clone();
    tasks.push(tokio::spawn(
        async move { q3.capture(order("other-key", "q-dup", "A", 1, None)).await },
    ));
    let (mut new, mut replayed, mut conflict, mut quote_used, mut ids) =
        (0, 0, 0, 0, std::collections::HashSet::new());
    for t in tasks {
        match t.await.unwrap() {
            Ok(c @ Captured::New(_)) => {
                new += 1;
                ids.insert(id_of(&c));
            }
            Ok(c @ Captured::Replayed(_)) => {
                replayed += 1;
                ids.insert(id_of(&c));
            }
            Err(OrderError::KeyConflict) => conflict += 1,
            Err(OrderError::QuoteUsed) => quote_used += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((new, replayed, conflict, quote_used), (1, 19, 1, 1));
    assert_eq!(ids.len(), 1, "every replay names the one stored order");
    assert_eq!(q.counts().await.unwrap().captured, 1);
}

#[tokio::test]
async fn a_failed_commit_acknowledges_nothing_and_the_writer_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    q.capture(order("before", "q0", "A", 1, None)).await.unwrap();
    // Break the table under the writer: every statement of the next group fails.
    sqlx::query("ALTER TABLE orders RENAME TO orders_away").execute(&q.pool).await.unwrap();
    assert!(matches!(
        q.capture(order("during", "q1", "A", 1, None)).await,
        Err(OrderError::Unavailable(_))
    ));
    sqlx::query("ALTER TABLE orders_away RENAME TO orders").execute(&q.pool).await.unwrap();
    // The same order, retried with the same key, now goes through: nothing half-stored.
    let c = q.capture(order("during", "q1", "A", 1, None)).await.unwrap();
    assert!(matches!(c, Captured::New(_)), "the failed attempt left no trace");
    assert_eq!(q.counts().await.unwrap().captured, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_commits_what_was_handed_over_and_refuses_what_comes_after() {
    let dir = tempfile::tempdir().unwrap();
    let (q, writer) = queue(dir.path()).await;
    let racing: Vec<_> = (0..300)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move {
                q.capture(order(&format!("k{i}"), &format!("q{i}"), "A", 1, None)).await
            })
        })
        .collect();
    writer.stop().await;
    // Every order racing the stop is either acknowledged (and then stored) or refused
    // as unavailable; none is acknowledged and lost.
    let mut acknowledged = 0;
    for t in racing {
        match t.await.unwrap() {
            Ok(Captured::New(_)) => acknowledged += 1,
            Err(OrderError::Unavailable(_)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(q.counts().await.unwrap().captured, acknowledged);
    assert!(matches!(
        q.capture(order("late", "q-late", "A", 1, None)).await,
        Err(OrderError::Unavailable(_))
    ));
}

/// The nice value of this process's thread named `name` (`/proc`, Linux).
#[cfg(target_os = "linux")]
fn nice_of_thread(name: &str) -> Option<i32> {
    std::fs::read_dir("/proc/self/task").ok()?.flatten().find_map(|task| {
        let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
        (comm.trim() == name).then_some(())?;
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name; nice is the 19th field of the line.
        stat.rsplit_once(')')?.1.split_whitespace().nth(16)?.parse().ok()
    })
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_writer_thread_runs_before_others_where_the_os_allows() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    q.capture(order("k", "q", "A", 1, None)).await.unwrap();
    let nice = nice_of_thread("order-writer").expect("the writer thread is listed");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(nice, queue::WRITER_NICE, "root may raise a thread's priority");
    } else {
        assert!(
            nice == queue::WRITER_NICE || nice == 0,
            "either granted or left as it was: {nice}"
        );
    }
}

fn receipt_of(c: &Captured) -> OrderReceipt {
    let body = match c {
        Captured::New(b) | Captured::Replayed(b) => b,
    };
    serde_json::from_str::<OrderReceipt>(body).unwrap()
}

#[tokio::test]
async fn pickup_numbers_are_unique_in_order_kept_across_restarts_and_never_given_to_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (q, writer) = queue(dir.path()).await;
    let q = Arc::new(q);
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move {
                q.capture(order(&format!("k{i}"), &format!("q{i}"), "A", 1, None)).await
            })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    let mut receipts = std::collections::HashSet::new();
    for t in tasks {
        let r = receipt_of(&t.await.unwrap().unwrap());
        assert_eq!(r.receipt_url, format!("/r/{}", r.receipt_id));
        assert_eq!(r.receipt_id.len(), 26);
        receipts.insert(r.receipt_id);
        numbers.insert(r.pickup_number);
    }
    assert_eq!(receipts.len(), 120);
    let expected: std::collections::BTreeSet<String> =
        (1..=120).map(|n| format!("A-{n:03}")).collect();
    assert_eq!(numbers, expected, "every number from A-001 to A-120, once each");
    // A retry gets its first number again; a refusal (reused quote) takes none.
    let again = q.capture(order("k7", "q7", "A", 1, None)).await.unwrap();
    assert!(matches!(again, Captured::Replayed(_)));
    assert!(q.capture(order("other", "q8", "A", 1, None)).await.is_err());
    drop(q);
    writer.stop().await;
    let (q, _writer) = queue(dir.path()).await;
    let next = receipt_of(&q.capture(order("after", "q-after", "A", 1, None)).await.unwrap());
    assert_eq!(next.pickup_number, "A-121", "a restart never gives a number again");
}

#[tokio::test]
async fn a_void_gives_stock_back_and_keeps_the_order_out_of_sync_a_refund_stays_within_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _writer) = queue(dir.path()).await;
    let names = |s: &str| s.to_owned();
    let first = receipt_of(&q.capture(order("v1", "qv1", "MUG", 3, Some(5))).await.unwrap());
    assert_eq!(q.available("MUG", 5), 2);
    q.void(&first.order_id, "customer changed their mind", t0()).await.unwrap();
    assert_eq!(q.available("MUG", 5), 5, "the void gave the mugs back");
    assert!(q.claim_due(t0(), 10).await.unwrap().is_empty(), "a voided order never syncs");
    assert!(matches!(
        q.void(&first.order_id, "again", t0()).await,
        Err(CounterError::InvalidTransition { .. })
    ));
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.captured, counts.revenue), (0, 0));

    let second = receipt_of(&q.capture(order("v2", "qv2", "MUG", 2, Some(5))).await.unwrap());
    let claimed = q.claim_due(t0(), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        matches!(q.void(&second.order_id, "late", t0()).await, Err(CounterError::AlreadySynced)),
        "an order on its way upstream is refunded, not voided"
    );
    q.refund(&second.order_id, 150, "one mug chipped", "Ana", t0()).await.unwrap();
    // Refunded in part: never voided as well (that money would count twice).
    let fourth = receipt_of(&q.capture(order("v4", "qv4", "MUG", 1, Some(5))).await.unwrap());
    q.refund(&fourth.order_id, 10, "a scratch", "Ana", t0()).await.unwrap();
    assert!(!q.counter_order(&fourth.order_id, &names).await.unwrap().can_void);
    assert!(matches!(
        q.void(&fourth.order_id, "changed mind", t0()).await,
        Err(CounterError::InvalidTransition { from: "refunded", .. })
    ));
    q.refund(&fourth.order_id, 90, "the rest", "Ana", t0()).await.unwrap();
    assert!(matches!(
        q.refund(&second.order_id, 51, "more", "Ana", t0()).await,
        Err(CounterError::RefundExceeds { left: 50 })
    ));
    let seen = q.counter_order(&second.order_id, &names).await.unwrap();
    assert_eq!(seen.refunded, 150);
    assert_eq!(q.counts().await.unwrap().revenue, 50);

    // The counter's steps, and the board.
    let third = receipt_of(&q.capture(order("v3", "qv3", "MUG", 1, Some(5))).await.unwrap());
    q.advance(&third.order_id, Fulfilment::Preparing, None, t0()).await.unwrap();
    assert!(matches!(
        q.advance(&third.order_id, Fulfilment::Preparing, None, t0()).await,
        Err(CounterError::InvalidTransition { .. })
    ));
    q.advance(&third.order_id, Fulfilment::Ready, None, t0()).await.unwrap();
    let (preparing, ready) = q.pickup_board().await.unwrap();
    assert_eq!(ready, vec![third.pickup_number.clone()]);
    assert!(preparing.contains(&second.pickup_number) && !preparing.contains(&first.pickup_number));
    let receipt = q.receipt(&third.receipt_id, &names).await.unwrap();
    assert_eq!(receipt.fulfilment, Fulfilment::Ready);
}
