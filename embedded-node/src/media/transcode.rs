//! Transcodes: a durable job queue that turns finished uploads into the manifest's
//! presets by running ffmpeg as short-lived child processes.
//!
//! Owns: the queue in SQLite (`transcodes`; jobs running when the node stopped or
//! crashed run again from the start), the concurrency cap (lower while degraded), the
//! timeout, cancellation, progress read from ffmpeg's `-progress` output, the outputs in
//! `media/clips/<job>/`, and the metering of media and wall milliseconds.
//!
//! Rules:
//! - A child never outlives its job: cancel and timeout kill it and wait for it; it is
//!   killed when its handle is dropped; and it dies with the node (`PR_SET_PDEATHSIG`),
//!   so a crashed node leaves no ffmpeg burning the booth's CPU.
//! - Outputs are written under a temporary name and renamed when ffmpeg succeeds: a
//!   clip that is served is a whole clip.
//! - A missing or failing ffmpeg fails the job with a reason in words, never hangs it.
//! - When the transcode budget (or the total) is spent, jobs from non-essential presets
//!   wait, and running ones stop; essential ones go on.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{watch, Notify};

use crate::live_manifest::LiveManifest;
use crate::spend::{BudgetState, Component, Ledger, Meters};
use boothcloud_core::clock::Clock;
use boothcloud_core::manifest::{Manifest, MediaSettings, Preset, PresetOutput, TranscodeMode};

/// Longest trimmed clip or poster time accepted, in milliseconds.
const MAX_MEDIA_MS: u64 = 24 * 3_600_000;
/// Lines of ffmpeg's error output kept for the failure reason.
const STDERR_LINES: usize = 12;
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("no such transcode job")]
    NotFound,
    #[error("no upload {0} is finished here")]
    NoUpload(String),
    #[error("the manifest has no preset `{0}`")]
    UnknownPreset(String),
    #[error("{0}")]
    BadTrim(String),
    #[error("{0} jobs are already waiting; cancel some or wait")]
    QueueFull(u32),
    #[error("the job has already finished ({0})")]
    Finished(String),
    #[error("the transcode budget is spent: only essential presets run")]
    BudgetSpent,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What the operator asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub upload_id: String,
    pub preset: String,
    /// Trim: from this many seconds in (default: the start).
    pub start_s: Option<f64>,
    /// Trim: to this many seconds in (default: the end).
    pub end_s: Option<f64>,
}

/// A job as the operator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    pub upload_id: String,
    /// The upload's file name, if it sent one.
    pub filename: Option<String>,
    pub preset: String,
    /// The preset actually run (the degraded one while the booth was degraded).
    pub ran_preset: Option<String>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub essential: bool,
    /// `queued`, `running`, `done`, `failed`, `cancelled`, `timed_out` or `stopped`.
    pub state: String,
    /// Why it failed, stopped or waits, in words.
    pub reason: Option<String>,
    /// 0 to 1 while running; 1 when done.
    pub progress: f64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    /// Media transcoded and wall time taken, in milliseconds.
    pub media_ms: u64,
    pub wall_ms: u64,
    /// Where the output is served (`/media/clips/<job>/<file>`), once done.
    pub output_url: Option<String>,
    pub output_bytes: Option<u64>,
    /// The ffmpeg arguments it ran with (after `ffmpeg`).
    pub command: Option<Vec<String>>,
}

/// Transcoding at a glance, for the booth screen and the Media screen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TranscodeSummary {
    /// ffmpeg's version line, or why it cannot be used.
    pub ffmpeg: String,
    pub ffmpeg_ok: bool,
    pub degraded: bool,
    /// Non-essential jobs are held: the transcode budget is spent.
    pub budget_held: bool,
    pub running: u64,
    pub queued: u64,
    /// The most at once since the node started.
    pub peak: u64,
    /// Jobs allowed at once now.
    pub concurrency: u32,
    /// Since midnight in the event's time zone, running jobs included.
    pub media_minutes_today: f64,
    pub wall_minutes_today: f64,
}

/// Why a running job is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    Budget,
    NodeStopping,
}

struct Running {
    cancel: Notify,
    why: Mutex<Option<Stop>>,
    essential: bool,
    done_ms: AtomicU64,
    total_ms: AtomicU64,
}

impl Running {
    fn stop(&self, why: Stop) {
        *self.why.lock().expect("stop reason") = Some(why);
        // A stored permit: a job not yet listening still sees it.
        self.cancel.notify_one();
    }
}

pub struct Transcoder {
    db: SqlitePool,
    clips: PathBuf,
    uploads: PathBuf,
    live: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    meters: Arc<Meters>,
    ledger: Arc<Ledger>,
    degraded: AtomicBool,
    /// The degrade control's `essential` mode: only essential presets start.
    essential_only: AtomicBool,
    budget_held: AtomicBool,
    wake: Notify,
    running: Mutex<HashMap<String, Arc<Running>>>,
    ffmpeg: Mutex<Option<Result<String, String>>>,
    /// Bumped whenever a job ends, so a caller waiting for one ([`Transcoder::wait`])
    /// is woken instead of polling.
    ended: watch::Sender<u64>,
}

