//! Role assignments (G2): a person's role in a conference from a start to an end.
//! An assignment is never deleted, it ends; a new one can replace a current one.

use konvent_core::gremien::directory::AssignmentRefusal;
use konvent_core::ids::AccountId;
use std::collections::HashMap;

use jiff::civil::Date;
use konvent_core::gremien::directory::{AssignmentInput, RoleKind};
use konvent_core::ids::{AssignmentId, ConferenceId, PersonId};
use serde::Serialize;
use sqlx::FromRow;

use super::conferences::conference_id;
use super::persons::fetch_person;
use super::{Person, Tx, today};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// A role assignment with its conference and person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub id: AssignmentId,
    pub conference_id: ConferenceId,
    pub conference: String,
    pub conference_name: String,
    pub role: RoleKind,
    /// None: the role is vacant ("N.N.").
    pub person: Option<Person>,
    /// The function as stated when appointed; falls back to the person's.
    pub function: Option<String>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub appointing_resolution: Option<String>,
    pub legal_basis: String,
    pub note: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
}

impl Assignment {
    pub fn has_started(&self, today: Date) -> bool {
        self.starts_on.is_none_or(|d| d <= today)
    }

    pub fn has_ended(&self, today: Date) -> bool {
        self.ends_on.is_some_and(|d| d <= today)
    }

    /// Held today.
    pub fn is_current(&self, today: Date) -> bool {
        self.has_started(today) && !self.has_ended(today)
    }

    pub fn function_text(&self) -> Option<&str> {
        self.function
            .as_deref()
            .or_else(|| self.person.as_ref().and_then(|p| p.function.as_deref()))
    }
}

/// A new or changed assignment as the form submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentChange {
    pub person_id: Option<PersonId>,
    pub function: Option<String>,
    pub input: AssignmentInput,
    /// A current assignment of the same conference that the new one replaces: it ends
    /// when the new one starts (or today).
    pub replaces: Option<AssignmentId>,
}

#[derive(FromRow)]
struct AssignmentRow {
    id: i64,
    conference_id: i64,
    abbreviation: String,
    conference_name: String,
    role: String,
    person_id: Option<i64>,
    person_name: Option<String>,
    person_title: Option<String>,
    person_function: Option<String>,
    person_organisation: Option<String>,
    function: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    appointing_resolution: Option<String>,
    legal_basis: String,
    note: Option<String>,
    created_at: i64,
    modified_at: i64,
    person_created_at: Option<i64>,
    person_modified_at: Option<i64>,
}

const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.conference_id, c.abbreviation, \
    c.name AS conference_name, a.role, a.person_id, p.name AS person_name, \
    p.title AS person_title, p.function AS person_function, \
    p.organisation AS person_organisation, a.function, a.starts_on, a.ends_on, \
    a.appointing_resolution, a.legal_basis, a.note, a.created_at, a.modified_at, \
    p.created_at AS person_created_at, p.modified_at AS person_modified_at \
    FROM role_assignments a JOIN conferences c ON c.id = a.conference_id \
    LEFT JOIN persons p ON p.id = a.person_id";

fn parse_stored_date(value: Option<String>) -> Result<Option<Date>> {
    value
        .map(|v| {
            v.parse()
                .map_err(|e| StoreError::Corrupt(format!("date {v:?}: {e}")))
        })
        .transpose()
}

