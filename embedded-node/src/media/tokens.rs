//! Upload tokens: what lets a booth device (a camera, a phone) upload, and nothing
//! else. The operator issues one per device — labelled, expiring, with a byte and an
//! upload allowance — and can revoke it. Only the SHA-256 of the secret is stored; the
//! secret is shown once, when it is issued.

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use boothcloud_core::signing::peer::ReplayGuard;
use boothcloud_core::signing::upload::{
    self as signed, UploadAuthError, UploadRequest, UploadSignature,
};

/// Secrets start with this, so a token pasted in the wrong place is recognisable.
pub const PREFIX: &str = "bcu_";
/// Most tokens alive (not expired, not revoked) at once.
pub const MAX_ACTIVE: i64 = 1_000;
pub const DEFAULT_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
pub const MAX_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 30);

#[derive(Debug, thiserror::Error)]
pub enum UploadTokenError {
    #[error("this upload token is not known here")]
    Unknown,
    #[error("this upload token has expired; ask the operator for a new one")]
    Expired,
    #[error("this upload token was revoked")]
    Revoked,
    #[error("{0}")]
    Invalid(String),
    #[error("there are already {MAX_ACTIVE} active upload tokens; revoke some first")]
    TooMany,
    #[error("{0}")]
    Signature(#[from] UploadAuthError),
    #[error("this signed upload request was already used")]
    Replayed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What the operator asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// Which device this is for, shown next to its uploads ("Camera 1").
    pub label: String,
    /// Seconds until it expires (default 12 h, at most 30 days).
    pub expires_in_s: Option<u64>,
    /// Bytes it may upload in all (default: the media quota).
    pub max_bytes: Option<u64>,
    /// Uploads it may start (default 1,000).
    pub max_uploads: Option<u32>,
}

/// A token as the operator sees it (never the secret, except once in [`Issued`]).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub max_bytes: u64,
    pub max_uploads: u32,
    /// Declared bytes of the uploads it started, and how many.
    pub used_bytes: u64,
    pub uploads: u32,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Issued {
    /// The secret: `Authorization: Bearer <token>`. Shown only now.
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

/// The rights a valid token carries into a request.
#[derive(Debug, Clone)]
pub struct UploadGrant {
    /// The token id, or `operator` for the operator token.
    pub id: String,
    pub max_bytes: u64,
    pub max_uploads: u32,
}

impl UploadGrant {
    pub fn operator() -> UploadGrant {
        UploadGrant { id: "operator".into(), max_bytes: u64::MAX, max_uploads: u32::MAX }
    }
}

pub struct UploadTokens {
    db: SqlitePool,
    /// Nonces of signed requests (a booth forwarding media), each admitted once.
    replays: ReplayGuard,
}

type Row = (String, String, i64, i64, i64, i64, Option<i64>, i64, i64);

const SELECT: &str = "SELECT t.id, t.label, t.created_at, t.expires_at, t.max_bytes, t.max_uploads, t.revoked_at, \
    COALESCE((SELECT SUM(length) FROM uploads u WHERE u.token_id = t.id AND u.state IN ('receiving', 'done')), 0), \
    (SELECT COUNT(*) FROM uploads u WHERE u.token_id = t.id) FROM upload_tokens t";

impl UploadTokens {
    pub fn new(db: SqlitePool) -> UploadTokens {
        UploadTokens { db, replays: ReplayGuard::default() }
    }

    pub async fn issue(
        &self,
        req: IssueRequest,
        default_max_bytes: u64,
        now: Timestamp,
    ) -> Result<Issued, UploadTokenError> {
        let label: String =
            req.label.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(UploadTokenError::Invalid(
                "label must be 1 to 64 characters (which device is this for?)".into(),
            ));
        }
        let lifetime = match req.expires_in_s {
            None => DEFAULT_LIFETIME,
            Some(s) if (60..=MAX_LIFETIME.as_secs() as u64).contains(&s) => {
                SignedDuration::from_secs(s as i64)
            }
            Some(_) => {
                return Err(UploadTokenError::Invalid(format!(
                    "expires_in_s must be between 60 and {}",
                    MAX_LIFETIME.as_secs()
                )))
            }
        };
        let max_bytes = req.max_bytes.unwrap_or(default_max_bytes).min(i64::MAX as u64);
        let max_uploads = req.max_uploads.unwrap_or(1_000);
        if max_bytes == 0 || max_uploads == 0 {
            return Err(UploadTokenError::Invalid(
                "max_bytes and max_uploads must be above zero".into(),
            ));
        }
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM upload_tokens WHERE revoked_at IS NULL AND expires_at > ?",
        )
        .bind(now.as_millisecond())
        .fetch_one(&self.db)
        .await?;
        if active >= MAX_ACTIVE {
            return Err(UploadTokenError::TooMany);
        }
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token =
            format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        let id = signed::token_id(&token);
        let expires_at = now + lifetime;
        sqlx::query(
            "INSERT INTO upload_tokens (id, secret_hash, label, created_at, expires_at, max_bytes, max_uploads) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(secret_hash(&token).to_vec())
        .bind(&label)
        .bind(now.as_millisecond())
        .bind(expires_at.as_millisecond())
        .bind(max_bytes as i64)
        .bind(i64::from(max_uploads))
        .execute(&self.db)
        .await?;
        let view = TokenView {
            id,
            label,
            created_at: now,
            expires_at,
            max_bytes,
            max_uploads,
            used_bytes: 0,
            uploads: 0,
            state: "active",
        };
        Ok(Issued { token, view })
    }

    pub async fn list(&self, now: Timestamp) -> Result<Vec<TokenView>, UploadTokenError> {
        let rows: Vec<Row> =
            sqlx::query_as(&format!("{SELECT} ORDER BY t.created_at DESC LIMIT 500"))
                .fetch_all(&self.db)
                .await?;
        Ok(rows.into_iter().map(|r| view(r, now)).collect())
    }

    /// Revokes at once: the next request with it is refused (uploads it made stay).
    pub async fn revoke(&self, id: &str, now: Timestamp) -> Result<TokenView, UploadTokenError> {
        let done = sqlx::query(
            "UPDATE upload_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
        )
        .bind(now.as_millisecond())
        .bind(id)
        .execute(&self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(UploadTokenError::Unknown);
        }
        let row: Row = sqlx::query_as(&format!("{SELECT} WHERE t.id = ?"))
            .bind(id)
            .fetch_one(&self.db)
            .await?;
        Ok(view(row, now))
    }

    /// The grant a presented secret carries, if it is valid now.
    /// Revokes every token still in force (teardown); answers how many.
    pub async fn revoke_all(&self, now_ms: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("UPDATE upload_tokens SET revoked_at = ? WHERE revoked_at IS NULL")
            .bind(now_ms)
            .execute(&self.db)
            .await?
            .rows_affected())
    }