/// A queued job, as the runner needs it.
struct Job {
    id: String,
    upload_id: String,
    preset: String,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    upload_id: String,
    filename: Option<String>,
    preset: String,
    ran_preset: Option<String>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    essential: bool,
    state: String,
    reason: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    media_ms: i64,
    wall_ms: i64,
    output: Option<String>,
    output_bytes: Option<i64>,
    command: Option<String>,
}

const SELECT: &str = "SELECT j.id, j.upload_id, u.filename, j.preset, j.ran_preset, j.start_ms, j.end_ms, j.essential, j.state, j.reason, \
    j.created_at, j.started_at, j.finished_at, j.media_ms, j.wall_ms, j.output, j.output_bytes, j.command \
    FROM transcodes j LEFT JOIN uploads u ON u.id = j.upload_id";

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or_default()
}

impl Transcoder {
    /// Opens the queue: jobs that were running when the node last stopped are queued again
    /// and their partial outputs removed.
    pub async fn open(
        media_dir: &Path,
        db: SqlitePool,
        live: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        ledger: Arc<Ledger>,
    ) -> Result<Transcoder, TranscodeError> {
        let clips = media_dir.join("clips");
        std::fs::create_dir_all(&clips).map_err(sqlx::Error::Io)?;
        let again: Vec<(String,)> =
            sqlx::query_as("UPDATE transcodes SET state = 'queued', started_at = NULL WHERE state = 'running' RETURNING id")
                .fetch_all(&db)
                .await?;
        for (id,) in &again {
            let _ = std::fs::remove_dir_all(clips.join(id));
        }
        if !again.is_empty() {
            tracing::info!(
                jobs = again.len(),
                "transcodes interrupted by the last stop will run again"
            );
        }
        Ok(Transcoder {
            db,
            clips,
            uploads: media_dir.join("uploads"),
            live,
            clock,
            meters: ledger.meters().clone(),
            ledger,
            degraded: AtomicBool::new(false),
            essential_only: AtomicBool::new(false),
            budget_held: AtomicBool::new(false),
            wake: Notify::new(),
            running: Mutex::default(),
            ffmpeg: Mutex::new(None),
            ended: watch::Sender::new(0),
        })
    }

    pub fn clips_dir(&self) -> &Path {
        &self.clips
    }

    /// Queues a job (202): checked now, run when a slot is free.
    pub async fn start(&self, req: StartRequest) -> Result<JobView, TranscodeError> {
        let loaded = self.live.current();
        let media = &loaded.manifest.media;
        let preset = media
            .preset(&req.preset)
            .ok_or_else(|| TranscodeError::UnknownPreset(clip(&req.preset)))?;
        let (start_ms, end_ms) = trim(req.start_s, req.end_s)?;
        if !super::is_id(&req.upload_id) {
            return Err(TranscodeError::NoUpload(clip(&req.upload_id)));
        }
        let done: Option<(String,)> =
            sqlx::query_as("SELECT state FROM uploads WHERE id = ? AND state = 'done'")
                .bind(&req.upload_id)
                .fetch_optional(&self.db)
                .await?;
        if done.is_none() {
            return Err(TranscodeError::NoUpload(req.upload_id));
        }
        if !preset.essential && self.budget_spent(&loaded.manifest) {
            return Err(TranscodeError::BudgetSpent);
        }
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM transcodes WHERE state = 'queued'")
                .fetch_one(&self.db)
                .await?;
        if queued >= i64::from(media.max_queued_transcodes) {
            return Err(TranscodeError::QueueFull(media.max_queued_transcodes));
        }
        let id = super::new_id();
        sqlx::query(
            "INSERT INTO transcodes (id, upload_id, preset, start_ms, end_ms, essential, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
        )
        .bind(&id)
        .bind(&req.upload_id)
        .bind(&preset.name)
        .bind(start_ms.map(|v| v as i64))
        .bind(end_ms.map(|v| v as i64))
        .bind(preset.essential)
        .bind(ms(self.clock.now()))
        .execute(&self.db)
        .await?;
        self.wake.notify_one();
        self.get(&id).await
    }

    pub async fn get(&self, id: &str) -> Result<JobView, TranscodeError> {
        let row: Option<JobRow> = sqlx::query_as(&format!("{SELECT} WHERE j.id = ?"))
            .bind(id)
            .fetch_optional(&self.db)
            .await?;
        row.map(|r| self.view(r)).ok_or(TranscodeError::NotFound)
    }

    /// The job once it has ended (done, failed, cancelled…), or as it is when `up_to`
    /// has passed: a script or screen waiting for a clip asks once instead of polling
    /// (polling costs the CPU the transcode itself needs on a two-core booth laptop).
    pub async fn wait(&self, id: &str, up_to: Duration) -> Result<JobView, TranscodeError> {
        let mut ended = self.ended.subscribe();
        let deadline = tokio::time::Instant::now() + up_to;
        loop {
            // Subscribed before reading: an end recorded between the read and the
            // wait below still wakes us.
            ended.mark_unchanged();
            let job = self.get(id).await?;
            if !matches!(job.state.as_str(), "queued" | "running") {
                return Ok(job);
            }
            match tokio::time::timeout_at(deadline, ended.changed()).await {
                Ok(Ok(())) => {}
                // Out of time (or the transcoder is gone): the job as it is now.
                _ => return self.get(id).await,
            }
        }
    }

