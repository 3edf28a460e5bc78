//! An order at the counter: where it is (new → preparing → ready → collected), voids
//! before it is synced, refunds after, the public receipt and the pickup board.
//!
//! Owns: the `fulfilment`, `paid`, `settled_with` and `void_reason` columns of
//! `orders`, and the `refunds` table. A step only ever moves forward, one step at a
//! time (`collected` may follow any open step: the customer was handed the order); a
//! void takes only an order still `captured` (never one the upstream may already hold)
//! and not yet handed over, and gives its stock back in the same transaction; refunds never add up to more than
//! the order's total. Never: decides who may do these (the HTTP edge checks the staff
//! session), or shows contact details on a receipt.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::*;

/// Where an order is at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fulfilment {
    New,
    Preparing,
    Ready,
    Collected,
    Voided,
}

impl Fulfilment {
    pub fn as_str(self) -> &'static str {
        match self {
            Fulfilment::New => "new",
            Fulfilment::Preparing => "preparing",
            Fulfilment::Ready => "ready",
            Fulfilment::Collected => "collected",
            Fulfilment::Voided => "voided",
        }
    }

    pub(super) fn parse(s: &str) -> Fulfilment {
        match s {
            "preparing" => Fulfilment::Preparing,
            "ready" => Fulfilment::Ready,
            "collected" => Fulfilment::Collected,
            "voided" => Fulfilment::Voided,
            _ => Fulfilment::New,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Fulfilment::New => 0,
            Fulfilment::Preparing => 1,
            Fulfilment::Ready => 2,
            Fulfilment::Collected => 3,
            Fulfilment::Voided => 4,
        }
    }

    /// Whether staff may move an order from `self` to `to`: the next step, or
    /// `collected` from any open step.
    pub fn may_become(self, to: Fulfilment) -> bool {
        match to {
            Fulfilment::Collected => self.rank() < Fulfilment::Collected.rank(),
            Fulfilment::Voided | Fulfilment::New => false,
            _ => to.rank() == self.rank() + 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("no such order")]
    NotFound,
    #[error("this order is {from}; it cannot be marked {to}")]
    InvalidTransition { from: &'static str, to: &'static str },
    #[error("this order is paid at pickup: say how it was paid (cash or card) to hand it over")]
    PaymentNeeded,
    #[error("this order may already be upstream; give a refund instead of a void")]
    AlreadySynced,
    #[error("only {left} of this order is left to refund")]
    RefundExceeds { left: Minor },
    #[error("{0}")]
    Invalid(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A line as a person reads it (with the item's name).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedLine {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: Minor,
    pub total: Minor,
}

/// An order as the counter works it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CounterOrder {
    pub order_id: String,
    pub pickup_number: Option<String>,
    pub receipt_id: Option<String>,
    pub fulfilment: Fulfilment,
    /// Where it is on its way upstream.
    pub status: SyncState,
    pub currency: String,
    pub lines: Vec<NamedLine>,
    pub total: Minor,
    pub payment: String,
    pub paid: bool,
    /// Refunded so far.
    pub refunded: Minor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Whether a void is still possible (not yet sent upstream, not handed over); else a
    /// refund.
    pub can_void: bool,
    /// The enrolled kiosk's id, for an order it took while it could not reach the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_offline_by: Option<String>,
    /// Why staff should look at it (a price that differs from the price list, a pickup
    /// number that was not the kiosk's), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
}

/// The public receipt (`/r/<receipt_id>`): what was bought and where the order is.
/// No contact details, no order id.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub receipt_id: String,
    pub pickup_number: Option<String>,
    /// The event's name (its id when the order is from another manifest's event).
    pub event: String,
    pub currency: String,
    pub lines: Vec<NamedLine>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
    pub payment: String,
    pub paid: bool,
    pub fulfilment: Fulfilment,
    pub refunded: Minor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The public pickup board: numbers being prepared (new ones too) and numbers ready.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PickupBoard {
    pub event_name: String,
    pub preparing: Vec<String>,
    pub ready: Vec<String>,
}

/// A refund: its own record, never edited, synced upstream.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Refund {
    pub refund_id: String,
    pub order_id: String,
    pub amount: Minor,
    pub reason: String,
    /// Who gave it (a staff member's name, or `lead`).
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Which orders the counter lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenView {
    /// New, preparing and ready, oldest first.
    Open,
    /// The last collected and voided ones, newest first.
    Done,
}

/// Most orders one counter list holds; most shown on the pickup board per column.
pub const MAX_LISTED: i64 = 200;
pub const MAX_ON_BOARD: i64 = 40;
/// Longest void or refund reason.
pub const MAX_REASON: usize = 200;

const COUNTER_COLUMNS: &str =
    "o.order_id, o.pickup_number, o.receipt_id, o.fulfilment, o.status, o.currency, \
     o.lines, o.total, o.payment_method, o.paid, o.created_ms, o.updated_ms, \
     (SELECT COALESCE(SUM(amount), 0) FROM refunds r WHERE r.order_id = o.order_id), \
     o.subtotal, o.discount, o.event_id, o.sync_attempts, o.offline_kiosk, o.attention";

fn named(lines: &str, names: &(dyn Fn(&str) -> String + Sync)) -> Vec<NamedLine> {
    let lines: Vec<boothcloud_core::signing::quote::TokenLine> =
        serde_json::from_str(lines).unwrap_or_default();
    lines
        .into_iter()
        .map(|l| NamedLine {
            name: names(&l.sku),
            sku: l.sku,
            qty: l.qty,
            unit_price: l.unit_price,
            total: l.total,
        })
        .collect()
}

fn counter_order(
    r: &sqlx::sqlite::SqliteRow,
    names: &(dyn Fn(&str) -> String + Sync),
) -> CounterOrder {
    let status = SyncState::parse(r.get::<&str, _>(4));
    let fulfilment = Fulfilment::parse(r.get::<&str, _>(3));
    CounterOrder {
        order_id: r.get(0),
        pickup_number: r.get(1),
        receipt_id: r.get(2),
        fulfilment,
        status,
        currency: r.get(5),
        lines: named(r.get::<&str, _>(6), names),
        total: r.get(7),
        payment: r.get(8),
        paid: r.get::<i64, _>(9) == 1,
        created_at: from_millis(r.get(10)),
        updated_at: from_millis(r.get(11)),
        refunded: r.get(12),
        can_void: status == SyncState::Captured
            && r.get::<i64, _>(16) == 0
            && fulfilment != Fulfilment::Collected
            && r.get::<i64, _>(12) == 0,
        taken_offline_by: r.get(17),
        attention: r.get(18),
    }
}

fn check_reason(reason: &str) -> Result<String, CounterError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CounterError::Invalid("say why, in a few words"));
    }
    if reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
        return Err(CounterError::Invalid("the reason must be at most 200 characters of text"));
    }
    Ok(reason.to_owned())
}

