//! Focus topics (S1): the strategy's themes, across events, each with its patron,
//! its question and guiding questions. Café tables, impulses, target pictures and saved
//! groups all hang off a topic.

use crate::{Result, Store, StoreError, now_micros};
use konvent_core::ids::TopicId;
use konvent_core::taken::Taken;

use super::corrupt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: TopicId,
    pub slug: String,
    pub title: String,
    pub patron: String,
    pub question: String,
    pub guiding_questions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NewTopic {
    pub slug: String,
    pub title: String,
    pub patron: String,
    pub question: String,
    pub guiding_questions: Vec<String>,
}

type TopicRow = (i64, String, String, String, String, String);

const TOPIC_SELECT: &str =
    "SELECT id, slug, title, patron, question, guiding_questions FROM topics";

pub(super) fn topic_from(row: TopicRow) -> Result<Topic> {
    let (id, slug, title, patron, question, questions) = row;
    Ok(Topic {
        id: TopicId::new(id),
        slug,
        title,
        patron,
        question,
        guiding_questions: serde_json::from_str(&questions).map_err(|e| corrupt(e.to_string()))?,
    })
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_topic(&self, topic: &NewTopic) -> Result<TopicId> {
        let mut tx = self.begin_write().await?;
        let (position,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM topics")
            .fetch_one(&mut *tx)
            .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO topics (slug, title, patron, question, guiding_questions, position, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&topic.slug)
        .bind(&topic.title)
        .bind(&topic.patron)
        .bind(&topic.question)
        .bind(serde_json::to_string(&topic.guiding_questions).unwrap_or_default())
        .bind(position)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, Taken::Topic))?;
        tx.commit().await?;
        Ok(TopicId::new(id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn topics(&self) -> Result<Vec<Topic>> {
        let rows: Vec<TopicRow> = sqlx::query_as(&format!("{TOPIC_SELECT} ORDER BY position"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(topic_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(slug = %slug))]
    pub async fn topic(&self, slug: &str) -> Result<Topic> {
        let row: Option<TopicRow> = sqlx::query_as(&format!("{TOPIC_SELECT} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        topic_from(row.ok_or(StoreError::NotFound)?)
    }
}