    /// The newest jobs first.
    pub async fn list(&self, limit: u32) -> Result<Vec<JobView>, TranscodeError> {
        let rows: Vec<JobRow> =
            sqlx::query_as(&format!("{SELECT} ORDER BY j.created_at DESC LIMIT ?"))
                .bind(i64::from(limit))
                .fetch_all(&self.db)
                .await?;
        Ok(rows.into_iter().map(|r| self.view(r)).collect())
    }

    /// Cancels a queued job at once, or a running one by killing its ffmpeg.
    /// The jobs queued or running.
    pub async fn unfinished(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM transcodes WHERE state IN ('queued', 'running')")
            .fetch_all(&self.db)
            .await
    }

    pub async fn cancel(&self, id: &str) -> Result<JobView, TranscodeError> {
        let running = self.running.lock().expect("running jobs").get(id).cloned();
        if let Some(r) = running {
            r.stop(Stop::Cancelled);
            // The runner records the outcome; wait (briefly) so the answer shows it.
            for _ in 0..100 {
                if !self.running.lock().expect("running jobs").contains_key(id) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            return self.get(id).await;
        }
        let done = sqlx::query("UPDATE transcodes SET state = 'cancelled', reason = 'Cancelled by the operator.', finished_at = ? WHERE id = ? AND state = 'queued'")
            .bind(ms(self.clock.now()))
            .bind(id)
            .execute(&self.db)
            .await?;
        if done.rows_affected() > 0 {
            self.ended.send_modify(|n| *n += 1);
        }
        let job = self.get(id).await?;
        if done.rows_affected() == 0 && job.state != "running" {
            return Err(TranscodeError::Finished(job.state));
        }
        Ok(job)
    }

    /// Removes a finished job's output (to free quota); the job's record stays.
    pub async fn remove_output(&self, id: &str) -> Result<JobView, TranscodeError> {
        let job = self.get(id).await?;
        if matches!(job.state.as_str(), "queued" | "running") {
            return Err(TranscodeError::Finished(format!("{}; cancel it first", job.state)));
        }
        let _ = std::fs::remove_dir_all(self.clips.join(id));
        sqlx::query("UPDATE transcodes SET output = NULL, output_bytes = NULL WHERE id = ?")
            .bind(id)
            .execute(&self.db)
            .await?;
        self.get(id).await
    }

    /// The degrade control: reduced-quality presets and fewer jobs at once.
    pub fn set_degraded(&self, on: bool) {
        self.degraded.store(on, Ordering::Relaxed);
        self.wake.notify_one();
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// The degrade level's transcode mode: full, reduced, or reduced with only essential
    /// presets starting (the others wait in the queue; running ones finish).
    pub fn set_mode(&self, mode: TranscodeMode) {
        self.essential_only.store(mode == TranscodeMode::EssentialOnly, Ordering::Relaxed);
        self.set_degraded(mode != TranscodeMode::Full);
    }

    pub fn mode(&self) -> TranscodeMode {
        match (self.is_degraded(), self.essential_only.load(Ordering::Relaxed)) {
            (_, true) => TranscodeMode::EssentialOnly,
            (true, false) => TranscodeMode::Reduced,
            (false, false) => TranscodeMode::Full,
        }
    }

    /// A finished job's output file, if `file` is its name.
    pub async fn output(&self, id: &str, file: &str) -> Option<PathBuf> {
        if !super::is_id(id) {
            return None;
        }
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT output FROM transcodes WHERE id = ? AND state = 'done'")
                .bind(id)
                .fetch_optional(&self.db)
                .await
                .ok()?;
        let name = row?.0?;
        (name == file).then(|| self.clips.join(id).join(name))
    }

    pub async fn summary(&self) -> Result<TranscodeSummary, TranscodeError> {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        let now = self.clock.now();
        let since = now
            .to_zoned(m.event.timezone.clone())
            .start_of_day()
            .map(|z| z.timestamp())
            .unwrap_or(now);
        let (media_ms, wall_ms): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(media_ms), 0), COALESCE(SUM(wall_ms), 0) FROM transcodes WHERE finished_at >= ? AND state != 'running'",
        )
        .bind(ms(since))
        .fetch_one(&self.db)
        .await?;
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM transcodes WHERE state = 'queued'")
                .fetch_one(&self.db)
                .await?;
        let running_media: u64 = self
            .running
            .lock()
            .expect("running jobs")
            .values()
            .map(|r| r.done_ms.load(Ordering::Relaxed))
            .sum();
        let (running, peak) = self.meters.transcodes();
        let ffmpeg = self.ffmpeg.lock().expect("ffmpeg version").clone();
        let (ffmpeg, ffmpeg_ok) = match ffmpeg {
            Some(Ok(v)) => (v, true),
            Some(Err(why)) => (why, false),
            None => ("Not checked yet.".into(), false),
        };
        Ok(TranscodeSummary {
            ffmpeg,
            ffmpeg_ok,
            degraded: self.is_degraded(),
            budget_held: self.budget_held.load(Ordering::Relaxed),
            running,
            queued: queued as u64,
            peak,
            concurrency: self.concurrency(&m.media),
            media_minutes_today: (media_ms as u64 + running_media) as f64 / 60_000.0,
            wall_minutes_today: wall_ms as f64 / 60_000.0,
        })
    }

