//! What the booth is spending: metered usage turned into money by the manifest's cost
//! model, against its budgets, with a burn rate and a projection to the event's end.
//!
//! Owns:
//! - the **meters** (atomics bumped on the request path: edge executions by the
//!   telemetry middleware, egress bytes and upstream calls by the asset cache,
//!   transcode milliseconds and concurrent transcodes by the transcoder);
//! - the **ledger**: per event and component, the usage and the money it cost. A rate
//!   change in the manifest applies from the moment it is read (within a second):
//!   what was used before is settled at the old rate;
//! - its **persistence** in SQLite (`spend_accounts`, and a sample a minute in
//!   `spend_samples` for the burn rate and the charts), saved every ten seconds and
//!   when the node stops, so a restart does not reset the money. A crash loses at
//!   most the last ten seconds of metering, never money already saved.
//!
//! The arithmetic itself is in [`tariff`]; what the booth sends beyond itself, by
//! purpose, is in [`traffic`]. Nothing here knows who a client is.

pub mod traffic;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::live_manifest::LiveManifest;
use crate::ticker::Ticker;
use boothcloud_core::clock::Clock;
use boothcloud_core::manifest::{CostModel, Manifest};
use boothcloud_core::money::Minor;
use boothcloud_core::tariff;
pub use boothcloud_core::tariff::{BudgetState, Component, MICRO};

/// Samples kept (one a minute): two weeks.
pub const MAX_SAMPLES: usize = 14 * 24 * 60;
/// The burn rate is read over this many seconds.
pub const BURN_WINDOW_S: i64 = 15 * 60;

/// Usage counters, shared by everything that uses something that costs money.
#[derive(Default)]
pub struct Meters {
    /// Per component: the edge counter is bumped by every request.
    usage: [AtomicU64; 4],
    transcodes_running: AtomicU64,
    transcodes_peak: AtomicU64,
    /// Wall-clock milliseconds transcodes took (not priced: the cost model prices media).
    transcode_wall_ms: AtomicU64,
    /// What the booth sends and receives beyond itself, by purpose.
    traffic: traffic::Traffic,
}

impl Meters {
    pub fn add(&self, component: Component, amount: u64) {
        self.usage[component.index()].fetch_add(amount, Ordering::Relaxed);
    }

    /// One call beyond the booth, of `bytes` HTTP bytes sent and received: an upstream
    /// call, its bytes egress when they cross the uplink, and both under its purpose.
    pub fn upstream(&self, purpose: traffic::Purpose, bytes: u64) {
        if purpose.over_the_uplink() {
            self.add(Component::Upstream, 1);
            self.add(Component::Egress, bytes);
        }
        self.traffic.add(purpose, bytes);
    }

    pub fn traffic(&self) -> &traffic::Traffic {
        &self.traffic
    }

    /// Usage since the node started, per component.
    pub fn read(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.usage[i].load(Ordering::Relaxed))
    }

    /// A transcode begins; it counts as running until the returned guard is dropped.
    pub fn transcode_started(self: &Arc<Self>) -> TranscodeRun {
        let now = self.transcodes_running.fetch_add(1, Ordering::Relaxed) + 1;
        self.transcodes_peak.fetch_max(now, Ordering::Relaxed);
        TranscodeRun { meters: self.clone() }
    }

    pub fn add_transcode_wall(&self, wall_ms: u64) {
        self.transcode_wall_ms.fetch_add(wall_ms, Ordering::Relaxed);
    }

    pub fn transcode_wall_ms(&self) -> u64 {
        self.transcode_wall_ms.load(Ordering::Relaxed)
    }

    /// (running now, the most at once since the node started).
    pub fn transcodes(&self) -> (u64, u64) {
        (
            self.transcodes_running.load(Ordering::Relaxed),
            self.transcodes_peak.load(Ordering::Relaxed),
        )
    }
}

/// A transcode in progress (see [`Meters::transcode_started`]).
pub struct TranscodeRun {
    meters: Arc<Meters>,
}

impl TranscodeRun {
    /// Meters `media_ms` milliseconds of transcoded media.
    pub fn add_media(&self, media_ms: u64) {
        self.meters.add(Component::Transcode, media_ms);
    }
}

