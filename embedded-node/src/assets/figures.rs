//! The cache's figures: per route prefix, what was served how, and how many bytes came
//! from the cache and from the origin (the egress the spend issue costs).
//!
//! Owns: the counters, the bound on how many prefixes are tracked (a client chooses paths),
//! the one-minute window behind "hit ratio now", and their persistence in SQLite so
//! that the event's totals survive a restart.
//!
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use sqlx::SqlitePool;

/// Prefixes tracked, `OTHER` included: past the first 63, the rest count as `OTHER`.
pub const MAX_PREFIXES: usize = 64;
pub const OTHER: &str = "(other)";

/// How a request was served (the `X-Cache` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Stale,
    Peer,
    Miss,
}

impl CacheStatus {
    pub fn as_header(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Stale => "STALE",
            CacheStatus::Peer => "PEER",
            CacheStatus::Miss => "MISS",
        }
    }
}

/// One prefix's totals.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct Totals {
    pub hits: u64,
    /// Served stale (while revalidating, or because the origin failed).
    pub stale: u64,
    pub peer: u64,
    pub misses: u64,
    /// Stored objects confirmed by the origin with a 304.
    pub revalidations: u64,
    pub bytes_from_cache: u64,
    /// Egress: bytes fetched from the origin (including warm-up).
    pub bytes_from_origin: u64,
    pub origin_errors: u64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.hits += o.hits;
        self.stale += o.stale;
        self.peer += o.peer;
        self.misses += o.misses;
        self.revalidations += o.revalidations;
        self.bytes_from_cache += o.bytes_from_cache;
        self.bytes_from_origin += o.bytes_from_origin;
        self.origin_errors += o.origin_errors;
    }

    fn minus(&self, o: &Totals) -> Totals {
        Totals {
            hits: self.hits.saturating_sub(o.hits),
            stale: self.stale.saturating_sub(o.stale),
            peer: self.peer.saturating_sub(o.peer),
            misses: self.misses.saturating_sub(o.misses),
            revalidations: self.revalidations.saturating_sub(o.revalidations),
            bytes_from_cache: self.bytes_from_cache.saturating_sub(o.bytes_from_cache),
            bytes_from_origin: self.bytes_from_origin.saturating_sub(o.bytes_from_origin),
            origin_errors: self.origin_errors.saturating_sub(o.origin_errors),
        }
    }

    pub fn requests(&self) -> u64 {
        self.hits + self.stale + self.peer + self.misses
    }

    /// Share of requests served without the origin (fresh, stale or from a peer), 0–1.
    pub fn hit_ratio(&self) -> Option<f64> {
        let n = self.requests();
        (n > 0).then(|| (self.hits + self.stale + self.peer) as f64 / n as f64)
    }
}

/// A row of `asset_figures`: the prefix and its eight counters.
type FigureRow = (String, i64, i64, i64, i64, i64, i64, i64, i64);

/// The figures, shared by the cache and the views.
pub struct CacheFigures {
    /// Totals from earlier runs of this event (loaded at start).
    base: HashMap<String, Totals>,
    /// This run's totals per prefix, at most `MAX_PREFIXES` (a client chooses paths).
    live: Mutex<BTreeMap<String, Totals>>,
    /// (Unix second, all-prefix totals) samples, the last minute.
    window: Mutex<VecDeque<(i64, Totals)>>,
}

/// What the views show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FiguresView {
    pub total: Totals,
    /// Over the last minute.
    pub last_minute: Totals,
    pub hit_ratio_event: Option<f64>,
    pub hit_ratio_now: Option<f64>,
    /// Share of requests served stale, for the event.
    pub stale_share: Option<f64>,
    pub by_prefix: BTreeMap<String, Totals>,
}

impl CacheFigures {
    pub async fn load(db: &SqlitePool) -> Result<CacheFigures, sqlx::Error> {
        let rows: Vec<FigureRow> = sqlx::query_as(
            "SELECT prefix, hits, stale, peer, misses, revalidations, bytes_from_cache, bytes_from_origin, origin_errors FROM asset_figures",
        )
        .fetch_all(db)
        .await?;
        let base = rows
            .into_iter()
            .map(|(p, a, b, c, d, e, f, g, h)| {
                let u = |v: i64| v.max(0) as u64;
                (
                    p,
                    Totals {
                        hits: u(a),
                        stale: u(b),
                        peer: u(c),
                        misses: u(d),
                        revalidations: u(e),
                        bytes_from_cache: u(f),
                        bytes_from_origin: u(g),
                        origin_errors: u(h),
                    },
                )
            })
            .collect();
        Ok(CacheFigures { base, live: Mutex::default(), window: Mutex::new(VecDeque::new()) })
    }

