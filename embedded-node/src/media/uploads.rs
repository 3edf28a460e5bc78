//! The upload store: tus uploads on disk in `media/uploads/<id>`, their state in SQLite.
//!
//! Owns the rules that keep uploads safe and bounded:
//! - **What is acknowledged is on disk.** Bytes are written, `fsync`ed, and only then is
//!   `received` advanced in the database; the offset HEAD reports is always data the node
//!   has. A crash may leave bytes past `received` in the file; they are cut off on the
//!   next start (and before every append), never reported.
//! - **One writer per upload.** A new PATCH, HEAD or DELETE for an upload preempts the
//!   request holding it (which commits what it has and ends), so a client whose old
//!   connection hangs on a flaky Wi-Fi can resume at once instead of waiting for TCP to
//!   notice.
//! - **Bounded.** Largest upload, uploads open at once, a per-token allowance, and the
//!   media quota, which counts an upload at its declared length from its creation so a
//!   burst of unfinished uploads cannot fill the disk. Unfinished uploads expire after a
//!   quiet period and their bytes are freed (`sweep`).
//! - A checksummed PATCH is all or nothing: on a mismatch, or a body cut short, none of
//!   it is kept.
//!
//! A finished upload is queued for the upstream in the same transaction that marks it
//! done, when forwarding is on.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::Notify;

use super::tokens::UploadGrant;
use super::tus::{Checksum, Hasher, Metadata};
use boothcloud_core::clock::Clock;

/// Bytes gathered before a write to the file.
const WRITE_BATCH: usize = 1 << 20;
/// Bytes of a long PATCH after which what has arrived is made durable and reported.
const COMMIT_EVERY: u64 = 32 << 20;
/// How long a request waits for the one it preempted to let go of an upload.
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// Expired and deleted uploads are remembered (HEAD answers 410) this long.
const FORGET_AFTER: SignedDuration = SignedDuration::from_hours(24 * 7);

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no such upload")]
    NotFound,
    #[error("this upload expired and its bytes were freed; start a new upload")]
    Gone,
    #[error(
        "the upload is at offset {expected}, not {got}: ask with HEAD and continue from there"
    )]
    OffsetMismatch { expected: u64, got: u64 },
    #[error("the body does not match its Upload-Checksum; nothing of it was kept")]
    ChecksumMismatch,
    #[error("uploads may be at most {max} bytes")]
    TooLarge { max: u64 },
    #[error("the body runs past the upload's declared length")]
    PastLength,
    #[error("the media quota is full: {used} of {quota} bytes in use; free some clips or uploads")]
    QuotaFull { used: u64, quota: u64 },
    #[error("{0} uploads are already open; finish or cancel some first")]
    TooManyOpen(u32),
    #[error("this upload token's allowance is used up: {0}")]
    Allowance(String),
    #[error("another request is still writing this upload; try again")]
    Busy,
    #[error("a newer request for this upload took over")]
    Preempted,
    #[error("the body was cut short: {0}")]
    BodyCut(String),
    #[error("disk: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The manifest's limits, as the store needs them.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    pub max_upload_bytes: u64,
    pub quota_bytes: u64,
    pub max_open_uploads: u32,
    pub expire_after: SignedDuration,
    /// Queue finished uploads for the upstream.
    pub forward: bool,
}

/// An upload as tus reports it.
#[derive(Debug, Clone)]
pub struct UploadInfo {
    pub id: String,
    pub length: u64,
    pub received: u64,
    pub metadata: String,
    /// While unfinished: when it expires unless more data comes.
    pub expires_at: Option<Timestamp>,
    pub done: bool,
}

/// An upload as the operator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    pub id: String,
    pub filename: Option<String>,
    pub filetype: Option<String>,
    /// The label of the token it came with (the device), or "Operator".
    pub device: String,
    pub length: u64,
    pub received: u64,
    /// `receiving`, `done`, `expired` or `deleted`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

struct Slot {
    lock: tokio::sync::Mutex<()>,
    preempt: Notify,
}

pub struct Uploads {
    db: SqlitePool,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// Creation checks and inserts one at a time, so two cannot both take the last of the quota.
    creating: tokio::sync::Mutex<()>,
}

struct Row {
    length: u64,
    received: u64,
    metadata: String,
    state: String,
    expires_at: Option<i64>,
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or_default()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)?
}

