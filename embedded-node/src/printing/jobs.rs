//! The print queue in SQLite: jobs, their states, and the claims the printers' workers
//! make on them.
//!
//! Owns: the `print_jobs` and `paused_printers` tables. Never: sends a job twice by itself — a claim moves a
//! job out of `queued` in one statement, and a job found in `sending` after a restart
//! (its bytes may have reached the printer) waits for a person.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqlitePool};

/// What a job prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The pickup ticket for the prep table.
    Ticket,
    /// The customer's receipt.
    Receipt,
    Label,
}

impl JobKind {
    /// Whether the paper shows prices: the receipt does; the prep table's ticket and the
    /// bag's label (seen by anyone near it) do not.
    pub fn shows_prices(self) -> bool {
        self == JobKind::Receipt
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Ticket => "ticket",
            JobKind::Receipt => "receipt",
            JobKind::Label => "label",
        }
    }

    fn parse(text: &str) -> JobKind {
        match text {
            "receipt" => JobKind::Receipt,
            "label" => JobKind::Label,
            _ => JobKind::Ticket,
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Sending,
    /// ESC/POS: every byte was written to the printer.
    Sent,
    /// IPP: the printer said the job completed.
    Confirmed,
    /// Waited past `[printing] backlog_after`: staff say whether to print it.
    Held,
    /// A person must look: it may have printed, or it failed too often.
    Attention,
    /// Handed to a paired booth's printer (`forwarded_to`), which has not said yet that
    /// it printed.
    Forwarded,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sending => "sending",
            JobState::Sent => "sent",
            JobState::Confirmed => "confirmed",
            JobState::Held => "held",
            JobState::Attention => "attention",
            JobState::Forwarded => "forwarded",
        }
    }

    pub fn parse(text: &str) -> JobState {
        match text {
            "sending" => JobState::Sending,
            "sent" => JobState::Sent,
            "confirmed" => JobState::Confirmed,
            "held" => JobState::Held,
            "attention" => JobState::Attention,
            "forwarded" => JobState::Forwarded,
            _ => JobState::Queued,
        }
    }
}

/// A job as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrintJob {
    pub job_id: String,
    pub order_id: String,
    pub kind: JobKind,
    /// 0 for the original; n for the nth reprint.
    pub copy: i64,
    /// The job this one reprints.
    pub reprint_of: Option<String>,
    pub printer: String,
    pub state: JobState,
    pub attempts: i64,
    /// Why the last try failed, or why it needs a person, in words.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    /// The paired booth's printer it was handed to (`prep@Hall B`), if it was.
    pub forwarded_to: Option<String>,
}

const COLUMNS: &str = "job_id, order_id, kind, copy, reprint_of, printer, state, attempts, last_error, created_ms, done_ms, forwarded_to";

fn job(r: &sqlx::sqlite::SqliteRow) -> PrintJob {
    let ms = |v: i64| Timestamp::from_millisecond(v).unwrap_or_default();
    PrintJob {
        job_id: r.get(0),
        order_id: r.get(1),
        kind: JobKind::parse(r.get::<&str, _>(2)),
        copy: r.get(3),
        reprint_of: r.get(4),
        printer: r.get(5),
        state: JobState::parse(r.get::<&str, _>(6)),
        attempts: r.get(7),
        last_error: r.get(8),
        created_at: ms(r.get(9)),
        done_at: r.get::<Option<i64>, _>(10).map(ms),
        forwarded_to: r.get(11),
    }
}

/// A job handed to a paired booth, as its worker follows it.
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub job_id: String,
    /// The job it became at the other booth (`None`: the answer was lost; ask again).
    pub remote_job: Option<String>,
    /// Where it went (`prep@Hall B`): it is followed there, whatever the manifest says now.
    pub to: String,
    /// Since when it is on its way there.
    pub since: Timestamp,
}

/// A job of a paired booth's, as that booth follows it here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignJob {
    pub job_id: String,
    pub state: JobState,
    pub last_error: Option<String>,
}

#[derive(Clone)]
pub struct Jobs {
    pub(super) db: SqlitePool,
}

