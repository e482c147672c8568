//! Workshops (G7): their questions and the work results the conferences add.

use jiff::civil::Date;
use konvent_core::gremien::cooperation::WorkResultInput;
use konvent_core::ids::{AccountId, EventId, WorkshopId};
use serde::Serialize;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workshop {
    pub id: WorkshopId,
    pub title: String,
    pub date: Option<Date>,
    /// The event the workshop belongs to: its organizers keep the workshop's documents.
    pub event_id: Option<EventId>,
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
    /// Creates a workshop with its discussion questions, of an event or of the council.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), event = ?event, questions = questions.len()))]
    pub async fn create_workshop(
        &self,
        actor: &Actor,
        title: &str,
        date: Option<Date>,
        event: Option<EventId>,
        questions: &[&str],
    ) -> Result<WorkshopId> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO workshops (title, date, event_id, created_at, modified_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(title)
        .bind(date.map(|d| d.to_string()))
        .bind(event.map(EventId::get))
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
        Ok(WorkshopId::new(id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workshops(&self) -> Result<Vec<(WorkshopId, String, Option<Date>)>> {
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, title, date FROM workshops ORDER BY date DESC, id DESC")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, title, date)| {
                (
                    WorkshopId::new(id),
                    title,
                    date.and_then(|d| d.parse().ok()),
                )
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn workshop(&self, id: WorkshopId) -> Result<Workshop> {
        let (title, date, event_id): (String, Option<String>, Option<i64>) =
            sqlx::query_as("SELECT title, date, event_id FROM workshops WHERE id = $1")
                .bind(id.get())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let questions: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, text FROM workshop_questions WHERE workshop_id = $1 ORDER BY position",
        )
        .bind(id.get())
        .fetch_all(&self.pool)
        .await?;
        let results: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT r.question_id, r.group_name, r.text, r.author FROM workshop_results r \
             JOIN workshop_questions q ON q.id = r.question_id WHERE q.workshop_id = $1 \
             ORDER BY r.group_name, r.id",
        )
        .bind(id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(Workshop {
            id,
            title,
            date: date.and_then(|d| d.parse().ok()),
            event_id: event_id.map(EventId::new),
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
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), workshop = %workshop, question = question))]
    pub async fn add_work_result(
        &self,
        actor: &Actor,
        workshop: WorkshopId,
        question: i64,
        input: &WorkResultInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT 1 FROM workshop_questions WHERE id = $1 AND workshop_id = $2")
            .bind(question)
            .bind(workshop.get())
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
                entity_id: workshop.get(),
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
