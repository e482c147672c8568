//! The specialist minister conferences (G1): abbreviation, name, lead states and office
//! contact, each with its assignments.

use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::directory::ConferenceInput;
use konvent_core::ids::{AccountId, ConferenceId};
use konvent_core::taken::Taken;
use serde::Serialize;
use sqlx::FromRow;

use super::{Assignment, Tx};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConferenceSummary {
    pub id: ConferenceId,
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

#[derive(FromRow)]
pub(super) struct ConferenceRow {
    pub(super) id: i64,
    pub(super) abbreviation: String,
    pub(super) name: String,
    pub(super) lead_states: Option<String>,
    pub(super) office_contact: Option<String>,
    pub(super) created_at: i64,
    pub(super) modified_at: i64,
}

impl From<ConferenceRow> for ConferenceSummary {
    fn from(r: ConferenceRow) -> Self {
        Self {
            id: ConferenceId::new(r.id),
            abbreviation: r.abbreviation,
            name: r.name,
            lead_states: r.lead_states,
            office_contact: r.office_contact,
            created_at: r.created_at,
            modified_at: r.modified_at,
        }
    }
}

pub(super) const CONFERENCE_COLUMNS: &str =
    "id, abbreviation, name, lead_states, office_contact, created_at, modified_at";

impl Store {
    /// All conferences by name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn conferences(&self) -> Result<Vec<ConferenceSummary>> {
        let rows: Vec<ConferenceRow> = sqlx::query_as(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM conferences ORDER BY LOWER(name), id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(abbreviation = %abbreviation))]
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

    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), abbreviation = %input.abbreviation))]
    pub async fn create_conference(
        &self,
        actor: &Actor,
        input: &ConferenceInput,
    ) -> Result<ConferenceId> {
        let mut tx = self.begin_write().await?;
        let id = insert_conference(&mut tx, input).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(id),
                entity: "conference",
                entity_id: id.get(),
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
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), abbreviation = %abbreviation))]
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
}

/// The id of a conference by its abbreviation, inside a transaction.
pub(crate) async fn conference_id(tx: &mut Tx, abbreviation: &str) -> Result<ConferenceId> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM conferences WHERE abbreviation = $1")
        .bind(abbreviation)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|(id,)| ConferenceId::new(id))
        .ok_or(StoreError::NotFound)
}

pub(super) async fn insert_conference(
    tx: &mut Tx,
    input: &ConferenceInput,
) -> Result<ConferenceId> {
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
    .map_err(|e| StoreError::refused_on_unique(e, Taken::ConferenceAbbreviation))?;
    Ok(ConferenceId::new(id))
}

/// Writes a changed conference with audit and event; does nothing when nothing changed.
pub(super) async fn write_conference(
    tx: &mut Tx,
    actor: &Actor,
    id: ConferenceId,
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
    .bind(id.get())
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::refused_on_unique(e, Taken::ConferenceAbbreviation))?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: Some(id),
            entity: "conference",
            entity_id: id.get(),
            action: "updated",
            before: audit::snapshot(before),
            after: audit::snapshot(after),
        },
    )
    .await?;
    Ok(true)
}
