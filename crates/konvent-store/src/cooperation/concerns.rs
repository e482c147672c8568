//! The conferences' concerns (G7): submitted by a conference, triaged by the office,
//! possibly onto a session's agenda.

use konvent_core::gremien::cooperation::{ConcernInput, ConcernKind, ConcernStatus, TriageInput};
use konvent_core::ids::{AccountId, AgendaItemId, ConcernId, ConferenceId, SessionId};
use konvent_core::notifications::NoticeKind;
use serde::Serialize;
use sqlx::FromRow;

use crate::audit::{self, Actor, Change};
use crate::notifications::{NoticeTopic, Render, notify};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concern {
    pub id: ConcernId,
    pub conference: String,
    pub conference_name: String,
    pub kind: ConcernKind,
    pub title: String,
    pub body: String,
    pub submitter: String,
    pub status: ConcernStatus,
    pub answer: Option<String>,
    /// The session whose agenda took it up.
    pub session_number: Option<i64>,
    pub created_at: i64,
}

#[derive(FromRow)]
struct ConcernRow {
    id: i64,
    conference: String,
    conference_name: String,
    kind: String,
    title: String,
    body: String,
    submitter: String,
    status: String,
    answer: Option<String>,
    session_number: Option<i64>,
    created_at: i64,
}

const CONCERN_SELECT: &str = "SELECT k.id, c.abbreviation AS conference, c.name AS conference_name, \
    k.kind, k.title, k.body, k.submitter, k.status, k.answer, s.number AS session_number, \
    k.created_at FROM concerns k JOIN conferences c ON c.id = k.conference_id \
    LEFT JOIN agenda_items i ON i.id = k.agenda_item_id \
    LEFT JOIN council_sessions s ON s.id = i.session_id";

impl TryFrom<ConcernRow> for Concern {
    type Error = StoreError;
    fn try_from(r: ConcernRow) -> Result<Self> {
        let corrupt = |e: &str| StoreError::Corrupt(e.to_owned());
        Ok(Self {
            id: ConcernId::new(r.id),
            conference: r.conference,
            conference_name: r.conference_name,
            kind: r.kind.parse().map_err(corrupt)?,
            title: r.title,
            body: r.body,
            submitter: r.submitter,
            status: r.status.parse().map_err(corrupt)?,
            answer: r.answer,
            session_number: r.session_number,
            created_at: r.created_at,
        })
    }
}

impl Store {
    /// Submits a concern or topic proposal of a conference.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), abbreviation = %abbreviation))]
    pub async fn submit_concern(
        &self,
        actor: &Actor,
        abbreviation: &str,
        input: &ConcernInput,
    ) -> Result<ConcernId> {
        let mut tx = self.begin_write().await?;
        let conference = crate::directory::conference_id(&mut tx, abbreviation).await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO concerns (conference_id, kind, title, body, submitter_id, submitter, status, \
             created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING id",
        )
        .bind(conference.get())
        .bind(input.kind.as_str())
        .bind(&input.title)
        .bind(&input.body)
        .bind(actor.account_id.map(AccountId::get))
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(conference),
                entity: "concern",
                entity_id: id,
                action: "submitted",
                before: None,
                after: audit::snapshot(input),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ConcernId::new(id))
    }

    /// Concerns, newest first; limited to some conferences if given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn concerns(&self, conferences: Option<&[String]>) -> Result<Vec<Concern>> {
        let rows: Vec<ConcernRow> = sqlx::query_as(&format!(
            "{CONCERN_SELECT} ORDER BY k.created_at DESC, k.id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter(|r| conferences.is_none_or(|only| only.contains(&r.conference)))
            .map(Concern::try_from)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn concern(&self, id: ConcernId) -> Result<Concern> {
        let row: ConcernRow = sqlx::query_as(&format!("{CONCERN_SELECT} WHERE k.id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Decides on a concern; "accepted" puts it on the agenda of the given session.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn triage_concern(
        &self,
        actor: &Actor,
        id: ConcernId,
        triage: &TriageInput,
    ) -> Result<()> {
        self.triage_concern_with(actor, id, triage, None)
            .await
            .map(|_| ())
    }

    /// [`Self::triage_concern`], and when it answers the concern, the mail to its
    /// author in the same transaction (unless they turned it off). Returns the number
    /// of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn triage_concern_notifying(
        &self,
        actor: &Actor,
        id: ConcernId,
        triage: &TriageInput,
        render: Render<'_>,
    ) -> Result<usize> {
        self.triage_concern_with(actor, id, triage, Some(render))
            .await
    }

    async fn triage_concern_with(
        &self,
        actor: &Actor,
        id: ConcernId,
        triage: &TriageInput,
        render: Option<Render<'_>>,
    ) -> Result<usize> {
        let before = self.concern(id).await?;
        let mut tx = self.begin_write().await?;
        let agenda_item = match (triage.status, triage.session_number) {
            (ConcernStatus::Accepted, Some(number)) if before.session_number != Some(number) => {
                let session: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT id, date, state FROM council_sessions \
                     WHERE number = $1 AND deleted_at IS NULL",
                )
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((session, date, state)) = session else {
                    let mut errors = konvent_core::FieldErrors::new();
                    errors.add(
                        "session_number",
                        "unknown-session",
                        "Diese Sitzung gibt es nicht.",
                    );
                    return Err(StoreError::Invalid(errors));
                };
                crate::council::check_upcoming(number, &date, &state, "session_number")?;
                let title = format!("Anliegen der {}: {}", before.conference, before.title);
                Some(
                    crate::council::insert_agenda_item(
                        &mut tx,
                        actor,
                        SessionId::new(session),
                        &title,
                        false,
                    )
                    .await?,
                )
            }
            _ => None,
        };
        sqlx::query(
            "UPDATE concerns SET status = $1, answer = $2, \
             agenda_item_id = COALESCE($3, agenda_item_id), modified_at = $4 WHERE id = $5",
        )
        .bind(triage.status.as_str())
        .bind(&triage.answer)
        .bind(agenda_item.map(AgendaItemId::get))
        .bind(now_micros())
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
        let (conference, submitter): (i64, Option<i64>) =
            sqlx::query_as("SELECT conference_id, submitter_id FROM concerns WHERE id = $1")
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
        let mut queued = 0;
        if let (Some(render), Some(submitter)) = (render, submitter)
            && triage.status == ConcernStatus::Answered
            && before.status != ConcernStatus::Answered
        {
            let topic = NoticeTopic::ConcernAnswered {
                concern_id: id.get(),
                title: before.title.clone(),
                conference: before.conference.clone(),
                answer: triage.answer.clone().unwrap_or_default(),
            };
            queued = notify(
                &mut tx,
                render,
                NoticeKind::ConcernAnswered,
                &[AccountId::new(submitter)],
                &topic,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(ConferenceId::new(conference)),
                entity: "concern",
                entity_id: id.get(),
                action: "triaged",
                before: audit::snapshot(&before),
                after: audit::snapshot(triage),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }
}
