//! Warm-up: fetch the manifest's listed assets at start (and when the operator asks), so
//! the first kiosk to load the storefront gets hits, and an origin outage later finds
//! the storefront already cached.
//!
//! Owns: expanding the list (paths, prefixes on folder origins, a listing file at the
//! origin), running it with bounded concurrency, and the progress the dashboard shows
//! (done/total, bytes, failures, duration). One warm-up runs at a time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde::Serialize;

use super::{AssetCache, AssetRequest, Served};
use boothcloud_core::cache::key::AssetPath;

/// Most paths one warm-up takes (a listing may name more).
pub const MAX_PATHS: usize = 100_000;

#[derive(Default)]
pub struct Progress {
    running: AtomicBool,
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    started_ms: AtomicU64,
    finished_ms: AtomicU64,
    problems: Mutex<Vec<String>>,
}

/// What the views show of warm-up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WarmView {
    pub running: bool,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    /// Bytes fetched from the origin by this warm-up.
    pub bytes: u64,
    /// How long the last (or current) warm-up took, in ms.
    pub duration_ms: Option<u64>,
    /// The first few problems, in words.
    pub problems: Vec<String>,
}

impl Progress {
    pub fn view(&self, now_ms: i64) -> WarmView {
        let started = self.started_ms.load(Ordering::Relaxed);
        let finished = self.finished_ms.load(Ordering::Relaxed);
        let running = self.running.load(Ordering::Relaxed);
        let duration_ms = match (started, running) {
            (0, _) => None,
            (s, true) => Some((now_ms.max(0) as u64).saturating_sub(s)),
            (s, false) => Some(finished.saturating_sub(s)),
        };
        WarmView {
            running,
            total: self.total.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            duration_ms,
            problems: self.problems.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    fn problem(&self, text: String) {
        let mut p = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() < 10 {
            p.push(text);
        }
    }
}

/// Starts a warm-up in the background; `false` if one is already running.
pub fn start(cache: &Arc<AssetCache>) -> bool {
    let progress = &cache.warm;
    if progress.running.swap(true, Ordering::SeqCst) {
        return false;
    }
    for a in
        [&progress.total, &progress.done, &progress.failed, &progress.bytes, &progress.finished_ms]
    {
        a.store(0, Ordering::Relaxed);
    }
    progress.started_ms.store(cache.now_ms().max(1) as u64, Ordering::Relaxed);
    progress.problems.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let cache = cache.clone();
    tokio::spawn(async move {
        run(&cache).await;
        let p = &cache.warm;
        p.finished_ms.store(cache.now_ms().max(1) as u64, Ordering::Relaxed);
        p.running.store(false, Ordering::SeqCst);
        let v = p.view(cache.now_ms());
        tracing::info!(
            done = v.done,
            failed = v.failed,
            bytes = v.bytes,
            ms = v.duration_ms.unwrap_or(0),
            "cache warm-up finished"
        );
    });
    true
}

async fn run(cache: &Arc<AssetCache>) {
    let current = cache.manifest.current();
    let settings = current.manifest.assets.clone();
    let Some(origin) = current.manifest.uplink.origin.clone() else { return };
    let mut paths: Vec<String> = Vec::new();
    for entry in &settings.warm {
        if entry.ends_with('/') {
            match super::origin::list(&origin, entry) {
                Ok(list) => paths.extend(list),
                Err(e) => cache.warm.problem(e),
            }
        } else {
            paths.push(entry.clone());
        }
    }
    if let Some(listing) = &settings.warm_listing {
        match read_listing(cache, listing).await {
            Ok(list) => paths.extend(list),
            Err(e) => cache.warm.problem(format!("the warm-up listing {listing}: {e}")),
        }
    }
    paths.sort();
    paths.dedup();
    paths.truncate(MAX_PATHS);
    cache.warm.total.store(paths.len() as u64, Ordering::Relaxed);
    futures_util::stream::iter(paths)
        .for_each_concurrent(settings.warm_concurrency as usize, |path| async move {
            let result = match AssetPath::parse(&path) {
                Ok(p) => cache.warm_one(p).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(bytes) => {
                    cache.warm.bytes.fetch_add(bytes, Ordering::Relaxed);
                }
                Err(e) => {
                    cache.warm.failed.fetch_add(1, Ordering::Relaxed);
                    cache.warm.problem(format!("{path}: {e}"));
                }
            }
            cache.warm.done.fetch_add(1, Ordering::Relaxed);
        })
        .await;
}

/// The listing file, fetched through the cache like any asset: one path per line,
/// blank lines and `#` comments skipped.
async fn read_listing(cache: &Arc<AssetCache>, listing: &str) -> Result<Vec<String>, String> {
    let path = AssetPath::parse(listing).map_err(|e| e.to_string())?;
    let served = cache.get(&AssetRequest::warm_up(path)).await.map_err(|e| e.to_string())?;
    let text = match served {
        Served::Cached { entry, .. } => match (&entry.memory, &entry.file) {
            (Some(b), _) => b.to_vec(),
            (None, Some(f)) => tokio::fs::read(f).await.map_err(|e| e.to_string())?,
            _ => Vec::new(),
        },
        Served::Passed { status, .. } => return Err(format!("the origin answered {status}")),
    };
    let text = String::from_utf8(text).map_err(|_| "it is not UTF-8 text".to_owned())?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(MAX_PATHS)
        .map(str::to_owned)
        .collect())
}