impl Uploads {
    /// Opens the store and reconciles it with the disk after a crash: bytes past what
    /// was acknowledged are cut off, files nobody knows are removed.
    pub async fn open(
        dir: &Path,
        db: SqlitePool,
        clock: Arc<dyn Clock>,
    ) -> Result<Uploads, UploadError> {
        std::fs::create_dir_all(dir)?;
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT id, received, state FROM uploads WHERE state IN ('receiving', 'done')",
        )
        .fetch_all(&db)
        .await?;
        let mut known = std::collections::HashSet::new();
        for (id, received, state) in rows {
            let path = dir.join(&id);
            match std::fs::metadata(&path) {
                Ok(m) if m.len() > received as u64 && state == "receiving" => {
                    let f = std::fs::OpenOptions::new().write(true).open(&path)?;
                    f.set_len(received as u64)?;
                    f.sync_all()?;
                    tracing::info!(upload = %id, cut = m.len() - received as u64, "cut unacknowledged bytes off an upload");
                }
                Ok(m) if m.len() >= received as u64 => {}
                // Fewer bytes than acknowledged, or no file: the disk lost them. Say so, never pretend.
                _ => {
                    tracing::error!(upload = %id, "an upload's file is missing or short; marking it deleted");
                    sqlx::query("UPDATE uploads SET state = 'deleted' WHERE id = ?")
                        .bind(&id)
                        .execute(&db)
                        .await?;
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
            }
            known.insert(id);
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if !known.contains(entry.file_name().to_string_lossy().as_ref()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Uploads {
            db,
            dir: dir.to_owned(),
            clock,
            slots: Mutex::default(),
            creating: tokio::sync::Mutex::new(()),
        })
    }

    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Bytes the media quota counts now: uploads at their declared length, and clips.
    pub async fn used_bytes(&self) -> Result<u64, UploadError> {
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COALESCE(SUM(length), 0) FROM uploads WHERE state IN ('receiving', 'done')) \
                  + (SELECT COALESCE(SUM(output_bytes), 0) FROM transcodes WHERE state = 'done')",
        )
        .fetch_one(&self.db)
        .await?;
        Ok(used.max(0) as u64)
    }

    /// Uploads started and not yet finished.
    pub async fn open_count(&self) -> Result<u64, UploadError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE state = 'receiving'")
            .fetch_one(&self.db)
            .await?;
        Ok(n as u64)
    }

    /// tus creation: a new, empty upload of `length` bytes.
    pub async fn create(
        &self,
        grant: &UploadGrant,
        length: u64,
        metadata: &Metadata,
        limits: &UploadLimits,
    ) -> Result<UploadInfo, UploadError> {
        if length > limits.max_upload_bytes {
            return Err(UploadError::TooLarge { max: limits.max_upload_bytes });
        }
        let _one_at_a_time = self.creating.lock().await;
        let now = self.clock.now();
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE state = 'receiving'")
                .fetch_one(&self.db)
                .await?;
        if open >= i64::from(limits.max_open_uploads) {
            self.sweep(now).await?;
            let open: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE state = 'receiving'")
                    .fetch_one(&self.db)
                    .await?;
            if open >= i64::from(limits.max_open_uploads) {
                return Err(UploadError::TooManyOpen(limits.max_open_uploads));
            }
        }
        let mut used = self.used_bytes().await?;
        if used + length > limits.quota_bytes {
            self.sweep(now).await?;
            used = self.used_bytes().await?;
            if used + length > limits.quota_bytes {
                return Err(UploadError::QuotaFull { used, quota: limits.quota_bytes });
            }
        }
        if grant.id != UploadGrant::operator().id {
            let (bytes, count): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN state IN ('receiving', 'done') THEN length END), 0), COUNT(*) FROM uploads WHERE token_id = ?",
            )
            .bind(&grant.id)
            .fetch_one(&self.db)
            .await?;
            if count as u64 >= u64::from(grant.max_uploads) {
                return Err(UploadError::Allowance(format!(
                    "it may start {} uploads",
                    grant.max_uploads
                )));
            }
            if bytes as u64 + length > grant.max_bytes {
                return Err(UploadError::Allowance(format!(
                    "{} of its {} bytes are taken",
                    bytes, grant.max_bytes
                )));
            }
        }
        let id = super::new_id();
        let path = self.path(&id);
        let dir = self.dir.clone();
        blocking(move || {
            std::fs::File::create(&path)?.sync_all()?;
            std::fs::File::open(dir)?.sync_all()
        })
        .await?;
        let expires_at = now + limits.expire_after;
        let done = length == 0;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO uploads (id, token_id, length, received, metadata, filename, filetype, state, created_at, updated_at, expires_at, finished_at) \
             VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&grant.id)
        .bind(length as i64)
        .bind(&metadata.raw)
        .bind(metadata.text("filename"))
        .bind(metadata.text("filetype").or_else(|| metadata.text("type")))
        .bind(if done { "done" } else { "receiving" })
        .bind(ms(now))
        .bind(ms(now))
        .bind((!done).then(|| ms(expires_at)))
        .bind(done.then(|| ms(now)))
        .execute(&mut *tx)
        .await?;
        if done && limits.forward {
            queue_forward(&mut tx, &id, 0, &metadata.raw, now).await?;
        }
        tx.commit().await?;
        Ok(UploadInfo {
            id,
            length,
            received: 0,
            metadata: metadata.raw.clone(),
            expires_at: (!done).then_some(expires_at),
            done,
        })
    }

    /// tus HEAD: where the upload stands. Preempts a request writing it, so the offset
    /// includes everything that request received.
    pub async fn info(&self, id: &str, grant: &UploadGrant) -> Result<UploadInfo, UploadError> {
        let slot = self.slot(id);
        let result = async {
            let _held = take(&slot).await?;
            let row = self.row(id, grant).await?;
            Ok(row.info(id))
        }
        .await;
        self.release(id, slot);
        result
    }

    /// tus PATCH: appends `body` at `offset`. The body is taken only once the request
    /// is found valid: after an early refusal the caller still has it (to drain it, so the
    /// client reads the answer instead of a reset connection).
    pub async fn append(
        &self,
        id: &str,
        grant: &UploadGrant,
        offset: u64,
        checksum: Option<Checksum>,
        body: &mut Option<Body>,
        limits: &UploadLimits,
    ) -> Result<UploadInfo, UploadError> {
        let slot = self.slot(id);
        let result = self.append_held(&slot, id, grant, offset, checksum, body, limits).await;
        self.release(id, slot);
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn append_held(
        &self,
        slot: &Slot,
        id: &str,
        grant: &UploadGrant,
        offset: u64,
        checksum: Option<Checksum>,
        body: &mut Option<Body>,
        limits: &UploadLimits,
    ) -> Result<UploadInfo, UploadError> {
        let _held = take(slot).await?;
        let row = self.row(id, grant).await?;
        if row.state == "done" || offset != row.received {
            return Err(UploadError::OffsetMismatch { expected: row.received, got: offset });
        }
        let remaining = row.length - row.received;
        let path = self.path(id);
        let mut file = blocking(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            // Bytes past the acknowledged offset are from a request that never finished.
            f.set_len(offset)?;
            f.seek(SeekFrom::Start(offset))?;
            Ok(f)
        })
        .await?;
        let mut hasher = checksum.as_ref().map(|c| Hasher::new(c.algorithm));
        let mut stream = body.take().unwrap_or_default().into_data_stream();
        let preempted = slot.preempt.notified();
        tokio::pin!(preempted);
        preempted.as_mut().enable();
        let (mut written, mut committed) = (0u64, offset);
        let mut pending: Vec<Bytes> = Vec::new();
        let mut pending_len = 0usize;
        let ended = loop {
            let next = tokio::select! {
                biased;
                () = &mut preempted => break Ended::Preempted,
                next = stream.next() => next,
            };
            let chunk = match next {
                None => break Ended::Complete,
                Some(Err(e)) => break Ended::Cut(e.to_string()),
                Some(Ok(chunk)) => chunk,
            };
            if written + chunk.len() as u64 > remaining {
                drain(stream).await;
                break Ended::PastLength;
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&chunk);
            }
            written += chunk.len() as u64;
            pending_len += chunk.len();
            pending.push(chunk);
            if pending_len >= WRITE_BATCH {
                file = write_all(file, std::mem::take(&mut pending)).await?;
                pending_len = 0;
            }
            // Without a checksum, a long body is acknowledged as it comes, so a cut
            // connection or a crash costs at most this much.
            if hasher.is_none()
                && offset + written - committed >= COMMIT_EVERY
                && pending.is_empty()
            {
                file = sync(file).await?;
                committed = offset + written;
                self.commit(id, &row, committed, limits).await?;
            }
        };
        file = write_all(file, pending).await?;
        let keep = match (&ended, checksum) {
            (Ended::Complete, Some(c)) => {
                if hasher.expect("a hasher with a checksum").finish() != c.digest {
                    truncate(file, offset).await?;
                    return Err(UploadError::ChecksumMismatch);
                }
                offset + written
            }
            // A checksummed body that did not arrive whole cannot be checked: none of it.
            (_, Some(_)) => offset,
            (Ended::PastLength, None) => committed,
            (_, None) => offset + written,
        };
        if keep < offset + written {
            file = truncate(file, keep).await?;
        }
        sync(file).await?;
        let info = if keep != committed || matches!(ended, Ended::Complete) {
            self.commit(id, &row, keep, limits).await?
        } else {
            row.info(id)
        };
        match ended {
            Ended::Complete => Ok(info),
            Ended::PastLength => Err(UploadError::PastLength),
            Ended::Preempted => Err(UploadError::Preempted),
            Ended::Cut(e) => Err(UploadError::BodyCut(e)),
        }
    }

    /// Makes `received` durable (the bytes are already synced), and finishes the upload
    /// when it is whole.
    async fn commit(
        &self,
        id: &str,
        row: &Row,
        received: u64,
        limits: &UploadLimits,
    ) -> Result<UploadInfo, UploadError> {
        let now = self.clock.now();
        let done = received == row.length;
        let expires_at = (!done).then(|| now + limits.expire_after);
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE uploads SET received = ?, updated_at = ?, expires_at = ?, state = ?, finished_at = ? WHERE id = ?")
            .bind(received as i64)
            .bind(ms(now))
            .bind(expires_at.map(ms))
            .bind(if done { "done" } else { "receiving" })
            .bind(done.then(|| ms(now)))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done && limits.forward {
            queue_forward(&mut tx, id, row.length, &row.metadata, now).await?;
        }
        tx.commit().await?;
        Ok(UploadInfo {
            id: id.to_owned(),
            length: row.length,
            received,
            metadata: row.metadata.clone(),
            expires_at,
            done,
        })
    }

    /// tus termination (and the operator's delete): the bytes are freed at once.
    pub async fn terminate(&self, id: &str, grant: &UploadGrant) -> Result<(), UploadError> {
        let slot = self.slot(id);
        let result = async {
            let _held = take(&slot).await?;
            let row = self.row(id, grant).await;
            match row {
                Ok(_) | Err(UploadError::Gone) => {}
                Err(e) => return Err(e),
            }
            sqlx::query("UPDATE uploads SET state = 'deleted', updated_at = ?, expires_at = NULL WHERE id = ?")
                .bind(ms(self.clock.now()))
                .bind(id)
                .execute(&self.db)
                .await?;
            match std::fs::remove_file(self.path(id)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        .await;
        self.release(id, slot);
        result
    }

    /// Expires unfinished uploads that went quiet (their bytes are freed; HEAD answers
    /// 410 for a week, then 404). Uploads being written right now are left alone.
    pub async fn sweep(&self, now: Timestamp) -> Result<u32, UploadError> {
        let due: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM uploads WHERE state = 'receiving' AND expires_at <= ?")
                .bind(ms(now))
                .fetch_all(&self.db)
                .await?;
        let mut expired = 0;
        for (id,) in due {
            let slot = self.slot(&id);
            if let Ok(_held) = slot.lock.try_lock() {
                sqlx::query("UPDATE uploads SET state = 'expired', updated_at = ? WHERE id = ? AND state = 'receiving'")
                    .bind(ms(now))
                    .bind(&id)
                    .execute(&self.db)
                    .await?;
                let _ = std::fs::remove_file(self.path(&id));
                expired += 1;
            }
            self.release(&id, slot);
        }
        sqlx::query(
            "DELETE FROM uploads WHERE state IN ('expired', 'deleted') AND updated_at <= ?",
        )
        .bind(ms(now - FORGET_AFTER))
        .execute(&self.db)
        .await?;
        if expired > 0 {
            tracing::info!(expired, "expired unfinished uploads");
        }
        Ok(expired)
    }

    /// The newest uploads first, for the operator.
    pub async fn list(&self, limit: u32) -> Result<Vec<UploadView>, UploadError> {
        type ViewRow = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            i64,
            i64,
            String,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<ViewRow> = sqlx::query_as(
            "SELECT u.id, u.filename, u.filetype, t.label, u.token_id, u.length, u.received, u.state, u.created_at, u.updated_at, u.expires_at, u.finished_at \
             FROM uploads u LEFT JOIN upload_tokens t ON t.id = u.token_id ORDER BY u.created_at DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    filename,
                    filetype,
                    label,
                    token_id,
                    length,
                    received,
                    state,
                    created,
                    updated,
                    expires,
                    finished,
                )| UploadView {
                    id,
                    filename,
                    filetype,
                    device: label.unwrap_or_else(|| {
                        if token_id == "operator" {
                            "Operator".into()
                        } else {
                            "A revoked device".into()
                        }
                    }),
                    length: length as u64,
                    received: received as u64,
                    state,
                    created_at: at(created),
                    updated_at: at(updated),
                    expires_at: expires.map(at),
                    finished_at: finished.map(at),
                },
            )
            .collect())
    }

    /// A finished upload's file and its name, for transcodes and the operator.
    pub async fn finished(&self, id: &str) -> Result<(PathBuf, Option<String>), UploadError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT state, filename FROM uploads WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.db)
                .await?;
        match row {
            Some((state, name)) if state == "done" => Ok((self.path(id), name)),
            Some((state, _)) if state == "receiving" => {
                Err(UploadError::OffsetMismatch { expected: 0, got: 0 })
            }
            Some(_) => Err(UploadError::Gone),
            None => Err(UploadError::NotFound),
        }
    }

    async fn row(&self, id: &str, grant: &UploadGrant) -> Result<Row, UploadError> {
        if !super::is_id(id) {
            return Err(UploadError::NotFound);
        }
        let row: Option<(String, i64, i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT token_id, length, received, metadata, state, expires_at FROM uploads WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.db)
                .await?;
        let (token_id, length, received, metadata, state, expires_at) =
            row.ok_or(UploadError::NotFound)?;
        // Another device's upload does not exist, as far as this token can tell.
        if token_id != grant.id && grant.id != UploadGrant::operator().id {
            return Err(UploadError::NotFound);
        }
        match state.as_str() {
            "expired" => return Err(UploadError::Gone),
            "deleted" => return Err(UploadError::NotFound),
            _ => {}
        }
        // Past its expiry but not swept yet: already gone for the client.
        if state == "receiving" && expires_at.is_some_and(|e| e <= ms(self.clock.now())) {
            return Err(UploadError::Gone);
        }
        Ok(Row { length: length as u64, received: received as u64, metadata, state, expires_at })
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("upload slots");
        slots
            .entry(id.to_owned())
            .or_insert_with(|| {
                Arc::new(Slot { lock: tokio::sync::Mutex::new(()), preempt: Notify::new() })
            })
            .clone()
    }

    fn release(&self, id: &str, slot: Arc<Slot>) {
        drop(slot);
        let mut slots = self.slots.lock().expect("upload slots");
        if slots.get(id).is_some_and(|s| Arc::strong_count(s) == 1) {
            slots.remove(id);
        }
    }
}