impl Drop for TranscodeRun {
    fn drop(&mut self) {
        self.meters.transcodes_running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One component's account: usage, and money settled at earlier rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Account {
    usage: u64,
    settled_micro: i64,
    usage_at_settle: u64,
    rate: Option<Minor>,
}

impl Account {
    fn spent_micro(&self, c: Component) -> i64 {
        let since = self.usage.saturating_sub(self.usage_at_settle);
        self.settled_micro.saturating_add(self.rate.map_or(0, |r| tariff::cost_micro(c, since, r)))
    }

    /// From now on usage costs `rate`; what was used so far keeps its price.
    fn reprice(&mut self, c: Component, rate: Option<Minor>) {
        if rate != self.rate {
            self.settled_micro = self.spent_micro(c);
            self.usage_at_settle = self.usage;
            self.rate = rate;
        }
    }
}

/// A sample: Unix seconds and micro-minor units spent so far, per component.
pub type Sample = (i64, [i64; 4]);

struct Book {
    event_id: String,
    accounts: [Account; 4],
    /// Meter readings already added to the accounts.
    meters_seen: [u64; 4],
    samples: VecDeque<Sample>,
    /// Samples not yet in the database.
    unsaved: Vec<Sample>,
}

impl Book {
    fn spent(&self) -> [i64; 4] {
        std::array::from_fn(|i| self.accounts[i].spent_micro(Component::ALL[i]))
    }
}

/// The event's spend ledger.
pub struct Ledger {
    meters: Arc<Meters>,
    book: Mutex<Book>,
}

/// A row of `spend_accounts`.
type AccountRow = (String, i64, i64, i64, Option<i64>);

async fn read_book(
    db: &SqlitePool,
    event_id: &str,
    meters_seen: [u64; 4],
) -> Result<Book, sqlx::Error> {
    let rows: Vec<AccountRow> =
        sqlx::query_as("SELECT component, usage, settled_micro, usage_at_settle, rate FROM spend_accounts WHERE event_id = ?")
            .bind(event_id)
            .fetch_all(db)
            .await?;
    let mut accounts = [Account::default(); 4];
    for (name, usage, settled_micro, usage_at_settle, rate) in rows {
        if let Some(c) = Component::parse(&name) {
            let u = |v: i64| u64::try_from(v).unwrap_or(0);
            accounts[c.index()] = Account {
                usage: u(usage),
                settled_micro,
                usage_at_settle: u(usage_at_settle),
                rate,
            };
        }
    }
    let rows: Vec<(i64, i64, i64, i64, i64)> =
        sqlx::query_as("SELECT at, edge, egress, transcode, upstream FROM spend_samples WHERE event_id = ? ORDER BY at DESC LIMIT ?")
            .bind(event_id)
            .bind(MAX_SAMPLES as i64)
            .fetch_all(db)
            .await?;
    let samples = rows.into_iter().rev().map(|(at, a, b, c, d)| (at, [a, b, c, d])).collect();
    Ok(Book { event_id: event_id.to_owned(), accounts, meters_seen, samples, unsaved: Vec::new() })
}

impl Ledger {
    /// The ledger of `event_id` as last saved, metering from `meters` from now on.
    pub async fn load(
        db: &SqlitePool,
        event_id: &str,
        meters: Arc<Meters>,
    ) -> Result<Ledger, sqlx::Error> {
        let book = read_book(db, event_id, meters.read()).await?;
        Ok(Ledger { meters, book: Mutex::new(book) })
    }

