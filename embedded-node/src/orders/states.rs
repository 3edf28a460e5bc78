//! Reading orders and moving them between states on their way upstream.
//!
//! The sync worker (uplink issue) drives these transitions; they are here, next to the
//! table, so the rules live in one place: only `captured` orders that are due are
//! claimed, oldest first; a failed attempt goes back to `captured` with a later due
//! time; a permanent rejection is `quarantined` with its reason and skipped from then
//! on; staff can put a quarantined order back in line.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Stored on this node, waiting for the upstream.
    Captured,
    /// Being sent upstream now.
    Syncing,
    /// The upstream has it.
    Synced,
    /// The upstream refused it for good; see the reason. Never blocks other orders.
    Quarantined,
    /// Voided at the counter before it was synced: never sent upstream.
    Voided,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Captured => "captured",
            SyncState::Syncing => "syncing",
            SyncState::Synced => "synced",
            SyncState::Quarantined => "quarantined",
            SyncState::Voided => "voided",
        }
    }

    pub(super) fn parse(s: &str) -> SyncState {
        match s {
            "syncing" => SyncState::Syncing,
            "synced" => SyncState::Synced,
            "quarantined" => SyncState::Quarantined,
            "voided" => SyncState::Voided,
            _ => SyncState::Captured,
        }
    }
}

pub(super) const VIEW_COLUMNS: &str =
    "order_id, status, status_reason, currency, lines, subtotal, discount, total, payment_method, \
     sync_attempts, created_ms, updated_ms, synced_ms, customer_email, customer_phone, \
     fulfilment, pickup_number, paid";

pub(super) fn view(row: &SqliteRow, with_contact: bool) -> OrderView {
    let contact = Contact { email: row.get(13), phone: row.get(14) };
    let has_contact = contact.email.is_some() || contact.phone.is_some();
    OrderView {
        order_id: row.get(0),
        status: SyncState::parse(row.get::<&str, _>(1)),
        status_reason: row.get(2),
        currency: row.get(3),
        lines: serde_json::from_str(row.get::<&str, _>(4)).unwrap_or_default(),
        subtotal: row.get(5),
        discount: row.get(6),
        total: row.get(7),
        payment: row.get(8),
        sync_attempts: row.get(9),
        created_at: from_millis(row.get(10)),
        updated_at: from_millis(row.get(11)),
        synced_at: row.get::<Option<i64>, _>(12).map(from_millis),
        customer: (with_contact && has_contact).then_some(contact),
        fulfilment: Fulfilment::parse(row.get::<&str, _>(15)),
        pickup_number: row.get(16),
        paid: row.get::<i64, _>(17) == 1,
    }
}

impl OrderQueue {
    /// One order. Contact details only when `with_contact` (operator views).
    pub async fn get(&self, order_id: &str, with_contact: bool) -> Result<OrderView, OrderError> {
        let row = sqlx::query(&format!("SELECT {VIEW_COLUMNS} FROM orders WHERE order_id = ?"))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(OrderError::NotFound)?;
        Ok(view(&row, with_contact))
    }

