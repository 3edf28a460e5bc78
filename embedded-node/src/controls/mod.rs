//! The booth's one-tap controls: the degrade level, failover, pausing media forwarding,
//! and the runbooks that press them when a threshold is crossed.
//!
//! Owns: the current level and applying its effects to the node's parts (telemetry
//! sampling, transcode quality and concurrency, media forwarding, shedding, stale
//! serving), keeping it across a restart, running runbooks (for real or as a dry run)
//! and watching their triggers once a second, the notices runbooks leave for staff, and
//! recording every action in the audit log. Never: decides what a level means (the
//! manifest does) or how the link to the hub is watched (`uplink`).
//!
//! - `boothcloud_core::triggers`: when a runbook's trigger fires (pure).
//! - [`shed`]: the gate in front of the non-essential routes.

pub mod shed;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::SqlitePool;

use crate::assets::AssetCache;
use crate::audit::{Audit, Who};
use crate::live_manifest::LiveManifest;
use crate::media::Media;
use crate::quote_keys::QuoteKeys;
use crate::spend::traffic::Purpose;
use crate::spend::Ledger;
use crate::telemetry::{serves_customers, Telemetry};
use crate::uplink::{Uplink, UplinkError};
use boothcloud_core::clock::Clock;
use boothcloud_core::manifest::controls::NORMAL;
use boothcloud_core::manifest::{
    DegradeLevel, Manifest, Runbook, RunbookStep, Sheddable, TranscodeMode, Trigger,
};
use boothcloud_core::triggers::{self, Arming, Signals};
use boothcloud_core::uplink::Route;
use shed::ShedGate;

