//! The hub's PostgreSQL tables (`migrations/hub`): storing a batch of orders exactly once, keeping each
//! booth's newest report, and reading both back for the operator.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::Row;

use boothcloud_core::hub_protocol::wire::{
    check_order, BoothReport, Disposition, HubOrder, HubRefund, OrderOutcome, RefundOutcome,
};
use boothcloud_core::signing::hex;

/// The hub's own migrations (`migrations/hub`), run at start under PostgreSQL's
/// advisory lock, so hubs starting together migrate once.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/hub");

fn digest(o: &HubOrder) -> String {
    hex(&Sha256::digest(serde_json::to_vec(o).expect("orders serialize")))
}

/// Instants travel as RFC 3339 text and are cast to `timestamptz` in SQL.
fn ts(t: Timestamp) -> String {
    t.to_string()
}

/// Stores the refunds not stored yet and says, per refund, what happened: a copy of one
/// already stored from the same booth is a duplicate, from another booth refused.
pub async fn store_refunds(
    db: &PgPool,
    booth: &str,
    refunds: &[HubRefund],
) -> Result<Vec<RefundOutcome>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(refunds.len());
    let mut tx = db.begin().await?;
    for r in refunds {
        let bad = if r.refund_id.len() > 64 || r.order_id.len() > 64 || r.by.chars().count() > 64 {
            Some("a refund's ids and who gave it are at most 64 characters")
        } else if r.amount <= 0 {
            Some("a refund is more than nothing")
        } else if r.reason.trim().is_empty() || r.reason.chars().count() > 200 {
            Some("a refund needs a reason of at most 200 characters")
        } else {
            None
        };
        if let Some(reason) = bad {
            outcomes.push(RefundOutcome {
                refund_id: r.refund_id.clone(),
                outcome: Disposition::Rejected,
                reason: Some(reason.into()),
            });
            continue;
        }
        let inserted = sqlx::query(
            "INSERT INTO hub_refunds (refund_id, booth_id, order_id, amount, reason, by_whom, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) ON CONFLICT (refund_id) DO NOTHING",
        )
        .bind(&r.refund_id)
        .bind(booth)
        .bind(&r.order_id)
        .bind(r.amount)
        .bind(&r.reason)
        .bind(&r.by)
        .bind(ts(r.created_at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let (outcome, reason) = if inserted {
            (Disposition::Stored, None)
        } else {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT booth_id FROM hub_refunds WHERE refund_id = $1")
                    .bind(&r.refund_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner.as_deref() {
                Some(b) if b == booth => (Disposition::Duplicate, None),
                _ => {
                    (Disposition::Rejected, Some("another booth sent a refund with this id".into()))
                }
            }
        };
        outcomes.push(RefundOutcome { refund_id: r.refund_id.clone(), outcome, reason });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Stores what is new in one transaction and says, per order, what happened. A copy of
/// an order already stored is a duplicate when it is the same order from the same
/// booth, and refused otherwise (another booth, or different contents under one id).
pub async fn store_orders(
    db: &PgPool,
    booth: &str,
    relayed_by: Option<&str>,
    orders: &[HubOrder],
) -> Result<Vec<OrderOutcome>, sqlx::Error> {
    let mut outcomes: Vec<OrderOutcome> = Vec::with_capacity(orders.len());
    let mut fresh: Vec<(usize, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, o) in orders.iter().enumerate() {
        let outcome = match check_order(o) {
            Err(reason) => OrderOutcome {
                order_id: o.order_id.clone(),
                outcome: Disposition::Rejected,
                reason: Some(reason),
            },
            Ok(()) if !seen.insert(o.order_id.as_str()) => OrderOutcome {
                order_id: o.order_id.clone(),
                outcome: Disposition::Duplicate,
                reason: None,
            },
            Ok(()) => {
                fresh.push((i, digest(o)));
                OrderOutcome {
                    order_id: o.order_id.clone(),
                    outcome: Disposition::Stored,
                    reason: None,
                }
            }
        };
        outcomes.push(outcome);
    }
    if fresh.is_empty() {
        return Ok(outcomes);
    }
    let mut tx = db.begin().await?;
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO hub_orders (order_id, booth_id, event_id, currency, subtotal, discount, total, lines, payment, created_at, relayed_by, digest) ",
    );
    insert.push_values(&fresh, |mut row, (i, digest)| {
        let o = &orders[*i];
        row.push_bind(&o.order_id)
            .push_bind(booth)
            .push_bind(&o.event_id)
            .push_bind(&o.currency)
            .push_bind(o.subtotal)
            .push_bind(o.discount)
            .push_bind(o.total)
            .push_bind(sqlx::types::Json(&o.lines))
            .push_bind(&o.payment)
            .push_bind(ts(o.created_at))
            .push_unseparated("::timestamptz")
            .push_bind(relayed_by)
            .push_bind(digest.as_str());
    });
    insert.push(" ON CONFLICT (order_id) DO NOTHING RETURNING order_id");
    let stored: std::collections::HashSet<String> =
        insert.build().fetch_all(&mut *tx).await?.iter().map(|r| r.get(0)).collect();
    let earlier: Vec<&str> = fresh
        .iter()
        .map(|(i, _)| orders[*i].order_id.as_str())
        .filter(|id| !stored.contains(*id))
        .collect();
    if !earlier.is_empty() {
        let rows = sqlx::query(
            "SELECT order_id, booth_id, digest FROM hub_orders WHERE order_id = ANY($1)",
        )
        .bind(&earlier)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let (id, by, was): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            let Some(&(i, ref now)) = fresh.iter().find(|(i, _)| orders[*i].order_id == id) else {
                continue;
            };
            outcomes[i] = if by != booth {
                OrderOutcome {
                    order_id: id,
                    outcome: Disposition::Rejected,
                    reason: Some("another booth already delivered an order with this id".into()),
                }
            } else if was != *now {
                OrderOutcome {
                    order_id: id,
                    outcome: Disposition::Rejected,
                    reason: Some(
                        "an order with this id was delivered before with different contents".into(),
                    ),
                }
            } else {
                OrderOutcome { order_id: id, outcome: Disposition::Duplicate, reason: None }
            };
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The ones among `booths` the hub's operator revoked.
pub async fn revoked(db: &PgPool, booths: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT booth_id FROM hub_revoked WHERE booth_id = ANY($1)")
        .bind(booths)
        .fetch_all(db)
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Stops trusting a booth (idempotent).
pub async fn revoke(db: &PgPool, booth: &str, reason: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO hub_revoked (booth_id, reason) VALUES ($1, $2) ON CONFLICT (booth_id) DO NOTHING")
        .bind(booth)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}

/// Keeps the newest report of each booth (an old report played again changes nothing).
pub async fn store_report(
    db: &PgPool,
    booth: &str,
    report: &BoothReport,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hub_booths (booth_id, event_id, report, reported_at, seen_at) VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz) \
         ON CONFLICT (booth_id) DO UPDATE SET event_id = excluded.event_id, report = excluded.report, \
           reported_at = excluded.reported_at, seen_at = excluded.seen_at \
         WHERE hub_booths.reported_at <= excluded.reported_at",
    )
    .bind(booth)
    .bind(&report.event_id)
    .bind(sqlx::types::Json(report))
    .bind(ts(report.at))
    .bind(ts(now))
    .execute(db)
    .await?;
    Ok(())
}

/// One booth as the hub's operator sees it.
#[derive(Debug, serde::Serialize)]
pub struct BoothAtHub {
    pub booth_id: String,
    /// Its newest report, if it has sent one.
    pub report: Option<serde_json::Value>,
    pub seen_at: Option<Timestamp>,
    pub orders: i64,
    /// Orders another booth carried for it.
    pub relayed: i64,
    /// Sum of totals, minor units (of each order's own currency).
    pub revenue: i64,
}

pub async fn booths(db: &PgPool) -> Result<Vec<BoothAtHub>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT COALESCE(b.booth_id, o.booth_id), b.report, (EXTRACT(EPOCH FROM b.seen_at) * 1000)::BIGINT, COALESCE(o.n, 0), COALESCE(o.relayed, 0), COALESCE(o.revenue, 0) \
         FROM hub_booths b FULL OUTER JOIN \
           (SELECT booth_id, COUNT(*) AS n, COUNT(relayed_by) AS relayed, SUM(total)::BIGINT AS revenue FROM hub_orders GROUP BY booth_id) o \
           ON o.booth_id = b.booth_id \
         ORDER BY 1",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| BoothAtHub {
            booth_id: r.get(0),
            report: r.get::<Option<sqlx::types::Json<serde_json::Value>>, _>(1).map(|j| j.0),
            seen_at: r.get::<Option<i64>, _>(2).and_then(|ms| Timestamp::from_millisecond(ms).ok()),
            orders: r.get(3),
            relayed: r.get(4),
            revenue: r.get(5),
        })
        .collect())
}
