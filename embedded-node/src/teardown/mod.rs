//! Teardown: the end of the event, leaving nothing behind and losing nothing.
//!
//! Owns: the sequenced pipeline and its progress — stop taking orders → finish or
//! cancel uploads and clips → sync every order or export it → the post-event report →
//! revoke tokens and rotate keys → wipe personal data, caches and media → leave the
//! network → stop — kept in SQLite step by step, so running it again after a crash or
//! a power cut continues at the first step not done. Also whether the booth is closed
//! (kiosks are told so), and the automatic start after the manifest's end time: a
//! countdown staff can cancel, then closing, on the booth's trusted time.
//! Never: decides what a synced order is (`orders`, `uplink`) or how a key is kept
//! (`secrets`, `peers`), or what time it is (`timekeeping`).
//!
//! Invariants:
//! - Closed stays closed: a booth that began tearing down refuses new orders and
//!   uploads after a restart too (a retry of an order already taken is still answered).
//!   The one way back: a teardown the manifest's end time started may be reopened by
//!   the lead until the wipe has run; then it does not start by itself again.
//! - An automatic start never happens while the booth doubts its time, and never
//!   without the countdown first.
//! - Nothing is wiped that is not upstream or in an export file: the wipe step checks
//!   the order table itself (`orders::closing`), not just that the steps before it ran.
//! - A step's effect happens before its `done` row is written; every step can run twice.
//!
//! - [`export`]: files in the operator's folder, written durably.
//! - [`report`]: the post-event report (HTML with the charts, CSV of orders, JSON summary).

pub mod export;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Row, SqlitePool};

use boothcloud_core::clock::Clock;

use crate::assets::AssetCache;
use crate::audit::{Audit, Who};
use crate::charts::Charts;
use crate::discovery::Discovery;
use crate::live_manifest::LiveManifest;
use crate::media::Media;
use crate::orders::OrderQueue;
use crate::peers::Peers;
use crate::quote_keys::QuoteKeys;
use crate::secrets::SecretStore;
use crate::spend::Ledger;
use crate::telemetry::Telemetry;
use crate::timekeeping::BoothClock;
use crate::uplink::Uplink;