    /// Newest first, optionally in one state, created before `before` (for paging).
    pub async fn list(
        &self,
        state: Option<SyncState>,
        before: Option<Timestamp>,
        limit: u32,
        with_contact: bool,
    ) -> Result<Vec<OrderView>, OrderError> {
        let rows = sqlx::query(&format!(
            "SELECT {VIEW_COLUMNS} FROM orders WHERE (?1 IS NULL OR status = ?1) AND created_ms < ?2 \
             ORDER BY created_ms DESC, order_id DESC LIMIT ?3"
        ))
        .bind(state.map(SyncState::as_str))
        .bind(before.map_or(i64::MAX, millis))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| view(r, with_contact)).collect())
    }

    pub async fn counts(&self) -> Result<QueueCounts, OrderError> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(status = 'captured'), 0), COALESCE(SUM(status = 'syncing'), 0), \
               COALESCE(SUM(status = 'synced'), 0), COALESCE(SUM(status = 'quarantined'), 0), \
               COALESCE(SUM(CASE WHEN status != 'voided' THEN total END), 0) \
                 - (SELECT COALESCE(SUM(amount), 0) FROM refunds), \
               MIN(CASE WHEN status IN ('captured', 'syncing') THEN created_ms END) \
             FROM orders",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueCounts {
            captured: row.get(0),
            syncing: row.get(1),
            synced: row.get(2),
            quarantined: row.get(3),
            revenue: row.get(4),
            oldest_unsynced: row.get::<Option<i64>, _>(5).map(from_millis),
        })
    }

    /// Orders taken since `since` (the start of the booth's day) and their revenue.
    pub async fn taken_since(&self, since: Timestamp) -> Result<(i64, Minor), OrderError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM orders WHERE created_ms >= ? AND status != 'voided'",
        )
        .bind(millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// After a crash, orders caught mid-sync go back in line (the upstream deduplicates
    /// by order id, so sending one twice is safe; losing one is not).
    pub(super) async fn recover_in_flight(&self) -> Result<u64, sqlx::Error> {
        sqlx::query("UPDATE refunds SET status = 'captured' WHERE status = 'syncing'")
            .execute(&self.pool)
            .await?;
        let done = sqlx::query("UPDATE orders SET status = 'captured' WHERE status = 'syncing'")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Claims up to `limit` due orders, oldest first, and marks them `syncing`.
    pub async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderView>, OrderError> {
        let rows = sqlx::query(&format!(
            "UPDATE orders SET status = 'syncing', sync_attempts = sync_attempts + 1, updated_ms = ?1 \
             WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'captured' AND next_attempt_ms <= ?1 \
                                ORDER BY created_ms LIMIT ?2) \
             RETURNING {VIEW_COLUMNS}"
        ))
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed: Vec<OrderView> = rows.iter().map(|r| view(r, false)).collect();
        claimed.sort_by_key(|o| (o.created_at, o.order_id.clone()));
        Ok(claimed)
    }

    /// Claims up to `limit` due orders, oldest first, as the hub receives them.
    pub async fn claim_for_hub(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<boothcloud_core::hub_protocol::wire::HubOrder>, OrderError> {
        let rows = sqlx::query(
            "UPDATE orders SET status = 'syncing', sync_attempts = sync_attempts + 1, updated_ms = ?1 \
             WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'captured' AND next_attempt_ms <= ?1 \
                                ORDER BY created_ms LIMIT ?2) \
             RETURNING order_id, event_id, currency, lines, subtotal, discount, total, payment_method, created_ms",
        )
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed: Vec<boothcloud_core::hub_protocol::wire::HubOrder> = rows
            .iter()
            .map(|r| boothcloud_core::hub_protocol::wire::HubOrder {
                order_id: r.get(0),
                event_id: r.get(1),
                currency: r.get(2),
                lines: serde_json::from_str(r.get::<&str, _>(3)).unwrap_or_default(),
                subtotal: r.get(4),
                discount: r.get(5),
                total: r.get(6),
                payment: r.get(7),
                created_at: from_millis(r.get(8)),
            })
            .collect();
        claimed.sort_by(|a, b| (a.created_at, &a.order_id).cmp(&(b.created_at, &b.order_id)));
        Ok(claimed)
    }

    /// Failed attempts: back in line, due again at `next_attempt`, in one transaction.
    pub async fn retry_later_many(
        &self,
        order_ids: &[String],
        reason: &str,
        next_attempt: Timestamp,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let mut tx = self.pool.begin().await?;
        for id in order_ids {
            sqlx::query(
                "UPDATE orders SET status = 'captured', status_reason = ?2, next_attempt_ms = ?3, updated_ms = ?4 WHERE order_id = ?1",
            )
            .bind(id)
            .bind(reason)
            .bind(millis(next_attempt))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The uplink is back: every waiting order is due now, whatever its backoff said.
    pub async fn make_all_due(&self) -> Result<u64, OrderError> {
        let done = sqlx::query("UPDATE orders SET next_attempt_ms = 0 WHERE status = 'captured' AND next_attempt_ms > 0")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The earliest time a waiting order is due, if any waits.
    pub async fn next_due(&self) -> Result<Option<Timestamp>, OrderError> {
        let row = sqlx::query("SELECT MIN(next_attempt_ms) FROM orders WHERE status = 'captured'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(from_millis))
    }

    /// What an offline order is checked against, and nothing more (it runs for every
    /// order while offline): money in undelivered orders paid by `methods`, and the
    /// oldest undelivered order.
    pub async fn offline_exposure(
        &self,
        methods: &[String],
    ) -> Result<(Minor, Option<Timestamp>), OrderError> {
        let methods = serde_json::to_string(methods).expect("strings serialize");
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(SUM(total), 0) FROM orders WHERE status IN ('captured', 'syncing') \
                  AND payment_method IN (SELECT value FROM json_each(?1))), \
               (SELECT MIN(created_ms) FROM orders WHERE status IN ('captured', 'syncing'))",
        )
        .bind(methods)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.get(0), row.get::<Option<i64>, _>(1).map(from_millis)))
    }

    /// What the offline limits and the runway are computed from: money in undelivered
    /// orders paid by `methods`, the oldest undelivered order, sales since `since`
    /// (all orders; money of `methods` only), and the database's bytes per order.
    pub async fn offline_figures(
        &self,
        methods: &[String],
        since: Timestamp,
    ) -> Result<boothcloud_core::uplink::runway::OfflineFigures, OrderError> {
        let methods = serde_json::to_string(methods).expect("strings serialize");
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(SUM(total), 0) FROM orders WHERE status IN ('captured', 'syncing') \
                  AND payment_method IN (SELECT value FROM json_each(?1))), \
               (SELECT MIN(created_ms) FROM orders WHERE status IN ('captured', 'syncing')), \
               (SELECT COUNT(*) FROM orders WHERE created_ms >= ?2), \
               (SELECT COALESCE(SUM(total), 0) FROM orders WHERE created_ms >= ?2 AND payment_method IN (SELECT value FROM json_each(?1))), \
               (SELECT COUNT(*) FROM orders), \
               (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())",
        )
        .bind(methods)
        .bind(millis(since))
        .fetch_one(&self.pool)
        .await?;
        let (orders, bytes): (i64, i64) = (row.get(4), row.get(5));
        Ok(boothcloud_core::uplink::runway::OfflineFigures {
            exposure: row.get(0),
            oldest_unsynced: row.get::<Option<i64>, _>(1).map(from_millis),
            recent_orders: row.get(2),
            recent_money: row.get(3),
            disk_free_bytes: None,
            // A young database says little; 2 KiB an order is a safe guess until then.
            bytes_per_order: if orders >= 100 { (bytes / orders).max(512) as u64 } else { 2048 },
        })
    }

    pub async fn mark_synced(
        &self,
        order_ids: &[String],
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let mut tx = self.pool.begin().await?;
        for id in order_ids {
            sqlx::query("UPDATE orders SET status = 'synced', status_reason = NULL, synced_ms = ?2, updated_ms = ?2 WHERE order_id = ?1")
                .bind(id)
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A failed attempt: back in line, due again at `next_attempt`.
    pub async fn retry_later(
        &self,
        order_id: &str,
        reason: &str,
        next_attempt: Timestamp,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        self.set_state(order_id, "captured", Some(reason), Some(millis(next_attempt)), now).await
    }

    /// A permanent rejection: set aside with its reason; the rest keep flowing.
    pub async fn quarantine(
        &self,
        order_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        self.set_state(order_id, "quarantined", Some(reason), None, now).await
    }

    /// Staff put a quarantined order back in line.
    pub async fn requeue(&self, order_id: &str, now: Timestamp) -> Result<(), OrderError> {
        self.set_state(order_id, "captured", None, Some(0), now).await
    }

    async fn set_state(
        &self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        next_ms: Option<i64>,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let done = sqlx::query(
            "UPDATE orders SET status = ?2, status_reason = ?3, next_attempt_ms = COALESCE(?4, next_attempt_ms), updated_ms = ?5 \
             WHERE order_id = ?1",
        )
        .bind(id)
        .bind(state)
        .bind(reason)
        .bind(next_ms)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(OrderError::NotFound);
        }
        Ok(())
    }
}
