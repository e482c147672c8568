//! Duties of the spokespersons per relevant resolution, concerns of the conferences and
//! their triage, and workshops with their work results (G3, G7).

use jiff::ToSpan;
use jiff::civil::Date;
use konvent_core::gremien::RoleKind;
use konvent_core::gremien::cooperation::{
    ConcernInput, ConcernKind, ConcernStatus, DutyPhase, RESOLUTION_DUTIES, TriageInput,
    WorkResultInput,
};
use serde::Serialize;
use sqlx::FromRow;

use konvent_core::gremien::council::{ResolutionState, Visibility};

use crate::audit::{self, Actor, Change};
use crate::notifications::{NoticeTopic, Render, notify};
use crate::{Result, Store, StoreError, now_micros};
use konvent_core::notifications::NoticeKind;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub id: i64,
    /// The resolution the duty belongs to, as far as the reader may see it: `None` while
    /// the resolution is unpublished and the reader may not read decision papers
    /// ([`Visibility`]); the duty then says only that a resolution in preparation
    /// concerns the conference, without its number, title or link.
    pub resolution: Option<DutyResolution>,
    pub conference: String,
    pub conference_name: String,
    pub phase: DutyPhase,
    pub task: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    /// Whether the council has decided the resolution (decided or published): its tasks
    /// "before" and "during" the decision are then past their time even without a date.
    pub resolution_decided: bool,
}

/// A duty's resolution: `2024/15` and its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DutyResolution {
    pub reference: String,
    pub title: String,
}

#[derive(FromRow)]
struct DutyRow {
    id: i64,
    year: i64,
    number: i64,
    resolution_title: String,
    resolution_state: String,
    conference: String,
    conference_name: String,
    phase: String,
    task: String,
    owner: Option<String>,
    due_on: Option<String>,
    done_at: Option<i64>,
    done_by: Option<String>,
}

const DUTY_SELECT: &str = "SELECT d.id, r.year, r.number, r.title AS resolution_title, \
    r.state AS resolution_state, c.abbreviation AS conference, c.name AS conference_name, d.phase, d.task, d.owner, \
    d.due_on, d.done_at, d.done_by FROM duties d JOIN resolutions r ON r.id = d.resolution_id \
    JOIN conferences c ON c.id = d.conference_id WHERE r.deleted_at IS NULL";

impl Duty {
    /// The duty as `visibility` lets the reader see it: the resolution's number and title
    /// only if the reader may see the resolution itself (the same rule as its page).
    fn from_row(r: DutyRow, visibility: Visibility) -> Result<Self> {
        let state: ResolutionState = r
            .resolution_state
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("state {:?}", r.resolution_state)))?;
        Ok(Self {
            id: r.id,
            resolution: visibility.allows(state).then(|| DutyResolution {
                reference: format!("{}/{:02}", r.year, r.number),
                title: r.resolution_title,
            }),
            conference: r.conference,
            conference_name: r.conference_name,
            phase: r
                .phase
                .parse()
                .map_err(|e: &str| StoreError::Corrupt(e.into()))?,
            task: r.task,
            owner: r.owner,
            due_on: r
                .due_on
                .map(|d| {
                    d.parse()
                        .map_err(|_| StoreError::Corrupt(format!("date {d:?}")))
                })
                .transpose()?,
            done_at: r.done_at,
            done_by: r.done_by,
            resolution_decided: state != ResolutionState::Draft,
        })
    }
}