/// Longest export folder path accepted.
pub const MAX_EXPORT_DIR: usize = 1024;
/// How long the node keeps answering after the last step, so screens can show the end.
const STOP_AFTER: Duration = Duration::from_secs(3);
/// How long reopening waits for a running step to end before it says "try again".
const REOPEN_WAITS: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TeardownError {
    #[error("the export folder must be an absolute path of at most {MAX_EXPORT_DIR} characters")]
    BadExportDir,
    #[error("the export folder cannot be inside the node's data folder, which teardown wipes")]
    ExportInsideData,
    #[error("the export folder {0} cannot be used: {1}")]
    ExportDirUnusable(String, String),
    #[error("no automatic teardown is counting down")]
    NoCountdown,
    #[error("the booth is not closed")]
    NotClosed,
    #[error("the lead started this teardown: a booth the lead closed stays closed")]
    StartedByLead,
    #[error("the wipe has run: the booth cannot reopen")]
    Wiped,
    #[error("a teardown step is still running ({0}); try again in a moment")]
    StepRunning(&'static str),
    #[error("cannot keep the teardown's progress: {0}")]
    Db(#[from] sqlx::Error),
}

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeardownStep {
    Close,
    Media,
    Orders,
    Report,
    Keys,
    Wipe,
    Withdraw,
    Stop,
}

impl TeardownStep {
    pub const ALL: [TeardownStep; 8] = [
        TeardownStep::Close,
        TeardownStep::Media,
        TeardownStep::Orders,
        TeardownStep::Report,
        TeardownStep::Keys,
        TeardownStep::Wipe,
        TeardownStep::Withdraw,
        TeardownStep::Stop,
    ];

    /// The steps' names, in order (for tools that read the progress table).
    pub const ALL_NAMES: [&'static str; 8] =
        ["close", "media", "orders", "report", "keys", "wipe", "withdraw", "stop"];

    pub fn as_str(self) -> &'static str {
        // The variants are declared in the pipeline's order, as the names are.
        Self::ALL_NAMES[self as usize]
    }

    /// What the step does, in words for the progress screen.
    pub fn title(self) -> &'static str {
        match self {
            TeardownStep::Close => "Stop taking new orders",
            TeardownStep::Media => "Finish or cancel uploads and clips",
            TeardownStep::Orders => "Sync every order, or export it",
            TeardownStep::Report => "Write the post-event report",
            TeardownStep::Keys => "Revoke tokens and replace the keys",
            TeardownStep::Wipe => "Wipe personal data, caches and media",
            TeardownStep::Withdraw => "Leave the network",
            TeardownStep::Stop => "Stop the node",
        }
    }

    fn parse(s: &str) -> Option<TeardownStep> {
        TeardownStep::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Done(String),
    /// Cannot go on until the operator does something (e.g. chooses an export folder).
    Blocked(String),
    Failed(String),
}

/// Where teardown stands, for `GET /api/v1/ops/teardown` and the progress screen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeardownView {
    /// `not_started`, `running`, `blocked`, `failed`, `interrupted` (started before the
    /// node last stopped; run it again to continue) or `finished`.
    pub state: String,
    /// Whether the booth refuses new orders and uploads.
    pub closed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    pub started_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    pub export_dir: Option<String>,
    /// A folder the operator may choose (outside the data folder).
    pub suggested_export_dir: String,
    /// Where the report is (or will be) written.
    pub report_dir: String,
    pub steps: Vec<StepView>,
    /// Orders neither synced upstream nor exported: a wipe would lose them.
    pub orders_at_risk: i64,
    /// When teardown starts by itself (`[teardown] after_end` past the end, or `event.ttl`).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub automatic_at: Option<Timestamp>,
    /// The manifest's end time started this teardown (not the lead).
    pub automatic: bool,
    /// The lead may reopen the booth: an automatic teardown whose wipe has not run.
    pub reopenable: bool,
    /// The automatic start was cancelled or the booth reopened: it does not start by
    /// itself again for this event.
    pub stood_down: bool,
    /// An automatic start counting down, cancellable, before it closes the booth.
    pub countdown: Option<CountdownView>,
    /// Time-based starts wait: the booth doubts its time until the lead confirms it.
    pub waiting_for_time: bool,
}

/// The countdown before an automatic teardown closes the booth.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountdownView {
    /// When the booth closes unless staff cancel.
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: Timestamp,
    pub seconds_left: i64,
    /// Why: "the event's end time" or "the manifest's time to live".
    pub why: String,
}

