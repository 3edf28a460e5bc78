//! Where cached objects live: a bounded memory tier for small hot objects and a bounded
//! disk tier in the data folder that survives a restart.
//!
//! Owns: the index (path → stored variants), both tiers' byte accounting, eviction by
//! recency and size, and the on-disk format. Knows nothing of HTTP semantics beyond the
//! `Meta` it is handed.
//!
//! On disk (`<data>/assets/`): each variant is a body file `<stem>-<n>.body` and a
//! metadata file `<stem>.meta` (JSON) naming its body. A body is written and synced
//! under a new name before the metadata that names it is renamed into place, so after
//! a crash every `.meta` names a complete body; a `.meta` whose body is missing or of
//! the wrong length, temporary files and unnamed bodies are removed at start. A
//! half-written object is never served.
//!
//! Every object is charged its length plus `ENTRY_OVERHEAD` bytes, so that many empty
//! objects cannot grow the index without bound.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use boothcloud_core::cache::key::VariantKey;
use boothcloud_core::cache::policy::Freshness;

/// What each stored object costs beyond its body, for the size bounds.
pub const ENTRY_OVERHEAD: u64 = 512;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cache storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("the object is larger than the cache accepts ({limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("the origin's body failed mid-way: {0}")]
    Body(String),
}

/// What the cache knows of a stored response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub key: VariantKey,
    /// End-to-end response headers as the origin sent them (lower-case names).
    pub headers: Vec<(String, String)>,
    pub len: u64,
    /// When the response (or its last revalidation) arrived, Unix ms.
    pub response_time_ms: i64,
    /// The corrected initial age, seconds.
    pub initial_age: u64,
    pub freshness: Freshness,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The body file's name in the store folder.
    #[serde(default)]
    pub body_file: String,
    /// SHA-256 of the body (hex), for the mesh's proofs.
    #[serde(default)]
    pub sha256: String,
}

/// One stored variant. Immutable; a revalidation replaces it.
#[derive(Debug)]
pub struct Entry {
    pub meta: Meta,
    /// The body in memory (the memory tier), if it is there.
    pub memory: Option<Bytes>,
    /// The body file, if the object is in the disk tier.
    pub file: Option<PathBuf>,
    /// `meta.headers` as header names and values, parsed once when stored rather than
    /// on every hit. Headers that are not valid HTTP are left out.
    pub parsed_headers: Box<[(HeaderName, HeaderValue)]>,
    last_used: AtomicU64,
}

impl Entry {
    fn new(meta: Meta, memory: Option<Bytes>, file: Option<PathBuf>, last_used: u64) -> Entry {
        let parsed_headers = meta
            .headers
            .iter()
            .filter_map(|(n, v)| {
                Some((HeaderName::from_bytes(n.as_bytes()).ok()?, HeaderValue::from_str(v).ok()?))
            })
            .collect();
        Entry { meta, memory, file, parsed_headers, last_used: AtomicU64::new(last_used) }
    }

    fn charge(&self) -> u64 {
        self.meta.len + ENTRY_OVERHEAD
    }
}

/// A body as it arrived: in memory, or spilled to a file in the store folder.
pub enum Received {
    Memory { bytes: Bytes, sha256: String },
    File { path: PathBuf, len: u64, sha256: String },
}

impl Received {
    pub fn memory(bytes: Bytes) -> Received {
        use sha2::{Digest, Sha256};
        let sha256 = boothcloud_core::signing::hex(&Sha256::digest(&bytes));
        Received::Memory { bytes, sha256 }
    }