/// Creates the checklist of a resolution for a conference, unless it exists: the deck's
/// tasks, owned by the conference's current spokespersons, due relative to the session.
/// Returns how many tasks were new.
pub(crate) async fn ensure_duties(
    tx: &mut Tx,
    resolution_id: i64,
    conference_id: i64,
    session_date: Option<Date>,
) -> Result<u64> {
    let today = crate::today().to_string();
    let owners: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.name, p.title FROM role_assignments a JOIN persons p ON p.id = a.person_id \
         WHERE a.conference_id = $1 AND a.role = $2 \
           AND (a.starts_on IS NULL OR a.starts_on <= $3) AND (a.ends_on IS NULL OR a.ends_on > $3) \
         ORDER BY a.id",
    )
    .bind(conference_id)
    .bind(RoleKind::Spokesperson.as_str())
    .bind(&today)
    .fetch_all(&mut **tx)
    .await?;
    let owner = (!owners.is_empty()).then(|| {
        owners
            .iter()
            .map(|(name, title)| match title {
                Some(t) => format!("{t} {name}"),
                None => name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let now = now_micros();
    let mut created = 0;
    for (position, (phase, task, days)) in RESOLUTION_DUTIES.iter().enumerate() {
        let due = session_date.and_then(|d| d.checked_add(days.days()).ok());
        created += sqlx::query(
            "INSERT INTO duties (resolution_id, conference_id, phase, position, task, owner, due_on, \
             created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (resolution_id, conference_id, position) DO NOTHING",
        )
        .bind(resolution_id)
        .bind(conference_id)
        .bind(phase.as_str())
        .bind(position as i64)
        .bind(*task)
        .bind(&owner)
        .bind(due.map(|d| d.to_string()))
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(created)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concern {
    pub id: i64,
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
            id: r.id,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workshop {
    pub id: i64,
    pub title: String,
    pub date: Option<Date>,
    /// The event the workshop belongs to: its organizers keep the workshop's documents.
    pub event_id: Option<i64>,
    pub questions: Vec<WorkshopQuestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkshopQuestion {
    pub id: i64,
    pub text: String,
    /// (group, result, author)
    pub results: Vec<(String, String, String)>,
}

impl Store {
    /// Duties, open ones first by due date; limited to some conferences if given. Those of
    /// resolutions the reader may not see (`visibility`) come without number and title.
    pub async fn duties(
        &self,
        conferences: Option<&[String]>,
        visibility: Visibility,
    ) -> Result<Vec<Duty>> {
        let rows: Vec<DutyRow> = sqlx::query_as(&format!(
            "{DUTY_SELECT} ORDER BY d.done_at IS NOT NULL, d.due_on, c.name, d.position"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut list = Vec::with_capacity(rows.len());
        for row in rows {
            if conferences.is_some_and(|only| !only.contains(&row.conference)) {
                continue;
            }
            list.push(Duty::from_row(row, visibility)?);
        }
        Ok(list)
    }

    /// Who speaks for which conference now: (abbreviation, account id, name) for each
    /// spokesperson grant, people in the order of [`Store::accounts`]. One query, for the
    /// duties list, instead of every account with all its grants.
    pub async fn spokespersons(&self) -> Result<Vec<(String, i64, String)>> {
        use konvent_core::authz::{Role, Scope};
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT g.scope, a.id, a.display_name FROM grants g \
             JOIN accounts a ON a.id = g.account_id \
             WHERE g.role = $1 AND a.deleted_at IS NULL ORDER BY a.display_name, a.id, g.scope",
        )
        .bind(Role::Spokesperson.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(scope, id, name)| match scope.parse::<Scope>() {
                Ok(Scope::Conference(a)) => Ok((a.as_str().to_owned(), id, name)),
                _ => Err(StoreError::Corrupt(format!("spokesperson scope {scope:?}"))),
            })
            .collect()
    }

    pub async fn duty(&self, id: i64, visibility: Visibility) -> Result<Duty> {
        let row: DutyRow = sqlx::query_as(&format!("{DUTY_SELECT} AND d.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Duty::from_row(row, visibility)
    }

    /// Ticks a duty off (or opens it again).
    pub async fn set_duty_done(&self, actor: &Actor, id: i64, done: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let result = sqlx::query(
            "UPDATE duties SET done_at = $1, done_by = $2, modified_at = $3 WHERE id = $4",
        )
        .bind(done.then_some(now))
        .bind(done.then(|| actor.name.clone()))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "duty",
                entity_id: id,
                action: if done { "done" } else { "reopened" },
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Submits a concern or topic proposal of a conference.
    pub async fn submit_concern(
        &self,
        actor: &Actor,
        abbreviation: &str,
        input: &ConcernInput,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let conference = crate::directory::conference_id(&mut tx, abbreviation).await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO concerns (conference_id, kind, title, body, submitter_id, submitter, status, \
             created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING id",
        )
        .bind(conference)
        .bind(input.kind.as_str())
        .bind(&input.title)
        .bind(&input.body)
        .bind(actor.account_id)
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
        Ok(id)
    }

    /// Concerns, newest first; limited to some conferences if given.
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

    pub async fn concern(&self, id: i64) -> Result<Concern> {
        let row: ConcernRow = sqlx::query_as(&format!("{CONCERN_SELECT} WHERE k.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Decides on a concern; "accepted" puts it on the agenda of the given session.
    pub async fn triage_concern(&self, actor: &Actor, id: i64, triage: &TriageInput) -> Result<()> {
        self.triage_concern_with(actor, id, triage, None)
            .await
            .map(|_| ())
    }

    /// [`Self::triage_concern`], and when it answers the concern, the mail to its
    /// author in the same transaction (unless they turned it off). Returns the number
    /// of mails queued.
    pub async fn triage_concern_notifying(
        &self,
        actor: &Actor,
        id: i64,
        triage: &TriageInput,
        render: Render<'_>,
    ) -> Result<usize> {
        self.triage_concern_with(actor, id, triage, Some(render))
            .await
    }

    async fn triage_concern_with(
        &self,
        actor: &Actor,
        id: i64,
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
                    crate::council::insert_agenda_item(&mut tx, actor, session, &title, false)
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
        .bind(agenda_item)
        .bind(now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let (conference, submitter): (i64, Option<i64>) =
            sqlx::query_as("SELECT conference_id, submitter_id FROM concerns WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let mut queued = 0;
        if let (Some(render), Some(submitter)) = (render, submitter)
            && triage.status == ConcernStatus::Answered
            && before.status != ConcernStatus::Answered
        {
            let topic = NoticeTopic::ConcernAnswered {
                concern_id: id,
                title: before.title.clone(),
                conference: before.conference.clone(),
                answer: triage.answer.clone().unwrap_or_default(),
            };
            queued = notify(
                &mut tx,
                render,
                NoticeKind::ConcernAnswered,
                &[submitter],
                &topic,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(conference),
                entity: "concern",
                entity_id: id,
                action: "triaged",
                before: audit::snapshot(&before),
                after: audit::snapshot(triage),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Creates a workshop with its discussion questions, of an event or of the council.
    pub async fn create_workshop(
        &self,
        actor: &Actor,
        title: &str,
        date: Option<Date>,
        event: Option<i64>,
        questions: &[&str],
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO workshops (title, date, event_id, created_at, modified_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(title)
        .bind(date.map(|d| d.to_string()))
        .bind(event)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (position, text) in questions.iter().enumerate() {
            sqlx::query(
                "INSERT INTO workshop_questions (workshop_id, position, text) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(position as i64 + 1)
            .bind(*text)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "workshop",
                entity_id: id,
                action: "created",
                before: None,
                after: Some(
                    serde_json::json!({ "title": title, "event": event, "questions": questions }),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn workshops(&self) -> Result<Vec<(i64, String, Option<Date>)>> {
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, title, date FROM workshops ORDER BY date DESC, id DESC")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, title, date)| (id, title, date.and_then(|d| d.parse().ok())))
            .collect())
    }

    pub async fn workshop(&self, id: i64) -> Result<Workshop> {
        let (title, date, event_id): (String, Option<String>, Option<i64>) =
            sqlx::query_as("SELECT title, date, event_id FROM workshops WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let questions: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, text FROM workshop_questions WHERE workshop_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let results: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT r.question_id, r.group_name, r.text, r.author FROM workshop_results r \
             JOIN workshop_questions q ON q.id = r.question_id WHERE q.workshop_id = $1 \
             ORDER BY r.group_name, r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Workshop {
            id,
            title,
            date: date.and_then(|d| d.parse().ok()),
            event_id,
            questions: questions
                .into_iter()
                .map(|(qid, text)| WorkshopQuestion {
                    id: qid,
                    text,
                    results: results
                        .iter()
                        .filter(|(q, ..)| *q == qid)
                        .map(|(_, g, t, a)| (g.clone(), t.clone(), a.clone()))
                        .collect(),
                })
                .collect(),
        })
    }

    /// A group's result for a question of a workshop.
    pub async fn add_work_result(
        &self,
        actor: &Actor,
        workshop: i64,
        question: i64,
        input: &WorkResultInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT 1 FROM workshop_questions WHERE id = $1 AND workshop_id = $2")
            .bind(question)
            .bind(workshop)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO workshop_results (question_id, group_name, text, author, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(question)
        .bind(&input.group)
        .bind(&input.text)
        .bind(&actor.name)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "workshop",
                entity_id: workshop,
                action: "result_added",
                before: None,
                after: audit::snapshot(input),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
