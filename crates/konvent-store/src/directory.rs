//! The directory of conferences, persons and role assignments (G1, G2), with history:
//! an assignment is never deleted, it ends. Every change is audited and logged.

use std::collections::HashMap;

use jiff::civil::Date;
use konvent_core::gremien::directory::{AssignmentInput, ConferenceInput, PersonInput, RoleKind};
use konvent_core::gremien::transfer::{DirectoryRow, ImportReport, PersonFields, RowProblem};
use konvent_core::gremien::{Abbreviation, ResolutionNumber};
use serde::Serialize;
use sqlx::FromRow;

use crate::audit::{self, Actor, Change};
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_micros};

/// The event-log scope of directory changes.
const SCOPE: &str = "directory";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub title: Option<String>,
    pub function: Option<String>,
    pub organisation: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
}

impl Person {
    /// Title and name, e.g. "Dr. Martin Hagen".
    pub fn full_name(&self) -> String {
        match &self.title {
            Some(t) => format!("{t} {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A role assignment with its conference and person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub conference_id: i64,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConferenceSummary {
    pub id: i64,
    pub abbreviation: String,
    pub name: String,
    pub lead_states: Option<String>,
    pub office_contact: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
}

/// A conference with all its assignments, past, current and planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceDetail {
    pub conference: ConferenceSummary,
    pub assignments: Vec<Assignment>,
}

/// A person with every role they hold or held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDetail {
    pub person: Person,
    pub assignments: Vec<Assignment>,
}

/// A new or changed assignment as the form submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentChange {
    pub person_id: Option<i64>,
    pub function: Option<String>,
    pub input: AssignmentInput,
    /// A current assignment of the same conference that the new one replaces: it ends
    /// when the new one starts (or today).
    pub replaces: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub conferences_created: usize,
    pub conferences_updated: usize,
    pub persons_created: usize,
    pub assignments_created: usize,
    pub assignments_updated: usize,
    pub rows_unchanged: usize,
}

#[derive(FromRow)]
struct ConferenceRow {
    id: i64,
    abbreviation: String,
    name: String,
    lead_states: Option<String>,
    office_contact: Option<String>,
    created_at: i64,
    modified_at: i64,
}

impl From<ConferenceRow> for ConferenceSummary {
    fn from(r: ConferenceRow) -> Self {
        Self {
            id: r.id,
            abbreviation: r.abbreviation,
            name: r.name,
            lead_states: r.lead_states,
            office_contact: r.office_contact,
            created_at: r.created_at,
            modified_at: r.modified_at,
        }
    }
}

const CONFERENCE_COLUMNS: &str =
    "id, abbreviation, name, lead_states, office_contact, created_at, modified_at";

#[derive(FromRow)]
struct PersonRow {
    id: i64,
    name: String,
    title: Option<String>,
    function: Option<String>,
    organisation: Option<String>,
    created_at: i64,
    modified_at: i64,
}

const PERSON_COLUMNS: &str = "id, name, title, function, organisation, created_at, modified_at";