    fn concurrency(&self, media: &MediaSettings) -> u32 {
        if self.is_degraded() {
            media.degraded_transcodes
        } else {
            media.max_transcodes
        }
    }

    fn budget_spent(&self, m: &Manifest) -> bool {
        let view = self.ledger.view(self.clock.now(), m);
        view.total.state == BudgetState::Over
            || view
                .components
                .iter()
                .any(|c| c.component == Component::Transcode && c.line.state == BudgetState::Over)
    }

    fn view(&self, r: JobRow) -> JobView {
        let JobRow {
            id,
            upload_id,
            filename,
            preset,
            ran_preset,
            start_ms,
            end_ms,
            essential,
            state,
            reason,
            created_at: created,
            started_at: started,
            finished_at: finished,
            media_ms,
            wall_ms,
            output,
            output_bytes,
            command,
        } = r;
        let live = self.running.lock().expect("running jobs").get(&id).cloned();
        let progress = match (&live, state.as_str()) {
            (_, "done") => 1.0,
            (Some(r), _) => {
                let total = r.total_ms.load(Ordering::Relaxed);
                if total == 0 {
                    0.0
                } else {
                    (r.done_ms.load(Ordering::Relaxed) as f64 / total as f64).min(1.0)
                }
            }
            _ => 0.0,
        };
        let reason = reason.or_else(|| {
            (state == "queued" && !essential && self.budget_held.load(Ordering::Relaxed)).then(
                || {
                    "Waiting: the transcode budget is spent and this preset is not essential."
                        .to_owned()
                },
            )
        });
        JobView {
            output_url: output.as_ref().map(|o| format!("/media/clips/{id}/{o}")),
            id,
            upload_id,
            filename,
            preset,
            ran_preset,
            start_ms: start_ms.map(|v| v as u64),
            end_ms: end_ms.map(|v| v as u64),
            essential,
            state,
            reason,
            progress,
            created_at: at(created),
            started_at: started.map(at),
            finished_at: finished.map(at),
            media_ms: live.as_ref().map_or(media_ms as u64, |r| r.done_ms.load(Ordering::Relaxed)),
            wall_ms: wall_ms as u64,
            output_bytes: output_bytes.map(|v| v as u64),
            command: command.and_then(|c| serde_json::from_str(&c).ok()),
        }
    }

