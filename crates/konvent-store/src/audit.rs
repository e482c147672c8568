//! The audit log: who changed which governance record when, with the record before and
//! after the change, written in the transaction of the change itself.

use konvent_core::ids::AccountId;
use serde::Serialize;
use sqlx::{Any, Transaction};

use konvent_core::ids::ConferenceId;

use crate::events::append_event;
use crate::{Result, Store, StoreError, now_micros};

/// Who makes a change: a signed-in account, or the command line (no account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: Option<AccountId>,
    pub name: String,
}

impl Actor {
    pub fn account(id: AccountId, name: impl Into<String>) -> Self {
        Self {
            account_id: Some(id),
            name: name.into(),
        }
    }

    pub fn system(name: impl Into<String>) -> Self {
        Self {
            account_id: None,
            name: name.into(),
        }
    }
}

/// One change as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What one audit entry records.
pub(crate) struct Change<'a> {
    pub conference_id: Option<ConferenceId>,
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A record as the audit log keeps it.
pub(crate) fn snapshot(value: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Writes the audit entry of a change and its event-log entry (`<entity>_<action>`,
/// with the record's id), in the caller's transaction.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Any>,
    actor: &Actor,
    change: Change<'_>,
) -> Result<()> {
    let scope = match change.entity {
        "account" => "accounts",
        _ => "directory",
    };
    let kind = format!("{}_{}", change.entity, change.action);
    append_event(
        tx,
        scope,
        &kind,
        &serde_json::json!({ "id": change.entity_id }),
    )
    .await?;
    let text = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, conference_id, entity, entity_id, action, \
         before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now_micros())
    .bind(actor.account_id.map(AccountId::get))
    .bind(&actor.name)
    .bind(change.conference_id.map(ConferenceId::get))
    .bind(change.entity)
    .bind(change.entity_id)
    .bind(change.action)
    .bind(text(change.before))
    .bind(text(change.after))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type AuditRow = (
    i64,
    i64,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
);

impl Store {
    /// The changes that concern a conference: to the conference itself, its role
    /// assignments, and the persons who hold or held a role for it. Newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(conference_id = %conference_id))]
    pub async fn audit_for_conference(
        &self,
        conference_id: ConferenceId,
    ) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, entity, entity_id, action, before_json, after_json \
             FROM audit_log WHERE conference_id = $1 \
                OR (entity = 'person' AND entity_id IN \
                    (SELECT person_id FROM role_assignments \
                     WHERE conference_id = $1 AND person_id IS NOT NULL)) \
             ORDER BY at DESC, id DESC LIMIT 1000",
        )
        .bind(conference_id.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(audit_entry).collect()
    }
}

fn audit_entry(row: AuditRow) -> Result<AuditEntry> {
    let (id, at, actor, entity, entity_id, action, before, after) = row;
    let parse = |s: Option<String>| -> Result<Option<serde_json::Value>> {
        s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    };
    Ok(AuditEntry {
        id,
        at,
        actor,
        entity,
        entity_id,
        action,
        before: parse(before)?,
        after: parse(after)?,
    })
}
