//! The booth's clock: the trusted time every service reads (it is the `Clock` in
//! `Services`), watched once a second for steps of the laptop's wall clock.
//!
//! Owns: the live [`Timekeeper`] (core's rules), the `clock_state` and `clock_steps`
//! tables, the audit entries for steps and settled doubts, and the clock's view for the
//! dashboard. Never: reads the wall clock as "now" for anyone else, or decides what an
//! automation does when time is in doubt (teardown and the runbooks ask
//! [`BoothClock::holds_automations`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::{Row, SqlitePool};

use boothcloud_core::clock::Clock;
use boothcloud_core::timekeeping::{
    span_words, step_words, Reading, StartDoubt, StartFacts, Step, Timekeeper, Verdict,
};

use crate::audit::{Audit, Who};
use crate::live_manifest::LiveManifest;
use crate::ticker::Ticker;

/// How often the trusted time is saved for the next start.
const SAVE_EVERY_TICKS: u64 = 5;
/// Most steps listed in the view (the table keeps every one; the report lists them all).
const STEPS_SHOWN: i64 = 20;

/// When this program was built (from `SOURCE_DATE_EPOCH` when the build set it): no
/// real wall time is earlier.
pub fn built_at() -> Option<Timestamp> {
    env!("BOOTHCLOUD_BUILT_AT").parse::<i64>().ok().and_then(|s| Timestamp::from_second(s).ok())
}

/// Whose word settles a doubt about the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// The laptop's clock is right: trusted time jumps to it.
    Laptop,
    /// The booth's time is right: the laptop's clock is off, and stays so.
    Booth,
}

/// Something the watch loop records.
#[derive(Debug, Clone)]
enum Note {
    Step(Step),
    Settled { by: String, verdict: Verdict, theirs: Timestamp },
}

/// Trusted time, for every service.
pub struct BoothClock {
    raw: Arc<dyn Clock>,
    keeper: Mutex<Timekeeper>,
    notes: Mutex<Vec<Note>>,
    /// Steps seen since the booth started (the table keeps the event's).
    steps_seen: std::sync::atomic::AtomicU64,
    /// Bumped whenever trusted time itself jumps (the booth comes to trust a new wall
    /// time): offsets measured against the old time are worthless after it.
    epoch: std::sync::atomic::AtomicU64,
}

/// Trusted time at one moment, with the epoch it was read in: what a request's sender
/// keeps, so an answer measured across a jump of trusted time is not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub at: Timestamp,
    pub epoch: u64,
}

impl BoothClock {
    /// Trusted time over `raw`, anchored at its wall time until [`BoothClock::settle_start`].
    pub fn new(raw: Arc<dyn Clock>) -> BoothClock {
        let keeper = Mutex::new(Timekeeper::at_wall(Reading::of(raw.as_ref())));
        BoothClock {
            raw,
            keeper,
            notes: Mutex::default(),
            steps_seen: Default::default(),
            epoch: Default::default(),
        }
    }

    /// Which stretch of trusted time this is: it changes whenever trusted time jumps.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Trusted time now, with its epoch.
    pub fn stamp(&self) -> Stamp {
        // Read under the keeper's lock, so the time and its epoch belong together.
        let k = self.keeper();
        Stamp { at: k.trusted(self.reading()), epoch: self.epoch() }
    }

