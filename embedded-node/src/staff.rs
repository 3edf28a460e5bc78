//! Staff: the people the booth lead lets sell at the counter. Each has a name and a PIN
//! the lead sets (and can reset); each signs in on a device and gets a session that
//! ends after a while without use, or when they sign out, are removed or get a new PIN.
//!
//! Owns: the `staff` table (argon2id PIN hashes, wrong-PIN counts and lockouts) and the
//! sessions (in memory: a restart signs everyone out). Never: decides what staff may do
//! (the HTTP edge and checkout do), or keeps or logs a PIN or a session token.
//!
//! Invariants: a PIN is checked in constant time by argon2 on a blocking thread; after
//! [`MAX_FAILURES`] wrong PINs in a row a person is locked for [`LOCKOUT`], whatever PIN
//! is tried; a session token is stored only as its SHA-256.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use boothcloud_core::clock::Clock;

/// Wrong PINs in a row before a lockout.
pub const MAX_FAILURES: i64 = 5;
/// How long a lockout lasts.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(5);
/// A session unused this long ends.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// Most staff at once, and most sessions at once.
pub const MAX_STAFF: i64 = 200;
const MAX_SESSIONS: usize = 1_000;
/// Session tokens start with this, so one pasted in the wrong place is recognisable.
pub const PREFIX: &str = "bcs_";

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("someone called {0} is already on the staff")]
    NameTaken(String),
    #[error("no one on the staff has that id")]
    Unknown,
    #[error("that name and PIN do not match")]
    WrongPin,
    #[error("too many wrong PINs for this name: try again in {minutes} min, or ask the lead for a new PIN")]
    Locked { minutes: i64, retry_after_s: i64 },
    #[error("there are already {MAX_STAFF} people on the staff")]
    TooMany,
    #[error("the PIN could not be checked: {0}")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A person on the staff, as the lead sees them (never the PIN).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
    /// Locked after too many wrong PINs, until then.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    /// Devices signed in as this person now.
    pub sessions: u32,
}

/// Someone signed in.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
}

struct Session {
    member: Member,
    last_used: Timestamp,
}

pub struct Staff {
    db: SqlitePool,
    clock: Arc<dyn Clock>,
    /// By the SHA-256 of the session token.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    /// A hash of a PIN no one has, checked when a name is unknown (made once).
    decoy: tokio::sync::OnceCell<String>,
    /// Sign-ins, PIN resets and removals one at a time: a burst of guesses cannot all pass
    /// the lockout check before the first failure counts, a sign-in that was checking an
    /// old PIN cannot finish after the reset, and at most one PIN hash (~19 MiB, tens of
    /// milliseconds) is computed at once on the booth laptop.
    one_at_a_time: tokio::sync::Mutex<()>,
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn check_name(name: &str) -> Result<String, StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(StaffError::Invalid("a name is 1 to 40 characters".into()));
    }
    Ok(name.to_owned())
}

fn check_pin(pin: &str) -> Result<(), StaffError> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StaffError::Invalid("a PIN is 4 to 12 digits".into()));
    }
    Ok(())
}

async fn hash_pin(pin: String) -> Result<String, StaffError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())?;
        Argon2::default().hash_password(pin.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| StaffError::Hash(e.to_string()))?
    .map_err(|e| StaffError::Hash(e.to_string()))
}

async fn pin_matches(pin: String, hash: String) -> Result<bool, StaffError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| StaffError::Hash(e.to_string()))?;
        Ok(Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| StaffError::Hash(e.to_string()))?
}

impl Staff {
    pub fn new(db: SqlitePool, clock: Arc<dyn Clock>) -> Staff {
        Staff {
            db,
            clock,
            sessions: Mutex::default(),
            decoy: tokio::sync::OnceCell::new(),
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lead adds someone with a PIN.
    pub async fn add(&self, name: &str, pin: &str) -> Result<StaffView, StaffError> {
        let name = check_name(name)?;
        check_pin(pin)?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE removed_ms IS NULL")
            .fetch_one(&self.db)
            .await?;
        if count >= MAX_STAFF {
            return Err(StaffError::TooMany);
        }
        let hash = hash_pin(pin.to_owned()).await?;
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let now = self.clock.now();
        let added =
            sqlx::query("INSERT INTO staff (id, name, pin_hash, created_ms) VALUES (?, ?, ?, ?)")
                .bind(&id)
                .bind(&name)
                .bind(&hash)
                .bind(now.as_millisecond())
                .execute(&self.db)
                .await;
        match added {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StaffError::NameTaken(name))
            }
            Err(e) => Err(e.into()),
            Ok(_) => Ok(StaffView { id, name, added_at: now, locked_until: None, sessions: 0 }),
        }
    }