    /// Runs the queue until the node stops: starts jobs as slots free up, holds and
    /// stops non-essential ones while the budget is spent. On stop, running jobs are
    /// killed and queued again for the next start.
    pub async fn keep(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        self.check_ffmpeg().await;
        loop {
            if *stopping.borrow() {
                break;
            }
            let loaded = self.live.current();
            let held = self.budget_spent(&loaded.manifest);
            self.budget_held.store(held, Ordering::Relaxed);
            if held {
                for r in
                    self.running.lock().expect("running jobs").values().filter(|r| !r.essential)
                {
                    r.stop(Stop::Budget);
                }
            }
            let held = held || self.essential_only.load(Ordering::Relaxed);
            if let Err(e) = self.start_due(&loaded.manifest.media, held).await {
                tracing::warn!(error = %e, "could not start transcodes");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopping.changed() => {}
            }
        }
        let all: Vec<_> = self.running.lock().expect("running jobs").values().cloned().collect();
        for r in &all {
            r.stop(Stop::NodeStopping);
        }
        for _ in 0..250 {
            if self.running.lock().expect("running jobs").is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn check_ffmpeg(&self) {
        let program = self.live.current().manifest.media.ffmpeg.clone();
        let found = match tokio::time::timeout(
            PROBE_TIMEOUT,
            tokio::process::Command::new(&program).arg("-version").kill_on_drop(true).output(),
        )
        .await
        {
            Ok(Ok(out)) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("ffmpeg")
                .to_owned()),
            Ok(Ok(out)) => Err(format!("`{program} -version` failed ({})", out.status)),
            Ok(Err(e)) => Err(spawn_problem(&program, &e)),
            Err(_) => Err(format!("`{program} -version` did not answer within 30 s")),
        };
        if let Err(why) = &found {
            tracing::warn!(%why, "transcodes will fail until ffmpeg is available");
        }
        *self.ffmpeg.lock().expect("ffmpeg version") = Some(found);
    }

    async fn start_due(
        self: &Arc<Self>,
        media: &MediaSettings,
        held: bool,
    ) -> Result<(), TranscodeError> {
        let free = (self.concurrency(media) as usize)
            .saturating_sub(self.running.lock().expect("running jobs").len());
        if free == 0 {
            return Ok(());
        }
        type Queued = (String, String, String, Option<i64>, Option<i64>, bool);
        let rows: Vec<Queued> = sqlx::query_as(
            "SELECT id, upload_id, preset, start_ms, end_ms, essential FROM transcodes WHERE state = 'queued' AND (essential OR ?) ORDER BY created_at LIMIT ?",
        )
        .bind(!held)
        .bind(free as i64)
        .fetch_all(&self.db)
        .await?;
        for (id, upload_id, preset, start_ms, end_ms, essential) in rows {
            let job = Job {
                id,
                upload_id,
                preset,
                start_ms: start_ms.map(|v| v as u64),
                end_ms: end_ms.map(|v| v as u64),
            };
            let running = Arc::new(Running {
                cancel: Notify::new(),
                why: Mutex::new(None),
                essential,
                done_ms: AtomicU64::new(0),
                total_ms: AtomicU64::new(0),
            });
            sqlx::query("UPDATE transcodes SET state = 'running', started_at = ?, reason = NULL WHERE id = ?")
                .bind(ms(self.clock.now()))
                .bind(&job.id)
                .execute(&self.db)
                .await?;
            self.running.lock().expect("running jobs").insert(job.id.clone(), running.clone());
            let me = self.clone();
            tokio::spawn(async move { me.run(job, running).await });
        }
        Ok(())
    }

    async fn run(self: Arc<Self>, job: Job, running: Arc<Running>) {
        let meter = self.meters.transcode_started();
        let began = Instant::now();
        let loaded = self.live.current();
        let media = loaded.manifest.media.clone();
        let metered = AtomicU64::new(0);
        let progress = |done: u64| {
            let before = metered.fetch_max(done, Ordering::Relaxed);
            if done > before {
                meter.add_media(done - before);
            }
        };
        let outcome = self.run_ffmpeg(&job, &running, &media, &progress).await;
        let wall_ms = began.elapsed().as_millis() as u64;
        self.meters.add_transcode_wall(wall_ms);
        let media_ms = metered.load(Ordering::Relaxed);
        drop(meter);
        let now = ms(self.clock.now());
        let saved = match &outcome {
            Exit::Done { file, bytes, ran, command } => {
                self.finish_done(
                    &job,
                    file,
                    *bytes,
                    ran,
                    command,
                    media_ms,
                    wall_ms,
                    now,
                    media.forward,
                )
                .await
            }
            Exit::Again => sqlx::query(
                "UPDATE transcodes SET state = 'queued', started_at = NULL WHERE id = ?",
            )
            .bind(&job.id)
            .execute(&self.db)
            .await
            .map(drop),
            Exit::Ended { state, reason, ran, command } => {
                let _ = std::fs::remove_dir_all(self.clips.join(&job.id));
                sqlx::query(
                    "UPDATE transcodes SET state = ?, reason = ?, ran_preset = ?, command = ?, finished_at = ?, media_ms = ?, wall_ms = ? WHERE id = ?",
                )
                .bind(state)
                .bind(reason)
                .bind(ran)
                .bind(command.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default()))
                .bind(now)
                .bind(media_ms as i64)
                .bind(wall_ms as i64)
                .bind(&job.id)
                .execute(&self.db)
                .await
                .map(drop)
            }
        };
        if let Err(e) = saved {
            tracing::error!(job = %job.id, error = %e, "could not record a transcode's outcome");
        }
        match &outcome {
            Exit::Done { .. } => {
                tracing::info!(job = %job.id, preset = %job.preset, media_ms, wall_ms, "transcode done")
            }
            Exit::Ended { state, reason, .. } => {
                tracing::warn!(job = %job.id, %state, %reason, "transcode ended")
            }
            Exit::Again => {}
        }
        self.running.lock().expect("running jobs").remove(&job.id);
        self.ended.send_modify(|n| *n += 1);
        self.wake.notify_one();
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_done(
        &self,
        job: &Job,
        file: &str,
        bytes: u64,
        ran: &str,
        command: &[String],
        media_ms: u64,
        wall_ms: u64,
        now: i64,
        forward: bool,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE transcodes SET state = 'done', reason = NULL, ran_preset = ?, command = ?, finished_at = ?, media_ms = ?, wall_ms = ?, output = ?, output_bytes = ? WHERE id = ?",
        )
        .bind(ran)
        .bind(serde_json::to_string(command).unwrap_or_default())
        .bind(now)
        .bind(media_ms as i64)
        .bind(wall_ms as i64)
        .bind(file)
        .bind(bytes as i64)
        .bind(&job.id)
        .execute(&mut *tx)
        .await?;
        if forward {
            let name: Option<(Option<String>,)> =
                sqlx::query_as("SELECT filename FROM uploads WHERE id = ?")
                    .bind(&job.upload_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let stem = name.and_then(|n| n.0).map_or_else(
                || job.upload_id.clone(),
                |n| n.rsplit_once('.').map_or(n.clone(), |(s, _)| s.to_owned()),
            );
            let metadata = super::forward::metadata(&[
                ("filename", &format!("{stem}-{ran}.{}", file.rsplit('.').next().unwrap_or("bin"))),
                ("filetype", if file.ends_with(".jpg") { "image/jpeg" } else { "video/mp4" }),
                ("source", &job.upload_id),
                ("preset", ran),
            ]);
            super::forward::queue(
                &mut tx,
                "clip",
                &job.id,
                &format!("clips/{}/{file}", job.id),
                bytes,
                &metadata,
                at(now),
            )
            .await?;
        }
        tx.commit().await
    }

    /// The upload's duration: probed by the first job, remembered for the next ones.
    async fn duration(&self, ffprobe: &str, upload_id: &str, input: &Path) -> Result<u64, String> {
        let known: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT duration_ms FROM uploads WHERE id = ?")
                .bind(upload_id)
                .fetch_optional(&self.db)
                .await
                .ok()
                .flatten();
        if let Some((Some(ms),)) = known {
            return Ok(ms as u64);
        }
        let ms = probe_duration(ffprobe, input).await?;
        if let Err(e) = sqlx::query("UPDATE uploads SET duration_ms = ? WHERE id = ?")
            .bind(ms as i64)
            .bind(upload_id)
            .execute(&self.db)
            .await
        {
            tracing::warn!(error = %e, "could not remember an upload's duration");
        }
        Ok(ms)
    }

    /// Probes the input, runs ffmpeg and watches it. `progress` gets the media
    /// milliseconds done so far, as they grow.
    async fn run_ffmpeg(
        &self,
        job: &Job,
        running: &Running,
        media: &MediaSettings,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Exit {
        let Some(asked) = media.preset(&job.preset) else {
            return Exit::failed(
                format!("the manifest no longer has the preset `{}`", job.preset),
                None,
                None,
            );
        };
        let preset = match (&asked.degraded, self.is_degraded()) {
            (Some(lower), true) => media.preset(lower).unwrap_or(asked),
            _ => asked,
        };
        let input = self.uploads.join(&job.upload_id);
        if !input.exists() {
            return Exit::failed(
                "the upload was deleted before it could be transcoded".into(),
                Some(&preset.name),
                None,
            );
        }
        let duration_ms = match self.duration(&media.ffprobe, &job.upload_id, &input).await {
            Ok(d) => d,
            Err(why) => return Exit::failed(why, Some(&preset.name), None),
        };
        let plan = match FfmpegPlan::new(preset, job.start_ms, job.end_ms, duration_ms) {
            Ok(p) => p,
            Err(why) => return Exit::failed(why, Some(&preset.name), None),
        };
        running.total_ms.store(plan.media_ms, Ordering::Relaxed);
        let dir = self.clips.join(&job.id);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return Exit::failed(
                format!("cannot create the clip folder: {e}"),
                Some(&preset.name),
                None,
            );
        }
        let file = format!("{}.{}", preset.name, plan.extension());
        let part = dir.join(format!("{}.part", preset.name));
        let args = plan.args(&input, &part);
        let ended = |state: &'static str, reason: String| Exit::Ended {
            state,
            reason,
            ran: Some(preset.name.clone()),
            command: Some(args.clone()),
        };
        let mut cmd = tokio::process::Command::new(&media.ffmpeg);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return ended("failed", spawn_problem(&media.ffmpeg, &e)),
        };
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let stderr = child.stderr.take().expect("piped stderr");
        let errors = tokio::spawn(async move {
            let mut tail = VecDeque::new();
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.chars().take(300).collect::<String>());
            }
            tail.into_iter().collect::<Vec<_>>()
        });
        let timeout = tokio::time::sleep(media.transcode_timeout.unsigned_abs());
        tokio::pin!(timeout);
        let mut reading = true;
        let status = loop {
            tokio::select! {
                line = lines.next_line(), if reading => match line {
                    Ok(Some(line)) => if let Some(done) = parse_progress(&line) {
                        let done = done.min(plan.media_ms);
                        running.done_ms.store(done, Ordering::Relaxed);
                        progress(done);
                    },
                    _ => reading = false,
                },
                status = child.wait() => break Ok(status),
                () = running.cancel.notified() => break Err(Some(running.why.lock().expect("stop reason").unwrap_or(Stop::Cancelled))),
                // `None`: the timeout.
                () = &mut timeout => break Err(None),
            }
        };
        let status = match status {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return ended("failed", format!("lost track of ffmpeg: {e}")),
            Err(why) => {
                // Kill and reap: no process is left behind, whatever the reason.
                let _ = child.kill().await;
                let _ = std::fs::remove_file(&part);
                return match why {
                    Some(Stop::Cancelled) => {
                        ended("cancelled", "Cancelled by the operator.".into())
                    }
                    Some(Stop::Budget) => ended(
                        "stopped",
                        "Stopped: the transcode budget is spent and this preset is not essential."
                            .into(),
                    ),
                    Some(Stop::NodeStopping) => Exit::Again,
                    None => ended(
                        "timed_out",
                        format!(
                            "Stopped after {} (media.transcode_timeout).",
                            boothcloud_core::manifest::parse::show_duration(
                                media.transcode_timeout
                            )
                        ),
                    ),
                };
            }
        };
        let tail = errors.await.unwrap_or_default();
        if !status.success() {
            let _ = std::fs::remove_file(&part);
            let last = tail.last().map_or_else(|| "no message".to_owned(), Clone::clone);
            return ended("failed", format!("ffmpeg failed ({status}): {last}"));
        }
        let final_path = dir.join(&file);
        let bytes = match std::fs::File::open(&part)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&part, &final_path))
            .and_then(|()| std::fs::metadata(&final_path))
        {
            Ok(m) => m.len(),
            Err(e) => return ended("failed", format!("cannot keep the output: {e}")),
        };
        progress(plan.media_ms);
        running.done_ms.store(plan.media_ms, Ordering::Relaxed);
        Exit::Done { file, bytes, ran: preset.name.clone(), command: args }
    }
}