impl From<PersonRow> for Person {
    fn from(r: PersonRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            title: r.title,
            function: r.function,
            organisation: r.organisation,
            created_at: r.created_at,
            modified_at: r.modified_at,
        }
    }
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
                id,
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
            id: r.id,
            conference_id: r.conference_id,
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

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// All conferences by name.
    pub async fn conferences(&self) -> Result<Vec<ConferenceSummary>> {
        let rows: Vec<ConferenceRow> = sqlx::query_as(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM conferences ORDER BY LOWER(name), id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every assignment of every conference, grouped by conference id.
    pub async fn assignments_by_conference(&self) -> Result<HashMap<i64, Vec<Assignment>>> {
        let rows: Vec<AssignmentRow> = sqlx::query_as(ASSIGNMENT_SELECT)
            .fetch_all(&self.pool)
            .await?;
        let mut map: HashMap<i64, Vec<Assignment>> = HashMap::new();
        for row in rows {
            let a = Assignment::try_from(row)?;
            map.entry(a.conference_id).or_default().push(a);
        }
        map.values_mut().for_each(|v| sort_assignments(v));
        Ok(map)
    }

    pub async fn conference(&self, abbreviation: &str) -> Result<ConferenceDetail> {
        let row: ConferenceRow = sqlx::query_as(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM conferences WHERE abbreviation = $1"
        ))
        .bind(abbreviation)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let assignments = self
            .assignments_where("a.conference_id = $1", row.id)
            .await?;
        Ok(ConferenceDetail {
            conference: row.into(),
            assignments,
        })
    }

    async fn assignments_where(&self, condition: &str, id: i64) -> Result<Vec<Assignment>> {
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

    pub async fn assignment(&self, id: i64) -> Result<Assignment> {
        self.assignments_where("a.id = $1", id)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    pub async fn persons(&self) -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = sqlx::query_as(&format!(
            "SELECT {PERSON_COLUMNS} FROM persons ORDER BY LOWER(name), id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn person(&self, id: i64) -> Result<PersonDetail> {
        let person = fetch_person(&self.pool, id).await?;
        let assignments = self.assignments_where("a.person_id = $1", id).await?;
        Ok(PersonDetail {
            person,
            assignments,
        })
    }

    #[tracing::instrument(skip(self, actor, input), fields(abbreviation = %input.abbreviation))]
    pub async fn create_conference(&self, actor: &Actor, input: &ConferenceInput) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_conference(&mut tx, input).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(id),
                entity: "conference",
                entity_id: id,
                action: "created",
                before: None,
                after: audit::snapshot(input),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a conference, including its abbreviation.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn update_conference(
        &self,
        actor: &Actor,
        abbreviation: &str,
        input: &ConferenceInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before: ConferenceRow = sqlx::query_as(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM conferences WHERE abbreviation = $1"
        ))
        .bind(abbreviation)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = ConferenceInput {
            abbreviation: Abbreviation::parse(&before.abbreviation)
                .map_err(|e| StoreError::Corrupt(e.to_owned()))?,
            name: before.name,
            lead_states: before.lead_states,
            office_contact: before.office_contact,
        };
        let id = conference_id(&mut tx, abbreviation).await?;
        write_conference(&mut tx, actor, id, &before, input).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip(self, actor, input))]
    pub async fn create_person(&self, actor: &Actor, input: &PersonInput) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_person(&mut tx, actor, input).await?;
        tx.commit().await?;
        Ok(id)
    }

    #[tracing::instrument(skip(self, actor, input))]
    pub async fn update_person(&self, actor: &Actor, id: i64, input: &PersonInput) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = fetch_person(&mut *tx, id).await?;
        let before = PersonInput {
            name: before.name,
            title: before.title,
            function: before.function,
            organisation: before.organisation,
        };
        if before != *input {
            sqlx::query(
                "UPDATE persons SET name = $1, title = $2, function = $3, organisation = $4, \
                 modified_at = $5 WHERE id = $6",
            )
            .bind(&input.name)
            .bind(&input.title)
            .bind(&input.function)
            .bind(&input.organisation)
            .bind(now_micros())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "person",
                    entity_id: id,
                    action: "updated",
                    before: audit::snapshot(&before),
                    after: audit::snapshot(input),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds an assignment to a conference; with `replaces`, ends that one at the start.
    #[tracing::instrument(skip(self, actor, change))]
    pub async fn create_assignment(
        &self,
        actor: &Actor,
        abbreviation: &str,
        change: &AssignmentChange,
    ) -> Result<i64> {
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
    #[tracing::instrument(skip(self, actor, change))]
    pub async fn update_assignment(
        &self,
        actor: &Actor,
        id: i64,
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
        .bind(change.person_id)
        .bind(&change.function)
        .bind(input.starts_on.map(|d| d.to_string()))
        .bind(input.ends_on.map(|d| d.to_string()))
        .bind(input.appointing_resolution.map(|n| n.to_string()))
        .bind(&input.legal_basis)
        .bind(&input.note)
        .bind(now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = fetch_assignment(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(before.conference_id),
                entity: "assignment",
                entity_id: id,
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
    #[tracing::instrument(skip(self, actor))]
    pub async fn end_assignment(&self, actor: &Actor, id: i64, ends_on: Date) -> Result<()> {
        let mut tx = self.begin_write().await?;
        end_assignment_in(&mut tx, actor, id, None, ends_on).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The directory as import rows, for export. Conferences without assignments get a
    /// vacancy row so that a round trip keeps them.
    pub async fn directory_rows(&self) -> Result<Vec<DirectoryRow>> {
        let conferences = self.conferences().await?;
        let mut by_conference = self.assignments_by_conference().await?;
        let mut rows = Vec::new();
        for c in conferences {
            let conference = Abbreviation::parse(&c.abbreviation)
                .map_err(|e| StoreError::Corrupt(e.to_owned()))?;
            let base = |role| DirectoryRow {
                row: 0,
                conference: conference.clone(),
                conference_name: Some(c.name.clone()),
                lead_states: c.lead_states.clone(),
                office_contact: c.office_contact.clone(),
                role,
                person: None,
                starts_on: None,
                ends_on: None,
                appointing_resolution: None,
                legal_basis: None,
                note: None,
            };
            let assignments = by_conference.remove(&c.id).unwrap_or_default();
            if assignments.is_empty() {
                rows.push(base(RoleKind::Spokesperson));
            }
            for a in assignments {
                rows.push(DirectoryRow {
                    person: a.person.as_ref().map(|p| PersonFields {
                        name: p.name.clone(),
                        title: p.title.clone(),
                        function: a.function.clone().or_else(|| p.function.clone()),
                        organisation: p.organisation.clone(),
                    }),
                    starts_on: a.starts_on,
                    ends_on: a.ends_on,
                    appointing_resolution: a
                        .appointing_resolution
                        .as_deref()
                        .and_then(|n| ResolutionNumber::parse(n).ok()),
                    legal_basis: Some(a.legal_basis.clone()),
                    note: a.note.clone(),
                    ..base(a.role)
                });
            }
        }
        for (i, row) in rows.iter_mut().enumerate() {
            row.row = i + 2;
        }
        Ok(rows)
    }

    /// Merges import rows into the directory in one transaction: conferences by
    /// abbreviation, persons by name, assignments by conference, role, person and start.
    /// Any problem refuses the whole file and changes nothing.
    #[tracing::instrument(skip(self, actor, rows, progress), fields(rows = rows.len()))]
    pub async fn import_directory(
        &self,
        actor: &Actor,
        rows: &[DirectoryRow],
        mut progress: impl FnMut(usize) + Send,
    ) -> Result<ImportSummary> {
        let known: Vec<(String,)> = sqlx::query_as("SELECT abbreviation FROM conferences")
            .fetch_all(&self.pool)
            .await?;
        let known: std::collections::HashSet<String> = known.into_iter().map(|(a,)| a).collect();
        let named: std::collections::HashSet<&str> = rows
            .iter()
            .filter(|r| r.conference_name.is_some())
            .map(|r| r.conference.as_str())
            .collect();
        let problems: Vec<RowProblem> = rows
            .iter()
            .filter(|r| !known.contains(r.conference.as_str()) && !named.contains(r.conference.as_str()))
            .map(|r| RowProblem {
                row: r.row,
                column: Some("Konferenz".to_owned()),
                reason: format!(
                    "Unbekannte Konferenz „{}“: Für eine neue Konferenz bitte „Name der Konferenz“ angeben.",
                    r.conference
                ),
            })
            .collect();
        if !problems.is_empty() {
            return Err(StoreError::Import(ImportReport { problems }));
        }

        let mut summary = ImportSummary::default();
        let mut tx = self.begin_write().await?;
        for (done, row) in rows.iter().enumerate() {
            apply_import_row(&mut tx, actor, row, &mut summary).await?;
            progress(done + 1);
        }
        append_event(&mut tx, SCOPE, "directory_imported", &summary).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

/// Today in Europe/Berlin, the council's calendar.
pub fn today() -> Date {
    jiff::Zoned::now()
        .in_tz("Europe/Berlin")
        .map(|z| z.date())
        .unwrap_or_else(|_| jiff::Zoned::now().date())
}

/// The id of a conference by its abbreviation, inside a transaction.
pub(crate) async fn conference_id(tx: &mut Tx, abbreviation: &str) -> Result<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM conferences WHERE abbreviation = $1")
        .bind(abbreviation)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|(id,)| id).ok_or(StoreError::NotFound)
}

async fn insert_conference(tx: &mut Tx, input: &ConferenceInput) -> Result<i64> {
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO conferences (abbreviation, name, lead_states, office_contact, created_at, \
         modified_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(input.abbreviation.as_str())
    .bind(&input.name)
    .bind(&input.lead_states)
    .bind(&input.office_contact)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        StoreError::conflict_on_unique(e, "Eine Konferenz mit diesem Kürzel gibt es schon.")
    })?;
    Ok(id)
}

/// Writes a changed conference with audit and event; does nothing when nothing changed.
async fn write_conference(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    before: &ConferenceInput,
    after: &ConferenceInput,
) -> Result<bool> {
    if before == after {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE conferences SET abbreviation = $1, name = $2, lead_states = $3, \
         office_contact = $4, modified_at = $5 WHERE id = $6",
    )
    .bind(after.abbreviation.as_str())
    .bind(&after.name)
    .bind(&after.lead_states)
    .bind(&after.office_contact)
    .bind(now_micros())
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        StoreError::conflict_on_unique(e, "Eine Konferenz mit diesem Kürzel gibt es schon.")
    })?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(id),
            entity: "conference",
            entity_id: id,
            action: "updated",
            before: audit::snapshot(before),
            after: audit::snapshot(after),
        },
    )
    .await?;
    Ok(true)
}

async fn fetch_person<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
) -> Result<Person> {
    let row: PersonRow = sqlx::query_as(&format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(row.into())
}

async fn insert_person(tx: &mut Tx, actor: &Actor, input: &PersonInput) -> Result<i64> {
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO persons (name, title, function, organisation, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(&input.name)
    .bind(&input.title)
    .bind(&input.function)
    .bind(&input.organisation)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "person",
            entity_id: id,
            action: "created",
            before: None,
            after: audit::snapshot(input),
        },
    )
    .await?;
    Ok(id)
}

