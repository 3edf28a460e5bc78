//! The manifest in force, and the watcher that reloads it when its file changes.
//!
//! Owns: `LiveManifest` — the current manifest with its compiled price book, a version
//! that increases on every applied edit, and the last failed reload. A valid edit
//! replaces the price book for new quotes at once; quotes already issued carry their
//! prices in their tokens, so they stay honoured until they expire. An invalid edit is
//! logged with its line and column and shown in the status API, and the last good
//! manifest keeps running.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use notify::{RecursiveMode, Watcher};
use serde::Serialize;
use tokio::sync::mpsc;

use boothcloud_core::clock::Clock;
use boothcloud_core::manifest::{
    parse, Manifest, Problem, Problems, DEMO_MANIFEST, MAX_MANIFEST_BYTES,
};
use boothcloud_core::pricing::PriceBook;

/// One manifest version, checked and compiled.
#[derive(Debug)]
pub struct Loaded {
    pub manifest: Manifest,
    pub book: PriceBook,
    pub version: u64,
    pub loaded_at: Timestamp,
}

/// A reload that was refused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReloadFailure {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub problems: Vec<Problem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the manifest {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error("cannot watch the manifest {path}: {source}")]
    Watch { path: PathBuf, source: notify::Error },
}

/// Where the manifest came from.
#[derive(Debug, Clone)]
pub enum ManifestSource {
    Embedded,
    File(PathBuf),
}

impl ManifestSource {
    pub fn describe(&self) -> String {
        match self {
            ManifestSource::Embedded => "embedded demo manifest".to_owned(),
            ManifestSource::File(p) => p.display().to_string(),
        }
    }

    pub fn read(&self) -> Result<String, ManifestError> {
        match self {
            ManifestSource::Embedded => Ok(DEMO_MANIFEST.to_owned()),
            ManifestSource::File(path) => read_file(path),
        }
    }
}

/// Reads a manifest file, refusing oversize files before reading them whole.
pub fn read_file(path: &Path) -> Result<String, ManifestError> {
    let err = |source| ManifestError::Read { path: path.to_owned(), source };
    let len = std::fs::metadata(path).map_err(err)?.len();
    if len > MAX_MANIFEST_BYTES as u64 {
        return Err(ManifestError::Invalid(Problems(vec![Problem {
            line: 1,
            column: 1,
            message: format!("the manifest is larger than {MAX_MANIFEST_BYTES} bytes"),
        }])));
    }
    std::fs::read_to_string(path).map_err(err)
}

pub struct LiveManifest {
    source: ManifestSource,
    current: RwLock<Arc<Loaded>>,
    last_failure: RwLock<Option<ReloadFailure>>,
    clock: Arc<dyn Clock>,
}

impl LiveManifest {
    /// Loads the first version; an invalid manifest here is fatal (there is no last good one).
    pub fn load(
        source: ManifestSource,
        clock: Arc<dyn Clock>,
    ) -> Result<LiveManifest, ManifestError> {
        let manifest = parse(&source.read()?)?;
        let book = PriceBook::compile(&manifest);
        let loaded = Loaded { manifest, book, version: 1, loaded_at: clock.now() };
        Ok(LiveManifest {
            source,
            current: RwLock::new(Arc::new(loaded)),
            last_failure: RwLock::new(None),
            clock,
        })
    }

    pub fn current(&self) -> Arc<Loaded> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn last_failure(&self) -> Option<ReloadFailure> {
        self.last_failure.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn source(&self) -> &ManifestSource {
        &self.source
    }

    /// Re-reads the source. Applies it if valid; otherwise records why and keeps the
    /// current version. Returns the version in force afterwards.
    pub fn reload(&self) -> Result<u64, ManifestError> {
        let outcome = self.source.read().and_then(|text| Ok(parse(&text)?));
        match outcome {
            Ok(manifest) => {
                let book = PriceBook::compile(&manifest);
                let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
                let version = current.version + 1;
                *current =
                    Arc::new(Loaded { manifest, book, version, loaded_at: self.clock.now() });
                *self.last_failure.write().unwrap_or_else(|e| e.into_inner()) = None;
                tracing::info!(version, source = %self.source.describe(), "manifest reloaded");
                Ok(version)
            }
            Err(e) => {
                let problems = match &e {
                    ManifestError::Invalid(p) => p.0.clone(),
                    other => vec![Problem { line: 1, column: 1, message: other.to_string() }],
                };
                for p in &problems {
                    tracing::warn!(line = p.line, column = p.column, problem = %p.message, "manifest edit refused; the last good manifest stays in force");
                }
                *self.last_failure.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(ReloadFailure { at: self.clock.now(), problems });
                Err(e)
            }
        }
    }
}

/// Watches the manifest's folder (editors often replace the file rather than write
/// it) and reloads after changes settle. Dropping the returned watcher stops it.
pub fn watch(live: Arc<LiveManifest>) -> Result<Option<notify::RecommendedWatcher>, ManifestError> {
    let ManifestSource::File(path) = live.source().clone() else {
        return Ok(None);
    };
    let path = path.canonicalize().unwrap_or(path);
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let target = path.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if !event.kind.is_access() && event.paths.iter().any(|p| p == &target) {
                let _ = tx.send(());
            }
        }
    })
    .map_err(|source| ManifestError::Watch { path: path.clone(), source })?;
    watcher
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(|source| ManifestError::Watch { path: path.clone(), source })?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of events (truncate, write, rename) settle into one reload.
            tokio::time::sleep(Duration::from_millis(150)).await;
            while rx.try_recv().is_ok() {}
            let live = live.clone();
            let _ = tokio::task::spawn_blocking(move || live.reload()).await;
        }
    });
    Ok(Some(watcher))
}