    /// Everyone on the staff now, by name.
    pub async fn list(&self) -> Result<Vec<StaffView>, StaffError> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_ms, locked_until_ms FROM staff WHERE removed_ms IS NULL ORDER BY name COLLATE NOCASE",
        )
        .fetch_all(&self.db)
        .await?;
        let now = self.clock.now();
        let mut sessions = self.sessions();
        sessions.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        Ok(rows
            .into_iter()
            .map(|(id, name, created, locked)| StaffView {
                sessions: sessions.values().filter(|s| s.member.id == id).count() as u32,
                id,
                name,
                added_at: ts(created),
                locked_until: locked.map(ts).filter(|t| *t > now),
            })
            .collect())
    }

    /// The lead sets a new PIN: the lockout ends and the person's sessions with it.
    pub async fn reset_pin(&self, id: &str, pin: &str) -> Result<StaffView, StaffError> {
        check_pin(pin)?;
        let _one = self.one_at_a_time.lock().await;
        let hash = hash_pin(pin.to_owned()).await?;
        let done = sqlx::query(
            "UPDATE staff SET pin_hash = ?, failures = 0, locked_until_ms = NULL WHERE id = ? AND removed_ms IS NULL",
        )
        .bind(&hash)
        .bind(id)
        .execute(&self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StaffError::Unknown);
        }
        self.end_sessions_of(id);
        self.list().await?.into_iter().find(|s| s.id == id).ok_or(StaffError::Unknown)
    }

    /// The lead removes someone: their sessions end at once.
    pub async fn remove(&self, id: &str) -> Result<String, StaffError> {
        let _one = self.one_at_a_time.lock().await;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE staff SET removed_ms = ? WHERE id = ? AND removed_ms IS NULL RETURNING name",
        )
        .bind(self.clock.now().as_millisecond())
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        self.end_sessions_of(id);
        name.ok_or(StaffError::Unknown)
    }

    fn end_sessions_of(&self, id: &str) {
        self.sessions().retain(|_, s| s.member.id != id);
    }

    /// Someone signs in on a device with their name and PIN: a session token (shown
    /// once). Wrong PINs count; enough of them lock the person.
    pub async fn sign_in(&self, name: &str, pin: &str) -> Result<(Member, String), StaffError> {
        let _one = self.one_at_a_time.lock().await;
        // Anything longer than a PIN is checked as an empty one: the same work, no more.
        let pin = if pin.len() <= 64 { pin } else { "" };
        let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, pin_hash, failures, locked_until_ms FROM staff WHERE name = ? COLLATE NOCASE AND removed_ms IS NULL",
        )
        .bind(name.trim())
        .fetch_optional(&self.db)
        .await?;
        let Some((id, name, hash, _, locked)) = row else {
            // As slow as a real check, so a name cannot be told from its timing.
            let decoy = self
                .decoy
                .get_or_try_init(|| hash_pin(format!("{:x}", rand::random::<u128>())))
                .await?;
            let _ = pin_matches(pin.to_owned(), decoy.clone()).await;
            return Err(StaffError::WrongPin);
        };
        let now = self.clock.now();
        if let Some(until) = locked.map(ts).filter(|t| *t > now) {
            let left = until.duration_since(now);
            return Err(StaffError::Locked {
                minutes: left.as_mins().max(1),
                retry_after_s: left.as_secs().max(1),
            });
        }
        // The hash is always checked, a malformed PIN too: its answer takes as long.
        if !pin_matches(pin.to_owned(), hash).await? || check_pin(pin).is_err() {
            let failures: i64 = sqlx::query_scalar(
                "UPDATE staff SET failures = failures + 1 WHERE id = ? RETURNING failures",
            )
            .bind(&id)
            .fetch_one(&self.db)
            .await?;
            if failures >= MAX_FAILURES {
                sqlx::query("UPDATE staff SET failures = 0, locked_until_ms = ? WHERE id = ?")
                    .bind((now + LOCKOUT).as_millisecond())
                    .bind(&id)
                    .execute(&self.db)
                    .await?;
                return Err(StaffError::Locked {
                    minutes: LOCKOUT.as_mins(),
                    retry_after_s: LOCKOUT.as_secs(),
                });
            }
            return Err(StaffError::WrongPin);
        }
        sqlx::query("UPDATE staff SET failures = 0, locked_until_ms = NULL WHERE id = ?")
            .bind(&id)
            .execute(&self.db)
            .await?;
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        let token =
            format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        let member = Member { id, name };
        let mut sessions = self.sessions();
        sessions.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        if sessions.len() >= MAX_SESSIONS {
            return Err(StaffError::Invalid(
                "too many devices are signed in; sign some out".into(),
            ));
        }
        sessions.insert(token_key(&token), Session { member: member.clone(), last_used: now });
        Ok((member, token))
    }

    /// The person a session token belongs to, if it is live; using it keeps it alive.
    pub fn session(&self, token: &str) -> Option<Member> {
        if !token.starts_with(PREFIX) {
            return None;
        }
        let now = self.clock.now();
        let mut sessions = self.sessions();
        let key = token_key(token);
        match sessions.get_mut(&key) {
            Some(s) if now.duration_since(s.last_used) < IDLE => {
                s.last_used = now;
                Some(s.member.clone())
            }
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Signs a device out.
    pub fn sign_out(&self, token: &str) -> Option<Member> {
        self.sessions().remove(&token_key(token)).map(|s| s.member)
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boothcloud_core::clock::ManualClock;

    async fn staff() -> (Staff, ManualClock, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (db, _writer) = crate::storage::open(&dir.path().join("s.db")).await.unwrap();
        let clock = ManualClock::new("2026-12-05T10:00:00Z".parse().unwrap());
        (Staff::new(db, Arc::new(clock.clone())), clock, dir)
    }

    #[tokio::test]
    async fn a_pin_signs_in_and_the_session_ends_when_idle_or_on_a_new_pin() {
        let (s, clock, _dir) = staff().await;
        let ana = s.add("Ana", "4821").await.unwrap();
        assert!(matches!(s.add("ana", "1111").await, Err(StaffError::NameTaken(_))));
        assert!(matches!(s.add("Bo", "12").await, Err(StaffError::Invalid(_))));
        let (who, token) = s.sign_in("ana", "4821").await.unwrap();
        assert_eq!(who.name, "Ana");
        assert!(token.starts_with(PREFIX));
        assert_eq!(s.session(&token).unwrap().id, ana.id);
        clock.advance(IDLE - SignedDuration::from_secs(1));
        assert!(s.session(&token).is_some(), "use keeps it alive");
        clock.advance(IDLE);
        assert!(s.session(&token).is_none(), "idle too long");
        let (_, token) = s.sign_in("Ana", "4821").await.unwrap();
        s.reset_pin(&ana.id, "9090").await.unwrap();
        assert!(s.session(&token).is_none(), "a new PIN ends the sessions");
        assert!(matches!(s.sign_in("Ana", "4821").await, Err(StaffError::WrongPin)));
        assert!(s.sign_in("Ana", "9090").await.is_ok());
        assert!(matches!(s.sign_in("Nobody", "9090").await, Err(StaffError::WrongPin)));
    }

    #[tokio::test]
    async fn wrong_pins_lock_a_person_out_until_the_lockout_ends_or_the_lead_resets() {
        let (s, clock, _dir) = staff().await;
        let ana = s.add("Ana", "4821").await.unwrap();
        s.add("Bo", "5555").await.unwrap();
        for _ in 1..MAX_FAILURES {
            assert!(matches!(s.sign_in("Ana", "0000").await, Err(StaffError::WrongPin)));
        }
        assert!(matches!(s.sign_in("Ana", "0000").await, Err(StaffError::Locked { .. })));
        assert!(
            matches!(s.sign_in("Ana", "4821").await, Err(StaffError::Locked { .. })),
            "even the right PIN, while locked"
        );
        assert!(s.sign_in("Bo", "5555").await.is_ok(), "others are not locked");
        assert!(s
            .list()
            .await
            .unwrap()
            .iter()
            .any(|v| v.name == "Ana" && v.locked_until.is_some()));
        clock.advance(LOCKOUT);
        assert!(s.sign_in("Ana", "4821").await.is_ok());
        for _ in 0..MAX_FAILURES {
            let _ = s.sign_in("Ana", "0000").await;
        }
        s.reset_pin(&ana.id, "1234").await.unwrap();
        assert!(s.sign_in("Ana", "1234").await.is_ok(), "a reset lifts the lockout");
        let removed = s.remove(&ana.id).await.unwrap();
        assert_eq!(removed, "Ana");
        assert!(matches!(s.sign_in("Ana", "1234").await, Err(StaffError::WrongPin)));
    }

    #[tokio::test]
    async fn a_burst_of_guesses_at_once_gets_no_more_tries_than_one_at_a_time() {
        let (s, _clock, _dir) = staff().await;
        s.add("Ana", "4821").await.unwrap();
        // Seven wrong guesses and the right PIN, all sent at once: the lock the fifth
        // wrong one sets holds for the rest, the right PIN included.
        let pins = ["0000", "0001", "0002", "0003", "0004", "0005", "0006", "4821"];
        let answers =
            futures_util::future::join_all(pins.iter().map(|p| s.sign_in("Ana", p))).await;
        assert!(answers.iter().all(|a| a.is_err()), "no guess got in past the lock");
        let wrong = answers.iter().filter(|a| matches!(a, Err(StaffError::WrongPin))).count();
        assert_eq!(wrong, MAX_FAILURES as usize - 1);
        assert!(matches!(answers[7], Err(StaffError::Locked { .. })));
    }
}