async fn fetch_assignment(tx: &mut Tx, id: i64) -> Result<Assignment> {
    let row: AssignmentRow = sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    row.try_into()
}

async fn insert_assignment(
    tx: &mut Tx,
    actor: &Actor,
    conference: i64,
    change: &AssignmentChange,
) -> Result<i64> {
    let input = &change.input;
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO role_assignments (conference_id, role, person_id, function, starts_on, \
         ends_on, appointing_resolution, legal_basis, note, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(conference)
    .bind(input.role.as_str())
    .bind(change.person_id)
    .bind(&change.function)
    .bind(input.starts_on.map(|d| d.to_string()))
    .bind(input.ends_on.map(|d| d.to_string()))
    .bind(input.appointing_resolution.map(|n| n.to_string()))
    .bind(&input.legal_basis)
    .bind(&input.note)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let after = fetch_assignment(tx, id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(conference),
            entity: "assignment",
            entity_id: id,
            action: "created",
            before: None,
            after: audit::snapshot(&after),
        },
    )
    .await?;
    Ok(id)
}

async fn end_assignment_in(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    of_conference: Option<i64>,
    ends_on: Date,
) -> Result<()> {
    let before = fetch_assignment(tx, id).await?;
    if of_conference.is_some_and(|c| c != before.conference_id) {
        return Err(StoreError::NotFound);
    }
    if before.ends_on.is_some() {
        return Err(StoreError::Conflict(
            "Diese Besetzung ist bereits beendet.".to_owned(),
        ));
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
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let after = fetch_assignment(tx, id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(before.conference_id),
            entity: "assignment",
            entity_id: id,
            action: "ended",
            before: audit::snapshot(&before),
            after: audit::snapshot(&after),
        },
    )
    .await?;
    Ok(())
}

