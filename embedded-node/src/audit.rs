//! The audit log: every control action — who took it (the operator token, later a
//! runbook), from what (the desktop app, a browser, another client), what it changed
//! from and to, why, and how it ended — in an append-only table.
//!
//! Owns: the `audit` table (its triggers refuse updates and deletes) and the words an
//! entry is written in. Never: decides whether an action is allowed (the handlers do,
//! then record what happened, refusals included).

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Row, SqlitePool};

use boothcloud_core::clock::Clock;

/// Most entries one page of the log returns.
pub const MAX_PAGE: u32 = 500;

/// Who acted, and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub actor: &'static str,
    pub client: &'static str,
    pub why: std::borrow::Cow<'static, str>,
}

impl Who {
    /// The operator, by hand, from `client` (`app`, `dashboard` or `api`).
    pub fn operator(client: &'static str) -> Who {
        Who { actor: "operator", client, why: "manual".into() }
    }

    /// A runbook's step: run by the operator (`by`), or by its trigger (`None`).
    pub fn runbook(name: &str, by: Option<&Who>) -> Who {
        let why = format!("runbook {name}").into();
        match by {
            Some(op) => Who { actor: op.actor, client: op.client, why },
            None => Who { actor: "runbook", client: "node", why },
        }
    }

    /// Who, in a few words for a screen: "operator (app)", "runbook evening", "teardown".
    pub fn said_by(&self) -> String {
        if self.why == "manual" {
            format!("{} ({})", self.actor, self.client)
        } else {
            self.why.to_string()
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    pub client: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub why: String,
    pub result: String,
    /// For actions from the desktop app: the laptop's account the app runs under.
    pub desktop_user: Option<String>,
}

pub struct Audit {
    db: SqlitePool,
    clock: Arc<dyn Clock>,
    /// The operating-system account this process runs under: the desktop user, for
    /// actions that come from the app's window.
    desktop_user: Option<String>,
}

/// The account this process runs under (its name in the password database).
pub fn os_user() -> Option<String> {
    Some(whoami::username()).filter(|u| !u.is_empty() && u.len() <= 64 && u != "Unknown")
}

impl Audit {
    pub fn new(db: SqlitePool, clock: Arc<dyn Clock>) -> Audit {
        Audit { db, clock, desktop_user: None }
    }

    /// Records `user` as the desktop user of actions from the app's window.
    pub fn with_desktop_user(self, user: Option<String>) -> Audit {
        Audit { desktop_user: user, ..self }
    }

    /// Writes one entry. A failure to write is logged, never hidden: the action itself
    /// has already happened (or been refused) and is not undone for it.
    pub async fn record(
        &self,
        who: &Who,
        action: &str,
        before: Option<String>,
        after: Option<String>,
        result: Result<(), String>,
    ) {
        let result = match result {
            Ok(()) => "ok".to_owned(),
            Err(why) => why,
        };
        let written = sqlx::query(
            "INSERT INTO audit (at_ms, actor, client, action, before, after, why, result, desktop_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(self.clock.now().as_millisecond())
        .bind(who.actor)
        .bind(who.client)
        .bind(action)
        .bind(before)
        .bind(after)
        .bind(who.why.as_ref())
        .bind(&result)
        .bind(self.desktop_user.as_deref().filter(|_| who.client == "app"))
        .execute(&self.db)
        .await;
        match written {
            Ok(_) => tracing::info!(
                actor = who.actor,
                client = who.client,
                action,
                result,
                "control action"
            ),
            Err(e) => tracing::error!(error = %e, action, "could not write the audit log"),
        }
    }

    /// Newest first, before entry `before` (for paging).
    pub async fn list(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, client, action, before, after, why, result, desktop_user FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit.min(MAX_PAGE)))
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: Timestamp::from_millisecond(r.get(1)).unwrap_or(Timestamp::UNIX_EPOCH),
                actor: r.get(2),
                client: r.get(3),
                action: r.get(4),
                before: r.get(5),
                after: r.get(6),
                why: r.get(7),
                result: r.get(8),
                desktop_user: r.get(9),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boothcloud_core::clock::ManualClock;

    #[tokio::test]
    async fn entries_are_kept_newest_first_and_can_be_neither_changed_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _writer) = crate::storage::open(&dir.path().join("a.db")).await.unwrap();
        let clock = ManualClock::new("2026-06-10T07:00:00Z".parse().unwrap());
        let audit =
            Audit::new(db.clone(), Arc::new(clock.clone())).with_desktop_user(Some("booth".into()));
        audit
            .record(
                &Who::operator("app"),
                "uplink route",
                Some("auto".into()),
                Some("offline_only".into()),
                Ok(()),
            )
            .await;
        clock.advance(jiff::SignedDuration::from_secs(5));
        audit
            .record(
                &Who::operator("api"),
                "approve offline order",
                None,
                Some("q-1".into()),
                Err("no such approval".into()),
            )
            .await;
        let all = audit.list(None, 10).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].action.as_str(), all[0].result.as_str(), all[0].client.as_str()),
            ("approve offline order", "no such approval", "api")
        );
        assert_eq!(
            (all[1].before.as_deref(), all[1].after.as_deref(), all[1].why.as_str()),
            (Some("auto"), Some("offline_only"), "manual")
        );
        assert_eq!(
            (all[1].desktop_user.as_deref(), all[0].desktop_user.as_deref()),
            (Some("booth"), None),
            "the desktop user is named for the app's actions only"
        );
        assert_eq!(audit.list(Some(all[0].id), 10).await.unwrap().len(), 1, "paging by id");
        for sql in ["UPDATE audit SET result = 'ok'", "DELETE FROM audit"] {
            let e = sqlx::query(sql).execute(&db).await.unwrap_err();
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
    }
}