#[derive(Debug, Clone)]
struct Countdown {
    /// Measured on monotonic time, so no step of any clock shortens it.
    closes_after: Duration,
    closes_at: Timestamp,
    why: &'static str,
    /// The event and the end it counts down for: a manifest that changes either, or a
    /// booth time put back before the end, withdraws it.
    event: String,
    due: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub step: TeardownStep,
    pub title: String,
    /// `pending`, `running`, `done`, `blocked` or `failed`.
    pub state: String,
    pub detail: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

struct Run {
    event: String,
    started_at: Timestamp,
    started_by: String,
    export_dir: Option<PathBuf>,
    finished_at: Option<Timestamp>,
    automatic: bool,
}

#[derive(Default)]
struct Live {
    /// The step being worked on now, if the pipeline is running.
    running: Option<TeardownStep>,
    /// The pipeline was asked to run and has not ended yet (else a started run that is
    /// neither finished, blocked nor failed is `interrupted`).
    ran_here: bool,
    countdown: Option<Countdown>,
    /// The lead is reopening the booth: the pipeline stops before its next step.
    abort: bool,
}

/// What teardown closes, exports, reports on and wipes: exactly these services.
#[derive(Clone)]
pub struct Scope {
    pub manifest: Arc<LiveManifest>,
    pub clock: Arc<dyn Clock>,
    /// The same clock, to ask whether time-based starts wait, and for the report's steps.
    pub time: Arc<BoothClock>,
    pub orders: OrderQueue,
    pub media: Arc<Media>,
    pub uplink: Arc<Uplink>,
    pub assets: Arc<AssetCache>,
    pub peers: Arc<Peers>,
    pub discovery: Option<Arc<Discovery>>,
    pub keys: QuoteKeys,
    pub audit: Arc<Audit>,
    pub spend: Arc<Ledger>,
    pub telemetry: Arc<Telemetry>,
    pub charts: Arc<Charts>,
    /// Turns true when the node begins to stop.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub struct Teardown {
    db: SqlitePool,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    scope: Scope,
    data_dir: PathBuf,
    closed: AtomicBool,
    live: Mutex<Live>,
    /// One pipeline at a time.
    driving: tokio::sync::Mutex<()>,
    /// Starting, counting down, cancelling and reopening one at a time: a start in the
    /// middle of a reopen would be cleared with the run it joined, and a look at the end
    /// time in the middle of a cancel would count down again.
    starting: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
    /// Turns true when the last step asks the node to stop.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Teardown {
    /// Loads the teardown of `event`, if one began: a booth that was closing stays closed.
    pub async fn load(
        db: SqlitePool,
        secrets: Arc<dyn SecretStore>,
        data_dir: &Path,
        event: &str,
        scope: Scope,
    ) -> Result<Teardown, sqlx::Error> {
        let started: Option<i64> =
            sqlx::query_scalar("SELECT started_ms FROM teardown WHERE event_id = ?")
                .bind(event)
                .fetch_optional(&db)
                .await?;
        Ok(Teardown {
            db,
            secrets,
            clock: scope.clock.clone(),
            scope,
            data_dir: data_dir.to_owned(),
            closed: AtomicBool::new(started.is_some()),
            live: Mutex::default(),
            driving: tokio::sync::Mutex::new(()),
            starting: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// What this teardown works on (tests build a "restarted" teardown over the same).
    #[cfg(test)]
    pub(crate) fn scope(&self) -> &Scope {
        &self.scope
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the booth refuses new orders and uploads (from the first step on).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Resolves when the last step asks the node to stop.
    pub fn stop_requested(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    pub fn suggested_export_dir(&self, event: &str) -> PathBuf {
        let home =
            std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp"));
        home.join("Boothcloud exports").join(event)
    }

    /// Checks an export folder and creates it: absolute, bounded, outside the data folder.
    pub fn check_export_dir(&self, dir: &str) -> Result<PathBuf, TeardownError> {
        let path = Path::new(dir);
        if dir.is_empty()
            || dir.len() > MAX_EXPORT_DIR
            || !path.is_absolute()
            || dir.chars().any(char::is_control)
        {
            return Err(TeardownError::BadExportDir);
        }
        if path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(TeardownError::BadExportDir);
        }
        let unusable =
            |e: std::io::Error| TeardownError::ExportDirUnusable(dir.into(), e.to_string());
        let data = self.data_dir.canonicalize().unwrap_or_else(|_| self.data_dir.clone());
        // Refused before anything is created: where the folder would be is its nearest
        // existing parent, links resolved, plus the parts still to make.
        let mut existing = path;
        let mut missing = Vec::new();
        while !existing.exists() {
            missing.extend(existing.file_name());
            existing = existing.parent().ok_or(TeardownError::BadExportDir)?;
        }
        let planned = missing
            .iter()
            .rev()
            .fold(existing.canonicalize().map_err(unusable)?, |p, part| p.join(part));
        if planned.starts_with(&data) {
            return Err(TeardownError::ExportInsideData);
        }
        std::fs::create_dir_all(path).map_err(unusable)?;
        let real = path.canonicalize().map_err(unusable)?;
        if real.starts_with(&data) {
            return Err(TeardownError::ExportInsideData);
        }
        export::probe_writable(&real).map_err(unusable)?;
        Ok(real)
    }

    /// Starts (or continues) the teardown of `event`: recorded before it is answered,
    /// the booth closed at once, the pipeline woken. A folder given now replaces the
    /// one given before. Answers whether this call started it.
    pub async fn request(
        &self,
        event: &str,
        by: &Who,
        export_dir: Option<&Path>,
    ) -> Result<bool, TeardownError> {
        self.begin(event, by, export_dir, false).await
    }

    /// `request`, saying whether the manifest's end time (`automatic`) or a person started it.
    async fn begin(
        &self,
        event: &str,
        by: &Who,
        export_dir: Option<&Path>,
        automatic: bool,
    ) -> Result<bool, TeardownError> {
        let _one_at_a_time = self.starting.lock().await;
        self.begin_held(event, by, export_dir, automatic).await
    }

    /// `begin`, with `starting` held by the caller.
    async fn begin_held(
        &self,
        event: &str,
        by: &Who,
        export_dir: Option<&Path>,
        automatic: bool,
    ) -> Result<bool, TeardownError> {
        let now = self.clock.now().as_millisecond();
        let dir = export_dir.map(|d| d.to_string_lossy().into_owned());
        let started = sqlx::query(
            "INSERT INTO teardown (event_id, started_ms, started_by, export_dir, automatic) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event)
        .bind(now)
        .bind(by.said_by())
        .bind(&dir)
        .bind(i64::from(automatic))
        .execute(&self.db)
        .await?
        .rows_affected()
            == 1;
        if !started && dir.is_some() {
            sqlx::query("UPDATE teardown SET export_dir = ? WHERE event_id = ?")
                .bind(&dir)
                .bind(event)
                .execute(&self.db)
                .await?;
        }
        if !started && !automatic {
            // A person asked for the teardown the end time started: it is theirs now,
            // and closed stays closed.
            sqlx::query("UPDATE teardown SET automatic = 0 WHERE event_id = ?")
                .bind(event)
                .execute(&self.db)
                .await?;
        }
        // A step stopped short is tried again.
        sqlx::query("DELETE FROM teardown_steps WHERE event_id = ? AND state != 'done'")
            .bind(event)
            .execute(&self.db)
            .await?;
        self.closed.store(true, Ordering::Release);
        {
            let mut live = self.live();
            live.ran_here = true;
            live.countdown = None;
            live.abort = false;
        }
        self.wake.notify_one();
        Ok(started)
    }

    async fn run_row(&self, event: &str) -> Result<Option<Run>, sqlx::Error> {
        let row = sqlx::query("SELECT started_ms, started_by, export_dir, finished_ms, automatic FROM teardown WHERE event_id = ?")
            .bind(event)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.map(|r| Run {
            event: event.to_owned(),
            started_at: ts(r.get(0)),
            started_by: r.get(1),
            export_dir: r.get::<Option<String>, _>(2).map(PathBuf::from),
            finished_at: r.get::<Option<i64>, _>(3).map(ts),
            automatic: r.get::<i64, _>(4) == 1,
        }))
    }

    async fn steps(
        &self,
        event: &str,
    ) -> Result<Vec<(TeardownStep, String, String, Timestamp)>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT step, state, detail, at_ms FROM teardown_steps WHERE event_id = ?")
                .bind(event)
                .fetch_all(&self.db)
                .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((TeardownStep::parse(r.get::<&str, _>(0))?, r.get(1), r.get(2), ts(r.get(3))))
            })
            .collect())
    }