impl Jobs {
    /// Queues the original of `kind` for an order, once: a second call changes nothing.
    /// True when it was queued now.
    pub async fn queue_original(
        &self,
        order_id: &str,
        kind: JobKind,
        printer: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO print_jobs (job_id, order_id, kind, copy, printer, created_ms, updated_ms) \
             VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (order_id, kind, copy) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(order_id)
        .bind(kind.as_str())
        .bind(printer)
        .bind(now.as_millisecond())
        .bind(now.as_millisecond())
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A reprint of `job_id`: the next copy, on the same printer (or `printer`), queued
    /// now. `None` when there is no such job.
    pub async fn queue_reprint(
        &self,
        job_id: &str,
        printer: Option<&str>,
        who: &str,
        now: Timestamp,
    ) -> Result<Option<PrintJob>, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        type Original = (String, String, String, Option<String>, Option<String>);
        let original: Option<Original> = sqlx::query_as(
            "SELECT order_id, kind, printer, ticket, from_booth FROM print_jobs WHERE job_id = ?",
        )
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((order_id, kind, on, ticket, from_booth)) = original else { return Ok(None) };
        let copy: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(copy), 0) + 1 FROM print_jobs WHERE order_id = ? AND kind = ?",
        )
        .bind(&order_id)
        .bind(&kind)
        .fetch_one(&mut *tx)
        .await?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO print_jobs (job_id, order_id, kind, copy, reprint_of, printer, asked_by, created_ms, updated_ms, ticket, from_booth) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&order_id)
        .bind(&kind)
        .bind(copy)
        .bind(job_id)
        .bind(printer.unwrap_or(&on))
        .bind(who)
        .bind(now.as_millisecond())
        .bind(now.as_millisecond())
        .bind(ticket)
        .bind(from_booth)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get(&id).await
    }

    pub async fn get(&self, job_id: &str) -> Result<Option<PrintJob>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM print_jobs WHERE job_id = ?"))
            .bind(job_id)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.as_ref().map(job))
    }

    /// An order's jobs, oldest first.
    pub async fn of_order(&self, order_id: &str) -> Result<Vec<PrintJob>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM print_jobs WHERE order_id = ? ORDER BY created_ms, copy"
        ))
        .bind(order_id)
        .fetch_all(&self.db)
        .await?;
        Ok(rows.iter().map(job).collect())
    }

    /// Takes the printer's oldest due job: `queued` → `sending`, one more attempt, in
    /// one statement (no other worker can take it too).
    pub async fn claim(
        &self,
        printer: &str,
        now: Timestamp,
    ) -> Result<Option<PrintJob>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "UPDATE print_jobs SET state = 'sending', attempts = attempts + 1, updated_ms = ?1 \
             WHERE job_id = (SELECT job_id FROM print_jobs WHERE printer = ?2 AND state = 'queued' \
                 AND next_attempt_ms <= ?1 ORDER BY created_ms, copy LIMIT 1) \
             AND state = 'queued' RETURNING {COLUMNS}"
        ))
        .bind(now.as_millisecond())
        .bind(printer)
        .fetch_optional(&self.db)
        .await?;
        Ok(row.as_ref().map(job))
    }

    /// The job printed: `sent` or `confirmed`.
    pub async fn done(
        &self,
        job_id: &str,
        state: JobState,
        printer_job: Option<i32>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE print_jobs SET state = ?, printer_job = COALESCE(?, printer_job), last_error = NULL, \
             updated_ms = ?, done_ms = ? WHERE job_id = ?",
        )
        .bind(state.as_str())
        .bind(printer_job)
        .bind(now.as_millisecond())
        .bind(now.as_millisecond())
        .bind(job_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Nothing reached the printer: back in the queue, tried again at `retry_at`.
    pub async fn not_sent(
        &self,
        job_id: &str,
        why: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        self.requeue(job_id, why, retry_at, now, 0).await
    }

    /// Back to `queued` from a claim, with `uncount` attempts taken back.
    async fn requeue(
        &self,
        job_id: &str,
        why: &str,
        retry_at: Timestamp,
        now: Timestamp,
        uncount: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE print_jobs SET state = 'queued', attempts = MAX(attempts - ?, 0), last_error = ?, \
             next_attempt_ms = ?, updated_ms = ? WHERE job_id = ? AND state = 'sending'",
        )
        .bind(uncount)
        .bind(why)
        .bind(retry_at.as_millisecond())
        .bind(now.as_millisecond())
        .bind(job_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// A person must look at it (it may have printed, or it failed too often).
    pub async fn needs_attention(
        &self,
        job_id: &str,
        why: &str,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE print_jobs SET state = 'attention', last_error = ?, updated_ms = ? WHERE job_id = ?")
            .bind(why)
            .bind(now.as_millisecond())
            .bind(job_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// At start: a job left in `sending` may have printed; it waits for a person.
    pub async fn recover(&self, now: Timestamp) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE print_jobs SET state = 'attention', updated_ms = ?, \
             last_error = 'the booth stopped while this was printing: it may have printed; reprint it if it did not' \
             WHERE state = 'sending'",
        )
        .bind(now.as_millisecond())
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected())
    }

    /// Jobs of `printer` that waited since before `since` are held for staff.
    pub async fn hold_backlog(
        &self,
        printer: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE print_jobs SET state = 'held', updated_ms = ? WHERE printer = ? AND state = 'queued' AND created_ms < ?",
        )
        .bind(now.as_millisecond())
        .bind(printer)
        .bind(since.as_millisecond())
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected())
    }

    /// Staff said print them: the printer's held jobs go back in the queue. How many.
    pub async fn release(&self, printer: &str, now: Timestamp) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE print_jobs SET state = 'queued', next_attempt_ms = 0, updated_ms = ? WHERE printer = ? AND state = 'held'",
        )
        .bind(now.as_millisecond())
        .bind(printer)
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected())
    }

    /// A claimed job given back untouched (the paired booth's printer could not take it
    /// now): queued again, the attempt not counted, tried at `retry_at`.
    pub async fn unclaim(
        &self,
        job_id: &str,
        why: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        self.requeue(job_id, why, retry_at, now, 1).await
    }

    /// A claimed job handed to a paired booth's printer `to`: taken there as its job
    /// `remote_job`, or `None` when the request may have arrived but the answer did not
    /// (it is asked again, and the other booth answers the job it already is).
    pub async fn forwarded(
        &self,
        job_id: &str,
        to: &str,
        remote_job: Option<&str>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE print_jobs SET state = 'forwarded', forwarded_to = ?, remote_job = COALESCE(?, remote_job), \
             last_error = NULL, updated_ms = ? WHERE job_id = ? AND state IN ('sending', 'forwarded')",
        )
        .bind(to)
        .bind(remote_job)
        .bind(now.as_millisecond())
        .bind(job_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// A printer's jobs handed to a paired booth and not yet known to have printed,
    /// oldest first; at most `limit`.
    pub async fn following(
        &self,
        printer: &str,
        limit: i64,
    ) -> Result<Vec<Forwarded>, sqlx::Error> {
        let rows: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT job_id, remote_job, COALESCE(forwarded_to, ''), updated_ms FROM print_jobs \
             WHERE printer = ? AND state = 'forwarded' ORDER BY created_ms LIMIT ?",
        )
        .bind(printer)
        .bind(limit)
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(job_id, remote_job, to, since)| Forwarded {
                job_id,
                remote_job,
                to,
                since: Timestamp::from_millisecond(since).unwrap_or_default(),
            })
            .collect())
    }

    /// A job whose handing-over never arrived (the other booth, asked again, did not
    /// take it): back in this printer's queue, tried again at `retry_at`.
    pub async fn unforward(
        &self,
        job_id: &str,
        why: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE print_jobs SET state = 'queued', forwarded_to = NULL, last_error = ?, next_attempt_ms = ?, \
             updated_ms = ? WHERE job_id = ? AND state = 'forwarded' AND remote_job IS NULL",
        )
        .bind(why)
        .bind(retry_at.as_millisecond())
        .bind(now.as_millisecond())
        .bind(job_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// What the paired booth said of a forwarded job: printed (`sent`/`confirmed`) or
    /// needing a person there (`attention`, with its words). Other states change nothing.
    pub async fn settle_forwarded(
        &self,
        job_id: &str,
        state: JobState,
        why: Option<&str>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let done = matches!(state, JobState::Sent | JobState::Confirmed);
        if !done && state != JobState::Attention {
            return Ok(());
        }
        sqlx::query(
            "UPDATE print_jobs SET state = ?, last_error = ?, updated_ms = ?, done_ms = ? \
             WHERE job_id = ? AND state = 'forwarded'",
        )
        .bind(state.as_str())
        .bind(why)
        .bind(now.as_millisecond())
        .bind(done.then_some(now.as_millisecond()))
        .bind(job_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Takes a paired booth's job for one of this booth's printers, once: the same
    /// (booth, order, kind, copy) sent again answers the job it already is. `ticket` is
    /// the ticket as that booth drew it (JSON).
    #[allow(clippy::too_many_arguments)]
    pub async fn queue_foreign(
        &self,
        from_booth: &str,
        order_id: &str,
        kind: JobKind,
        copy: i64,
        printer: &str,
        ticket: &str,
        now: Timestamp,
    ) -> Result<ForeignJob, sqlx::Error> {
        let order = foreign_order(from_booth, order_id, copy);
        sqlx::query(
            "INSERT INTO print_jobs (job_id, order_id, kind, copy, printer, ticket, from_booth, created_ms, updated_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, kind, copy) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&order)
        .bind(kind.as_str())
        .bind(copy)
        .bind(printer)
        .bind(ticket)
        .bind(from_booth)
        .bind(now.as_millisecond())
        .bind(now.as_millisecond())
        .execute(&self.db)
        .await?;
        // Taken now or before: the same job either way.
        self.find_foreign(from_booth, order_id, kind, copy).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// A paired booth's job already taken here, by its identity there.
    pub async fn find_foreign(
        &self,
        from_booth: &str,
        order_id: &str,
        kind: JobKind,
        copy: i64,
    ) -> Result<Option<ForeignJob>, sqlx::Error> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT job_id, state, last_error FROM print_jobs WHERE order_id = ? AND kind = ? AND copy = ? AND from_booth = ?",
        )
        .bind(foreign_order(from_booth, order_id, copy))
        .bind(kind.as_str())
        .bind(copy)
        .bind(from_booth)
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(ForeignJob::from_row))
    }

    /// A job a paired booth handed here, as that booth may see it (only its own).
    pub async fn foreign(
        &self,
        job_id: &str,
        from_booth: &str,
    ) -> Result<Option<ForeignJob>, sqlx::Error> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT job_id, state, last_error FROM print_jobs WHERE job_id = ? AND from_booth = ?",
        )
        .bind(job_id)
        .bind(from_booth)
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(ForeignJob::from_row))
    }

    /// The ticket drawn when the job was made — a paired booth's job, or a test print —
    /// (`None` for jobs of this booth's orders, drawn from the order at print time).
    pub async fn drawn_ticket(&self, job_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT ticket FROM print_jobs WHERE job_id = ?")
            .bind(job_id)
            .fetch_optional(&self.db)
            .await
            .map(Option::flatten)
    }

    /// A job whose ticket is drawn already (a test print): queued now on `printer`.
    pub async fn queue_drawn(
        &self,
        printer: &str,
        ticket: &str,
        who: &str,
        now: Timestamp,
    ) -> Result<Option<PrintJob>, sqlx::Error> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO print_jobs (job_id, order_id, kind, copy, printer, ticket, asked_by, created_ms, updated_ms) \
             VALUES (?, ?, 'ticket', 0, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(format!("test-{id}"))
        .bind(printer)
        .bind(ticket)
        .bind(who)
        .bind(now.as_millisecond())
        .bind(now.as_millisecond())
        .execute(&self.db)
        .await?;
        self.get(&id).await
    }

    /// Printers paused by a person.
    pub async fn paused(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT name FROM paused_printers").fetch_all(&self.db).await
    }

    /// Pauses (`true`) or resumes a printer, durably.
    pub async fn set_paused(
        &self,
        printer: &str,
        paused: bool,
        who: &str,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let q = if paused {
            sqlx::query(
                "INSERT INTO paused_printers (name, paused_ms, paused_by) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            )
            .bind(printer)
            .bind(now.as_millisecond())
            .bind(who)
        } else {
            sqlx::query("DELETE FROM paused_printers WHERE name = ?").bind(printer)
        };
        q.execute(&self.db).await?;
        Ok(())
    }

    /// Hands what waits for one printer to another (its fallback): only jobs that never
    /// reached a printer (`queued`), never one that may have printed or that staff hold.
    pub async fn hand_over(
        &self,
        from: &str,
        to: &str,
        now: Timestamp,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE print_jobs SET printer = ?, next_attempt_ms = 0, updated_ms = ? WHERE printer = ? AND state = 'queued'",
        )
        .bind(to)
        .bind(now.as_millisecond())
        .bind(from)
        .execute(&self.db)
        .await?;
        Ok(done.rows_affected())
    }

    /// Jobs waiting per state for a printer: (queued, including those handed to a paired
    /// booth and not yet printed there; held; attention). A job that
    /// needed a person no longer counts once it was reprinted.
    pub async fn waiting(&self, printer: &str) -> Result<(i64, i64, i64), sqlx::Error> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(j.state IN ('queued', 'sending', 'forwarded')), 0), COALESCE(SUM(j.state = 'held'), 0), \
             COALESCE(SUM(j.state = 'attention' AND NOT EXISTS \
                 (SELECT 1 FROM print_jobs r WHERE r.reprint_of = j.job_id)), 0) \
             FROM print_jobs j WHERE j.printer = ?",
        )
        .bind(printer)
        .fetch_one(&self.db)
        .await?;
        Ok((row.get(0), row.get(1), row.get(2)))
    }

    /// Recent orders with no ticket yet (taken while no worker ran, or just before a
    /// crash), newest last; at most `limit`.
    pub async fn orders_without(
        &self,
        kind: JobKind,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT o.order_id FROM orders o WHERE o.created_ms >= ? AND o.status != 'voided' \
             AND NOT EXISTS (SELECT 1 FROM print_jobs j WHERE j.order_id = o.order_id AND j.kind = ?) \
             ORDER BY o.created_ms LIMIT ?",
        )
        .bind(since.as_millisecond())
        .bind(kind.as_str())
        .bind(limit)
        .fetch_all(&self.db)
        .await
    }
}