/// Notices kept; older ones drop off.
const MAX_NOTICES: usize = 20;
/// A notice is shown on the booth screen for this long.
const NOTICE_SHOWN_FOR: SignedDuration = SignedDuration::from_mins(15);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("there is no degrade level `{0}` (the levels are {1})")]
    UnknownLevel(String, String),
    #[error("there is no runbook `{0}`")]
    UnknownRunbook(String),
    #[error(transparent)]
    Uplink(#[from] UplinkError),
    #[error("cannot keep the control state: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot save a new signing key: {0}")]
    Secrets(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Teardown(#[from] crate::teardown::TeardownError),
    #[error("the manifest sets no [uplink] fallback_origin to switch to")]
    NoFallbackOrigin,
}

/// What the controls act on and read: exactly these services of the booth.
pub struct Targets {
    pub telemetry: Arc<Telemetry>,
    pub media: Arc<Media>,
    pub assets: Arc<AssetCache>,
    pub uplink: Arc<Uplink>,
    /// The fleet view's pace (paired booths asked for their status).
    pub peers: Arc<crate::peers::Peers>,
    pub spend: Arc<Ledger>,
    pub audit: Arc<Audit>,
    pub keys: QuoteKeys,
    pub teardown: Arc<crate::teardown::Teardown>,
    /// Whether a printer needs a person (the `printer needs attention` trigger).
    pub printing: Arc<crate::printing::Printing>,
    /// Whether the booth's time is in doubt (time-of-day triggers wait).
    pub time: Arc<crate::timekeeping::BoothClock>,
}

struct State {
    level: String,
    since: Timestamp,
    set_by: String,
    /// Paused by the operator or a runbook step (a level may also pause forwarding).
    uploads_paused: bool,
    /// The manifest version the level was last applied from.
    applied_version: u64,
    notices: VecDeque<Notice>,
    arming: HashMap<String, Arming>,
    last_runs: HashMap<String, LastRun>,
}

pub struct Controls {
    live: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    db: SqlitePool,
    targets: Targets,
    /// The telemetry sampling the node started with: what `normal` goes back to.
    normal_sampling: f64,
    gate: Arc<ShedGate>,
    state: Mutex<State>,
    /// One control action at a time, so a runbook and a tap never interleave their steps.
    acting: tokio::sync::Mutex<()>,
}

/// A message a runbook left for staff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notice {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub text: String,
    pub runbook: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastRun {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `operator` or `trigger`.
    pub by: String,
    /// `ok`, or how many steps failed.
    pub result: String,
}

/// The controls at a glance: the booth screen's controls area and Runbooks screen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ControlsView {
    pub level: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    pub set_by: String,
    /// `normal` first, then the manifest's levels, lightest first.
    pub levels: Vec<LevelView>,
    pub shed: Vec<Sheddable>,
    pub transcodes: TranscodeMode,
    /// Media forwarding paused (by the level, or by hand or a runbook).
    pub uploads_paused: bool,
    pub uploads_paused_by_hand: bool,
    /// The way upstream: `auto`, `regional`, `offline` or `peer:<id>`.
    pub path: String,
    pub mode: boothcloud_core::uplink::Mode,
    /// Notices from the last fifteen minutes, newest first.
    pub notices: Vec<Notice>,
    pub runbooks: Vec<RunbookView>,
    /// The booth began its teardown: it takes no new orders.
    pub closed: bool,
    /// Storefront files come from `primary` (the manifest's `origin`) or `fallback`.
    pub origin: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub name: String,
    pub current: bool,
    /// What the level changes, in words.
    pub effects: Vec<String>,
    /// Bytes a minute this level saves over the uplink against normal: its heartbeat
    /// pace times the heartbeat size measured on this booth (absent before one was
    /// measured, or when the level keeps the pace).
    pub saves_bytes_per_minute: Option<u64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunbookView {
    pub name: String,
    pub title: String,
    /// The trigger, as the manifest says it (`p99 over 800ms for 30s`).
    pub trigger: String,
    pub automatic: bool,
    /// Whether the trigger's condition holds now (`None` for manual runbooks).
    pub condition: Option<bool>,
    pub steps: Vec<String>,
    pub last_run: Option<LastRun>,
}

/// What a run did, or — for a dry run — would do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub runbook: String,
    pub dry_run: bool,
    pub steps: Vec<StepReport>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepReport {
    pub step: String,
    pub before: String,
    pub after: String,
    /// Whether it changes anything (a level already in force changes nothing).
    pub changes: bool,
    /// `ok`, `would change`, `nothing to do`, or what went wrong.
    pub result: String,
}

impl Controls {
    /// Starts at the level saved before a restart (if the manifest still has it).
    pub async fn load(
        live: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        db: SqlitePool,
        targets: Targets,
    ) -> Result<Controls, sqlx::Error> {
        let saved: HashMap<String, (String, i64, String)> =
            sqlx::query_as::<_, (String, String, i64, String)>(
                "SELECT name, value, at_ms, set_by FROM control_state",
            )
            .fetch_all(&db)
            .await?
            .into_iter()
            .map(|(name, value, at, by)| (name, (value, at, by)))
            .collect();
        let now = clock.now();
        let (level, since, set_by) = match saved.get("level") {
            Some((value, at, by)) if live.current().manifest.level(value).is_some() => {
                (value.clone(), Timestamp::from_millisecond(*at).unwrap_or(now), by.clone())
            }
            Some((value, ..)) => {
                tracing::warn!(level = %value, "the saved degrade level is no longer in the manifest; starting at normal");
                (NORMAL.to_owned(), now, "start".to_owned())
            }
            None => (NORMAL.to_owned(), now, "start".to_owned()),
        };
        let uploads_paused = saved.get("uploads_paused").is_some_and(|(v, ..)| v == "true");
        targets.assets.set_fallback(saved.get("origin").is_some_and(|(v, ..)| v == "fallback"));
        let normal_sampling = targets.telemetry.sampling();
        let controls = Controls {
            live,
            clock,
            db,
            targets,
            normal_sampling,
            gate: Arc::default(),
            state: Mutex::new(State {
                level,
                since,
                set_by,
                uploads_paused,
                applied_version: 0,
                notices: VecDeque::new(),
                arming: HashMap::new(),
                last_runs: HashMap::new(),
            }),
            acting: tokio::sync::Mutex::new(()),
        };
        controls.reapply();
        Ok(controls)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn gate(&self) -> &Arc<ShedGate> {
        &self.gate
    }

    pub fn level(&self) -> String {
        self.lock().level.clone()
    }

    /// Applies the current level from the current manifest (at start, and after the
    /// manifest changed: a level's effects may have been edited). A level the manifest
    /// no longer has falls back to normal.
    fn reapply(&self) -> Option<String> {
        let loaded = self.live.current();
        let mut st = self.lock();
        let (level, dropped) = match loaded.manifest.level(&st.level) {
            Some(l) => (l, None),
            None => (DegradeLevel::normal(), Some(std::mem::replace(&mut st.level, NORMAL.into()))),
        };
        st.applied_version = loaded.version;
        let paused = st.uploads_paused;
        drop(st);
        self.apply(&level, paused);
        dropped
    }

    fn apply(&self, level: &DegradeLevel, uploads_paused: bool) {
        let p = &self.targets;
        p.telemetry.set_sampling(level.sampling.unwrap_or(self.normal_sampling));
        p.media.transcoder.set_mode(level.transcodes);
        p.media.forwarder.set_paused(uploads_paused || !level.forward_media);
        p.assets.set_serve_stale(level.serve_stale.as_secs().max(0) as u64);
        p.uplink.set_heartbeat_every(level.heartbeat_every.map(|d| d.unsigned_abs()));
        p.peers.set_fleet_every(level.fleet_every.map(|d| d.unsigned_abs()));
        self.gate.set(level);
    }

    async fn save(&self, name: &str, value: &str, who: &Who) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO control_state (name, value, at_ms, set_by) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, at_ms = excluded.at_ms, set_by = excluded.set_by",
        )
        .bind(name)
        .bind(value)
        .bind(self.clock.now().as_millisecond())
        .bind(who.said_by())
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Moves the booth to `level` (`normal` included): takes effect at once, is saved
    /// before it is answered, and is in the audit log (a refusal too).
    pub async fn degrade(&self, level: &str, who: &Who) -> Result<(), ControlError> {
        let _one = self.acting.lock().await;
        self.degrade_locked(level, who).await
    }

    async fn degrade_locked(&self, name: &str, who: &Who) -> Result<(), ControlError> {
        let before = self.level();
        let loaded = self.live.current();
        let Some(level) = loaded.manifest.level(name) else {
            let err = ControlError::UnknownLevel(
                name.chars().take(64).collect(),
                level_names(&loaded.manifest),
            );
            self.targets
                .audit
                .record(
                    who,
                    "degrade",
                    Some(before),
                    Some(name.chars().take(64).collect()),
                    Err(err.to_string()),
                )
                .await;
            return Err(err);
        };
        let done = self.save("level", name, who).await;
        if let Err(e) = done {
            self.targets
                .audit
                .record(who, "degrade", Some(before), Some(name.into()), Err(e.to_string()))
                .await;
            return Err(e.into());
        }
        let paused = {
            let mut st = self.lock();
            if st.level != name {
                st.since = self.clock.now();
            }
            st.level = name.to_owned();
            st.set_by = who.said_by();
            st.uploads_paused
        };
        self.apply(&level, paused);
        self.targets.audit.record(who, "degrade", Some(before), Some(name.into()), Ok(())).await;
        Ok(())
    }

    /// Pauses or resumes media forwarding (the level may still hold it paused).
    pub async fn pause_uploads(&self, paused: bool, who: &Who) -> Result<(), ControlError> {
        let _one = self.acting.lock().await;
        self.pause_uploads_locked(paused, who).await
    }

    async fn pause_uploads_locked(&self, paused: bool, who: &Who) -> Result<(), ControlError> {
        let before = self.lock().uploads_paused;
        let words = |p: bool| if p { "paused" } else { "sending" }.to_owned();
        if let Err(e) =
            self.save("uploads_paused", if paused { "true" } else { "false" }, who).await
        {
            self.targets
                .audit
                .record(
                    who,
                    "media forwarding",
                    Some(words(before)),
                    Some(words(paused)),
                    Err(e.to_string()),
                )
                .await;
            return Err(e.into());
        }
        self.lock().uploads_paused = paused;
        let level =
            self.live.current().manifest.level(&self.level()).unwrap_or_else(DegradeLevel::normal);
        self.apply(&level, paused);
        self.targets
            .audit
            .record(who, "media forwarding", Some(words(before)), Some(words(paused)), Ok(()))
            .await;
        Ok(())
    }

    /// A new quote-signing key: saved in the keyring first, then in force for every
    /// handler; quotes signed with the old key are refused from then on.
    pub async fn rotate_signing_key(&self, who: &Who) -> Result<(), ControlError> {
        let _one = self.acting.lock().await;
        Ok(self.targets.keys.rotate(who).await?)
    }

    /// Fetches storefront files from the manifest's `fallback_origin` (or the primary
    /// `origin` again); kept across a restart.
    pub async fn switch_origin(&self, fallback: bool, who: &Who) -> Result<(), ControlError> {
        let _one = self.acting.lock().await;
        self.switch_origin_locked(fallback, who).await
    }

    async fn switch_origin_locked(&self, fallback: bool, who: &Who) -> Result<(), ControlError> {
        let before = origin_words(self.targets.assets.on_fallback());
        if fallback && self.live.current().manifest.uplink.fallback_origin.is_none() {
            let err = ControlError::NoFallbackOrigin;
            self.targets
                .audit
                .record(
                    who,
                    "asset origin",
                    Some(before),
                    Some(origin_words(true)),
                    Err(err.to_string()),
                )
                .await;
            return Err(err);
        }
        if let Err(e) =
            self.save("origin", if fallback { "fallback" } else { "primary" }, who).await
        {
            self.targets
                .audit
                .record(
                    who,
                    "asset origin",
                    Some(before),
                    Some(origin_words(fallback)),
                    Err(e.to_string()),
                )
                .await;
            return Err(e.into());
        }
        self.targets.assets.set_fallback(fallback);
        self.targets
            .audit
            .record(who, "asset origin", Some(before), Some(origin_words(fallback)), Ok(()))
            .await;
        Ok(())
    }

    /// Switches the way upstream (`auto` hands it back to automatic failover).
    pub async fn failover(&self, route: Route, who: &Who) -> Result<(), ControlError> {
        let _one = self.acting.lock().await;
        self.failover_locked(route, who).await
    }

    async fn failover_locked(&self, route: Route, who: &Who) -> Result<(), ControlError> {
        let before = self.targets.uplink.route().path();
        let after = route.path();
        let done = self.targets.uplink.set_route(route).await;
        self.targets
            .audit
            .record(
                who,
                "failover",
                Some(before),
                Some(after),
                done.as_ref().map(|_| ()).map_err(ToString::to_string),
            )
            .await;
        Ok(done?)
    }

    /// Runs a runbook's steps in order — or, as a dry run, says what each would change
    /// and changes nothing. A step that fails does not stop the ones after it (a booth
    /// that cannot fail over should still degrade); the report says which failed.
    /// `by`: the operator who ran it, `None` when its trigger did.
    pub async fn run(
        &self,
        name: &str,
        by: Option<&Who>,
        dry_run: bool,
    ) -> Result<RunReport, ControlError> {
        let loaded = self.live.current();
        let runbook = loaded
            .manifest
            .runbooks
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| ControlError::UnknownRunbook(name.into()))?;
        let _one = self.acting.lock().await;
        let who = Who::runbook(&runbook.name, by);
        let mut steps = Vec::with_capacity(runbook.steps.len());
        for step in &runbook.steps {
            let (before, after) = self.plan(step);
            let changes = before != after;
            let result = if dry_run {
                if changes { "would change" } else { "nothing to do" }.to_owned()
            } else {
                match self.take(step, &runbook.name, &who).await {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => e.to_string(),
                }
            };
            steps.push(StepReport { step: step.to_string(), before, after, changes, result });
        }
        if !dry_run {
            let failed = steps.iter().filter(|s| s.result != "ok").count();
            let result = if failed == 0 {
                "ok".to_owned()
            } else {
                format!("{failed} of {} steps failed", steps.len())
            };
            // Run by hand, the entry's who says so; by its trigger, the after says which.
            let trigger = by.is_none().then(|| format!("trigger: {}", runbook.trigger));
            self.targets
                .audit
                .record(
                    &who,
                    "run runbook",
                    None,
                    trigger,
                    if failed == 0 { Ok(()) } else { Err(result.clone()) },
                )
                .await;
            let last = LastRun {
                at: self.clock.now(),
                by: if by.is_some() { "operator" } else { "trigger" }.into(),
                result,
            };
            self.lock().last_runs.insert(runbook.name.clone(), last);
        }
        Ok(RunReport { runbook: runbook.name.clone(), dry_run, steps })
    }

    /// What a step would change: (before, after) in the words the audit log uses.
    fn plan(&self, step: &RunbookStep) -> (String, String) {
        let st = self.lock();
        match step {
            RunbookStep::Degrade(level) => (st.level.clone(), level.clone()),
            RunbookStep::Failover(path) => (
                self.targets.uplink.route().path(),
                Route::from_path(path).map_or_else(|| path.clone(), |r| r.path()),
            ),
            RunbookStep::PauseUploads => (paused_words(st.uploads_paused), paused_words(true)),
            RunbookStep::ResumeUploads => (paused_words(st.uploads_paused), paused_words(false)),
            RunbookStep::RotateSigningKey => {
                (format!("key {}", self.targets.keys.signer().fingerprint()), "a new key".into())
            }
            RunbookStep::Origin(on) => {
                (origin_words(self.targets.assets.on_fallback()), origin_words(*on))
            }
            RunbookStep::Teardown => (
                if self.targets.teardown.is_closed() { "closing" } else { "open" }.into(),
                "teardown (closed, synced or exported, wiped, stopped)".into(),
            ),
            RunbookStep::Notify(text) => (String::new(), text.clone()),
        }
    }

    async fn take(&self, step: &RunbookStep, runbook: &str, who: &Who) -> Result<(), ControlError> {
        match step {
            RunbookStep::Degrade(level) => self.degrade_locked(level, who).await,
            RunbookStep::Failover(path) => {
                let route =
                    Route::from_path(path).ok_or_else(|| UplinkError::UnknownPeer(path.clone()))?;
                self.failover_locked(route, who).await
            }
            RunbookStep::PauseUploads => self.pause_uploads_locked(true, who).await,
            RunbookStep::ResumeUploads => self.pause_uploads_locked(false, who).await,
            RunbookStep::RotateSigningKey => Ok(self.targets.keys.rotate(who).await?),
            RunbookStep::Origin(on) => self.switch_origin_locked(*on, who).await,
            RunbookStep::Teardown => {
                let loaded = self.live.current();
                let m = &loaded.manifest;
                let started = self
                    .targets
                    .teardown
                    .request(&m.event.id, who, m.teardown.export_dir.as_deref())
                    .await?;
                let after = if started { "started" } else { "continued" };
                self.targets.audit.record(who, "teardown", None, Some(after.into()), Ok(())).await;
                Ok(())
            }
            RunbookStep::Notify(text) => {
                let notice = Notice {
                    at: self.clock.now(),
                    text: text.clone(),
                    runbook: runbook.to_owned(),
                };
                {
                    let mut st = self.lock();
                    st.notices.push_front(notice);
                    st.notices.truncate(MAX_NOTICES);
                }
                self.targets.audit.record(who, "notify", None, Some(text.clone()), Ok(())).await;
                Ok(())
            }
        }
    }

    /// The figures the triggers look at, now.
    pub fn signals(&self, manifest: &Manifest) -> Signals {
        let now = self.clock.now();
        let p99 = self
            .targets
            .telemetry
            .last_minute()
            .into_iter()
            .filter(|(_, route, minute)| {
                serves_customers(route) && minute.requests >= triggers::MIN_REQUESTS_FOR_P99
            })
            .map(|(_, _, minute)| minute.p99_us)
            .max()
            .map(|us| SignedDuration::from_micros(us as i64));
        Signals {
            now,
            p99,
            uplink_down_since: self.targets.uplink.down_since(),
            printer_attention_since: self.targets.printing.attention().since,
            budget_percent: self.targets.spend.view(now, manifest).total.percent_of_budget,
            ends_at: manifest.event.ends_at,
            time_held: self.targets.time.holds_automations(),
        }
    }

    /// One look: re-applies the level after a manifest change, then runs every runbook
    /// whose trigger fired. Answers the runbooks that ran.
    pub async fn tick(&self) -> Vec<String> {
        let loaded = self.live.current();
        if loaded.version != self.lock().applied_version {
            if let Some(dropped) = self.reapply() {
                let who = Who {
                    actor: "manifest",
                    client: "node",
                    why: "the level is no longer in the manifest".into(),
                };
                self.targets
                    .audit
                    .record(&who, "degrade", Some(dropped), Some(NORMAL.into()), Ok(()))
                    .await;
                let _ = self.save("level", NORMAL, &who).await;
            }
        }
        if loaded.manifest.runbooks.iter().all(|r| r.trigger == Trigger::Manual) {
            return Vec::new();
        }
        let signals = self.signals(&loaded.manifest);
        let due: Vec<&Runbook> = {
            let mut st = self.lock();
            loaded
                .manifest
                .runbooks
                .iter()
                .filter(|r| {
                    let arming = st.arming.entry(r.name.clone()).or_default();
                    triggers::due(&r.trigger, &signals, arming, r.cooldown)
                })
                .collect()
        };
        let mut ran = Vec::new();
        for r in due {
            tracing::info!(runbook = %r.name, trigger = %r.trigger, "a runbook's trigger fired");
            match self.run(&r.name, None, false).await {
                Ok(_) => ran.push(r.name.clone()),
                Err(e) => {
                    tracing::warn!(runbook = %r.name, error = %e, "the runbook could not run")
                }
            }
        }
        ran
    }

    /// Looks once a second until the node stops.
    pub async fn keep_watching(self: Arc<Self>, mut stopping: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stopping.borrow() {
                return;
            }
            self.tick().await;
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    pub fn view(&self) -> ControlsView {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        let now = self.clock.now();
        let signals = self.signals(m);
        let heartbeat_bytes = self.targets.spend.meters().traffic().average(Purpose::Heartbeat);
        let st = self.lock();
        let current = m.level(&st.level).unwrap_or_else(DegradeLevel::normal);
        let levels = std::iter::once(DegradeLevel::normal())
            .chain(m.degrade.iter().cloned())
            .map(|l| {
                let saves = heartbeat_saving(&l, m, heartbeat_bytes);
                LevelView {
                    current: l.name == st.level,
                    effects: effects(&l, m, self.normal_sampling, heartbeat_bytes),
                    saves_bytes_per_minute: saves,
                    name: l.name,
                }
            })
            .collect();
        ControlsView {
            level: st.level.clone(),
            since: st.since,
            set_by: st.set_by.clone(),
            levels,
            shed: current.shed.clone(),
            transcodes: current.transcodes,
            uploads_paused: st.uploads_paused || !current.forward_media,
            uploads_paused_by_hand: st.uploads_paused,
            path: self.targets.uplink.route().path(),
            mode: self.targets.uplink.mode(),
            notices: st
                .notices
                .iter()
                .filter(|n| now.duration_since(n.at) < NOTICE_SHOWN_FOR)
                .cloned()
                .collect(),
            closed: self.targets.teardown.is_closed(),
            origin: if self.targets.assets.on_fallback() { "fallback" } else { "primary" }.into(),
            runbooks: m
                .runbooks
                .iter()
                .map(|r| RunbookView {
                    name: r.name.clone(),
                    title: r.title.clone(),
                    trigger: r.trigger.to_string(),
                    automatic: r.trigger != Trigger::Manual,
                    condition: triggers::condition(&r.trigger, &signals),
                    steps: r.steps.iter().map(ToString::to_string).collect(),
                    last_run: st.last_runs.get(&r.name).cloned(),
                })
                .collect(),
        }
    }
}

/// Who did something, in the words the booth screen shows: "operator (app)", "runbook rush-hour".
fn origin_words(fallback: bool) -> String {
    if fallback { "fallback origin" } else { "primary origin" }.to_owned()
}

fn paused_words(paused: bool) -> String {
    if paused { "uploads paused" } else { "uploads sending" }.to_owned()
}

fn level_names(m: &Manifest) -> String {
    std::iter::once(NORMAL)
        .chain(m.degrade.iter().map(|l| l.name.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes a minute `level`'s heartbeat pace saves against `[uplink] probe_every`, at
/// `heartbeat_bytes` a heartbeat (measured).
fn heartbeat_saving(
    level: &DegradeLevel,
    m: &Manifest,
    heartbeat_bytes: Option<u64>,
) -> Option<u64> {
    let every = level.heartbeat_every?.as_secs_f64();
    let normal = m.uplink.sync.probe_every.as_secs_f64();
    let per_minute = |s: f64| if s > 0.0 { 60.0 / s } else { 0.0 };
    let saved = (per_minute(normal) - per_minute(every)) * heartbeat_bytes? as f64;
    Some(saved.max(0.0).round() as u64)
}

/// "2.8 kB", for the effects' words.
fn size_words(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// What a level changes, in words staff understand.
pub fn effects(
    level: &DegradeLevel,
    m: &Manifest,
    normal_sampling: f64,
    heartbeat_bytes: Option<u64>,
) -> Vec<String> {
    if level.name == NORMAL {
        return vec!["Everything on, as the manifest says.".into()];
    }
    let mut out = Vec::new();
    if let Some(s) = level.sampling.filter(|s| (s - normal_sampling).abs() > f64::EPSILON) {
        out.push(format!(
            "Request details logged for {} of requests (normally {}).",
            percent(s),
            percent(normal_sampling)
        ));
    }
    match level.transcodes {
        TranscodeMode::Full => {}
        TranscodeMode::Reduced => out
            .push(format!("Clips at reduced quality, {} at a time.", m.media.degraded_transcodes)),
        TranscodeMode::EssentialOnly => out.push(format!(
            "Only essential clips are made, at reduced quality, {} at a time.",
            m.media.degraded_transcodes
        )),
    }
    if !level.forward_media {
        out.push("Uploads and clips wait on this laptop instead of going upstream.".into());
    }
    if let Some(every) = level.fleet_every {
        let show = boothcloud_core::manifest::parse::show_duration;
        out.push(format!(
            "Paired booths are asked how they are every {} (normally {}).",
            show(every),
            show(m.discovery.probe_every)
        ));
    }
    if let Some(every) = level.heartbeat_every {
        let show = boothcloud_core::manifest::parse::show_duration;
        let mut words = format!(
            "Heartbeats to the hub every {} (normally {})",
            show(every),
            show(m.uplink.sync.probe_every)
        );
        match (heartbeat_saving(level, m, heartbeat_bytes), heartbeat_bytes) {
            (Some(saved), Some(each)) => words.push_str(&format!(
                ": {} a minute less over the uplink, at the {} a heartbeat measured here.",
                size_words(saved),
                size_words(each)
            )),
            _ => words.push('.'),
        }
        out.push(words);
    }
    if !level.shed.is_empty() {
        let names: Vec<&str> = level.shed.iter().map(|s| s.name()).collect();
        out.push(format!(
            "Paused: {} (asked to come back in {}).",
            names.join(", "),
            boothcloud_core::manifest::parse::show_duration(level.retry_after)
        ));
    }
    if level.serve_stale.is_positive() {
        out.push(format!(
            "Storefront files up to {} past fresh are served at once.",
            boothcloud_core::manifest::parse::show_duration(level.serve_stale)
        ));
    }
    out.push("Quotes, orders and the storefront keep working.".into());
    out
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 {
        "none".into()
    } else if p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests;
