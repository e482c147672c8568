//! The spokespersons' duties (G3): the tasks around each resolution relevant for their
//! conference, before, during and after the decision, shown as far as the reader may see
//! the resolution.

use jiff::ToSpan;
use jiff::civil::Date;
use konvent_core::gremien::RoleKind;
use konvent_core::gremien::cooperation::{DutyPhase, RESOLUTION_DUTIES};
use konvent_core::gremien::council::{ResolutionState, Visibility};
use serde::Serialize;
use sqlx::FromRow;

use super::Tx;
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

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
}