impl ForeignJob {
    fn from_row((job_id, state, last_error): (String, String, Option<String>)) -> ForeignJob {
        ForeignJob { job_id, state: JobState::parse(&state), last_error }
    }
}

/// A paired booth's job, kept apart from this booth's own orders and from the copies
/// this booth prints of it by itself (a reprint here numbers within this key).
fn foreign_order(from_booth: &str, order_id: &str, copy: i64) -> String {
    format!("{from_booth}/{order_id}/{copy}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestBooth;

    #[tokio::test]
    async fn a_paired_booths_job_is_taken_once_and_a_forwarded_job_is_followed_to_printed() {
        let booth = TestBooth::demo().await;
        let jobs = Jobs { db: booth.services.db.clone() };
        let now = booth.services.clock.now();
        // The booth that prints: one job per (booth, order, kind, copy), seen only by
        // the booth that sent it.
        let first = jobs
            .queue_foreign("booth-a", "o1", JobKind::Ticket, 0, "prep", "{}", now)
            .await
            .unwrap();
        let again = jobs
            .queue_foreign("booth-a", "o1", JobKind::Ticket, 0, "prep", "{}", now)
            .await
            .unwrap();
        assert_eq!(first, again, "sent again, the same job");
        let other = jobs
            .queue_foreign("booth-c", "o1", JobKind::Ticket, 0, "prep", "{}", now)
            .await
            .unwrap();
        assert_ne!(other.job_id, first.job_id, "another booth's order of the same id is its own");
        assert_eq!(jobs.foreign(&first.job_id, "booth-a").await.unwrap(), Some(first.clone()));
        assert_eq!(jobs.foreign(&first.job_id, "booth-c").await.unwrap(), None);
        assert_eq!(
            jobs.find_foreign("booth-a", "o1", JobKind::Ticket, 0).await.unwrap().map(|j| j.job_id),
            Some(first.job_id.clone())
        );
        assert_eq!(jobs.drawn_ticket(&first.job_id).await.unwrap().as_deref(), Some("{}"));
        let reprint = jobs.queue_reprint(&first.job_id, None, "lead", now).await.unwrap().unwrap();
        assert_eq!(jobs.drawn_ticket(&reprint.job_id).await.unwrap().as_deref(), Some("{}"));
        // A reprint made here never stands for the selling booth's own next copy.
        let their_copy = jobs
            .queue_foreign("booth-a", "o1", JobKind::Ticket, 1, "prep", "{}", now)
            .await
            .unwrap();
        assert_ne!(their_copy.job_id, reprint.job_id);
        assert_eq!(their_copy.state, JobState::Queued);

        // The booth that sold: a claim given back uncounted, then handed on and followed.
        let sold = booth.sell(&[("TOTE", 1)], crate::orders::PaymentMethod::Card, "fw-1").await;
        let order = sold["order_id"].as_str().unwrap().to_owned();
        assert!(jobs.queue_original(&order, JobKind::Ticket, "till", now).await.unwrap());
        let claimed = jobs.claim("till", now).await.unwrap().unwrap();
        jobs.unclaim(&claimed.job_id, "Hall B: printer busy", now, now).await.unwrap();
        let back = jobs.get(&claimed.job_id).await.unwrap().unwrap();
        assert_eq!((back.state, back.attempts), (JobState::Queued, 0));
        let claimed = jobs.claim("till", now).await.unwrap().unwrap();
        jobs.forwarded(&claimed.job_id, "prep@Hall B", None, now).await.unwrap();
        let following = jobs.following("till", 10).await.unwrap();
        assert_eq!((following.len(), following[0].remote_job.as_deref()), (1, None));
        assert_eq!(following[0].to, "prep@Hall B", "followed where it went");
        assert_eq!(jobs.waiting("till").await.unwrap().0, 1, "still waiting to print");
        // Asked again, Hall B did not take it: it waits here again.
        jobs.unforward(&claimed.job_id, "Hall B: printer down", now, now).await.unwrap();
        let back = jobs.get(&claimed.job_id).await.unwrap().unwrap();
        assert_eq!((back.state, back.forwarded_to), (JobState::Queued, None));
        let claimed = jobs.claim("till", now).await.unwrap().unwrap();
        jobs.forwarded(&claimed.job_id, "prep@Hall B", None, now).await.unwrap();
        jobs.forwarded(&claimed.job_id, "prep@Hall B", Some("r-1"), now).await.unwrap();
        assert_eq!(jobs.following("till", 10).await.unwrap()[0].remote_job.as_deref(), Some("r-1"));
        jobs.settle_forwarded(&claimed.job_id, JobState::Queued, None, now).await.unwrap();
        assert_eq!(jobs.get(&claimed.job_id).await.unwrap().unwrap().state, JobState::Forwarded);
        jobs.settle_forwarded(&claimed.job_id, JobState::Sent, None, now).await.unwrap();
        let done = jobs.get(&claimed.job_id).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.forwarded_to.as_deref()),
            (JobState::Sent, Some("prep@Hall B"))
        );
        assert!(jobs.following("till", 10).await.unwrap().is_empty());
        assert!(jobs.claim("till", now).await.unwrap().is_none(), "never back at its own printer");
    }

    #[tokio::test]
    async fn a_job_is_claimed_once_and_one_that_may_have_printed_waits_for_a_person() {
        let booth = TestBooth::demo().await;
        let jobs = Jobs { db: booth.services.db.clone() };
        let now = booth.services.clock.now();
        let sold = booth.sell(&[("TOTE", 1)], crate::orders::PaymentMethod::Card, "job-1").await;
        let order = sold["order_id"].as_str().unwrap().to_owned();
        assert!(jobs.queue_original(&order, JobKind::Ticket, "prep", now).await.unwrap());
        assert!(
            !jobs.queue_original(&order, JobKind::Ticket, "prep", now).await.unwrap(),
            "once per order"
        );
        let claimed = jobs.claim("prep", now).await.unwrap().expect("the job");
        assert_eq!((claimed.state, claimed.attempts), (JobState::Sending, 1));
        assert!(jobs.claim("prep", now).await.unwrap().is_none(), "nobody takes it twice");
        assert!(jobs.claim("other", now).await.unwrap().is_none());

        // The booth stops mid-job: after the restart it is never sent again by itself.
        assert_eq!(jobs.recover(now).await.unwrap(), 1);
        let after = jobs.get(&claimed.job_id).await.unwrap().unwrap();
        assert_eq!(after.state, JobState::Attention);
        assert!(after.last_error.unwrap().contains("may have printed"));
        assert_eq!(jobs.waiting("prep").await.unwrap().2, 1, "it needs a person");
        assert!(jobs.claim("prep", now).await.unwrap().is_none());

        // A person asks: a new copy, linked, queued.
        let again = jobs.queue_reprint(&claimed.job_id, None, "lead", now).await.unwrap().unwrap();
        assert_eq!(
            (again.copy, again.reprint_of.as_deref(), again.state),
            (1, Some(claimed.job_id.as_str()), JobState::Queued)
        );
        assert_eq!(
            jobs.waiting("prep").await.unwrap().2,
            0,
            "reprinted: nobody needs to look again"
        );
        let third = jobs.queue_reprint(&claimed.job_id, None, "lead", now).await.unwrap().unwrap();
        assert_eq!(third.copy, 2);
        assert!(jobs.queue_reprint("nope", None, "lead", now).await.unwrap().is_none());

        // Handed to a fallback: only what never reached a printer moves (the copy that
        // may have printed stays with its printer), and it goes out at once.
        assert_eq!(jobs.hand_over("prep", "front", now).await.unwrap(), 2);
        assert_eq!(jobs.get(&claimed.job_id).await.unwrap().unwrap().printer, "prep");
        let moved = jobs.claim("front", now).await.unwrap().expect("at once at the fallback");
        jobs.not_sent(&moved.job_id, "-", now, now).await.unwrap();
        assert_eq!(jobs.hand_over("front", "prep", now).await.unwrap(), 2, "and back");

        // Not sent: back in the queue, not before its retry time.
        let c = jobs.claim("prep", now).await.unwrap().unwrap();
        jobs.not_sent(&c.job_id, "unreachable", now + jiff::SignedDuration::from_secs(5), now)
            .await
            .unwrap();
        let next = jobs.claim("prep", now).await.unwrap().unwrap();
        assert_ne!(next.job_id, c.job_id, "the other copy goes first meanwhile");
        jobs.done(&next.job_id, JobState::Sent, None, now).await.unwrap();
        assert!(jobs.claim("prep", now).await.unwrap().is_none());
        assert_eq!(
            jobs.claim("prep", now + jiff::SignedDuration::from_secs(6))
                .await
                .unwrap()
                .unwrap()
                .job_id,
            c.job_id
        );

        // A backlog is held, then released.
        let later = now + jiff::SignedDuration::from_secs(60);
        let sold = booth.sell(&[("TOTE", 1)], crate::orders::PaymentMethod::Card, "job-2").await;
        let order2 = sold["order_id"].as_str().unwrap().to_owned();
        jobs.queue_original(&order2, JobKind::Ticket, "prep", now).await.unwrap();
        assert_eq!(jobs.hold_backlog("prep", later, later).await.unwrap(), 1);
        assert_eq!(jobs.waiting("prep").await.unwrap().1, 1);
        assert!(jobs.claim("prep", later).await.unwrap().is_none(), "held jobs wait for staff");
        assert_eq!(jobs.release("prep", later).await.unwrap(), 1);
        assert!(jobs.claim("prep", later).await.unwrap().is_some());
        assert_eq!(jobs.of_order(&order).await.unwrap().len(), 3);
    }
}