    /// Adds to `prefix`'s totals; past the first `MAX_PREFIXES - 1` prefixes, to `OTHER`'s.
    fn count(&self, prefix: &str, add: impl FnOnce(&mut Totals)) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = if live.len() >= MAX_PREFIXES - 1 && !live.contains_key(prefix) {
            OTHER
        } else {
            prefix
        };
        match live.get_mut(prefix) {
            Some(t) => add(t),
            None => add(live.entry(prefix.to_owned()).or_default()),
        }
    }

    /// A request served: its outcome and the bytes of body sent.
    pub fn served(&self, prefix: &str, outcome: CacheStatus, bytes: u64) {
        self.count(prefix, |t| {
            match outcome {
                CacheStatus::Hit => t.hits += 1,
                CacheStatus::Stale => t.stale += 1,
                CacheStatus::Peer => t.peer += 1,
                CacheStatus::Miss => t.misses += 1,
            }
            if outcome != CacheStatus::Miss {
                t.bytes_from_cache += bytes;
            }
        });
    }

    pub fn fetched(&self, prefix: &str, bytes: u64) {
        self.count(prefix, |t| t.bytes_from_origin += bytes);
    }

    pub fn revalidated(&self, prefix: &str) {
        self.count(prefix, |t| t.revalidations += 1);
    }

    pub fn origin_error(&self, prefix: &str) {
        self.count(prefix, |t| t.origin_errors += 1);
    }

    /// Totals per prefix for the event (earlier runs plus this one).
    pub fn totals(&self) -> BTreeMap<String, Totals> {
        let mut out: BTreeMap<String, Totals> =
            self.base.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (prefix, t) in self.live.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            out.entry(prefix.clone()).or_default().add(t);
        }
        out
    }

    /// Records a sample for the one-minute window; call about once a second.
    pub fn sample(&self, now_second: i64) {
        let mut all = Totals::default();
        for t in self.totals().values() {
            all.add(t);
        }
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        window.push_back((now_second, all));
        while window.front().is_some_and(|(t, _)| *t < now_second - 60) {
            window.pop_front();
        }
    }

    pub fn view(&self) -> FiguresView {
        let by_prefix = self.totals();
        let mut total = Totals::default();
        for t in by_prefix.values() {
            total.add(t);
        }
        let last_minute = {
            let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
            window.front().map_or(Totals::default(), |(_, oldest)| total.minus(oldest))
        };
        let n = total.requests();
        FiguresView {
            total,
            last_minute,
            hit_ratio_event: total.hit_ratio(),
            hit_ratio_now: last_minute.hit_ratio(),
            stale_share: (n > 0).then(|| total.stale as f64 / n as f64),
            by_prefix,
        }
    }

    /// Writes the event's totals (one transaction).
    pub async fn persist(&self, db: &SqlitePool) -> Result<(), sqlx::Error> {
        let totals = self.totals();
        let mut tx = db.begin().await?;
        for (prefix, t) in &totals {
            let i = |v: u64| v.min(i64::MAX as u64) as i64;
            sqlx::query(
                "INSERT INTO asset_figures (prefix, hits, stale, peer, misses, revalidations, bytes_from_cache, bytes_from_origin, origin_errors)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (prefix) DO UPDATE SET hits = excluded.hits, stale = excluded.stale, peer = excluded.peer,
                   misses = excluded.misses, revalidations = excluded.revalidations, bytes_from_cache = excluded.bytes_from_cache,
                   bytes_from_origin = excluded.bytes_from_origin, origin_errors = excluded.origin_errors",
            )
            .bind(prefix)
            .bind(i(t.hits))
            .bind(i(t.stale))
            .bind(i(t.peer))
            .bind(i(t.misses))
            .bind(i(t.revalidations))
            .bind(i(t.bytes_from_cache))
            .bind(i(t.bytes_from_origin))
            .bind(i(t.origin_errors))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let (pool, _writer) = crate::storage::open(&dir.path().join("t.db")).await.unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn counts_per_prefix_and_survive_a_restart() {
        let (_dir, pool) = db().await;
        let f = CacheFigures::load(&pool).await.unwrap();
        f.served("img", CacheStatus::Hit, 100);
        f.served("img", CacheStatus::Stale, 50);
        f.served("img", CacheStatus::Miss, 70);
        f.fetched("img", 70);
        f.served("/", CacheStatus::Peer, 10);
        let v = f.view();
        assert_eq!(
            v.by_prefix["img"],
            Totals {
                hits: 1,
                stale: 1,
                misses: 1,
                bytes_from_cache: 150,
                bytes_from_origin: 70,
                ..Default::default()
            }
        );
        assert_eq!(v.hit_ratio_event, Some(0.75));
        assert_eq!(v.stale_share, Some(0.25));
        f.persist(&pool).await.unwrap();

        let again = CacheFigures::load(&pool).await.unwrap();
        again.served("img", CacheStatus::Hit, 1);
        assert_eq!(again.view().by_prefix["img"].hits, 2);
        assert_eq!(again.view().total.requests(), 5);
    }

    #[tokio::test]
    async fn prefixes_are_bounded_and_the_minute_window_subtracts() {
        let (_dir, pool) = db().await;
        let f = CacheFigures::load(&pool).await.unwrap();
        for i in 0..MAX_PREFIXES + 10 {
            f.served(&format!("p{i}"), CacheStatus::Miss, 1);
        }
        let v = f.view();
        assert_eq!(v.by_prefix.len(), MAX_PREFIXES);
        assert_eq!(v.by_prefix[OTHER].misses, 11, "the 64th prefix onwards is counted together");
        f.sample(1000);
        f.served("p1", CacheStatus::Hit, 1);
        f.served("p1", CacheStatus::Hit, 1);
        let v = f.view();
        assert_eq!(v.last_minute.hits, 2);
        assert_eq!(v.hit_ratio_now, Some(1.0));
        f.sample(1100);
        assert_eq!(f.view().last_minute.requests(), 0, "samples older than a minute fall out");
    }
}