impl Row {
    fn info(&self, id: &str) -> UploadInfo {
        UploadInfo {
            id: id.to_owned(),
            length: self.length,
            received: self.received,
            metadata: self.metadata.clone(),
            expires_at: if self.state == "receiving" { self.expires_at.map(at) } else { None },
            done: self.state == "done",
        }
    }
}

/// Most of a refused body read and thrown away so the client gets the answer.
const DRAIN_BYTES: usize = 16 << 20;

/// Reads and discards what is left of a refused body (up to 16 MiB, 2 s): a client
/// still sending when the node answers would otherwise see a reset connection, not the
/// error. Past that, the connection is closed.
pub async fn drain(mut stream: axum::body::BodyDataStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut n = 0;
        while let Some(Ok(chunk)) = stream.next().await {
            n += chunk.len();
            if n > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

enum Ended {
    Complete,
    PastLength,
    Preempted,
    Cut(String),
}

/// Takes an upload, asking whoever holds it to let go.
async fn take(slot: &Slot) -> Result<tokio::sync::MutexGuard<'_, ()>, UploadError> {
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        // Asked again and again: the holder may not be listening yet (still opening the file).
        slot.preempt.notify_waiters();
        if let Ok(guard) = tokio::time::timeout(Duration::from_millis(50), slot.lock.lock()).await {
            return Ok(guard);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(UploadError::Busy);
        }
    }
}

async fn write_all(mut file: std::fs::File, chunks: Vec<Bytes>) -> std::io::Result<std::fs::File> {
    if chunks.is_empty() {
        return Ok(file);
    }
    blocking(move || {
        for c in &chunks {
            file.write_all(c)?;
        }
        Ok(file)
    })
    .await
}

async fn sync(file: std::fs::File) -> std::io::Result<std::fs::File> {
    blocking(move || file.sync_data().map(|()| file)).await
}

async fn truncate(mut file: std::fs::File, len: u64) -> std::io::Result<std::fs::File> {
    blocking(move || {
        file.set_len(len)?;
        file.seek(SeekFrom::Start(len))?;
        Ok(file)
    })
    .await
}

async fn queue_forward(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
    length: u64,
    metadata: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    super::forward::queue(tx, "upload", id, &format!("uploads/{id}"), length, metadata, now).await
}
