//! The order queue at the end of the event: what teardown may and may not do to it.
//!
//! Owns: listing the orders not yet synced (with contact details, to hand over by
//! other means), marking them exported once the file holding them is safely on disk,
//! counting what would be lost by a wipe, and wiping contact details so they are gone
//! from the database file itself (secure delete, vacuum, WAL truncated), not just
//! hidden. Every order row, its lines and totals stay: the booth's books are not PII.

use jiff::Timestamp;
use sqlx::Row;

use super::states::{view, VIEW_COLUMNS};
use super::*;

impl OrderQueue {
    /// Every order the upstream does not have (captured, syncing or quarantined), oldest
    /// first, contact details included.
    pub async fn not_synced(&self) -> Result<Vec<OrderView>, OrderError> {
        let rows = sqlx::query(&format!("SELECT {VIEW_COLUMNS} FROM orders WHERE status NOT IN ('synced', 'voided') ORDER BY created_ms, order_id"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| view(r, true)).collect())
    }

    /// Every order, oldest first, without contact details (the post-event report).
    pub async fn all_for_report(&self) -> Result<Vec<OrderView>, OrderError> {
        let rows = sqlx::query(&format!(
            "SELECT {VIEW_COLUMNS} FROM orders ORDER BY created_ms, order_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| view(r, false)).collect())
    }

    /// Notes that these orders are in an export file (called after the file is synced).
    pub async fn mark_exported(
        &self,
        order_ids: &[String],
        now: Timestamp,
    ) -> Result<(), OrderError> {
        // One statement for the lot (the ids as a JSON array), not one per order.
        let ids =
            serde_json::to_string(order_ids).map_err(|e| OrderError::Unavailable(e.to_string()))?;
        sqlx::query(
            "UPDATE orders SET exported_ms = ? WHERE order_id IN (SELECT value FROM json_each(?))",
        )
        .bind(millis(now))
        .bind(ids)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Orders a wipe would lose: neither synced nor exported.
    pub async fn unsafe_to_wipe(&self) -> Result<i64, OrderError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE status NOT IN ('synced', 'voided') AND exported_ms IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Orders exported, and when the last was.
    pub async fn exported(&self) -> Result<(i64, Option<Timestamp>), OrderError> {
        let row = sqlx::query(
            "SELECT COUNT(*), MAX(exported_ms) FROM orders WHERE exported_ms IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.get(0), row.get::<Option<i64>, _>(1).map(from_millis)))
    }

    /// Removes every customer's e-mail and phone number, and makes sure the bytes are
    /// gone from the file: SQLite's secure delete overwrites the freed content, a
    /// vacuum rewrites the file, and the write-ahead log is truncated. Refuses while an
    /// order is neither synced nor exported. Answers how many orders had contact details.
    pub async fn wipe_contacts(&self) -> Result<u64, OrderError> {
        let at_risk = self.unsafe_to_wipe().await?;
        if at_risk > 0 {
            return Err(OrderError::WouldLose(at_risk));
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await?;
        let done = sqlx::query(
            "UPDATE orders SET customer_email = NULL, customer_phone = NULL WHERE customer_email IS NOT NULL OR customer_phone IS NOT NULL",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query("VACUUM").execute(&mut *conn).await?;
        // Until the write-ahead log is emptied it still holds the old pages; a reader on
        // another connection can hold the truncation off for a moment, so try again.
        for _ in 0..50 {
            let (busy, ..): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await?;
            if busy == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        sqlx::query("PRAGMA secure_delete = OFF").execute(&mut *conn).await?;
        Ok(done.rows_affected())
    }
}
