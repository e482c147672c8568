//! The directory as rows (G1, G2): exported as a whole, and imported as a whole in one
//! transaction after every row was checked, creating or updating what changed.

use konvent_core::gremien::directory::{AssignmentInput, ConferenceInput, PersonInput, RoleKind};
use konvent_core::gremien::transfer::{DirectoryRow, ImportReport, PersonFields, RowProblem};
use konvent_core::gremien::{Abbreviation, ResolutionNumber};
use konvent_core::ids::{AccountId, AssignmentId, ConferenceId, PersonId};
use serde::Serialize;

use super::assignments::{fetch_assignment, insert_assignment};
use super::conferences::{CONFERENCE_COLUMNS, ConferenceRow, insert_conference, write_conference};
use super::persons::insert_person;
use super::{AssignmentChange, SCOPE, Tx};
use crate::audit::{self, Actor, Change};
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_micros};

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

impl Store {
    /// The directory as import rows, for export. Conferences without assignments get a
    /// vacancy row so that a round trip keeps them.
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), rows = rows.len()))]
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
                    entity_id: id.get(),
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
            let id = ConferenceId::new(c.id);
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
            if write_conference(tx, actor, id, &before, &after).await? {
                summary.conferences_updated += 1;
            }
            id
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
                Some((id,)) => PersonId::new(id),
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
    .bind(conference.get())
    .bind(role.as_str())
    .bind(person_id.map_or(0, PersonId::get))
    .bind(row.starts_on.map(|d| d.to_string()).unwrap_or_default())
    .fetch_optional(&mut **tx)
    .await?;
    match same {
        None => {
            insert_assignment(tx, actor, conference, &change).await?;
            summary.assignments_created += 1;
        }
        Some((id,)) => {
            let id = AssignmentId::new(id);
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
                .bind(id.get())
                .execute(&mut **tx)
                .await?;
                let after = fetch_assignment(tx, id).await?;
                audit::record(
                    tx,
                    actor,
                    Change {
                        conference_id: Some(conference),
                        entity: "assignment",
                        entity_id: id.get(),
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
