//! Enrolled kiosks: the booth's own devices (kiosks, staff tablets), each named by the
//! lead and holding a token of its own, so the booth knows them apart from strangers'
//! phones — more generous rate limits — and the lead can cut one off at once.
//!
//! Owns: the `kiosks` table and the set of live tokens (by SHA-256, in memory, so a
//! request's check is a map lookup). Never: stores or logs a token; lets a revoked
//! token through after the revoke returned.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use boothcloud_core::clock::Clock;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// The header an enrolled kiosk sends its token in.
pub const KIOSK_HEADER: &str = "x-boothcloud-kiosk";
const PREFIX: &str = "bck_";
/// At most this many kiosks enrolled at once (a booth has tens).
pub const MAX_KIOSKS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("no enrolled kiosk has that id")]
    Unknown,
    #[error("{MAX_KIOSKS} kiosks are enrolled already: revoke one first")]
    TooMany,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A kiosk as the lead sees it (never its token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KioskView {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: jiff::Timestamp,
    /// When it last sent its token, since the node started.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<jiff::Timestamp>,
    /// Orders it took offline and has not delivered yet, as it last said.
    pub waiting_orders: u32,
    /// Their total (minor units).
    pub waiting_total: i64,
}

/// What a kiosk last said of its offline queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waiting {
    pub orders: u32,
    pub total: i64,
}

/// Most orders a kiosk may say it holds (its manifest limit is far below).
pub const MAX_WAITING: u32 = 100_000;

/// An enrolled kiosk, as a request carries it.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

pub struct Kiosks {
    db: SqlitePool,
    clock: Arc<dyn Clock>,
    live: RwLock<HashMap<[u8; 32], Enrolled>>,
    seen: RwLock<HashMap<Arc<str>, jiff::Timestamp>>,
    waiting: RwLock<HashMap<Arc<str>, Waiting>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Kiosks {
    /// The enrolled kiosks not revoked, loaded once.
    pub async fn load(db: SqlitePool, clock: Arc<dyn Clock>) -> Result<Kiosks, sqlx::Error> {
        let rows: Vec<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT id, name, token_sha256 FROM kiosks WHERE revoked_ms IS NULL")
                .fetch_all(&db)
                .await?;
        let live = rows
            .into_iter()
            .filter_map(|(id, name, hash)| {
                let hash: [u8; 32] = hash.try_into().ok()?;
                Some((hash, Enrolled { id: id.into(), name: name.into() }))
            })
            .collect();
        Ok(Kiosks {
            db,
            clock,
            live: RwLock::new(live),
            seen: RwLock::default(),
            waiting: RwLock::default(),
        })
    }

    /// Enrolls a kiosk named `name`: its view and its token (shown once).
    pub async fn enroll(&self, name: &str) -> Result<(KioskView, String), KioskError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(KioskError::Invalid("a kiosk's name is 1 to 60 characters"));
        }
        if self.live.read().expect("not poisoned").len() >= MAX_KIOSKS {
            return Err(KioskError::TooMany);
        }
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        let hash = digest(&token);
        sqlx::query("INSERT INTO kiosks (id, name, token_sha256, created_ms) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(name)
            .bind(&hash[..])
            .bind(now.as_millisecond())
            .execute(&self.db)
            .await?;
        self.live
            .write()
            .expect("not poisoned")
            .insert(hash, Enrolled { id: id.as_str().into(), name: name.into() });
        let view = KioskView {
            id,
            name: name.to_owned(),
            enrolled_at: now,
            last_seen: None,
            waiting_orders: 0,
            waiting_total: 0,
        };
        Ok((view, token))
    }

    /// Revokes a kiosk: its token is refused from this moment. Answers its name.
    pub async fn revoke(&self, id: &str) -> Result<String, KioskError> {
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE kiosks SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL RETURNING name",
        )
        .bind(self.clock.now().as_millisecond())
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let name = name.ok_or(KioskError::Unknown)?;
        self.live.write().expect("not poisoned").retain(|_, k| &*k.id != id);
        self.waiting.write().expect("not poisoned").remove(id);
        Ok(name)
    }

    /// The kiosks enrolled and not revoked, oldest first.
    pub async fn list(&self) -> Result<Vec<KioskView>, KioskError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_ms FROM kiosks WHERE revoked_ms IS NULL ORDER BY created_ms, id",
        )
        .fetch_all(&self.db)
        .await?;
        let seen = self.seen.read().expect("not poisoned");
        let waiting = self.waiting.read().expect("not poisoned");
        Ok(rows
            .into_iter()
            .map(|(id, name, ms)| KioskView {
                last_seen: seen.get(id.as_str()).copied(),
                waiting_orders: waiting.get(id.as_str()).map_or(0, |w| w.orders),
                waiting_total: waiting.get(id.as_str()).map_or(0, |w| w.total),
                enrolled_at: jiff::Timestamp::from_millisecond(ms).unwrap_or_default(),
                id,
                name,
            })
            .collect())
    }

    /// Notes what a kiosk says it holds in its offline queue.
    pub fn report_waiting(&self, kiosk: &Enrolled, waiting: Waiting) {
        let mut all = self.waiting.write().expect("not poisoned");
        if waiting.orders == 0 {
            all.remove(&kiosk.id);
        } else {
            all.insert(kiosk.id.clone(), waiting);
        }
    }

    /// Every kiosk's offline queue together, as last said: orders and their total.
    pub fn waiting(&self) -> Waiting {
        let all = self.waiting.read().expect("not poisoned");
        all.values().fold(Waiting::default(), |sum, w| Waiting {
            orders: sum.orders.saturating_add(w.orders),
            total: sum.total.saturating_add(w.total),
        })
    }

    /// The kiosk holding `token`, if it is enrolled and not revoked.
    pub fn check(&self, token: &str) -> Option<Enrolled> {
        if !token.starts_with(PREFIX) {
            return None;
        }
        let found = self.live.read().expect("not poisoned").get(&digest(token)).cloned()?;
        self.seen.write().expect("not poisoned").insert(found.id.clone(), self.clock.now());
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestBooth;

    #[tokio::test]
    async fn an_enrolled_kiosk_is_known_by_its_token_until_revoked_even_across_restarts() {
        let booth = TestBooth::with(None).await;
        let kiosks =
            Kiosks::load(booth.services.db.clone(), booth.services.clock.clone()).await.unwrap();
        let (view, token) = kiosks.enroll("  Kiosk 1 ").await.unwrap();
        assert_eq!(view.name, "Kiosk 1");
        assert!(token.starts_with("bck_") && token.len() > 40);
        assert_eq!(&*kiosks.check(&token).unwrap().id, view.id);
        assert!(kiosks.check("bck_not-a-token").is_none());
        assert!(kiosks.check(&token[4..]).is_none());
        let listed = kiosks.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_seen.is_some());

        // Another start of the node knows it too.
        let again =
            Kiosks::load(booth.services.db.clone(), booth.services.clock.clone()).await.unwrap();
        assert!(again.check(&token).is_some());
        assert_eq!(again.revoke(&view.id).await.unwrap(), "Kiosk 1");
        assert!(again.check(&token).is_none(), "refused at once");
        assert!(matches!(again.revoke(&view.id).await, Err(KioskError::Unknown)));
        let third =
            Kiosks::load(booth.services.db.clone(), booth.services.clock.clone()).await.unwrap();
        assert!(third.check(&token).is_none(), "and after a restart");
        assert!(third.list().await.unwrap().is_empty());
        assert!(matches!(third.enroll(" ").await, Err(KioskError::Invalid(_))));
    }
}