enum Exit {
    Done {
        file: String,
        bytes: u64,
        ran: String,
        command: Vec<String>,
    },
    Ended {
        state: &'static str,
        reason: String,
        ran: Option<String>,
        command: Option<Vec<String>>,
    },
    /// The node is stopping: run it again next time.
    Again,
}

impl Exit {
    fn failed(reason: String, ran: Option<&str>, command: Option<Vec<String>>) -> Exit {
        Exit::Ended { state: "failed", reason, ran: ran.map(str::to_owned), command }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

fn spawn_problem(program: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!("`{program}` is not installed or not on PATH: install ffmpeg (Debian: apt install ffmpeg) or set media.ffmpeg and media.ffprobe")
    } else {
        format!("cannot run `{program}`: {e}")
    }
}

/// The trim asked for, in milliseconds, checked.
fn trim(
    start_s: Option<f64>,
    end_s: Option<f64>,
) -> Result<(Option<u64>, Option<u64>), TranscodeError> {
    let to_ms = |s: f64, what: &str| {
        if !s.is_finite() || s < 0.0 || s * 1000.0 > MAX_MEDIA_MS as f64 {
            Err(TranscodeError::BadTrim(format!(
                "{what} must be between 0 and {} seconds",
                MAX_MEDIA_MS / 1000
            )))
        } else {
            Ok((s * 1000.0).round() as u64)
        }
    };
    let start = start_s.map(|s| to_ms(s, "start_s")).transpose()?;
    let end = end_s.map(|s| to_ms(s, "end_s")).transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(TranscodeError::BadTrim("end_s must be after start_s".into()));
        }
    }
    if end == Some(0) {
        return Err(TranscodeError::BadTrim("end_s must be after the start of the clip".into()));
    }
    Ok((start.filter(|&s| s > 0), end))
}