    fn jumped(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn keeper(&self) -> std::sync::MutexGuard<'_, Timekeeper> {
        self.keeper.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, note: Note) {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).push(note);
    }

    fn reading(&self) -> Reading {
        Reading::of(self.raw.as_ref())
    }

    /// Applies what the booth knows at start (its build, its last run, the event).
    pub fn settle_start(&self, facts: &StartFacts) {
        let k = Timekeeper::start(self.reading(), facts);
        if let Some(doubt) = k.start_doubt() {
            tracing::warn!(doubt = %doubt_words(doubt), "the laptop's clock is in doubt at start");
        }
        let mut keeper = self.keeper();
        *keeper = k;
        self.jumped();
    }

    /// Looks for a step of the wall clock since the last look.
    pub fn look(&self) -> Option<Step> {
        let step = self.keeper().look(self.reading());
        if let Some(s) = step {
            tracing::warn!(by_ms = s.by.as_millis() as i64, "the laptop's clock jumped");
            self.steps_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.note(Note::Step(s));
        }
        step
    }

    /// A second source (`by`: "the hub", "booth stand-7") says it is `theirs`, to within
    /// `uncertainty`: it may settle a doubt.
    pub fn witness(&self, by: &str, theirs: Timestamp, uncertainty: SignedDuration) -> Verdict {
        let mut keeper = self.keeper();
        let verdict = keeper.witness(self.reading(), theirs, uncertainty);
        if verdict == Verdict::WallConfirmed {
            self.jumped();
        }
        drop(keeper);
        if matches!(verdict, Verdict::WallConfirmed | Verdict::BoothTimeConfirmed) {
            self.note(Note::Settled { by: by.to_owned(), verdict, theirs });
        }
        verdict
    }

    /// The lead settles the doubt (the caller audits who did).
    pub fn confirm(&self, trust: Trust) {
        let r = self.reading();
        let mut k = self.keeper();
        match trust {
            Trust::Laptop => {
                k.use_wall(r);
                self.jumped();
            }
            Trust::Booth => k.keep_trusted(r),
        }
    }

    /// Steps of the laptop's clock seen since the booth started.
    pub fn steps_seen(&self) -> u64 {
        self.steps_seen.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether time-based automations (the automatic teardown, runbooks at a time) wait.
    pub fn holds_automations(&self) -> bool {
        self.keeper().holds_automations()
    }

    /// What the dashboard says about the clock now, without the list of steps.
    pub fn standing(&self) -> Standing {
        let r = self.reading();
        let k = self.keeper();
        let trusted = k.trusted(r);
        Standing {
            trusted,
            wall: r.wall,
            gap: k.gap(r),
            in_doubt: k.in_doubt(r),
            held: k.holds_automations(),
            start_doubt: k.start_doubt().cloned(),
        }
    }

    fn take_notes(&self) -> Vec<Note> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Clock for BoothClock {
    fn now(&self) -> Timestamp {
        self.keeper().trusted(self.reading())
    }

    fn monotonic(&self) -> Duration {
        self.raw.monotonic()
    }
}

/// The clock's state at one moment.
#[derive(Debug, Clone)]
pub struct Standing {
    pub trusted: Timestamp,
    pub wall: Timestamp,
    /// wall − trusted.
    pub gap: SignedDuration,
    pub in_doubt: bool,
    pub held: bool,
    pub start_doubt: Option<StartDoubt>,
}

/// What the booth knew when it last stopped, and the rest of what it knows at start.
pub async fn start_facts(
    db: &SqlitePool,
    manifest: &LiveManifest,
    built_at: Option<Timestamp>,
) -> Result<StartFacts, sqlx::Error> {
    let saved = sqlx::query("SELECT trusted_ms, gap_ms FROM clock_state WHERE id = 1")
        .fetch_optional(db)
        .await?;
    let m = manifest.current();
    Ok(StartFacts {
        built_at,
        last_trusted: saved.as_ref().and_then(|r| Timestamp::from_millisecond(r.get(0)).ok()),
        gap_when_stopped: saved
            .as_ref()
            .map(|r| SignedDuration::from_millis(r.get(1)))
            .unwrap_or_default(),
        event_starts: Some(m.manifest.event.starts_at),
        event_expires: Some(m.manifest.event.expires_at),
    })
}

/// Saves the trusted time and the laptop clock's gap for the next start (the watch loop
/// every few seconds; at once when a doubt is settled, so a restart right after keeps it).
pub(crate) async fn save(clock: &BoothClock, db: &SqlitePool) -> Result<(), sqlx::Error> {
    let s = clock.standing();
    // The gap is saved settled or not: a restart after a step nobody confirmed starts
    // from the booth's time, in doubt, with automations held, never from the step.
    let gap = s.gap;
    sqlx::query(
        "INSERT INTO clock_state (id, trusted_ms, gap_ms) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET trusted_ms = excluded.trusted_ms, gap_ms = excluded.gap_ms",
    )
    .bind(s.trusted.as_millisecond())
    .bind(gap.as_millis() as i64)
    .execute(db)
    .await?;
    Ok(())
}

/// Looks at the clock every second, records steps and settled doubts (table and audit
/// log), and saves the trusted time, until the node stops.
pub async fn keep_watching(
    clock: Arc<BoothClock>,
    db: SqlitePool,
    audit: Arc<Audit>,
    manifest: Arc<LiveManifest>,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = Ticker::new(Duration::from_secs(1), stopping);
    while let Some(n) = ticker.next().await {
        clock.look();
        record(&clock, &db, &audit, &manifest).await;
        if n % SAVE_EVERY_TICKS == 0 {
            if let Err(e) = save(&clock, &db).await {
                tracing::warn!(error = %e, "cannot save the trusted time");
            }
        }
    }
    record(&clock, &db, &audit, &manifest).await;
    if let Err(e) = save(&clock, &db).await {
        tracing::warn!(error = %e, "cannot save the trusted time");
    }
}

/// Records what the clock noted (the watch loop does each second; tests, at once).
pub(crate) async fn record(
    clock: &BoothClock,
    db: &SqlitePool,
    audit: &Audit,
    manifest: &LiveManifest,
) {
    let notes = clock.take_notes();
    if notes.is_empty() {
        return;
    }
    let m = manifest.current();
    let tz = &m.manifest.event.timezone;
    let settled = notes.iter().any(|n| matches!(n, Note::Settled { .. }));
    for note in notes {
        match note {
            Note::Step(s) => {
                let stored = sqlx::query(
                    "INSERT INTO clock_steps (event_id, at_ms, wall_ms, by_ms) VALUES (?, ?, ?, ?)",
                )
                .bind(&m.manifest.event.id)
                .bind(s.at.as_millisecond())
                .bind(s.wall.as_millisecond())
                .bind(s.by.as_millis() as i64)
                .execute(db)
                .await;
                if let Err(e) = stored {
                    tracing::warn!(error = %e, "cannot keep a clock step");
                }
                let who = Who { actor: "clock", client: "node", why: "clock".into() };
                audit
                    .record(&who, "clock step", None, Some(step_sentence(s.by, s.at, tz)), Ok(()))
                    .await;
            }
            Note::Settled { by, verdict, theirs } => {
                let what = match verdict {
                    Verdict::WallConfirmed => "the booth now trusts the laptop's clock",
                    _ => "the booth keeps its own time; the laptop's clock is off",
                };
                let said = format!("{by} says {}: {what}", hms(theirs, tz));
                let who = Who { actor: "clock", client: "node", why: "clock".into() };
                audit.record(&who, "clock settled", None, Some(said), Ok(())).await;
            }
        }
    }
    if settled {
        if let Err(e) = save(clock, db).await {
            tracing::warn!(error = %e, "cannot save the trusted time");
        }
    }
}

/// "The laptop's clock jumped forward 1 h 00 min at 18:05."
pub fn step_sentence(by: SignedDuration, at: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    format!("The laptop's clock jumped {} at {}.", step_words(by), hm(at, tz))
}

fn hm(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%H:%M").to_string()
}

fn hms(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string()
}

/// Why the booth doubted its clock at start, in words.
pub fn doubt_words(d: &StartDoubt) -> String {
    let day = |t: &Timestamp| t.strftime("%Y-%m-%d").to_string();
    match d {
        StartDoubt::BeforeBuild { built_at } => format!(
            "The laptop's clock reads a time before this program was built ({}).",
            day(built_at)
        ),
        StartDoubt::BeforeLastRun { last_trusted } => format!(
            "The laptop's clock reads earlier than when this booth last ran ({}).",
            last_trusted.strftime("%Y-%m-%d %H:%M UTC")
        ),
        StartDoubt::OffWhenStopped { gap } => format!(
            "The laptop's clock was {} {} when the booth stopped; the booth assumes it still is.",
            span_words(*gap),
            if gap.is_negative() { "slow" } else { "fast" }
        ),
        StartDoubt::LongBeforeEvent { starts } => {
            format!("The laptop's clock reads weeks before the event starts ({}).", day(starts))
        }
        StartDoubt::AfterEvent { expires } => format!(
            "The laptop's clock reads after the event's end and its time to live ({}).",
            day(expires)
        ),
    }
}

/// One step, for the dashboard and the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockStepView {
    /// Trusted time when the step was seen.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The laptop's clock after the step.
    #[schema(value_type = String, format = DateTime)]
    pub wall: Timestamp,
    /// How far it jumped, in milliseconds (negative: back).
    pub by_ms: i64,
    /// "The laptop's clock jumped forward 1 h 00 min at 18:05."
    pub words: String,
}