    /// The steps of `event` that are done.
    async fn done_steps(&self, event: &str) -> Result<Vec<TeardownStep>, sqlx::Error> {
        Ok(self
            .steps(event)
            .await?
            .into_iter()
            .filter(|(_, st, ..)| st == "done")
            .map(|(s, ..)| s)
            .collect())
    }

    async fn record(
        &self,
        event: &str,
        step: TeardownStep,
        outcome: &StepOutcome,
    ) -> Result<(), sqlx::Error> {
        let (state, detail) = match outcome {
            StepOutcome::Done(d) => ("done", d),
            StepOutcome::Blocked(d) => ("blocked", d),
            StepOutcome::Failed(d) => ("failed", d),
        };
        sqlx::query(
            "INSERT INTO teardown_steps (event_id, step, state, detail, at_ms) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (event_id, step) DO UPDATE SET state = excluded.state, detail = excluded.detail, at_ms = excluded.at_ms",
        )
        .bind(event)
        .bind(step.as_str())
        .bind(state)
        .bind(detail)
        .bind(self.clock.now().as_millisecond())
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The report's folder: in the export folder when there is one, else kept in the
    /// data folder (which the wipe leaves alone: `reports/`).
    pub fn report_dir(&self, event: &str, export_dir: Option<&Path>) -> PathBuf {
        match export_dir {
            Some(d) => d.join(format!("{event}-report")),
            None => self.data_dir.join("reports").join(event),
        }
    }

    pub async fn view(&self) -> Result<TeardownView, TeardownError> {
        let scope = &self.scope;
        let loaded = scope.manifest.current();
        let m = &loaded.manifest;
        let event = &m.event.id;
        let run = self.run_row(event).await?;
        let done = self.steps(event).await?;
        let (running, ran_here, countdown) = {
            let live = self.live();
            (live.running, live.ran_here, live.countdown.clone())
        };
        let stood_down = self.stood_down(event).await?;
        let steps: Vec<StepView> = TeardownStep::ALL
            .into_iter()
            .map(|s| match done.iter().find(|(d, ..)| *d == s) {
                Some((_, st, detail, at)) => StepView {
                    step: s,
                    title: s.title().into(),
                    state: st.clone(),
                    detail: Some(detail.clone()),
                    at: Some(*at),
                },
                None => StepView {
                    step: s,
                    title: s.title().into(),
                    state: if running == Some(s) { "running" } else { "pending" }.into(),
                    detail: None,
                    at: None,
                },
            })
            .collect();
        let overall = match &run {
            None => "not_started",
            Some(r) if r.finished_at.is_some() => "finished",
            Some(_) if steps.iter().any(|s| s.state == "failed") => "failed",
            Some(_) if steps.iter().any(|s| s.state == "blocked") => "blocked",
            Some(_) if running.is_some() || ran_here => "running",
            Some(_) => "interrupted",
        };
        let export_dir = run.as_ref().and_then(|r| r.export_dir.clone());
        Ok(TeardownView {
            state: overall.into(),
            closed: self.is_closed(),
            started_at: run.as_ref().map(|r| r.started_at),
            started_by: run.as_ref().map(|r| r.started_by.clone()),
            finished_at: run.as_ref().and_then(|r| r.finished_at),
            suggested_export_dir: self.suggested_export_dir(event).to_string_lossy().into_owned(),
            report_dir: self
                .report_dir(event, export_dir.as_deref())
                .to_string_lossy()
                .into_owned(),
            export_dir: export_dir.map(|d| d.to_string_lossy().into_owned()),
            steps,
            orders_at_risk: scope.orders.unsafe_to_wipe().await.unwrap_or(-1),
            automatic_at: automatic(m).map(|(t, _)| t),
            automatic: run.as_ref().is_some_and(|r| r.automatic),
            reopenable: run.as_ref().is_some_and(|r| r.automatic)
                && !done.iter().any(|(s, st, ..)| *s == TeardownStep::Wipe && st == "done"),
            stood_down,
            countdown: countdown.map(|c| CountdownView {
                closes_at: c.closes_at,
                seconds_left: c
                    .closes_after
                    .saturating_sub(self.clock.monotonic())
                    .as_secs_f64()
                    .ceil() as i64,
                why: c.why.into(),
            }),
            waiting_for_time: scope.time.holds_automations(),
        })
    }

    /// Runs the pipeline from the first step not done, until it ends, blocks or fails.
    /// `halt`: tests stop here as a crash would (after the step's effect when `true`,
    /// before its `done` row either way).
    pub async fn drive(&self) -> Result<(), TeardownError> {
        self.drive_until(None).await
    }

    pub(crate) async fn drive_until(
        &self,
        halt: Option<(TeardownStep, bool)>,
    ) -> Result<(), TeardownError> {
        let _one = self.driving.lock().await;
        let ended = self.run_steps(halt).await;
        // However it ended, nothing runs now: a run that stopped short without a
        // blocked or failed step reads as interrupted, never as running forever.
        self.live().ran_here = false;
        ended
    }

    async fn run_steps(&self, halt: Option<(TeardownStep, bool)>) -> Result<(), TeardownError> {
        let scope = &self.scope;
        let event = scope.manifest.current().manifest.event.id.clone();
        let Some(run) = self.run_row(&event).await? else { return Ok(()) };
        if run.finished_at.is_some() {
            return Ok(());
        }
        self.live().ran_here = true;
        let done = self.done_steps(&event).await?;
        let who = Who { actor: "teardown", client: "node", why: run.started_by.clone().into() };
        for step in TeardownStep::ALL.into_iter().filter(|s| !done.contains(s)) {
            if halt == Some((step, false)) || self.live().abort {
                return Ok(());
            }
            self.live().running = Some(step);
            tracing::info!(step = step.as_str(), "teardown step");
            let outcome = self.take(step, &run).await;
            self.live().running = None;
            if halt == Some((step, true)) {
                return Ok(());
            }
            self.record(&event, step, &outcome).await?;
            let (result, detail) = match &outcome {
                StepOutcome::Done(d) => (Ok(()), d.clone()),
                StepOutcome::Blocked(d) | StepOutcome::Failed(d) => (Err(d.clone()), d.clone()),
            };
            scope
                .audit
                .record(
                    &who,
                    &format!("teardown: {}", step.title().to_lowercase()),
                    None,
                    Some(detail),
                    result,
                )
                .await;
            if !matches!(outcome, StepOutcome::Done(_)) {
                return Ok(());
            }
        }
        sqlx::query("UPDATE teardown SET finished_ms = ? WHERE event_id = ?")
            .bind(self.clock.now().as_millisecond())
            .bind(&event)
            .execute(&self.db)
            .await?;
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(STOP_AFTER).await;
            let _ = stop.send(true);
        });
        Ok(())
    }