/// What one job will run: a preset applied to a span of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct FfmpegPlan {
    output: PresetOutput,
    /// Where in the input it starts, and how much media it covers (0 for a poster).
    start_ms: u64,
    span_ms: Option<u64>,
    pub media_ms: u64,
}

impl FfmpegPlan {
    /// Fits the trim into the input's `duration_ms`, or says why it cannot.
    pub fn new(
        preset: &Preset,
        start_ms: Option<u64>,
        end_ms: Option<u64>,
        duration_ms: u64,
    ) -> Result<FfmpegPlan, String> {
        let start = start_ms.unwrap_or(0);
        if duration_ms > 0 && start >= duration_ms {
            return Err(format!(
                "the clip is {} long; the trim starts after its end",
                seconds(duration_ms)
            ));
        }
        let end =
            end_ms.map_or(duration_ms, |e| if duration_ms > 0 { e.min(duration_ms) } else { e });
        let span = end.saturating_sub(start);
        Ok(match &preset.output {
            PresetOutput::Video { .. } => FfmpegPlan {
                output: preset.output.clone(),
                start_ms: start,
                span_ms: end_ms.map(|_| span),
                media_ms: span,
            },
            PresetOutput::Poster { at_ms, .. } => {
                // The poster's moment, inside the (trimmed) clip: its middle if the
                // clip is shorter than the preset's moment.
                let into = if *at_ms < span { *at_ms } else { span / 2 };
                FfmpegPlan {
                    output: preset.output.clone(),
                    start_ms: start + into,
                    span_ms: None,
                    media_ms: 0,
                }
            }
        })
    }

    pub fn extension(&self) -> &'static str {
        match self.output {
            PresetOutput::Video { .. } => "mp4",
            PresetOutput::Poster { .. } => "jpg",
        }
    }

    /// ffmpeg's arguments (after the program name).
    pub fn args(&self, input: &Path, output: &Path) -> Vec<String> {
        let mut a: Vec<String> = [
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-progress",
            "pipe:1",
            "-nostats",
        ]
        .map(String::from)
        .to_vec();
        if self.start_ms > 0 {
            a.extend(["-ss".into(), seconds(self.start_ms)]);
        }
        a.extend(["-i".into(), input.display().to_string()]);
        match &self.output {
            PresetOutput::Video { height, crf, speed, audio_kbps } => {
                if let Some(span) = self.span_ms {
                    a.extend(["-t".into(), seconds(span)]);
                }
                a.extend(
                    [
                        "-map",
                        "0:v:0",
                        "-map",
                        "0:a:0?",
                        "-vf",
                        &format!("scale=-2:min({height}\\,trunc(ih/2)*2)"),
                        "-c:v",
                        "libx264",
                        "-preset",
                        speed,
                        "-crf",
                        &crf.to_string(),
                        "-pix_fmt",
                        "yuv420p",
                        "-c:a",
                        "aac",
                        "-b:a",
                        &format!("{audio_kbps}k"),
                        "-movflags",
                        "+faststart",
                        "-f",
                        "mp4",
                    ]
                    .map(String::from),
                );
            }
            PresetOutput::Poster { height, .. } => {
                a.extend(
                    [
                        "-map",
                        "0:v:0",
                        "-frames:v",
                        "1",
                        "-vf",
                        &format!("scale=-2:min({height}\\,trunc(ih/2)*2)"),
                        "-q:v",
                        "3",
                        "-f",
                        "image2",
                        "-update",
                        "1",
                    ]
                    .map(String::from),
                );
            }
        }
        a.push(output.display().to_string());
        a
    }
}