    pub async fn check(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<UploadGrant, UploadTokenError> {
        if !secret.starts_with(PREFIX) || secret.len() > 128 {
            return Err(UploadTokenError::Unknown);
        }
        // Looked up by hash: equal hashes are the only match, and the secret itself is
        // never compared byte by byte.
        let row: Option<(String, i64, i64, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, expires_at, max_bytes, max_uploads, revoked_at FROM upload_tokens WHERE secret_hash = ?")
                .bind(secret_hash(secret).to_vec())
                .fetch_optional(&self.db)
                .await?;
        let (id, expires_at, max_bytes, max_uploads, revoked_at) =
            row.ok_or(UploadTokenError::Unknown)?;
        if revoked_at.is_some() {
            return Err(UploadTokenError::Revoked);
        }
        if expires_at <= now.as_millisecond() {
            return Err(UploadTokenError::Expired);
        }
        Ok(UploadGrant { id, max_bytes: max_bytes as u64, max_uploads: max_uploads as u32 })
    }
}

impl UploadTokens {
    /// A request signed with a token ([`boothcloud_core::signing::upload`]): a booth
    /// forwarding media under the token this node issued it, without sending it. With
    /// the grant, the key its answer is proven under.
    pub async fn check_signed(
        &self,
        sig: &UploadSignature,
        req: &UploadRequest<'_>,
        now: Timestamp,
    ) -> Result<(UploadGrant, [u8; 32]), UploadTokenError> {
        let row: Option<(Vec<u8>, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT secret_hash, expires_at, max_bytes, max_uploads, revoked_at FROM upload_tokens WHERE id = ?",
        )
        .bind(&sig.token)
        .fetch_optional(&self.db)
        .await?;
        let (hash, expires_at, max_bytes, max_uploads, revoked_at) =
            row.ok_or(UploadTokenError::Unknown)?;
        let key: [u8; 32] = hash.try_into().map_err(|_| UploadTokenError::Unknown)?;
        sig.check(&key, req, now.as_second())?;
        // Admitted only once the signature checked out, so forgeries cannot fill the guard.
        self.replays
            .admit_until(sig.nonce, sig.ts + signed::MAX_SKEW_SECS, now.as_second())
            .map_err(|_| UploadTokenError::Replayed)?;
        if revoked_at.is_some() {
            return Err(UploadTokenError::Revoked);
        }
        if expires_at <= now.as_millisecond() {
            return Err(UploadTokenError::Expired);
        }
        let grant = UploadGrant {
            id: sig.token.clone(),
            max_bytes: max_bytes as u64,
            max_uploads: max_uploads as u32,
        };
        Ok((grant, key))
    }
}

fn secret_hash(secret: &str) -> [u8; 32] {
    signed::key_of(secret)
}

fn view(r: Row, now: Timestamp) -> TokenView {
    let (
        id,
        label,
        created_at,
        expires_at,
        max_bytes,
        max_uploads,
        revoked_at,
        used_bytes,
        uploads,
    ) = r;
    let state = if revoked_at.is_some() {
        "revoked"
    } else if expires_at <= now.as_millisecond() {
        "expired"
    } else {
        "active"
    };
    TokenView {
        id,
        label,
        created_at: Timestamp::from_millisecond(created_at).unwrap_or_default(),
        expires_at: Timestamp::from_millisecond(expires_at).unwrap_or_default(),
        max_bytes: max_bytes as u64,
        max_uploads: max_uploads as u32,
        used_bytes: used_bytes.max(0) as u64,
        uploads: uploads.max(0) as u32,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn tokens() -> (UploadTokens, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (db, _writer) = crate::storage::open(&dir.path().join("t.db")).await.unwrap();
        (UploadTokens::new(db), dir)
    }

    fn ask(label: &str) -> IssueRequest {
        IssueRequest {
            label: label.into(),
            expires_in_s: Some(600),
            max_bytes: None,
            max_uploads: None,
        }
    }

    #[tokio::test]
    async fn a_token_works_until_it_expires_or_is_revoked() {
        let (t, _dir) = tokens().await;
        let now: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        let issued = t.issue(ask("Camera 1"), 1 << 30, now).await.unwrap();
        assert!(issued.token.starts_with(PREFIX));
        let grant = t.check(&issued.token, now).await.unwrap();
        assert_eq!(grant.id, issued.view.id);
        assert_eq!(grant.max_bytes, 1 << 30);
        assert!(matches!(
            t.check(&issued.token, now + SignedDuration::from_secs(600)).await,
            Err(UploadTokenError::Expired)
        ));
        assert!(matches!(t.check("bcu_forged", now).await, Err(UploadTokenError::Unknown)));
        assert!(matches!(
            t.check(&issued.token.replace("bcu_", "xyz_"), now).await,
            Err(UploadTokenError::Unknown)
        ));
        let revoked = t.revoke(&issued.view.id, now).await.unwrap();
        assert_eq!(revoked.state, "revoked");
        assert!(matches!(t.check(&issued.token, now).await, Err(UploadTokenError::Revoked)));
        assert!(matches!(t.revoke("nope", now).await, Err(UploadTokenError::Unknown)));
    }

    #[tokio::test]
    async fn requests_out_of_range_are_refused() {
        let (t, _dir) = tokens().await;
        let now = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1);
        assert!(matches!(t.issue(ask("  "), 1, now).await, Err(UploadTokenError::Invalid(_))));
        let long =
            IssueRequest { expires_in_s: Some(MAX_LIFETIME.as_secs() as u64 + 1), ..ask("x") };
        assert!(matches!(t.issue(long, 1, now).await, Err(UploadTokenError::Invalid(_))));
        let zero = IssueRequest { max_uploads: Some(0), ..ask("x") };
        assert!(matches!(t.issue(zero, 1, now).await, Err(UploadTokenError::Invalid(_))));
        assert_eq!(t.list(now).await.unwrap().len(), 0);
    }

    #[tokio::test]
    async fn a_signed_request_works_once_under_its_token_and_never_after_revocation() {
        let (t, _dir) = tokens().await;
        let now: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        let issued = t.issue(ask("Stand 14"), 1 << 30, now).await.unwrap();
        let key = signed::key_of(&issued.token);
        let id = signed::token_id(&issued.token);
        assert_eq!(id, issued.view.id, "the forwarding booth names the token as it is listed");
        assert!(
            !boothcloud_core::signing::hex(&key).starts_with(&id),
            "the id says nothing about the key"
        );
        let head =
            UploadRequest { method: "HEAD", target: "/api/v1/uploads/abc", ..Default::default() };
        let sig = UploadSignature::sign(&key, &id, &head, now.as_second(), 7);
        assert_eq!(t.check_signed(&sig, &head, now).await.unwrap().0.id, id);
        assert!(matches!(t.check_signed(&sig, &head, now).await, Err(UploadTokenError::Replayed)));
        let other = UploadRequest { target: "/api/v1/uploads/xyz", ..head };
        let sig = UploadSignature::sign(&key, &id, &head, now.as_second(), 8);
        assert!(matches!(
            t.check_signed(&sig, &other, now).await,
            Err(UploadTokenError::Signature(UploadAuthError::BadSignature))
        ));
        let forged =
            UploadSignature::sign(&signed::key_of("bcu_guess"), &id, &head, now.as_second(), 9);
        assert!(matches!(
            t.check_signed(&forged, &head, now).await,
            Err(UploadTokenError::Signature(_))
        ));
        t.revoke(&id, now).await.unwrap();
        let sig = UploadSignature::sign(&key, &id, &head, now.as_second(), 10);
        assert!(matches!(t.check_signed(&sig, &head, now).await, Err(UploadTokenError::Revoked)));
    }
}
