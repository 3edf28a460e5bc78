//! Media: what the booth films and the clips made from it.
//!
//! - [`tus`]: the resumable upload protocol's headers and checksums.
//! - [`tokens`]: upload tokens the operator issues to the booth's devices.
//! - [`uploads`]: uploads on disk, crash-safe and bounded by the media quota.
//! - [`transcode`]: the ffmpeg job queue, metered into spend.
//! - [`forward`]: finished uploads and clips sent on to the upstream over tus.
//!
//! Everything lives in `<data dir>/media/` (`uploads/`, `clips/`) and in SQLite.

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

use crate::clock::Clock;
use crate::manifest::watch::LiveManifest;
use crate::spend::Ledger;

/// How often quiet unfinished uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Uploads(#[from] uploads::UploadError),
    #[error(transparent)]
    Transcodes(#[from] transcode::TranscodeError),
}

/// The media side of the node.
pub struct Media {
    pub uploads: uploads::Uploads,
    pub tokens: tokens::UploadTokens,
    pub transcoder: Arc<transcode::Transcoder>,
    pub forwarder: Arc<forward::Forwarder>,
    live: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
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
        let uploads = uploads::Uploads::open(&dir.join("uploads"), db.clone(), clock.clone()).await?;
        let transcoder = Arc::new(transcode::Transcoder::open(&dir, db.clone(), live.clone(), clock.clone(), ledger.clone()).await?);
        let forwarder = Arc::new(forward::Forwarder::new(db.clone(), dir, live.clone(), clock.clone(), ledger.meters().clone()));
        Ok(Media { uploads, tokens: tokens::UploadTokens::new(db), transcoder, forwarder, live, clock })
    }

    /// The manifest's limits, as they are now.
    pub fn limits(&self) -> uploads::Limits {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        uploads::Limits {
            max_upload_bytes: m.media.max_upload_bytes,
            quota_bytes: m.media.quota_bytes,
            max_open_uploads: m.media.max_open_uploads,
            expire_after: m.media.unfinished_expire_after,
            forward: m.media.forward && m.uplink.upstream.is_some(),
        }
    }

    /// Queues a transcode, unless the media quota is already full: clips take space too.
    pub async fn start_transcode(&self, req: transcode::StartRequest) -> Result<transcode::JobView, MediaError> {
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
                        crate::manifest::PresetOutput::Video { height, .. } => ("mp4", *height),
                        crate::manifest::PresetOutput::Poster { height, .. } => ("jpeg", *height),
                    };
                    PresetInfo { name: p.name.clone(), format, height, essential: p.essential, degraded: p.degraded.clone() }
                })
                .collect(),
        })
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
    crate::peers::auth::hex(&bytes)
}

/// Whether `id` looks like one of ours (checked before it reaches a path or a query).
pub fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
