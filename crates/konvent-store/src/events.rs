//! The event log (DESIGN.md "Event log"): every durable change inside a scope gets the
//! next sequence number of that scope in the same transaction as its effect, so a client
//! that resumes from its last sequence misses nothing and sees nothing twice.

use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::{Result, Store, now_micros};

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub scope: String,
    pub seq: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub at: i64,
}

/// Appends an event inside the caller's transaction and returns its sequence number.
/// The counter row is locked by the update until the transaction ends, so concurrent
/// writers to the same scope queue up instead of taking the same number.
pub(crate) async fn append_event(
    tx: &mut Transaction<'static, Any>,
    scope: &str,
    kind: &str,
    payload: &impl Serialize,
) -> Result<i64> {
    let payload =
        serde_json::to_string(payload).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO event_scopes (scope, last_seq) VALUES ($1, 1) \
         ON CONFLICT (scope) DO UPDATE SET last_seq = event_scopes.last_seq + 1 \
         RETURNING last_seq",
    )
    .bind(scope)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO event_log (scope, seq, kind, payload, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(scope)
    .bind(seq)
    .bind(kind)
    .bind(payload)
    .bind(now_micros())
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

impl Store {
    /// The events of `scope` after sequence `after`, in order, at most `limit`.
    #[tracing::instrument(level = "debug", skip_all, fields(scope = %scope, after = after))]
    pub async fn events_since(
        &self,
        scope: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>> {
        let rows: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT scope, seq, kind, payload, at FROM event_log \
             WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(scope)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(scope, seq, kind, payload, at)| {
                Ok(LoggedEvent {
                    scope,
                    seq,
                    kind,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
                    at,
                })
            })
            .collect()
    }
}
