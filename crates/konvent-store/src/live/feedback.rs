//! The feedback survey of an event (K14): opened and closed by the organizers, answered
//! once per person, evaluated without names.

use konvent_core::convention::log::{Who, payload};
use konvent_core::ids::{AccountId, EventId};
use konvent_core::taken::Taken;

use super::log::{Entry, LiveTx, Written, append};
use crate::{Result, Store, StoreError};

/// The feedback of an event, without names (K14).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedbackResults {
    pub answers: i64,
    /// Count per rating 1–5.
    pub ratings: [i64; 5],
    pub comments: Vec<String>,
}

impl FeedbackResults {
    pub fn average(&self) -> Option<f64> {
        let sum: i64 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1) * n)
            .sum();
        (self.answers > 0).then(|| sum as f64 / self.answers as f64)
    }
}

impl Store {
    /// Opens or closes the feedback survey (K14).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id))]
    pub async fn set_feedback_open(
        &self,
        event_id: EventId,
        by: &Who,
        open: bool,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, None, async |LiveTx(tx)| {
            sqlx::query("UPDATE events SET feedback_open = $1 WHERE id = $2")
                .bind(i64::from(open))
                .bind(event_id.get())
                .execute(&mut **tx)
                .await?;
            let entry = Entry::to_all(None, by.id, None);
            append(tx, event_id, entry, |_| payload::FeedbackOpen { open }).await
        })
        .await
    }

    /// Stores one feedback answer; a second one from the same person is a conflict.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn submit_feedback(
        &self,
        event_id: EventId,
        account_id: AccountId,
        rating: i64,
        comment: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO feedback_given (event_id, account_id) VALUES ($1, $2)")
            .bind(event_id.get())
            .bind(account_id.get())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::refused_on_unique(e, Taken::Feedback))?;
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO feedback_answers (id, event_id, rating, comment) VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from_le_bytes(id) & i64::MAX)
        .bind(event_id.get())
        .bind(rating)
        .bind(comment)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn has_given_feedback(
        &self,
        event_id: EventId,
        account_id: AccountId,
    ) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM feedback_given WHERE event_id = $1 AND account_id = $2")
                .bind(event_id.get())
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// The answers without names; comments in a stable order that is not the order of
    /// submission.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn feedback_results(&self, event_id: EventId) -> Result<FeedbackResults> {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT rating, comment FROM feedback_answers WHERE event_id = $1 ORDER BY id",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut results = FeedbackResults::default();
        for (rating, comment) in rows {
            results.answers += 1;
            if let Some(slot) = usize::try_from(rating - 1)
                .ok()
                .and_then(|i| results.ratings.get_mut(i))
            {
                *slot += 1;
            }
            if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
                results.comments.push(c);
            }
        }
        Ok(results)
    }
}