/// Milliseconds as ffmpeg's seconds ("12.345").
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `out_time_us=…` (or `out_time_ms=`, which ffmpeg also gives in microseconds) → ms.
pub fn parse_progress(line: &str) -> Option<u64> {
    let value = line.strip_prefix("out_time_us=").or_else(|| line.strip_prefix("out_time_ms="))?;
    value.trim().parse::<i64>().ok().filter(|v| *v >= 0).map(|us| us as u64 / 1000)
}

/// The input's duration in milliseconds, from ffprobe (0 for a still image).
async fn probe_duration(ffprobe: &str, input: &Path) -> Result<u64, String> {
    let mut cmd = tokio::process::Command::new(ffprobe);
    cmd.args([
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "default=noprint_wrappers=1:nokey=1",
    ])
    .arg(input)
    .stdin(Stdio::null())
    .kill_on_drop(true);
    die_with_parent(&mut cmd);
    let out = match tokio::time::timeout(PROBE_TIMEOUT, cmd.output()).await {
        Err(_) => return Err("ffprobe did not read the file within 30 s".into()),
        Ok(Err(e)) => return Err(spawn_problem(ffprobe, &e)),
        Ok(Ok(out)) => out,
    };
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("no message")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(format!("this file is not a video ffprobe can read: {why}"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.trim().parse::<f64>().map_or(0, |s| (s * 1000.0).round() as u64))
}

/// The child gets SIGKILL when the node's thread that started it dies (the node crashed
/// or was killed): no orphaned ffmpeg keeps running.
fn die_with_parent(cmd: &mut tokio::process::Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches only the child's own state; nothing
    // is allocated between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(height: u32) -> Preset {
        Preset {
            name: "v".into(),
            output: PresetOutput::Video {
                height,
                crf: 23,
                speed: "veryfast".into(),
                audio_kbps: 128,
            },
            essential: true,
            degraded: None,
        }
    }

    #[test]
    fn progress_lines_become_milliseconds() {
        assert_eq!(parse_progress("out_time_us=1500000"), Some(1500));
        assert_eq!(parse_progress("out_time_ms=2000000"), Some(2000));
        assert_eq!(parse_progress("out_time_us=N/A"), None);
        assert_eq!(parse_progress("out_time_us=-9"), None);
        assert_eq!(parse_progress("progress=end"), None);
    }

    #[test]
    fn a_trim_is_fitted_into_the_clip() {
        let p = FfmpegPlan::new(&video(480), Some(1_000), Some(2_500), 3_000).unwrap();
        assert_eq!((p.start_ms, p.span_ms, p.media_ms), (1_000, Some(1_500), 1_500));
        let p = FfmpegPlan::new(&video(480), None, Some(9_000), 3_000).unwrap();
        assert_eq!(p.media_ms, 3_000, "an end past the clip ends at the clip's end");
        let p = FfmpegPlan::new(&video(480), None, None, 3_000).unwrap();
        assert_eq!((p.start_ms, p.span_ms, p.media_ms), (0, None, 3_000));
        assert!(FfmpegPlan::new(&video(480), Some(3_000), None, 3_000).is_err());
    }

    #[test]
    fn a_poster_is_taken_inside_the_clip() {
        let poster = Preset {
            name: "p".into(),
            output: PresetOutput::Poster { height: 720, at_ms: 5_000 },
            essential: false,
            degraded: None,
        };
        let p = FfmpegPlan::new(&poster, Some(1_000), None, 3_000).unwrap();
        assert_eq!(p.start_ms, 2_000, "the middle of a clip shorter than the poster's moment");
        assert_eq!(p.media_ms, 0);
        assert_eq!(p.extension(), "jpg");
        let args = p.args(Path::new("/in"), Path::new("/out.part"));
        assert!(args.windows(2).any(|w| w == ["-frames:v", "1"]));
    }

    #[test]
    fn video_arguments_say_what_the_preset_says() {
        let p = FfmpegPlan::new(&video(480), Some(500), Some(1_500), 3_000).unwrap();
        let args = p.args(Path::new("/in.mov"), Path::new("/out.part"));
        let has = |a: &str, b: &str| args.windows(2).any(|w| w[0] == a && w[1] == b);
        assert!(has("-ss", "0.500") && has("-t", "1.000") && has("-i", "/in.mov"));
        assert!(
            has("-c:v", "libx264")
                && has("-crf", "23")
                && has("-c:a", "aac")
                && has("-b:a", "128k")
                && has("-f", "mp4")
        );
        assert!(has("-vf", "scale=-2:min(480\\,trunc(ih/2)*2)"), "never scaled up: {args:?}");
        assert_eq!(args.last().map(String::as_str), Some("/out.part"));
    }

    #[test]
    fn trims_out_of_range_are_refused() {
        assert!(trim(Some(-1.0), None).is_err());
        assert!(trim(Some(2.0), Some(1.0)).is_err());
        assert!(trim(None, Some(0.0)).is_err());
        assert!(trim(Some(f64::NAN), None).is_err());
        assert_eq!(trim(Some(0.0), Some(1.25)).unwrap(), (None, Some(1_250)));
    }
}
