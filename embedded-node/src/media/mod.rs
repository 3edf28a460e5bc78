//! Media: what the booth films and the clips made from it.
//!
//! - [`tus`]: the resumable upload protocol's headers and checksums.
//! - [`tokens`]: upload tokens the operator issues to the booth's devices.
//! - [`uploads`]: uploads on disk, crash-safe and bounded by the media quota.
//! - [`transcode`]: the ffmpeg job queue, metered into spend.
//! - [`forward`]: finished uploads and clips sent on to the upstream over tus.
//!
//! Everything lives in `<data dir>/media/` (`uploads/`, `clips/`) and in SQLite: this
//! module owns the `uploads`, `upload_tokens`, `transcodes` and `media_forwards` tables
//! (each submodule its own; what spans them, here). Never: decides when media is wiped
//! (teardown does).

pub mod forward;
pub mod tokens;
pub mod transcode;
pub mod tus;
pub mod uploads;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::live_manifest::LiveManifest;
use crate::spend::Ledger;
use boothcloud_core::clock::Clock;

/// How often quiet unfinished uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Uploads(#[from] uploads::UploadError),
    #[error(transparent)]
    Transcodes(#[from] transcode::TranscodeError),
}

#[derive(Debug, thiserror::Error)]
pub enum WipeError {
    #[error("cannot forget the media: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot remove {dir}: {source}")]
    Files { dir: std::path::PathBuf, source: std::io::Error },
}

/// The media side of the node.
pub struct Media {
    pub uploads: uploads::Uploads,
    pub tokens: tokens::UploadTokens,
    pub transcoder: Arc<transcode::Transcoder>,
    pub forwarder: Arc<forward::Forwarder>,
    live: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    db: SqlitePool,
    dir: std::path::PathBuf,
}

/// A finished upload or clip the upstream does not have yet, whose file exists.
#[derive(Debug, Clone)]
pub struct Unsent {
    /// `upload` or `clip`.
    pub kind: &'static str,
    pub id: String,
    pub path: std::path::PathBuf,
    /// The name the device gave (uploads), or the clip's file name.
    pub filename: Option<String>,
}

/// Media at a glance: the Media screen's header and the booth screen's transcode tile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaSummary {
    pub quota_bytes: u64,
    /// What the quota counts now (uploads at their declared size, clips).
    pub used_bytes: u64,
    pub max_upload_bytes: u64,
    pub open_uploads: u64,
    pub transcodes: transcode::TranscodeSummary,
    pub forwarding: forward::ForwardSummary,
    /// Preset names, for the "make a clip" choices.
    pub presets: Vec<PresetInfo>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PresetInfo {
    pub name: String,
    /// `mp4` or `jpeg`.
    pub format: &'static str,
    pub height: u32,
    pub essential: bool,
    pub degraded: Option<String>,
}

impl Media {
    pub async fn open(
        data_dir: &Path,
        db: SqlitePool,
        live: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        ledger: Arc<Ledger>,
    ) -> Result<Media, MediaError> {
        let dir = data_dir.join("media");
        let uploads =
            uploads::Uploads::open(&dir.join("uploads"), db.clone(), clock.clone()).await?;
        let transcoder = Arc::new(
            transcode::Transcoder::open(
                &dir,
                db.clone(),
                live.clone(),
                clock.clone(),
                ledger.clone(),
            )
            .await?,
        );
        let forwarder = Arc::new(forward::Forwarder::new(
            db.clone(),
            dir.clone(),
            live.clone(),
            clock.clone(),
            ledger.meters().clone(),
        ));
        Ok(Media {
            uploads,
            tokens: tokens::UploadTokens::new(db.clone()),
            transcoder,
            forwarder,
            live,
            clock,
            db,
            dir,
        })
    }

    /// The manifest's limits, as they are now.
    pub fn limits(&self) -> uploads::UploadLimits {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        uploads::UploadLimits {
            max_upload_bytes: m.media.max_upload_bytes,
            quota_bytes: m.media.quota_bytes,
            max_open_uploads: m.media.max_open_uploads,
            expire_after: m.media.unfinished_expire_after,
            forward: m.media.forward && m.uplink.upstream.is_some(),
        }
    }

