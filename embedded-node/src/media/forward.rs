//! Forwarding: finished uploads and clips sent on to the upstream (the regional hub)
//! over tus, with the write-back discipline of the order queue.
//!
//! Owns the `media_forwards` queue. An item is queued in the same transaction that
//! finishes its upload or clip, so nothing finished is forgotten. The forwarder creates
//! the upload at the upstream once and keeps its URL; after a link cut it asks the
//! upstream how far it got (HEAD) and continues from there, each chunk checksummed.
//! Network trouble and 5xx answers are retried with capped exponential backoff and
//! jitter; an upstream that refuses an item for good (a 4xx) quarantines it with the
//! reason, and it never blocks the items behind it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jiff::Timestamp;
use rand::Rng;
use reqwest::StatusCode;
use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::{watch, Notify};

use super::tus;
use crate::live_manifest::LiveManifest;
use crate::spend::traffic::{answer_bytes, request_bytes, Purpose};
use crate::spend::Meters;
use boothcloud_core::clock::Clock;
use boothcloud_core::signing::upload as signed;

/// Bytes per PATCH to the upstream.
pub const CHUNK: u64 = 8 << 20;
const MAX_BACKOFF: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Queues an item (inside the caller's transaction). Queuing twice is harmless.
pub async fn queue(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    kind: &str,
    source_id: &str,
    path: &str,
    length: u64,
    metadata: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO media_forwards (kind, source_id, path, length, metadata, state, next_attempt_at, created_at) \
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
    )
    .bind(kind)
    .bind(source_id)
    .bind(path)
    .bind(length as i64)
    .bind(metadata)
    .bind(now.as_millisecond())
    .bind(now.as_millisecond())
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// An `Upload-Metadata` header from text pairs.
pub fn metadata(pairs: &[(&str, &str)]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    pairs.iter().map(|(k, v)| format!("{k} {}", b64.encode(v))).collect::<Vec<_>>().join(",")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForwardSummary {
    /// Forwarding is on in the manifest (and an upstream is set).
    pub enabled: bool,
    /// Paused by the degrade control or a runbook.
    pub paused: bool,
    pub pending: u64,
    pub pending_bytes: u64,
    pub sent: u64,
    pub quarantined: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_pending: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sent_at: Option<Timestamp>,
    /// The most recent problem, in words.
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    /// Try again later: the link, a timeout, a 5xx.
    #[error("{0}")]
    Retry(String),
    /// The upstream forgot the upload: create it again.
    #[error("the upstream no longer has this upload; starting it again")]
    Restart,
    /// Refused for good.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

struct Item {
    kind: String,
    source_id: String,
    path: String,
    length: u64,
    metadata: String,
    remote_url: Option<String>,
    sent: u64,
    attempts: u32,
}

pub struct Forwarder {
    db: SqlitePool,
    media_dir: PathBuf,
    live: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    meters: Arc<Meters>,
    http: reqwest::Client,
    wake: Notify,
    /// Paused by the degrade control or a runbook: items wait, durably, in the queue.
    paused: AtomicBool,
    /// The upstream's time minus this booth's (ms), from the last refusal that stated it:
    /// requests are signed in the upstream's time.
    upstream_offset_ms: AtomicI64,
}

impl Forwarder {
    pub fn new(
        db: SqlitePool,
        media_dir: PathBuf,
        live: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        meters: Arc<Meters>,
    ) -> Forwarder {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("an HTTP client with rustls");
        Forwarder {
            db,
            media_dir,
            live,
            clock,
            meters,
            http,
            wake: Notify::new(),
            paused: AtomicBool::new(false),
            upstream_offset_ms: AtomicI64::new(0),
        }
    }

    /// Something was queued or released: look now rather than at the next tick.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Stops sending (the item being sent is finished first) or starts again.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
        self.nudge();
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub async fn summary(&self) -> Result<ForwardSummary, sqlx::Error> {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        let (pending, pending_bytes, sent, quarantined, oldest, last_sent): (i64, i64, i64, i64, Option<i64>, Option<i64>) =
            sqlx::query_as(
                "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(CASE WHEN state = 'pending' THEN length - sent END), 0), \
                    COALESCE(SUM(state = 'sent'), 0), COALESCE(SUM(state = 'quarantined'), 0), \
                    MIN(CASE WHEN state = 'pending' THEN created_at END), MAX(finished_at) FROM media_forwards",
            )
            .fetch_one(&self.db)
            .await?;
        let last_error: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT last_error FROM media_forwards WHERE state != 'sent' AND last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1",
        )
        .fetch_optional(&self.db)
        .await?;
        Ok(ForwardSummary {
            enabled: m.media.forward && m.uplink.upstream.is_some(),
            paused: self.is_paused(),
            pending: pending as u64,
            pending_bytes: pending_bytes.max(0) as u64,
            sent: sent as u64,
            quarantined: quarantined as u64,
            oldest_pending: oldest.and_then(|t| Timestamp::from_millisecond(t).ok()),
            last_sent_at: last_sent.and_then(|t| Timestamp::from_millisecond(t).ok()),
            last_error: last_error.and_then(|e| e.0),
        })
    }

    /// Puts quarantined items back in the queue (the operator's retry).
    pub async fn retry_quarantined(&self) -> Result<u64, sqlx::Error> {
        let done =
            sqlx::query("UPDATE media_forwards SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE state = 'quarantined'")
                .bind(self.clock.now().as_millisecond())
                .execute(&self.db)
                .await?;
        self.nudge();
        Ok(done.rows_affected())
    }

    /// Sends what is due until the node stops.
    pub async fn keep(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        loop {
            if *stopping.borrow() {
                return;
            }
            let pause = match self.send_due(&mut stopping).await {
                Ok(pause) => pause,
                Err(e) => {
                    tracing::warn!(error = %e, "media forwarding could not read its queue");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    /// Sends every due item, one at a time; answers how long to wait before looking again.
    async fn send_due(
        &self,
        stopping: &mut watch::Receiver<bool>,
    ) -> Result<Duration, sqlx::Error> {
        let loaded = self.live.current();
        let m = &loaded.manifest;
        let (Some(upstream), true) = (m.uplink.upstream.clone(), m.media.forward) else {
            return Ok(Duration::from_secs(5));
        };
        let Some(token) = m.media.forward_token.clone() else {
            return Ok(Duration::from_secs(5));
        };
        drop(loaded);
        loop {
            if *stopping.borrow() {
                return Ok(Duration::ZERO);
            }
            if self.is_paused() {
                return Ok(Duration::from_secs(5));
            }
            let now = self.clock.now().as_millisecond();
            type Due = (String, String, String, i64, String, Option<String>, i64, i64);
            let due: Option<Due> = sqlx::query_as(
                "SELECT kind, source_id, path, length, metadata, remote_url, sent, attempts FROM media_forwards \
                 WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&self.db)
            .await?;
            let Some((kind, source_id, path, length, metadata, remote_url, sent, attempts)) = due
            else {
                let next: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(next_attempt_at) FROM media_forwards WHERE state = 'pending'",
                )
                .fetch_one(&self.db)
                .await?;
                let wait = next.map_or(Duration::from_secs(5), |t| {
                    Duration::from_millis((t - now).clamp(50, 5_000) as u64)
                });
                return Ok(wait);
            };
            let mut item = Item {
                kind,
                source_id,
                path,
                length: length as u64,
                metadata,
                remote_url,
                sent: sent as u64,
                attempts: attempts as u32,
            };
            let upload = upstream.join("uploads/").expect("a base URL joins a relative path");
            let result = tokio::select! {
                r = self.send(&mut item, &upload, &token) => r,
                _ = stopping.changed() => return Ok(Duration::ZERO),
            };
            let now = self.clock.now().as_millisecond();
            match result {
                Ok(()) => {
                    sqlx::query("UPDATE media_forwards SET state = 'sent', sent = length, finished_at = ?, last_error = NULL WHERE kind = ? AND source_id = ?")
                        .bind(now)
                        .bind(&item.kind)
                        .bind(&item.source_id)
                        .execute(&self.db)
                        .await?;
                    tracing::info!(kind = %item.kind, id = %item.source_id, bytes = item.length, "forwarded to the upstream");
                }
                Err(SendError::Refused(why)) => {
                    tracing::warn!(kind = %item.kind, id = %item.source_id, %why, "the upstream refused a media item; quarantined");
                    self.set_state(&item, "quarantined", &why, now).await?;
                }
                Err(SendError::Restart) => {
                    sqlx::query("UPDATE media_forwards SET remote_url = NULL, sent = 0, last_error = ? WHERE kind = ? AND source_id = ?")
                        .bind(SendError::Restart.to_string())
                        .bind(&item.kind)
                        .bind(&item.source_id)
                        .execute(&self.db)
                        .await?;
                }
                Err(SendError::Retry(why)) => {
                    let backoff = backoff(item.attempts);
                    tracing::debug!(kind = %item.kind, id = %item.source_id, %why, ?backoff, "media forwarding will retry");
                    sqlx::query("UPDATE media_forwards SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE kind = ? AND source_id = ?")
                        .bind(now + backoff.as_millis() as i64)
                        .bind(&why)
                        .bind(&item.kind)
                        .bind(&item.source_id)
                        .execute(&self.db)
                        .await?;
                }
                Err(SendError::Database(e)) => return Err(e),
            }
        }
    }

    async fn set_state(
        &self,
        item: &Item,
        state: &str,
        why: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE media_forwards SET state = ?, last_error = ?, finished_at = ? WHERE kind = ? AND source_id = ?")
            .bind(state)
            .bind(why)
            .bind(now)
            .bind(&item.kind)
            .bind(&item.source_id)
            .execute(&self.db)
            .await
            .map(drop)
    }

    /// Creates (once), asks where the upstream stands, and sends the rest in chunks,
    /// recording each confirmed offset.
    async fn send(&self, item: &mut Item, upload: &url::Url, token: &str) -> Result<(), SendError> {
        // Signed with the upload token the upstream issued; the token is never sent.
        let key = signed::key_of(token);
        let token_id = signed::token_id(token);
        // In the upstream's time, as last learnt from a refusal that stated it.
        let signature = |req: &signed::UploadRequest<'_>| {
            let theirs = self.clock.now_ms() + self.upstream_offset_ms.load(Ordering::Relaxed);
            signed::UploadSignature::sign(
                &key,
                &token_id,
                req,
                theirs.div_euclid(1000),
                rand::random(),
            )
        };
        let signed = |r: reqwest::RequestBuilder, sig: &signed::UploadSignature| {
            r.header("Tus-Resumable", tus::VERSION)
                .header(signed::SIGNATURE_HEADER, sig.to_header())
        };
        // The upstream's answer is believed only with its proof: a forged "all received"
        // must not make a file count as sent. (A 401 or a 5xx proves nothing and asks
        // nothing of us but to wait.)
        let proven = |sig: &signed::UploadSignature, res: &reqwest::Response| {
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED || status.is_server_error() {
                return Ok(());
            }
            let text = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
            let answer = signed::UploadAnswer {
                status: status.as_u16(),
                offset: text("upload-offset"),
                location: text("location"),
            };
            match text(signed::PROOF_HEADER) {
                Some(p) if sig.answer_is_proven(&key, &answer, p) => Ok(()),
                _ => Err(SendError::Retry(
                    "the upstream's answer did not prove it holds this booth's token".into(),
                )),
            }
        };
        // Every call is metered as it went on the wire (spend: upstream calls, egress).
        let metered = |url: &url::Url,
                       req: &signed::UploadRequest<'_>,
                       sig: &signed::UploadSignature,
                       body: usize,
                       res: &reqwest::Response| {
            let sig = sig.to_header();
            let sig = sig.as_str();
            let headers: Vec<(&str, &str)> = [
                ("tus-resumable", tus::VERSION),
                (signed::SIGNATURE_HEADER, sig),
                ("upload-length", req.length.unwrap_or("")),
                ("upload-metadata", req.metadata.unwrap_or("")),
                ("upload-offset", req.offset.unwrap_or("")),
                ("upload-checksum", req.checksum.unwrap_or("")),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
            let bytes = request_bytes(req.method, url, &headers, body)
                + answer_bytes(res.headers(), res.content_length().unwrap_or(0) as usize);
            self.meters.upstream(Purpose::Forward, bytes);
            // Refused, perhaps for a clock past the upstream's window: learn its time.
            if res.status() == StatusCode::UNAUTHORIZED {
                let stated = crate::peers::stated_time(res.headers());
                let now = self.clock.now_ms();
                if let Some(offset) =
                    stated.and_then(|t| boothcloud_core::timekeeping::offset_ms(t, now, now))
                {
                    self.upstream_offset_ms.store(offset, Ordering::Relaxed);
                }
            }
        };
        let target = |u: &url::Url| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        };
        let remote = match &item.remote_url {
            Some(u) => u.clone(),
            None => {
                let length = item.length.to_string();
                let created = signed::UploadRequest {
                    method: "POST",
                    target: &target(upload),
                    length: Some(&length),
                    metadata: Some(&item.metadata),
                    ..Default::default()
                };
                let sig = signature(&created);
                let res = signed(self.http.post(upload.clone()), &sig)
                    .header("Upload-Length", &length)
                    .header("Upload-Metadata", &item.metadata)
                    .send()
                    .await
                    .map_err(link)?;
                metered(upload, &created, &sig, 0, &res);
                proven(&sig, &res)?;
                if res.status() != StatusCode::CREATED {
                    return Err(refusal(res).await);
                }
                let location =
                    res.headers().get("location").and_then(|v| v.to_str().ok()).ok_or_else(
                        || {
                            SendError::Refused(
                                "the upstream created the upload but sent no Location".into(),
                            )
                        },
                    )?;
                let url = upload
                    .join(location)
                    .map_err(|_| {
                        SendError::Refused("the upstream sent an unusable Location".into())
                    })?
                    .to_string();
                sqlx::query("UPDATE media_forwards SET remote_url = ?, sent = 0 WHERE kind = ? AND source_id = ?")
                    .bind(&url)
                    .bind(&item.kind)
                    .bind(&item.source_id)
                    .execute(&self.db)
                    .await?;
                item.remote_url = Some(url.clone());
                item.sent = 0;
                url
            }
        };
        // Where the upstream stands: after a cut, what it has may differ from what we recorded.
        let remote_url = url::Url::parse(&remote)
            .map_err(|_| SendError::Refused("the upstream sent an unusable Location".into()))?;
        let head = signed::UploadRequest {
            method: "HEAD",
            target: &target(&remote_url),
            ..Default::default()
        };
        let sig = signature(&head);
        let res = signed(self.http.head(&remote), &sig).send().await.map_err(link)?;
        metered(&remote_url, &head, &sig, 0, &res);
        proven(&sig, &res)?;
        match res.status() {
            StatusCode::OK | StatusCode::NO_CONTENT => {}
            StatusCode::NOT_FOUND | StatusCode::GONE => return Err(SendError::Restart),
            _ => return Err(refusal(res).await),
        }
        let mut offset = upload_offset(&res)
            .ok_or_else(|| SendError::Retry("the upstream's HEAD had no Upload-Offset".into()))?;
        if offset > item.length {
            return Err(SendError::Refused(format!(
                "the upstream reports {offset} bytes of a {}-byte file",
                item.length
            )));
        }
        let path = self.media_dir.join(&item.path);
        while offset < item.length {
            let len = CHUNK.min(item.length - offset);
            let chunk = read_chunk(path.clone(), offset, len).await.map_err(|e| {
                SendError::Refused(format!("cannot read {} (was it deleted?): {e}", item.path))
            })?;
            let (at, checksum) = (offset.to_string(), tus::sha256_header(&chunk));
            let patch = signed::UploadRequest {
                method: "PATCH",
                target: &target(&remote_url),
                offset: Some(&at),
                checksum: Some(&checksum),
                content_type: Some(tus::OFFSET_STREAM),
                carries_bytes: true,
                ..Default::default()
            };
            let sig = signature(&patch);
            let chunk_len = chunk.len();
            let res = signed(self.http.patch(&remote), &sig)
                .header("Upload-Offset", &at)
                .header("Content-Type", tus::OFFSET_STREAM)
                .header("Upload-Checksum", &checksum)
                .body(chunk)
                .send()
                .await
                .map_err(link)?;
            metered(&remote_url, &patch, &sig, chunk_len, &res);
            proven(&sig, &res)?;
            match res.status() {
                StatusCode::NO_CONTENT => {}
                StatusCode::NOT_FOUND | StatusCode::GONE => return Err(SendError::Restart),
                // Another offset than ours (a request that got through before a cut): ask again.
                StatusCode::CONFLICT => {
                    return Err(SendError::Retry(
                        "the upstream is at another offset; asking again".into(),
                    ))
                }
                s if s.as_u16() == tus::CHECKSUM_MISMATCH => {
                    return Err(SendError::Retry(
                        "a chunk arrived damaged; sending it again".into(),
                    ))
                }
                _ => return Err(refusal(res).await),
            }
            offset = upload_offset(&res).ok_or_else(|| {
                SendError::Retry("the upstream's PATCH answer had no Upload-Offset".into())
            })?;
            sqlx::query("UPDATE media_forwards SET sent = ? WHERE kind = ? AND source_id = ?")
                .bind(offset as i64)
                .bind(&item.kind)
                .bind(&item.source_id)
                .execute(&self.db)
                .await?;
            item.sent = offset;
        }
        Ok(())
    }
}

fn upload_offset(res: &reqwest::Response) -> Option<u64> {
    res.headers().get("upload-offset")?.to_str().ok()?.parse().ok()
}

fn link(e: reqwest::Error) -> SendError {
    SendError::Retry(format!("the upstream could not be reached: {e}"))
}

/// A 4xx is for good (except the ones that mean "later"); anything else is retried.
async fn refusal(res: reqwest::Response) -> SendError {
    let status = res.status();
    let text: String = res.text().await.unwrap_or_default().chars().take(300).collect();
    let why = format!("the upstream answered {status}: {text}");
    // 401 is about this booth (its token, or its clock), never about the item: it waits.
    let later = matches!(
        status,
        StatusCode::UNAUTHORIZED
            | StatusCode::REQUEST_TIMEOUT
            | StatusCode::LOCKED
            | StatusCode::TOO_MANY_REQUESTS
    );
    if status.is_client_error() && !later {
        SendError::Refused(why)
    } else {
        SendError::Retry(why)
    }
}

/// 0.5 s, 1 s, 2 s … up to 15 s, each with up to half of it as jitter.
fn backoff(attempts: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempts.min(10)).min(MAX_BACKOFF);
    base.mul_f64(rand::rng().random_range(0.5..=1.0))
}

async fn read_chunk(path: PathBuf, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0; len as usize];
        f.read_exact(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        assert!(
            backoff(0) <= Duration::from_millis(500) && backoff(0) >= Duration::from_millis(250)
        );
        assert!(backoff(3) <= Duration::from_secs(4));
        for _ in 0..20 {
            let b = backoff(30);
            assert!(b <= MAX_BACKOFF && b >= MAX_BACKOFF / 2, "{b:?}");
        }
    }

    #[test]
    fn metadata_round_trips_through_the_tus_parser() {
        let header = metadata(&[("filename", "demo clip.mp4"), ("preset", "720p")]);
        let parsed = tus::parse_metadata(&header).unwrap();
        assert_eq!(parsed.text("filename").as_deref(), Some("demo clip.mp4"));
        assert_eq!(parsed.text("preset").as_deref(), Some("720p"));
    }
}