async fn apply_import_row(
    tx: &mut Tx,
    actor: &Actor,
    row: &DirectoryRow,
    summary: &mut ImportSummary,
) -> Result<()> {
    // Conference: create, or update what the row states.
    let existing: Option<ConferenceRow> = sqlx::query_as(&format!(
        "SELECT {CONFERENCE_COLUMNS} FROM conferences WHERE abbreviation = $1"
    ))
    .bind(row.conference.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let conference = match existing {
        None => {
            let input = ConferenceInput {
                abbreviation: row.conference.clone(),
                name: row.conference_name.clone().unwrap_or_default(),
                lead_states: row.lead_states.clone(),
                office_contact: row.office_contact.clone(),
            };
            let id = insert_conference(tx, &input).await?;
            audit::record(
                tx,
                actor,
                Change {
                    conference_id: Some(id),
                    entity: "conference",
                    entity_id: id,
                    action: "imported",
                    before: None,
                    after: audit::snapshot(&input),
                },
            )
            .await?;
            summary.conferences_created += 1;
            id
        }
        Some(c) => {
            let before = ConferenceInput {
                abbreviation: row.conference.clone(),
                name: c.name,
                lead_states: c.lead_states,
                office_contact: c.office_contact,
            };
            let after = ConferenceInput {
                name: row
                    .conference_name
                    .clone()
                    .unwrap_or_else(|| before.name.clone()),
                lead_states: row
                    .lead_states
                    .clone()
                    .or_else(|| before.lead_states.clone()),
                office_contact: row
                    .office_contact
                    .clone()
                    .or_else(|| before.office_contact.clone()),
                ..before.clone()
            };
            if write_conference(tx, actor, c.id, &before, &after).await? {
                summary.conferences_updated += 1;
            }
            c.id
        }
    };

    // Person: found by name, created when new.
    let person_id = match &row.person {
        None => None,
        Some(p) => {
            let found: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM persons WHERE name = $1 ORDER BY id LIMIT 1")
                    .bind(&p.name)
                    .fetch_optional(&mut **tx)
                    .await?;
            Some(match found {
                Some((id,)) => id,
                None => {
                    summary.persons_created += 1;
                    let input = PersonInput {
                        name: p.name.clone(),
                        title: p.title.clone(),
                        function: p.function.clone(),
                        organisation: p.organisation.clone(),
                    };
                    insert_person(tx, actor, &input).await?
                }
            })
        }
    };

    // Assignment: the same conference, role, person and start is the same assignment.
    let role = row.role;
    let change = AssignmentChange {
        person_id,
        function: row.person.as_ref().and_then(|p| p.function.clone()),
        input: AssignmentInput {
            role,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            appointing_resolution: row.appointing_resolution,
            legal_basis: row
                .legal_basis
                .clone()
                .unwrap_or_else(|| role.default_legal_basis().to_owned()),
            note: row.note.clone(),
        },
        replaces: None,
    };
    let same: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM role_assignments WHERE conference_id = $1 AND role = $2 \
         AND COALESCE(person_id, 0) = $3 AND COALESCE(starts_on, '') = $4 ORDER BY id LIMIT 1",
    )
    .bind(conference)
    .bind(role.as_str())
    .bind(person_id.unwrap_or(0))
    .bind(row.starts_on.map(|d| d.to_string()).unwrap_or_default())
    .fetch_optional(&mut **tx)
    .await?;
    match same {
        None => {
            insert_assignment(tx, actor, conference, &change).await?;
            summary.assignments_created += 1;
        }
        Some((id,)) => {
            let before = fetch_assignment(tx, id).await?;
            let unchanged = before.ends_on == change.input.ends_on
                && before.appointing_resolution
                    == change.input.appointing_resolution.map(|n| n.to_string())
                && before.legal_basis == change.input.legal_basis
                && before.note == change.input.note
                && before.function == change.function;
            if unchanged {
                summary.rows_unchanged += 1;
            } else {
                sqlx::query(
                    "UPDATE role_assignments SET function = $1, ends_on = $2, \
                     appointing_resolution = $3, legal_basis = $4, note = $5, modified_at = $6 \
                     WHERE id = $7",
                )
                .bind(&change.function)
                .bind(change.input.ends_on.map(|d| d.to_string()))
                .bind(change.input.appointing_resolution.map(|n| n.to_string()))
                .bind(&change.input.legal_basis)
                .bind(&change.input.note)
                .bind(now_micros())
                .bind(id)
                .execute(&mut **tx)
                .await?;
                let after = fetch_assignment(tx, id).await?;
                audit::record(
                    tx,
                    actor,
                    Change {
                        conference_id: Some(conference),
                        entity: "assignment",
                        entity_id: id,
                        action: "imported",
                        before: audit::snapshot(&before),
                        after: audit::snapshot(&after),
                    },
                )
                .await?;
                summary.assignments_updated += 1;
            }
        }
    }
    Ok(())
}