impl TryFrom<AssignmentRow> for Assignment {
    type Error = StoreError;
    fn try_from(r: AssignmentRow) -> Result<Self> {
        let person = match (r.person_id, r.person_name) {
            (Some(id), Some(name)) => Some(Person {
                id: PersonId::new(id),
                name,
                title: r.person_title,
                function: r.person_function,
                organisation: r.person_organisation,
                created_at: r.person_created_at.unwrap_or_default(),
                modified_at: r.person_modified_at.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Self {
            id: AssignmentId::new(r.id),
            conference_id: ConferenceId::new(r.conference_id),
            conference: r.abbreviation,
            conference_name: r.conference_name,
            role: r
                .role
                .parse()
                .map_err(|e: &str| StoreError::Corrupt(e.to_owned()))?,
            person,
            function: r.function,
            starts_on: parse_stored_date(r.starts_on)?,
            ends_on: parse_stored_date(r.ends_on)?,
            appointing_resolution: r.appointing_resolution,
            legal_basis: r.legal_basis,
            note: r.note,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

/// Role order as the slides use it, then by start, then in the order entered (which
/// keeps the order of the appointing resolution).
fn sort_assignments(list: &mut [Assignment]) {
    let role_rank = |r: RoleKind| RoleKind::ALL.iter().position(|x| *x == r);
    list.sort_by(|a, b| {
        role_rank(a.role)
            .cmp(&role_rank(b.role))
            .then(a.starts_on.cmp(&b.starts_on))
            .then(a.id.cmp(&b.id))
    });
}

impl Store {
    /// Every assignment of every conference, grouped by conference id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assignments_by_conference(
        &self,
    ) -> Result<HashMap<ConferenceId, Vec<Assignment>>> {
        let rows: Vec<AssignmentRow> = sqlx::query_as(ASSIGNMENT_SELECT)
            .fetch_all(&self.pool)
            .await?;
        let mut map: HashMap<ConferenceId, Vec<Assignment>> = HashMap::new();
        for row in rows {
            let a = Assignment::try_from(row)?;
            map.entry(a.conference_id).or_default().push(a);
        }
        map.values_mut().for_each(|v| sort_assignments(v));
        Ok(map)
    }

    pub(super) async fn assignments_where(
        &self,
        condition: &str,
        id: i64,
    ) -> Result<Vec<Assignment>> {
        let rows: Vec<AssignmentRow> =
            sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE {condition}"))
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let mut list = rows
            .into_iter()
            .map(Assignment::try_from)
            .collect::<Result<Vec<_>>>()?;
        sort_assignments(&mut list);
        Ok(list)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn assignment(&self, id: AssignmentId) -> Result<Assignment> {
        self.assignments_where("a.id = $1", id.get())
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    /// Adds an assignment to a conference; with `replaces`, ends that one at the start.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), abbreviation = %abbreviation))]
    pub async fn create_assignment(
        &self,
        actor: &Actor,
        abbreviation: &str,
        change: &AssignmentChange,
    ) -> Result<AssignmentId> {
        let mut tx = self.begin_write().await?;
        let conference = conference_id(&mut tx, abbreviation).await?;
        if let Some(person_id) = change.person_id {
            fetch_person(&mut *tx, person_id).await?;
        }
        if let Some(old) = change.replaces {
            let ends_on = change.input.starts_on.unwrap_or_else(today);
            end_assignment_in(&mut tx, actor, old, Some(conference), ends_on).await?;
        }
        let id = insert_assignment(&mut tx, actor, conference, change).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an assignment's person, dates, basis or note.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn update_assignment(
        &self,
        actor: &Actor,
        id: AssignmentId,
        change: &AssignmentChange,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = fetch_assignment(&mut tx, id).await?;
        if let Some(person_id) = change.person_id {
            fetch_person(&mut *tx, person_id).await?;
        }
        let input = &change.input;
        sqlx::query(
            "UPDATE role_assignments SET role = $1, person_id = $2, function = $3, starts_on = $4, \
             ends_on = $5, appointing_resolution = $6, legal_basis = $7, note = $8, \
             modified_at = $9 WHERE id = $10",
        )
        .bind(input.role.as_str())
        .bind(change.person_id.map(PersonId::get))
        .bind(&change.function)
        .bind(input.starts_on.map(|d| d.to_string()))
        .bind(input.ends_on.map(|d| d.to_string()))
        .bind(input.appointing_resolution.map(|n| n.to_string()))
        .bind(&input.legal_basis)
        .bind(&input.note)
        .bind(now_micros())
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
        let after = fetch_assignment(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(before.conference_id),
                entity: "assignment",
                entity_id: id.get(),
                action: "updated",
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends an assignment on `ends_on` (it stays in the history).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn end_assignment(
        &self,
        actor: &Actor,
        id: AssignmentId,
        ends_on: Date,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        end_assignment_in(&mut tx, actor, id, None, ends_on).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) async fn fetch_assignment(tx: &mut Tx, id: AssignmentId) -> Result<Assignment> {
    let row: AssignmentRow = sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE a.id = $1"))
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    row.try_into()
}

pub(super) async fn insert_assignment(
    tx: &mut Tx,
    actor: &Actor,
    conference: ConferenceId,
    change: &AssignmentChange,
) -> Result<AssignmentId> {
    let input = &change.input;
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO role_assignments (conference_id, role, person_id, function, starts_on, \
         ends_on, appointing_resolution, legal_basis, note, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(conference.get())
    .bind(input.role.as_str())
    .bind(change.person_id.map(PersonId::get))
    .bind(&change.function)
    .bind(input.starts_on.map(|d| d.to_string()))
    .bind(input.ends_on.map(|d| d.to_string()))
    .bind(input.appointing_resolution.map(|n| n.to_string()))
    .bind(&input.legal_basis)
    .bind(&input.note)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let id = AssignmentId::new(id);
    let after = fetch_assignment(tx, id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(conference),
            entity: "assignment",
            entity_id: id.get(),
            action: "created",
            before: None,
            after: audit::snapshot(&after),
        },
    )
    .await?;
    Ok(id)
}

pub(super) async fn end_assignment_in(
    tx: &mut Tx,
    actor: &Actor,
    id: AssignmentId,
    of_conference: Option<ConferenceId>,
    ends_on: Date,
) -> Result<()> {
    let before = fetch_assignment(tx, id).await?;
    if of_conference.is_some_and(|c| c != before.conference_id) {
        return Err(StoreError::NotFound);
    }
    if before.ends_on.is_some() {
        return Err(AssignmentRefusal::AlreadyEnded.into());
    }
    if before.starts_on.is_some_and(|s| ends_on < s) {
        let mut errors = konvent_core::FieldErrors::new();
        errors.add(
            "ends_on",
            "end-before-start",
            "Das Ende liegt vor dem Beginn.",
        );
        return Err(StoreError::Invalid(errors));
    }
    sqlx::query("UPDATE role_assignments SET ends_on = $1, modified_at = $2 WHERE id = $3")
        .bind(ends_on.to_string())
        .bind(now_micros())
        .bind(id.get())
        .execute(&mut **tx)
        .await?;
    let after = fetch_assignment(tx, id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(before.conference_id),
            entity: "assignment",
            entity_id: id.get(),
            action: "ended",
            before: audit::snapshot(&before),
            after: audit::snapshot(&after),
        },
    )
    .await?;
    Ok(())
}
