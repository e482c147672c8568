//! The persons of the directory (G2): name, title, function and organisation, each with
//! every role they hold or held.

use konvent_core::gremien::directory::PersonInput;
use konvent_core::ids::{AccountId, PersonId};
use serde::Serialize;
use sqlx::FromRow;

use super::{Assignment, Tx};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: PersonId,
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

/// A person with every role they hold or held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDetail {
    pub person: Person,
    pub assignments: Vec<Assignment>,
}

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
            id: PersonId::new(r.id),
            name: r.name,
            title: r.title,
            function: r.function,
            organisation: r.organisation,
            created_at: r.created_at,
            modified_at: r.modified_at,
        }
    }
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn persons(&self) -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = sqlx::query_as(&format!(
            "SELECT {PERSON_COLUMNS} FROM persons ORDER BY LOWER(name), id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn person(&self, id: PersonId) -> Result<PersonDetail> {
        let person = fetch_person(&self.pool, id).await?;
        let assignments = self.assignments_where("a.person_id = $1", id.get()).await?;
        Ok(PersonDetail {
            person,
            assignments,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get)))]
    pub async fn create_person(&self, actor: &Actor, input: &PersonInput) -> Result<PersonId> {
        let mut tx = self.begin_write().await?;
        let id = insert_person(&mut tx, actor, input).await?;
        tx.commit().await?;
        Ok(id)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn update_person(
        &self,
        actor: &Actor,
        id: PersonId,
        input: &PersonInput,
    ) -> Result<()> {
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
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "person",
                    entity_id: id.get(),
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
}

pub(super) async fn fetch_person<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: PersonId,
) -> Result<Person> {
    let row: PersonRow = sqlx::query_as(&format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"
    ))
    .bind(id.get())
    .fetch_optional(executor)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(row.into())
}

pub(super) async fn insert_person(
    tx: &mut Tx,
    actor: &Actor,
    input: &PersonInput,
) -> Result<PersonId> {
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
    Ok(PersonId::new(id))
}