/// The event's clock steps, oldest first (at most `limit`, the newest of them).
pub async fn steps(
    db: &SqlitePool,
    event: &str,
    tz: &jiff::tz::TimeZone,
    limit: i64,
) -> Result<Vec<ClockStepView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at_ms, wall_ms, by_ms FROM clock_steps WHERE event_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(event)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let ts = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut out: Vec<ClockStepView> = rows
        .iter()
        .map(|r| {
            let (at, by) = (ts(r.get(0)), SignedDuration::from_millis(r.get(2)));
            ClockStepView {
                at,
                wall: ts(r.get(1)),
                by_ms: r.get(2),
                words: step_sentence(by, at, tz),
            }
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// The clock, for `GET /api/v1/ops/clock` and the dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// The booth's time: what every rule of the booth reads.
    #[schema(value_type = String, format = DateTime)]
    pub booth_time: Timestamp,
    /// The laptop's wall clock.
    #[schema(value_type = String, format = DateTime)]
    pub laptop_time: Timestamp,
    /// How far the laptop's clock is from the booth's time (laptop − booth), ms.
    pub laptop_off_by_ms: i64,
    /// The booth doubts the laptop's clock: the lead may settle it.
    pub in_doubt: bool,
    /// Time-based automations wait until the doubt is settled.
    pub automations_held: bool,
    /// What to tell the lead, in words, when something is in doubt.
    pub notice: Option<String>,
    /// This event's steps of the laptop's clock (the newest few).
    pub steps: Vec<ClockStepView>,
}

pub async fn view(
    clock: &BoothClock,
    db: &SqlitePool,
    manifest: &LiveManifest,
) -> Result<ClockView, sqlx::Error> {
    let m = manifest.current();
    let tz = &m.manifest.event.timezone;
    let steps = steps(db, &m.manifest.event.id, tz, STEPS_SHOWN).await?;
    let s = clock.standing();
    let notice = match (&s.start_doubt, s.in_doubt) {
        (Some(d), _) => Some(format!(
            "{} Time-based automations wait until the lead confirms the time.",
            doubt_words(d)
        )),
        (None, true) => Some(format!(
            "{} The booth keeps counting from its own time ({}) until the hub, a paired booth or the lead confirms the new time.",
            steps
                .last()
                .map(|st| st.words.clone())
                .unwrap_or_else(|| format!("The laptop's clock is {} off.", span_words(s.gap))),
            hm(s.trusted, tz)
        )),
        (None, false) => None,
    };
    Ok(ClockView {
        booth_time: s.trusted,
        laptop_time: s.wall,
        laptop_off_by_ms: s.gap.as_millis() as i64,
        in_doubt: s.in_doubt,
        automations_held: s.held,
        notice,
        steps,
    })
}

#[cfg(test)]
mod tests;