    pub fn meters(&self) -> &Arc<Meters> {
        &self.meters
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn event_id(&self) -> String {
        self.book().event_id.clone()
    }

    /// Adds what the meters counted since the last call, at the rates in force.
    fn fold(&self, book: &mut Book, costs: &CostModel) {
        let now = self.meters.read();
        for c in Component::ALL {
            let i = c.index();
            let account = &mut book.accounts[i];
            account.reprice(c, c.rate(costs));
            account.usage =
                account.usage.saturating_add(now[i].saturating_sub(book.meters_seen[i]));
        }
        book.meters_seen = now;
    }

    /// Brings the accounts up to date; once a minute, records a sample.
    pub fn tick(&self, now: Timestamp, costs: &CostModel) {
        let mut book = self.book();
        self.fold(&mut book, costs);
        let at = now.as_second();
        if book.samples.back().is_none_or(|(last, _)| at.div_euclid(60) > last.div_euclid(60)) {
            let sample = (at, book.spent());
            book.samples.push_back(sample);
            book.unsaved.push(sample);
            while book.samples.len() > MAX_SAMPLES {
                book.samples.pop_front();
            }
        }
    }

    /// The samples (oldest first) and the spend now, for the charts.
    pub fn history(&self, now: Timestamp, costs: &CostModel) -> (Vec<Sample>, Sample) {
        let mut book = self.book();
        self.fold(&mut book, costs);
        (book.samples.iter().copied().collect(), (now.as_second(), book.spent()))
    }

    /// Saves the accounts and the new samples in one transaction.
    pub async fn persist(&self, db: &SqlitePool) -> Result<(), sqlx::Error> {
        let (event_id, accounts, unsaved) = {
            let mut book = self.book();
            (book.event_id.clone(), book.accounts, std::mem::take(&mut book.unsaved))
        };
        let result = async {
            let mut tx = db.begin().await?;
            for c in Component::ALL {
                let a = accounts[c.index()];
                let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                sqlx::query(
                    "INSERT INTO spend_accounts (event_id, component, usage, settled_micro, usage_at_settle, rate) VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (event_id, component) DO UPDATE SET usage = excluded.usage, settled_micro = excluded.settled_micro,
                       usage_at_settle = excluded.usage_at_settle, rate = excluded.rate",
                )
                .bind(&event_id)
                .bind(c.name())
                .bind(i(a.usage))
                .bind(a.settled_micro)
                .bind(i(a.usage_at_settle))
                .bind(a.rate)
                .execute(&mut *tx)
                .await?;
            }
            for (at, s) in &unsaved {
                sqlx::query(
                    "INSERT OR REPLACE INTO spend_samples (event_id, at, edge, egress, transcode, upstream) VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(&event_id)
                .bind(at)
                .bind(s[0])
                .bind(s[1])
                .bind(s[2])
                .bind(s[3])
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await;
        if result.is_err() {
            // Keep the samples for the next attempt (unless the event changed meanwhile).
            let mut book = self.book();
            if book.event_id == event_id {
                let later = std::mem::replace(&mut book.unsaved, unsaved);
                book.unsaved.extend(later);
            }
        }
        result
    }

    /// The manifest now names another event: save this one and open that one's ledger.
    pub async fn switch_event(
        &self,
        db: &SqlitePool,
        event_id: &str,
        costs: &CostModel,
    ) -> Result<(), sqlx::Error> {
        {
            let mut book = self.book();
            self.fold(&mut book, costs);
        }
        self.persist(db).await?;
        let fresh = read_book(db, event_id, self.meters.read()).await?;
        *self.book() = fresh;
        Ok(())
    }

    /// The figures the dashboard and `/api/v1/ops/status` show.
    pub fn view(&self, now: Timestamp, manifest: &Manifest) -> SpendView {
        let mut book = self.book();
        self.fold(&mut book, &manifest.costs);
        let now_s = now.as_second();
        let spent = book.spent();
        let earlier = book
            .samples
            .iter()
            .find(|(at, _)| *at >= now_s - BURN_WINDOW_S && *at <= now_s)
            .copied();
        let usage: [u64; 4] = std::array::from_fn(|i| book.accounts[i].usage);
        let rates: [Option<Minor>; 4] = std::array::from_fn(|i| book.accounts[i].rate);
        drop(book);

        let ends_s = manifest.event.ends_at.as_second();
        let warn = manifest.budgets.warn_at_percent;
        let line = |spent: i64, before: Option<i64>, budget: Option<Minor>| -> Line {
            let burn = earlier
                .zip(before)
                .and_then(|((at, _), b)| tariff::burn_per_second((at, b), (now_s, spent)));
            let projected = burn.map(|b| tariff::project(spent, b, now_s, ends_s));
            let (state, reason) = tariff::judge(spent, projected, budget, warn);
            Line {
                spent: tariff::to_minor(spent),
                spent_micro: spent,
                budget,
                percent_of_budget: budget
                    .filter(|b| *b > 0)
                    .map(|b| spent as f64 / (b as f64 * MICRO as f64) * 100.0),
                burn_per_hour: burn.map(|b| tariff::to_minor((b * 3600.0) as i64)),
                projected: projected.map(tariff::to_minor),
                state,
                reason,
            }
        };
        let components: Vec<ComponentLine> = Component::ALL
            .into_iter()
            .map(|c| {
                let i = c.index();
                ComponentLine {
                    component: c,
                    label: c.label(),
                    usage: usage[i],
                    unit: c.unit(),
                    rate: rates[i],
                    rate_unit: c.rate_unit(),
                    line: line(spent[i], earlier.map(|(_, s)| s[i]), c.budget(&manifest.budgets)),
                }
            })
            .collect();
        let total =
            line(spent.iter().sum(), earlier.map(|(_, s)| s.iter().sum()), manifest.budgets.total);
        let worst = std::iter::once((&total.state, &total.reason, "Total"))
            .chain(components.iter().map(|c| (&c.line.state, &c.line.reason, c.label)))
            .max_by_key(|(s, _, _)| **s)
            .map(|(s, r, what)| match s {
                BudgetState::Warn | BudgetState::Over => (*s, format!("{what}: {r}")),
                BudgetState::Ok => (*s, "Every budget is within its limit.".to_owned()),
                BudgetState::Unbudgeted => (*s, "No budget is set.".to_owned()),
            })
            .unwrap_or((BudgetState::Unbudgeted, String::new()));
        let (running, peak) = self.meters.transcodes();
        SpendView {
            currency: manifest.event.currency.to_string(),
            warn_at_percent: warn,
            ends_at: manifest.event.ends_at,
            state: worst.0,
            detail: worst.1,
            total,
            components,
            transcodes_running: running,
            transcodes_peak: peak,
            traffic: self.meters.traffic().lines(now_s),
        }
    }
}

/// Spend against one budget.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Line {
    /// Minor units of the event's currency, rounded half up.
    pub spent: Minor,
    /// Exact, in millionths of a minor unit.
    pub spent_micro: i64,
    pub budget: Option<Minor>,
    pub percent_of_budget: Option<f64>,
    /// Spend per hour over the last 15 minutes; absent until a minute has been seen.
    pub burn_per_hour: Option<Minor>,
    /// Spend at the event's end at that burn rate.
    pub projected: Option<Minor>,
    pub state: BudgetState,
    /// The state in words.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComponentLine {
    pub component: Component,
    pub label: &'static str,
    /// In `unit`, for the whole event.
    pub usage: u64,
    pub unit: &'static str,
    /// Minor units `rate_unit`; absent when the manifest does not price it.
    pub rate: Option<Minor>,
    pub rate_unit: &'static str,
    #[serde(flatten)]
    #[schema(inline)]
    pub line: Line,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendView {
    pub currency: String,
    pub warn_at_percent: u32,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    /// The worst state of the total and the components.
    pub state: BudgetState,
    /// What that state is about, in words.
    pub detail: String,
    pub total: Line,
    pub components: Vec<ComponentLine>,
    pub transcodes_running: u64,
    /// The most transcodes at once since the node started.
    pub transcodes_peak: u64,
    /// What the booth sent and received beyond itself since it started, by purpose.
    pub traffic: Vec<traffic::TrafficLine>,
}

/// Keeps the ledger current (every second), saves it (every ten seconds and when the
/// node stops), and follows the manifest to another event.
pub async fn keep(
    ledger: Arc<Ledger>,
    db: SqlitePool,
    manifest: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    stopping: watch::Receiver<bool>,
) {
    let mut ticks = Ticker::new(Duration::from_secs(1), stopping);
    while let Some(n) = ticks.next().await {
        let current = manifest.current();
        let m = &current.manifest;
        if ledger.event_id() != m.event.id {
            if let Err(e) = ledger.switch_event(&db, &m.event.id, &m.costs).await {
                tracing::warn!(error = %e, "could not open the new event's spend ledger");
            }
        }
        ledger.tick(clock.now(), &m.costs);
        ledger.meters().traffic().snapshot(clock.now().as_second());
        if n.is_multiple_of(10) {
            if let Err(e) = ledger.persist(&db).await {
                tracing::warn!(error = %e, "could not save the spend ledger");
            }
        }
    }
    ledger.tick(clock.now(), &manifest.current().manifest.costs);
    if let Err(e) = ledger.persist(&db).await {
        tracing::warn!(error = %e, "could not save the spend ledger");
    }
}

#[cfg(test)]
mod tests;