    async fn take(&self, step: TeardownStep, run: &Run) -> StepOutcome {
        let scope = &self.scope;
        let wait = scope.manifest.current().manifest.teardown.wait.unsigned_abs();
        let outcome = match step {
            TeardownStep::Close => Ok(self.close()),
            TeardownStep::Media => export::media(scope, wait, run.export_dir.as_deref()).await,
            TeardownStep::Orders => {
                export::orders(scope, wait, &run.event, run.export_dir.as_deref()).await
            }
            TeardownStep::Report => {
                let dir = self.report_dir(&run.event, run.export_dir.as_deref());
                report::write(scope, &self.db, &dir, run).await
            }
            TeardownStep::Keys => self.keys().await,
            TeardownStep::Wipe => wipe(scope).await,
            TeardownStep::Withdraw => Ok(withdraw(scope).await),
            TeardownStep::Stop => {
                Ok(StepOutcome::Done(format!("the node stops in {} s", STOP_AFTER.as_secs())))
            }
        };
        outcome.unwrap_or_else(StepOutcome::Failed)
    }

    /// Upload tokens revoked, the pairing code withdrawn, a new quote-signing key (quotes
    /// signed before are refused), a new pairing key (unless the manifest sets it), and a
    /// new operator token in the secret store for the next start.
    async fn keys(&self) -> Result<StepOutcome, String> {
        let scope = &self.scope;
        let now = scope.clock.now().as_millisecond();
        let revoked = scope.media.tokens.revoke_all(now).await.map_err(|e| e.to_string())?;
        scope.peers.withdraw_code();
        let who = Who { actor: "teardown", client: "node", why: "teardown".into() };
        scope.keys.rotate(&who).await.map_err(|e| e.to_string())?;
        let pairing = match scope.peers.rotate_key().await {
            Ok(true) => "a new pairing key".to_owned(),
            Ok(false) => "the pairing key is the manifest's: change it there".to_owned(),
            Err(e) => return Err(e.to_string()),
        };
        let store = self.secrets.clone();
        tokio::task::spawn_blocking(move || crate::secrets::new_operator_token(store.as_ref()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(StepOutcome::Done(format!(
            "{} revoked; a new signing key; {pairing}; a new operator token from the next start",
            count(revoked, "upload token")
        )))
    }

    fn close(&self) -> StepOutcome {
        let scope = &self.scope;
        self.closed.store(true, Ordering::Release);
        scope.peers.withdraw_code();
        StepOutcome::Done("kiosks are told the booth is closed; new uploads are refused".into())
    }

    /// Starts teardown by itself once the manifest's end time (plus `after_end`) has
    /// passed, and runs the pipeline whenever it is asked to, until the node stops.
    pub async fn keep_running(self: Arc<Self>) {
        let mut stopping = self.scope.stopping.clone();
        loop {
            self.start_if_due().await;
            let woken = tokio::select! {
                () = self.wake.notified() => true,
                () = tokio::time::sleep(Duration::from_secs(1)) => false,
                _ = stopping.changed() => return,
            };
            if woken {
                if let Err(e) = self.drive().await {
                    tracing::warn!(error = %e, "teardown could not go on");
                }
            }
        }
    }

    /// The automatic start, one look: once the end (on trusted time) is reached and the
    /// booth does not doubt its time, a countdown; when it runs out, closing.
    async fn start_if_due(&self) {
        let _one_at_a_time = self.starting.lock().await;
        let scope = &self.scope;
        let loaded = scope.manifest.current();
        let m = &loaded.manifest;
        let event = &m.event.id;
        let auto = automatic(m);
        let counting = self.live().countdown.clone();
        if let Some(c) = &counting {
            let still = auto.is_some_and(|(due, _)| {
                c.event == *event && c.due == due && self.clock.now() >= due
            }) && !scope.time.holds_automations();
            if !still {
                self.withdraw_countdown().await;
                return;
            }
        }
        let Some((due, why)) = auto else { return };
        if counting.is_none()
            && (self.clock.now() < due
                || scope.time.holds_automations()
                || !matches!(self.run_row(event).await, Ok(None))
                || !matches!(self.stood_down(event).await, Ok(false)))
        {
            return;
        }
        let who = Who { actor: "manifest", client: "node", why: why.into() };
        match counting {
            None => {
                let length = m.teardown.countdown.unsigned_abs();
                let closes_at = self.clock.now() + length;
                let closes_after = self.clock.monotonic() + length;
                self.live().countdown =
                    Some(Countdown { closes_after, closes_at, why, event: event.clone(), due });
                tracing::warn!(%closes_at, why, "automatic teardown: counting down");
                scope
                    .audit
                    .record(
                        &who,
                        "teardown countdown",
                        None,
                        Some(format!(
                            "the booth closes in {} unless staff cancel",
                            boothcloud_core::timekeeping::span_words(
                                jiff::SignedDuration::try_from(length).unwrap_or_default()
                            )
                        )),
                        Ok(()),
                    )
                    .await;
            }
            Some(c) if self.clock.monotonic() >= c.closes_after => {
                // Taken, not read: a cancel in the same instant wins or loses, never both.
                if self.live().countdown.take().is_none() {
                    return;
                }
                let started =
                    self.begin_held(event, &who, m.teardown.export_dir.as_deref(), true).await;
                if let Ok(true) = started {
                    scope
                        .audit
                        .record(&who, "teardown", None, Some(format!("started at {due}")), Ok(()))
                        .await;
                }
            }
            Some(_) => {}
        }
    }

    /// The manifest's end moved (or went, or the event changed), or the booth's time was
    /// put back before it: the countdown stops and the booth stays open. Audited.
    async fn withdraw_countdown(&self) {
        let Some(c) = self.live().countdown.take() else { return };
        tracing::info!(closes_at = %c.closes_at, "teardown countdown withdrawn");
        let who = Who { actor: "manifest", client: "node", why: c.why.into() };
        self.scope
            .audit
            .record(
                &who,
                "teardown countdown withdrawn",
                Some(format!("closing at {} ({})", c.closes_at, c.why)),
                Some("the end it counted down to is no longer due: the booth stays open".into()),
                Ok(()),
            )
            .await;
    }

    async fn stood_down(&self, event: &str) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT 1 FROM teardown_stood_down WHERE event_id = ?")
            .bind(event)
            .fetch_optional(&self.db)
            .await?
            .is_some())
    }