    pub fn len(&self) -> u64 {
        match self {
            Received::Memory { bytes, .. } => bytes.len() as u64,
            Received::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sha256(&self) -> &str {
        match self {
            Received::Memory { sha256, .. } | Received::File { sha256, .. } => sha256,
        }
    }

    /// Drops a spilled body's file (when it is not stored after all).
    pub async fn discard(self) {
        if let Received::File { path, .. } = self {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TierLimits {
    pub memory_bytes: u64,
    pub memory_object_bytes: u64,
    pub disk_bytes: u64,
    pub max_object_bytes: u64,
}

#[derive(Default)]
struct Index {
    by_path: HashMap<String, Vec<Arc<Entry>>>,
    memory_used: u64,
    disk_used: u64,
    entries: u64,
}

/// Usage of both tiers.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub objects: u64,
    pub memory_bytes: u64,
    pub memory_limit: u64,
    pub disk_bytes: u64,
    pub disk_limit: u64,
}

pub struct Store {
    dir: PathBuf,
    limits: TierLimits,
    index: RwLock<Index>,
    /// The recency era: advanced each time an entry is stored (eviction only runs
    /// then). A hit marks its entry with the current era; eviction takes the lowest
    /// first. Entries used since the last store are equally recent, which is all an
    /// eviction at the next store can tell apart (as Varnish's `lru_interval`).
    tick: AtomicU64,
    sequence: AtomicU64,
}

impl Store {
    /// Opens the store in `dir`, keeping every complete object found there (up to the
    /// disk bound, most recently stored first) and removing everything else.
    pub fn open(dir: &Path, limits: TierLimits) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let store = Store {
            dir: dir.to_owned(),
            limits,
            index: RwLock::new(Index::default()),
            tick: AtomicU64::new(1),
            sequence: AtomicU64::new(0),
        };
        let mut metas = Vec::new();
        let mut named = std::collections::HashSet::new();
        for item in std::fs::read_dir(dir)? {
            let path = item?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if name.ends_with(".meta") {
                let meta =
                    std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Meta>(&b).ok());
                let body_len = meta
                    .as_ref()
                    .and_then(|m| std::fs::metadata(dir.join(&m.body_file)).ok())
                    .map(|m| m.len());
                match meta {
                    Some(meta) if body_len == Some(meta.len) && !meta.body_file.contains('/') => {
                        named.insert(meta.body_file.clone());
                        metas.push(meta);
                    }
                    _ => std::fs::remove_file(&path)?,
                }
            }
        }
        for item in std::fs::read_dir(dir)? {
            let path = item?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.ends_with(".meta") && !named.contains(name) {
                std::fs::remove_file(&path)?;
            }
        }
        metas.sort_by_key(|m| std::cmp::Reverse(m.response_time_ms));
        let mut index = Index::default();
        let mut dropped = Vec::new();
        for meta in metas {
            let charge = meta.len + ENTRY_OVERHEAD;
            if index.disk_used + charge > limits.disk_bytes {
                dropped.push(meta);
                continue;
            }
            let seq = body_sequence(&meta.body_file);
            store.sequence.fetch_max(seq + 1, Ordering::Relaxed);
            let file = Some(dir.join(&meta.body_file));
            index.disk_used += charge;
            index.entries += 1;
            let entry = Arc::new(Entry::new(meta, None, file, 0));
            index.by_path.entry(entry.meta.key.path.clone()).or_default().push(entry);
        }
        for meta in dropped {
            remove_files(dir, &meta);
        }
        *store.index.write().unwrap_or_else(|e| e.into_inner()) = index;
        Ok(store)
    }

    pub fn limits(&self) -> TierLimits {
        self.limits
    }

    /// The stored variant of `path` whose varied headers match the request's.
    /// `request_value` gives the request's normalised value of a header.
    pub fn lookup(&self, path: &str, request_value: impl Fn(&str) -> String) -> Option<Arc<Entry>> {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        let entry = index
            .by_path
            .get(path)?
            .iter()
            .find(|e| e.meta.key.vary.iter().all(|(name, value)| request_value(name) == *value))?
            .clone();
        drop(index);
        // Recency by era (see `tick`): written only by the first hit of an era, so a
        // hot object's hits do not all write one cache line from every core.
        let era = self.tick.load(Ordering::Relaxed);
        if entry.last_used.load(Ordering::Relaxed) < era {
            entry.last_used.store(era, Ordering::Relaxed);
        }
        Some(entry)
    }

    /// A new era, for an entry being stored: it is more recent than everything used
    /// before it.
    fn next_era(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Reads an origin's body, keeping it in memory up to the memory tier's object size
    /// and spilling it to a file beyond; refuses past `max_object_bytes`.
    pub async fn receive<S, E>(&self, mut body: S) -> Result<Received, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        let mut memory: Vec<Bytes> = Vec::new();
        let mut len: u64 = 0;
        let mut file: Option<(tokio::fs::File, PathBuf)> = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    if let Some((_, path)) = file {
                        let _ = tokio::fs::remove_file(path).await;
                    }
                    return Err(StoreError::Body(e.to_string()));
                }
            };
            digest.update(&chunk);
            len += chunk.len() as u64;
            if len > self.limits.max_object_bytes {
                if let Some((_, path)) = file {
                    let _ = tokio::fs::remove_file(path).await;
                }
                return Err(StoreError::TooLarge { limit: self.limits.max_object_bytes });
            }
            match &mut file {
                Some((f, _)) => tokio::io::AsyncWriteExt::write_all(f, &chunk).await?,
                None if len > self.limits.memory_object_bytes => {
                    let path = self.dir.join(format!("receiving-{}.tmp", self.next_sequence()));
                    let mut f = tokio::fs::File::create(&path).await?;
                    for part in memory.drain(..) {
                        tokio::io::AsyncWriteExt::write_all(&mut f, &part).await?;
                    }
                    tokio::io::AsyncWriteExt::write_all(&mut f, &chunk).await?;
                    file = Some((f, path));
                }
                None => memory.push(chunk),
            }
        }
        let sha256 = boothcloud_core::signing::hex(&digest.finalize());
        Ok(match file {
            Some((mut f, path)) => {
                tokio::io::AsyncWriteExt::flush(&mut f).await?;
                Received::File { path, len, sha256 }
            }
            None if memory.len() == 1 => {
                Received::Memory { bytes: memory.pop().unwrap_or_default(), sha256 }
            }
            None => Received::Memory { bytes: memory.concat().into(), sha256 },
        })
    }

    /// Stores a new variant (replacing the one with the same key), durably on disk when
    /// it fits the disk tier, and in memory when it is small. Returns the entry.
    pub async fn insert(
        self: &Arc<Self>,
        mut meta: Meta,
        body: Received,
    ) -> Result<Arc<Entry>, StoreError> {
        meta.len = body.len();
        meta.sha256 = body.sha256().to_owned();
        let charge = meta.len + ENTRY_OVERHEAD;
        let to_disk = charge <= self.limits.disk_bytes;
        let in_memory =
            meta.len <= self.limits.memory_object_bytes && charge <= self.limits.memory_bytes;
        if !to_disk && !in_memory {
            body.discard().await;
            return Err(StoreError::TooLarge {
                limit: self.limits.disk_bytes.max(self.limits.memory_object_bytes),
            });
        }
        let memory = match (&body, in_memory) {
            (Received::Memory { bytes, .. }, true) => Some(bytes.clone()),
            _ => None,
        };
        let file = if to_disk {
            meta.body_file = format!("{}-{}.body", meta.key.file_stem(), self.next_sequence());
            let this = self.clone();
            let meta = meta.clone();
            Some(
                tokio::task::spawn_blocking(move || this.write_files(&meta, body))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))??,
            )
        } else {
            body.discard().await;
            None
        };
        let entry = Arc::new(Entry::new(meta, memory, file, self.next_era()));
        let evicted = {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            let old = {
                let variants = index.by_path.entry(entry.meta.key.path.clone()).or_default();
                let old = variants
                    .iter()
                    .position(|e| e.meta.key == entry.meta.key)
                    .map(|i| variants.swap_remove(i));
                variants.push(entry.clone());
                old
            };
            if let Some(old) = &old {
                index.forget(old);
            }
            index.account(&entry);
            let mut evicted = self.evict(&mut index);
            // The replaced variant's body goes too, unless the new one shares it.
            if let Some(old) = old {
                if old.file != entry.file {
                    evicted.push(old);
                }
            }
            evicted
        };
        self.remove_in_background(evicted);
        Ok(entry)
    }

    /// Replaces a variant's metadata after a revalidation; the body is kept.
    pub async fn refresh(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        meta: Meta,
    ) -> Result<Arc<Entry>, StoreError> {
        let mut meta = meta;
        meta.len = entry.meta.len;
        meta.body_file = entry.meta.body_file.clone();
        if entry.file.is_some() {
            let this = self.clone();
            let m = meta.clone();
            tokio::task::spawn_blocking(move || this.write_meta(&m))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        }
        let fresh =
            Arc::new(Entry::new(meta, entry.memory.clone(), entry.file.clone(), self.next_era()));
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = index
            .by_path
            .get_mut(&fresh.meta.key.path)
            .and_then(|v| v.iter_mut().find(|e| Arc::ptr_eq(e, entry)))
        {
            *slot = fresh.clone();
        }
        Ok(fresh)
    }

    /// Puts a disk-only object's body into the memory tier after it was read from disk.
    pub fn promote(&self, entry: &Arc<Entry>, body: Bytes) -> Option<Arc<Entry>> {
        if entry.memory.is_some()
            || body.len() as u64 != entry.meta.len
            || entry.meta.len > self.limits.memory_object_bytes
        {
            return None;
        }
        let promoted = Arc::new(Entry::new(
            entry.meta.clone(),
            Some(body),
            entry.file.clone(),
            self.next_era(),
        ));
        let evicted = {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            let slot = index
                .by_path
                .get_mut(&entry.meta.key.path)
                .and_then(|v| v.iter_mut().find(|e| Arc::ptr_eq(e, entry)))?;
            *slot = promoted.clone();
            index.memory_used += promoted.charge();
            self.evict(&mut index)
        };
        self.remove_in_background(evicted);
        Some(promoted)
    }

    /// Removes every variant whose path satisfies `matches`; returns how many.
    pub fn purge(&self, matches: impl Fn(&str) -> bool) -> u64 {
        let removed: Vec<Arc<Entry>> = {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            let paths: Vec<String> = index.by_path.keys().filter(|p| matches(p)).cloned().collect();
            let mut removed = Vec::new();
            for path in paths {
                for entry in index.by_path.remove(&path).unwrap_or_default() {
                    index.forget(&entry);
                    removed.push(entry);
                }
            }
            removed
        };
        let n = removed.len() as u64;
        self.remove_in_background(removed);
        n
    }

    pub fn usage(&self) -> Usage {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        Usage {
            objects: index.entries,
            memory_bytes: index.memory_used,
            memory_limit: self.limits.memory_bytes,
            disk_bytes: index.disk_used,
            disk_limit: self.limits.disk_bytes,
        }
    }

    fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Evicts least recently used objects until both tiers are within bounds: from
    /// memory first (an object also on disk keeps its disk copy), then from disk.
    fn evict(&self, index: &mut Index) -> Vec<Arc<Entry>> {
        let mut removed = Vec::new();
        if index.memory_used <= self.limits.memory_bytes
            && index.disk_used <= self.limits.disk_bytes
        {
            return removed;
        }
        let mut all: Vec<Arc<Entry>> = index.by_path.values().flatten().cloned().collect();
        all.sort_by_key(|e| e.last_used.load(Ordering::Relaxed));
        for entry in all {
            let over_memory =
                index.memory_used > self.limits.memory_bytes && entry.memory.is_some();
            let over_disk = index.disk_used > self.limits.disk_bytes && entry.file.is_some();
            if !over_memory && !over_disk {
                if index.memory_used <= self.limits.memory_bytes
                    && index.disk_used <= self.limits.disk_bytes
                {
                    break;
                }
                continue;
            }
            let Some(variants) = index.by_path.get_mut(&entry.meta.key.path) else { continue };
            let Some(i) = variants.iter().position(|e| Arc::ptr_eq(e, &entry)) else { continue };
            if over_memory && !over_disk && entry.file.is_some() {
                // Leaves the memory tier only.
                let demoted = Arc::new(Entry::new(
                    entry.meta.clone(),
                    None,
                    entry.file.clone(),
                    entry.last_used.load(Ordering::Relaxed),
                ));
                variants[i] = demoted;
                index.memory_used -= entry.charge();
                continue;
            }
            variants.swap_remove(i);
            if variants.is_empty() {
                index.by_path.remove(&entry.meta.key.path);
            }
            index.forget(&entry);
            removed.push(entry);
        }
        removed
    }

    fn remove_in_background(&self, entries: Vec<Arc<Entry>>) {
        let entries: Vec<Meta> =
            entries.into_iter().filter(|e| e.file.is_some()).map(|e| e.meta.clone()).collect();
        if entries.is_empty() {
            return;
        }
        let dir = self.dir.clone();
        let remove = move || {
            for meta in entries {
                remove_files(&dir, &meta);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(remove)),
            Err(_) => remove(),
        }
    }

    /// Writes the body under its new name and syncs it, then the metadata.
    fn write_files(&self, meta: &Meta, body: Received) -> Result<PathBuf, StoreError> {
        let path = self.dir.join(&meta.body_file);
        match body {
            Received::Memory { bytes, .. } => {
                let mut f = std::fs::File::create(&path)?;
                f.write_all(&bytes)?;
                f.sync_data()?;
            }
            Received::File { path: tmp, .. } => {
                std::fs::File::open(&tmp)?.sync_data()?;
                std::fs::rename(&tmp, &path)?;
            }
        }
        self.write_meta(meta)?;
        Ok(path)
    }

    fn write_meta(&self, meta: &Meta) -> Result<(), StoreError> {
        let stem = meta.key.file_stem();
        let tmp = self.dir.join(format!("{stem}-{}.meta.tmp", self.next_sequence()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(meta).map_err(std::io::Error::other)?)?;
        f.sync_data()?;
        std::fs::rename(&tmp, self.dir.join(format!("{stem}.meta")))?;
        Ok(())
    }
}