impl OrderQueue {
    /// The counter's list.
    pub async fn counter_orders(
        &self,
        view: OpenView,
        names: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Vec<CounterOrder>, CounterError> {
        let sql = match view {
            OpenView::Open => format!(
                "SELECT {COUNTER_COLUMNS} FROM orders o WHERE o.fulfilment IN ('new', 'preparing', 'ready') \
                 ORDER BY o.created_ms, o.order_id LIMIT {MAX_LISTED}"
            ),
            OpenView::Done => format!(
                "SELECT {COUNTER_COLUMNS} FROM orders o WHERE o.fulfilment IN ('collected', 'voided') \
                 AND o.pickup_number IS NOT NULL ORDER BY o.fulfilment_ms DESC, o.order_id DESC LIMIT 50"
            ),
        };
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| counter_order(r, names)).collect())
    }

    pub async fn counter_order(
        &self,
        order_id: &str,
        names: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<CounterOrder, CounterError> {
        let row =
            sqlx::query(&format!("SELECT {COUNTER_COLUMNS} FROM orders o WHERE o.order_id = ?"))
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(CounterError::NotFound)?;
        Ok(counter_order(&row, names))
    }

    /// Moves an order one step on. Collecting an order paid at pickup needs how it was
    /// paid (`paid_with`), which is recorded.
    pub async fn advance(
        &self,
        order_id: &str,
        to: Fulfilment,
        paid_with: Option<PaymentMethod>,
        now: Timestamp,
    ) -> Result<(), CounterError> {
        // IMMEDIATE: the write lock first, so the read below cannot go stale before
        // the write (a deferred one would fail with a busy snapshot in a rush).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT fulfilment, paid FROM orders WHERE order_id = ?")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(CounterError::NotFound)?;
        let from = Fulfilment::parse(row.get::<&str, _>(0));
        if !from.may_become(to) {
            return Err(CounterError::InvalidTransition { from: from.as_str(), to: to.as_str() });
        }
        let paid = row.get::<i64, _>(1) == 1;
        let settled = match (to, paid, paid_with) {
            (Fulfilment::Collected, false, None) => return Err(CounterError::PaymentNeeded),
            (Fulfilment::Collected, false, Some(m)) if !m.paid_up_front() => {
                return Err(CounterError::PaymentNeeded)
            }
            (Fulfilment::Collected, false, Some(m)) => Some(m.as_str()),
            _ => None,
        };
        sqlx::query(
            "UPDATE orders SET fulfilment = ?2, fulfilment_ms = ?3, updated_ms = ?3, \
             paid = CASE WHEN ?4 IS NULL THEN paid ELSE 1 END, settled_with = COALESCE(?4, settled_with) \
             WHERE order_id = ?1 AND fulfilment = ?5",
        )
        .bind(order_id)
        .bind(to.as_str())
        .bind(millis(now))
        .bind(settled)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Voids an order not yet claimed for the upstream: it never syncs, and its stock
    /// is given back.
    pub async fn void(
        &self,
        order_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), CounterError> {
        let reason = check_reason(reason)?;
        // IMMEDIATE: the write lock first, so the read below cannot go stale before
        // the write (a deferred one would fail with a busy snapshot in a rush).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT status, lines, fulfilment FROM orders WHERE order_id = ?")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(CounterError::NotFound)?;
        let status: String = row.get(0);
        if status == "voided" {
            return Err(CounterError::InvalidTransition { from: "voided", to: "voided" });
        }
        // Handed over: the goods left the booth, so it is refunded, not voided. Refunded
        // in part: the rest is refunded too (a void would count that money twice).
        if row.get::<&str, _>(2) == "collected" {
            return Err(CounterError::InvalidTransition { from: "collected", to: "voided" });
        }
        let refunded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE order_id = ?")
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await?;
        if refunded > 0 {
            return Err(CounterError::InvalidTransition { from: "refunded", to: "voided" });
        }
        // Only `captured` and never tried: the sync worker claims an order by moving it
        // to `syncing` in one statement, and an order that went back to `captured`
        // after a try (a lost answer, a crash) may be at the hub already.
        let done = sqlx::query(
            "UPDATE orders SET status = 'voided', fulfilment = 'voided', void_reason = ?2, \
             fulfilment_ms = ?3, updated_ms = ?3 WHERE order_id = ?1 AND status = 'captured' AND sync_attempts = 0",
        )
        .bind(order_id)
        .bind(&reason)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(CounterError::AlreadySynced);
        }
        let lines: Vec<boothcloud_core::signing::quote::TokenLine> =
            serde_json::from_str(row.get::<&str, _>(1)).unwrap_or_default();
        let mut given_back = Vec::new();
        for line in &lines {
            let changed =
                sqlx::query("UPDATE stock_sold SET sold = MAX(sold - ?2, 0) WHERE sku = ?1")
                    .bind(&line.sku)
                    .bind(i64::from(line.qty))
                    .execute(&mut *tx)
                    .await?;
            if changed.rows_affected() > 0 {
                given_back.push((line.sku.clone(), line.qty));
            }
        }
        tx.commit().await?;
        let mut sold = self.sold.lock().unwrap_or_else(|e| e.into_inner());
        for (sku, qty) in given_back {
            if let Some(n) = sold.get_mut(&sku) {
                *n = n.saturating_sub(qty);
            }
        }
        Ok(())
    }

    /// Records a refund of `amount` for an order (not voided), within what is left.
    pub async fn refund(
        &self,
        order_id: &str,
        amount: Minor,
        reason: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Refund, CounterError> {
        let reason = check_reason(reason)?;
        if amount <= 0 {
            return Err(CounterError::Invalid("a refund is more than nothing"));
        }
        // IMMEDIATE: the write lock first, so the read below cannot go stale before
        // the write (a deferred one would fail with a busy snapshot in a rush).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT o.total, o.status, (SELECT COALESCE(SUM(amount), 0) FROM refunds r WHERE r.order_id = o.order_id), o.paid \
             FROM orders o WHERE o.order_id = ?",
        )
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CounterError::NotFound)?;
        let (total, status, refunded): (Minor, String, Minor) =
            (row.get(0), row.get(1), row.get(2));
        if status == "voided" {
            return Err(CounterError::InvalidTransition { from: "voided", to: "refunded" });
        }
        // Nothing was taken yet (paid at pickup, not collected): void it instead.
        if row.get::<i64, _>(3) == 0 {
            return Err(CounterError::InvalidTransition { from: "unpaid", to: "refunded" });
        }
        if amount > total - refunded {
            return Err(CounterError::RefundExceeds { left: total - refunded });
        }
        let refund = Refund {
            refund_id: uuid::Uuid::now_v7().to_string(),
            order_id: order_id.to_owned(),
            amount,
            reason,
            by: by.to_owned(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO refunds (refund_id, order_id, amount, reason, by_whom, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&refund.refund_id)
        .bind(order_id)
        .bind(amount)
        .bind(&refund.reason)
        .bind(by)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE orders SET updated_ms = ? WHERE order_id = ?")
            .bind(millis(now))
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.arrivals.notify_one();
        Ok(refund)
    }

    /// Refunds due for the upstream whose order the upstream has, oldest first, now
    /// `syncing` (a crash puts them back, with the orders).
    pub async fn claim_refunds(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<boothcloud_core::hub_protocol::wire::HubRefund>, CounterError> {
        let rows = sqlx::query(
            "UPDATE refunds SET status = 'syncing', sync_attempts = sync_attempts + 1 \
             WHERE refund_id IN (SELECT refund_id FROM refunds WHERE status = 'captured' AND next_attempt_ms <= ?1 \
                 AND order_id IN (SELECT order_id FROM orders WHERE status = 'synced') \
                 ORDER BY created_ms, refund_id LIMIT ?2) \
             RETURNING refund_id, order_id, amount, reason, by_whom, created_ms",
        )
        .bind(millis(now))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<_> = rows
            .iter()
            .map(|r| boothcloud_core::hub_protocol::wire::HubRefund {
                refund_id: r.get(0),
                order_id: r.get(1),
                amount: r.get(2),
                reason: r.get(3),
                by: r.get(4),
                created_at: from_millis(r.get(5)),
            })
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.refund_id).cmp(&(b.created_at, &b.refund_id)));
        Ok(out)
    }

    /// Settles claimed refunds: `synced` ones are done; the others go back in line at
    /// `retry_at`.
    pub async fn settle_refunds(
        &self,
        synced: &[String],
        later: &[String],
        now: Timestamp,
        retry_at: Timestamp,
    ) -> Result<(), CounterError> {
        let json = |ids: &[String]| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "UPDATE refunds SET status = 'synced', synced_ms = ?1 WHERE refund_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(millis(now))
        .bind(json(synced))
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE refunds SET status = 'captured', next_attempt_ms = ?1 WHERE refund_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(millis(retry_at))
        .bind(json(later))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Refunds not yet upstream (for the sync figures and teardown).
    pub async fn refunds_waiting(&self) -> Result<i64, CounterError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE status != 'synced'")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The public receipt, by its unguessable id.
    pub async fn receipt(
        &self,
        receipt_id: &str,
        names: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Receipt, CounterError> {
        let row =
            sqlx::query(&format!("SELECT {COUNTER_COLUMNS} FROM orders o WHERE o.receipt_id = ?"))
                .bind(receipt_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(CounterError::NotFound)?;
        let o = counter_order(&row, names);
        Ok(Receipt {
            receipt_id: receipt_id.to_owned(),
            pickup_number: o.pickup_number,
            event: row.get(15),
            currency: o.currency,
            lines: o.lines,
            subtotal: row.get(13),
            discount: row.get(14),
            total: o.total,
            payment: o.payment,
            paid: o.paid,
            fulfilment: o.fulfilment,
            refunded: o.refunded,
            created_at: o.created_at,
            updated_at: o.updated_at,
        })
    }

    /// The numbers for the pickup board, oldest first.
    pub async fn pickup_board(&self) -> Result<(Vec<String>, Vec<String>), CounterError> {
        let rows = sqlx::query(
            "SELECT pickup_number, fulfilment FROM orders WHERE fulfilment IN ('new', 'preparing', 'ready') \
             AND pickup_number IS NOT NULL ORDER BY created_ms, order_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let (mut preparing, mut ready) = (Vec::new(), Vec::new());
        for r in &rows {
            let list = if r.get::<&str, _>(1) == "ready" { &mut ready } else { &mut preparing };
            if (list.len() as i64) < MAX_ON_BOARD {
                list.push(r.get::<String, _>(0));
            }
        }
        Ok((preparing, ready))
    }
}

#[cfg(test)]
mod tests {
    use super::Fulfilment::*;

    #[test]
    fn an_order_moves_one_step_at_a_time_and_may_be_handed_over_from_any_open_step() {
        assert!(New.may_become(Preparing));
        assert!(Preparing.may_become(Ready));
        assert!(!New.may_become(Ready));
        assert!(!Ready.may_become(Preparing));
        for open in [New, Preparing, Ready] {
            assert!(open.may_become(Collected));
        }
        assert!(!Collected.may_become(Collected));
        assert!(!Voided.may_become(Collected));
        assert!(!Preparing.may_become(New));
    }
}