    async fn stand_down(&self, event: &str, who: &Who, why: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO teardown_stood_down (event_id, at_ms, by, why) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event)
        .bind(self.clock.now().as_millisecond())
        .bind(who.said_by())
        .bind(why)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Staff cancel the countdown: the booth stays open, and the end time does not start
    /// teardown again for this event (the lead can still start it by hand).
    pub async fn cancel_countdown(&self, who: &Who) -> Result<(), TeardownError> {
        let _one_at_a_time = self.starting.lock().await;
        let event = self.scope.manifest.current().manifest.event.id.clone();
        let Some(c) = self.live().countdown.take() else { return Err(TeardownError::NoCountdown) };
        self.stand_down(&event, who, "countdown cancelled").await?;
        self.scope
            .audit
            .record(
                who,
                "teardown countdown cancelled",
                Some(format!("closing at {} ({})", c.closes_at, c.why)),
                Some("the booth stays open".into()),
                Ok(()),
            )
            .await;
        Ok(())
    }

    /// The lead reopens a booth the manifest's end time closed, until the wipe has run:
    /// the pipeline stops before its next step, the progress is cleared (the audit log
    /// keeps it), and the end time does not start teardown again for this event.
    pub async fn reopen(&self, who: &Who) -> Result<String, TeardownError> {
        let _one_at_a_time = self.starting.lock().await;
        let event = self.scope.manifest.current().manifest.event.id.clone();
        let run = self.run_row(&event).await?.ok_or(TeardownError::NotClosed)?;
        if !run.automatic {
            return Err(TeardownError::StartedByLead);
        }
        self.live().abort = true;
        let Ok(_driving) = tokio::time::timeout(REOPEN_WAITS, self.driving.lock()).await else {
            let step = self.live().running.map_or("a step", |s| s.title());
            self.live().abort = false;
            return Err(TeardownError::StepRunning(step));
        };
        let done = self.done_steps(&event).await?;
        if done.contains(&TeardownStep::Wipe) {
            self.live().abort = false;
            return Err(TeardownError::Wiped);
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM teardown_steps WHERE event_id = ?")
            .bind(&event)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM teardown WHERE event_id = ?")
            .bind(&event)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.stand_down(&event, who, "reopened").await?;
        self.closed.store(false, Ordering::Release);
        {
            let mut live = self.live();
            live.abort = false;
            live.ran_here = false;
            live.countdown = None;
        }
        let mut note = "the booth sells again".to_owned();
        if done.contains(&TeardownStep::Keys) {
            note.push_str(
                "; keys were replaced: kiosks get new quotes, phones need new upload tokens, and paired booths must pair again",
            );
        }
        self.scope
            .audit
            .record(
                who,
                "teardown reopened",
                Some(format!("closed by {} at {}", run.started_by, run.started_at)),
                Some(note.clone()),
                Ok(()),
            )
            .await;
        Ok(note)
    }
}

/// When teardown starts by itself, and why: `[teardown] after_end` past the event's end,
/// or the deployment's time to live (`event.ttl`) running out, whichever comes first.
pub fn automatic(m: &boothcloud_core::manifest::Manifest) -> Option<(Timestamp, &'static str)> {
    let after_end = m
        .teardown
        .after_end
        .and_then(|a| m.event.ends_at.checked_add(a).ok())
        .map(|t| (t, "the event's end time"));
    let ttl = Some((m.event.expires_at, "the manifest's time to live"));
    [after_end, ttl].into_iter().flatten().min_by_key(|(t, _)| *t)
}

/// "1 order", "5 orders": the progress screen reads as sentences.
pub(crate) fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Contact details (from the database file itself), upload tokens' records, uploads,
/// clips and the asset cache. Refused while an order is neither synced nor exported.
async fn wipe(scope: &Scope) -> Result<StepOutcome, String> {
    let at_risk = scope.orders.unsafe_to_wipe().await.map_err(|e| e.to_string())?;
    if at_risk > 0 {
        return Ok(StepOutcome::Blocked(format!(
            "{} neither synced upstream nor exported; nothing was wiped. Choose an export folder and run teardown again.",
            if at_risk == 1 { "1 order is".to_owned() } else { format!("{at_risk} orders are") }
        )));
    }
    let (uploads, clips) = scope.media.wipe().await.map_err(|e| e.to_string())?;
    let media = format!("{} and {}", count(uploads, "upload"), count(clips, "clip"));
    let contacts = scope.orders.wipe_contacts().await.map_err(|e| e.to_string())?;
    let cached = scope.assets.store().purge(|_| true);
    Ok(StepOutcome::Done(format!(
        "contact details of {}, {media}, {}",
        count(contacts, "order"),
        count(cached, "cached file")
    )))
}

async fn withdraw(scope: &Scope) -> StepOutcome {
    match &scope.discovery {
        Some(d) => {
            d.stop_advertising();
            d.withdraw().await;
            StepOutcome::Done("the booth no longer announces itself over mDNS".into())
        }
        None => StepOutcome::Done("mDNS was off: nothing to withdraw".into()),
    }
}

#[cfg(test)]
mod tests;