impl Index {
    fn account(&mut self, entry: &Entry) {
        self.entries += 1;
        if entry.memory.is_some() {
            self.memory_used += entry.charge();
        }
        if entry.file.is_some() {
            self.disk_used += entry.charge();
        }
    }

    fn forget(&mut self, entry: &Entry) {
        self.entries -= 1;
        if entry.memory.is_some() {
            self.memory_used -= entry.charge();
        }
        if entry.file.is_some() {
            self.disk_used -= entry.charge();
        }
    }
}

/// Removes a variant's files: its metadata only if it still names this body (a newer
/// version of the same key may have replaced it).
fn remove_files(dir: &Path, meta: &Meta) {
    let meta_path = dir.join(format!("{}.meta", meta.key.file_stem()));
    let still_ours = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
        .is_some_and(|m| m.body_file == meta.body_file);
    if still_ours {
        let _ = std::fs::remove_file(&meta_path);
    }
    let _ = std::fs::remove_file(dir.join(&meta.body_file));
}

fn body_sequence(name: &str) -> u64 {
    name.trim_end_matches(".body").rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boothcloud_core::cache::policy::Freshness;

    fn meta(path: &str) -> Meta {
        Meta {
            key: VariantKey { path: path.into(), vary: vec![] },
            headers: vec![("content-type".into(), "text/plain".into())],
            len: 0,
            response_time_ms: 1,
            initial_age: 0,
            freshness: Freshness {
                lifetime: 60,
                stale_while_revalidate: 0,
                stale_if_error: 0,
                no_cache: false,
                must_revalidate: false,
            },
            etag: None,
            last_modified: None,
            body_file: String::new(),
            sha256: String::new(),
        }
    }

    fn limits(memory: u64, disk: u64) -> TierLimits {
        TierLimits {
            memory_bytes: memory,
            memory_object_bytes: 4096,
            disk_bytes: disk,
            max_object_bytes: 1 << 20,
        }
    }

    async fn body(e: &Entry) -> Vec<u8> {
        match (&e.memory, &e.file) {
            (Some(b), _) => b.to_vec(),
            (None, Some(f)) => tokio::fs::read(f).await.unwrap(),
            _ => panic!("an entry with no body"),
        }
    }

    #[tokio::test]
    async fn objects_survive_a_reopen_and_stray_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Arc::new(Store::open(dir.path(), limits(1 << 20, 1 << 20)).unwrap());
            store
                .insert(meta("a.txt"), Received::memory(Bytes::from_static(b"hello")))
                .await
                .unwrap();
            store
                .insert(meta("b.txt"), Received::memory(Bytes::from_static(b"world")))
                .await
                .unwrap();
        }
        // A crash mid-write leaves a temporary file, a body no metadata names, and a
        // metadata file whose body is short.
        std::fs::write(dir.path().join("receiving-9.tmp"), b"half").unwrap();
        std::fs::write(dir.path().join("deadbeef-77.body"), b"orphan").unwrap();
        let b = meta("b.txt");
        let b_meta: Meta = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{}.meta", b.key.file_stem()))).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join(&b_meta.body_file), b"wor").unwrap();

        let store = Store::open(dir.path(), limits(1 << 20, 1 << 20)).unwrap();
        let a = store.lookup("a.txt", |_| String::new()).expect("a.txt survives");
        assert_eq!(body(&a).await, b"hello");
        assert!(
            store.lookup("b.txt", |_| String::new()).is_none(),
            "a half-written body is never served"
        );
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "only a.txt's body and metadata remain: {names:?}");
        assert_eq!(store.usage().objects, 1);
    }

    #[tokio::test]
    async fn evicts_least_recently_used_within_the_disk_bound() {
        let dir = tempfile::tempdir().unwrap();
        let per = 1000 + ENTRY_OVERHEAD;
        let store = Arc::new(Store::open(dir.path(), limits(0, 3 * per)).unwrap());
        for name in ["1", "2", "3"] {
            store.insert(meta(name), Received::memory(vec![b'x'; 1000].into())).await.unwrap();
        }
        store.lookup("1", |_| String::new()).unwrap();
        store.insert(meta("4"), Received::memory(vec![b'x'; 1000].into())).await.unwrap();
        assert!(
            store.lookup("2", |_| String::new()).is_none(),
            "the least recently used goes first"
        );
        for kept in ["1", "3", "4"] {
            assert!(store.lookup(kept, |_| String::new()).is_some(), "{kept} was evicted");
        }
        assert!(store.usage().disk_bytes <= 3 * per);
    }

    #[tokio::test]
    async fn the_memory_tier_drops_bodies_but_keeps_disk_copies() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(Store::open(dir.path(), limits(2 * (100 + ENTRY_OVERHEAD), 1 << 20)).unwrap());
        for name in ["1", "2", "3"] {
            store.insert(meta(name), Received::memory(vec![b'y'; 100].into())).await.unwrap();
        }
        let first = store.lookup("1", |_| String::new()).unwrap();
        assert!(
            first.memory.is_none() && first.file.is_some(),
            "the oldest left memory but stayed on disk"
        );
        assert_eq!(body(&first).await, vec![b'y'; 100]);
        assert!(store.usage().memory_bytes <= 2 * (100 + ENTRY_OVERHEAD));
        let promoted = store.promote(&first, vec![b'y'; 100].into()).unwrap();
        assert!(promoted.memory.is_some());
    }

    #[tokio::test]
    async fn variants_are_matched_on_the_varied_headers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), limits(1 << 20, 1 << 20)).unwrap());
        for coding in ["gzip", ""] {
            let mut m = meta("app.js");
            m.key.vary = vec![("accept-encoding".into(), coding.into())];
            store.insert(m, Received::memory(Bytes::from(format!("body-{coding}")))).await.unwrap();
        }
        let gz = store
            .lookup(
                "app.js",
                |h| if h == "accept-encoding" { "gzip".into() } else { String::new() },
            )
            .unwrap();
        assert_eq!(gz.memory.as_deref(), Some(&b"body-gzip"[..]));
        let plain = store.lookup("app.js", |_| String::new()).unwrap();
        assert_eq!(plain.memory.as_deref(), Some(&b"body-"[..]));
        assert!(store.lookup("app.js", |_| "br".into()).is_none());
        assert_eq!(store.purge(|p| p == "app.js"), 2);
        assert_eq!(store.usage().objects, 0);
    }

    #[tokio::test]
    async fn large_bodies_spill_to_disk_and_oversize_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), limits(1 << 20, 1 << 20)).unwrap());
        let chunks = futures_util::stream::iter(
            (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'z'; 1000]))),
        );
        let received = store.receive(chunks).await.unwrap();
        assert!(matches!(received, Received::File { len: 10_000, .. }));
        let e = store.insert(meta("video.mp4"), received).await.unwrap();
        assert!(e.memory.is_none());
        assert_eq!(body(&e).await.len(), 10_000);
        let huge = futures_util::stream::iter(
            (0..2000).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 1000]))),
        );
        assert!(matches!(store.receive(huge).await, Err(StoreError::TooLarge { .. })));
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tmp"))
            .count();
        assert_eq!(leftovers, 0);
    }
}
