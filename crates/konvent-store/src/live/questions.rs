//! Podium questions (K13): asked from the audience, supported with one vote per person,
//! approved, answered or rejected by the organizers.

use konvent_core::ids::{AccountId, EventId, QuestionId};
use konvent_core::taken::Taken;
use std::str::FromStr;

use konvent_core::convention::live::QuestionStatus;
use konvent_core::convention::log::{Audience, LiveRecord, Who, payload};

use super::log::{Entry, LiveTx, Tx, Written, append};
use crate::{Result, Store, StoreError, now_micros};

/// A podium question (K13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    pub text: String,
    pub author_id: Option<AccountId>,
    /// `None` when the asker chose to stay anonymous.
    pub asker: Option<Who>,
    pub status: QuestionStatus,
    pub votes: i64,
}

impl Question {
    fn payload(&self) -> payload::Question {
        payload::Question {
            id: self.id,
            text: self.text.clone(),
            asker: self.asker.clone(),
            status: self.status,
            votes: self.votes,
        }
    }

    /// Approved and answered questions are public; pending and rejected ones only the
    /// asker and the staff see.
    fn audience(&self) -> Audience {
        match self.status {
            QuestionStatus::Approved | QuestionStatus::Answered => Audience::All,
            QuestionStatus::Pending | QuestionStatus::Rejected => Audience::Staff,
        }
    }
}

/// (id, text, author id, author name, anonymous, status, votes)
type QuestionRow = (i64, String, Option<i64>, Option<String>, i64, String, i64);

/// The columns of a [`QuestionRow`]; the asker's name is the one they have in the event.
fn question_select() -> String {
    format!(
        "SELECT q.id, q.text, q.author_id, {}, q.anonymous, \
         q.status, (SELECT COUNT(*) FROM question_votes v WHERE v.question_id = q.id) AS votes \
         FROM questions q LEFT JOIN accounts a ON a.id = q.author_id",
        crate::pseudonyms::name_in_event("q.event_id", "a.id")
    )
}

async fn question(tx: &mut Tx, event_id: EventId, id: QuestionId) -> Result<Question> {
    let row: Option<QuestionRow> = sqlx::query_as(&format!(
        "{} WHERE q.id = $1 AND q.event_id = $2",
        question_select()
    ))
    .bind(id.get())
    .bind(event_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    question_from(row.ok_or(StoreError::NotFound)?)
}

fn question_from(row: QuestionRow) -> Result<Question> {
    let (id, text, author_id, name, anonymous, status, votes) = row;
    Ok(Question {
        id: QuestionId::new(id),
        text,
        author_id: author_id.map(AccountId::new),
        asker: if anonymous != 0 {
            None
        } else {
            author_id
                .zip(name)
                .map(|(id, name)| Who::new(AccountId::new(id), name))
        },
        status: QuestionStatus::from_str(&status).map_err(StoreError::Corrupt)?,
        votes,
    })
}

impl Store {
    /// A podium question from the audience (K13); it waits for approval.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id))]
    pub async fn ask(
        &self,
        event_id: EventId,
        by: &Who,
        text: &str,
        anonymous: bool,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO questions (event_id, author_id, anonymous, text, status, created_at) \
                     VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
            )
            .bind(event_id.get())
            .bind(by.id.get())
            .bind(i64::from(anonymous))
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            let q = question(tx, event_id, QuestionId::new(id)).await?;
            question_entry(tx, event_id, &q, by, client_id).await
        })
        .await
    }

    /// One vote per person and question.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, question_id = %question_id))]
    pub async fn upvote(
        &self,
        event_id: EventId,
        by: &Who,
        question_id: QuestionId,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            let q = question(tx, event_id, question_id).await?;
            if q.audience() != Audience::All {
                return Err(StoreError::NotFound);
            }
            sqlx::query("INSERT INTO question_votes (question_id, account_id) VALUES ($1, $2)")
                .bind(question_id.get())
                .bind(by.id.get())
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::refused_on_unique(e, Taken::QuestionVote))?;
            let q = question(tx, event_id, question_id).await?;
            question_entry(tx, event_id, &q, by, client_id).await
        })
        .await
    }

    /// Approves, marks answered or rejects a question. A question that was public and is
    /// no longer (rejected, or back to pending) first leaves everybody's pages: a
    /// `removed` entry for everybody, returned first (to be published before the
    /// question's own entry, which reaches only the staff and its asker).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, question_id = %question_id))]
    pub async fn moderate_question(
        &self,
        event_id: EventId,
        by: &Who,
        question_id: QuestionId,
        status: QuestionStatus,
        client_id: Option<&str>,
    ) -> Result<(Option<LiveRecord>, Written)> {
        // The `removed` entry, when the question leaves the public pages.
        let mut withdrawn = None;
        let written = self
            .live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
                let before = question(tx, event_id, question_id).await?;
                sqlx::query("UPDATE questions SET status = $1 WHERE id = $2 AND event_id = $3")
                    .bind(status.as_str())
                    .bind(question_id.get())
                    .bind(event_id.get())
                    .execute(&mut **tx)
                    .await?;
                let q = question(tx, event_id, question_id).await?;
                if before.audience() == Audience::All && q.audience() != Audience::All {
                    let entry = Entry::to_all(None, by.id, None);
                    let removed = payload::Removed {
                        item: crate::ModeratedItem::Question.as_str().to_owned(),
                        id: question_id.get(),
                    };
                    withdrawn = Some(append(tx, event_id, entry, |_| removed).await?);
                }
                question_entry(tx, event_id, &q, by, client_id).await
            })
            .await?;
        // Committed with the question's entry only when that one is new.
        Ok((withdrawn.filter(|_| written.fresh), written))
    }

    /// The questions of an event, most votes first; `staff` also sees pending and
    /// rejected ones, `asker` their own.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, viewer = viewer.map(AccountId::get)))]
    pub async fn questions(
        &self,
        event_id: EventId,
        viewer: Option<AccountId>,
        staff: bool,
    ) -> Result<Vec<Question>> {
        let rows: Vec<QuestionRow> = sqlx::query_as(&format!(
            "{} WHERE q.event_id = $1 ORDER BY votes DESC, q.id",
            question_select()
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let q = question_from(row)?;
            if staff || q.audience() == Audience::All || (viewer.is_some() && q.author_id == viewer)
            {
                out.push(q);
            }
        }
        Ok(out)
    }

    /// The questions of an event that `account` supported (K13), for the page to mark
    /// them.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account = %account))]
    pub async fn question_votes(
        &self,
        event_id: EventId,
        account: AccountId,
    ) -> Result<Vec<QuestionId>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT v.question_id FROM question_votes v JOIN questions q ON q.id = v.question_id \
             WHERE q.event_id = $1 AND v.account_id = $2 ORDER BY v.question_id",
        )
        .bind(event_id.get())
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| QuestionId::new(id)).collect())
    }
}

async fn question_entry(
    tx: &mut Tx,
    event_id: EventId,
    q: &Question,
    by: &Who,
    client_id: Option<&str>,
) -> Result<LiveRecord> {
    let entry = Entry {
        room: None,
        audience: q.audience(),
        sender_id: Some(by.id),
        // The asker follows their question through every status, also when the
        // organizers approve or reject it (a pending or rejected one reaches only the
        // staff and its asker).
        recipient_id: q.author_id,
        client_id,
    };
    append(tx, event_id, entry, |_| q.payload()).await
}