    /// Queues a transcode, unless the media quota is already full: clips take space too.
    pub async fn start_transcode(
        &self,
        req: transcode::StartRequest,
    ) -> Result<transcode::JobView, MediaError> {
        let quota = self.live.current().manifest.media.quota_bytes;
        let used = self.uploads.used_bytes().await?;
        if used >= quota {
            return Err(uploads::UploadError::QuotaFull { used, quota }.into());
        }
        Ok(self.transcoder.start(req).await?)
    }

    pub async fn summary(&self) -> Result<MediaSummary, MediaError> {
        let loaded = self.live.current();
        let m = &loaded.manifest.media;
        let open = self.uploads.open_count().await?;
        Ok(MediaSummary {
            quota_bytes: m.quota_bytes,
            used_bytes: self.uploads.used_bytes().await?,
            max_upload_bytes: m.max_upload_bytes,
            open_uploads: open,
            transcodes: self.transcoder.summary().await?,
            forwarding: self.forwarder.summary().await.map_err(uploads::UploadError::from)?,
            presets: m
                .presets
                .iter()
                .map(|p| {
                    let (format, height) = match &p.output {
                        boothcloud_core::manifest::PresetOutput::Video { height, .. } => {
                            ("mp4", *height)
                        }
                        boothcloud_core::manifest::PresetOutput::Poster { height, .. } => {
                            ("jpeg", *height)
                        }
                    };
                    PresetInfo {
                        name: p.name.clone(),
                        format,
                        height,
                        essential: p.essential,
                        degraded: p.degraded.clone(),
                    }
                })
                .collect(),
        })
    }

    /// Finished uploads and clips whose file exists and which the upstream does not have.
    pub async fn unsent(&self) -> Result<Vec<Unsent>, sqlx::Error> {
        let mut out = Vec::new();
        let uploads: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT u.id, u.filename FROM uploads u LEFT JOIN media_forwards f ON f.kind = 'upload' AND f.source_id = u.id \
             WHERE u.state = 'done' AND (f.state IS NULL OR f.state != 'sent') ORDER BY u.created_at",
        )
        .fetch_all(&self.db)
        .await?;
        for (id, filename) in uploads {
            let path = self.uploads.path(&id);
            if path.exists() {
                out.push(Unsent { kind: "upload", id, path, filename });
            }
        }
        let clips: Vec<(String, String)> = sqlx::query_as(
            "SELECT t.id, t.output FROM transcodes t LEFT JOIN media_forwards f ON f.kind = 'clip' AND f.source_id = t.id \
             WHERE t.state = 'done' AND t.output IS NOT NULL AND (f.state IS NULL OR f.state != 'sent') ORDER BY t.created_at",
        )
        .fetch_all(&self.db)
        .await?;
        for (id, name) in clips {
            let path = self.transcoder.clips_dir().join(&id).join(&name);
            if path.exists() {
                out.push(Unsent { kind: "clip", id, path, filename: Some(name) });
            }
        }
        Ok(out)
    }

    /// Removes every upload and clip from disk and their names from the database (the
    /// records of what was made stay, for the figures). Answers (uploads, clips) removed.
    pub async fn wipe(&self) -> Result<(u64, u64), WipeError> {
        let uploads = sqlx::query(
            "UPDATE uploads SET state = 'deleted', metadata = '', filename = NULL, filetype = NULL, expires_at = NULL \
             WHERE state != 'deleted' OR filename IS NOT NULL",
        )
        .execute(&self.db)
        .await?
        .rows_affected();
        let clips = sqlx::query(
            "UPDATE transcodes SET output = NULL, output_bytes = NULL, command = NULL WHERE output IS NOT NULL OR command IS NOT NULL",
        )
        .execute(&self.db)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM media_forwards").execute(&self.db).await?;
        for sub in ["uploads", "clips"] {
            let dir = self.dir.join(sub);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(WipeError::Files { dir, source }),
            }
            std::fs::create_dir_all(&dir)
                .map_err(|source| WipeError::Files { dir: dir.clone(), source })?;
        }
        Ok((uploads, clips))
    }

    /// Expires quiet unfinished uploads until the node stops.
    pub async fn keep_sweeping(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.uploads.sweep(self.clock.now()).await {
                tracing::warn!(error = %e, "could not expire unfinished uploads");
            }
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stopping.changed() => return,
            }
        }
    }
}

/// A new upload or job id: 128 random bits in hex (unguessable: a clip's URL is its key).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    boothcloud_core::signing::hex(&bytes)
}

/// Whether `id` looks like one of ours (checked before it reaches a path or a query).
pub fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
