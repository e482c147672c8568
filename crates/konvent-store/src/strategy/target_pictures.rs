//! Target pictures (S2): a topic's numbered versions and their lifecycle, draft →
//! confidential (in the decision papers) → published with the resolution that decided
//! it. Confidential versions and drafts are filtered here, in SQL, by the `confidential`
//! flag the caller passes after checking the reader's rights.

use std::collections::HashMap;
use std::str::FromStr;

use konvent_core::ids::{ResolutionId, TargetPictureId, TopicId};
use konvent_core::strategy::Visibility;
use konvent_core::strategy::target_pictures as lifecycle;

use crate::live::Tx;
use crate::{Result, Store, now_micros, timestamp};

use super::corrupt;

/// One version of a topic's target picture (S2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPicture {
    pub id: TargetPictureId,
    pub topic_id: TopicId,
    pub version: i64,
    /// Markdown.
    pub body: String,
    pub visibility: Visibility,
    /// The resolution that decided it (number and title), once published.
    pub resolution: Option<(ResolutionId, String, String)>,
    pub created_by: String,
    pub modified_at: jiff::Timestamp,
    pub published_at: Option<jiff::Timestamp>,
}

impl Store {
    /// A topic's target-picture versions, newest first. Drafts and confidential versions
    /// only with `confidential` (the caller checked the reader may see decision papers).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn target_pictures(
        &self,
        topic_id: TopicId,
        confidential: bool,
    ) -> Result<Vec<TargetPicture>> {
        self.target_pictures_of(Some(topic_id), confidential).await
    }

    /// Every topic's target-picture versions as [`Store::target_pictures`] gives them for
    /// one, by topic: one query for a page that lists all topics.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn target_pictures_by_topic(
        &self,
        confidential: bool,
    ) -> Result<HashMap<TopicId, Vec<TargetPicture>>> {
        let mut by_topic: HashMap<TopicId, Vec<TargetPicture>> = HashMap::new();
        for picture in self.target_pictures_of(None, confidential).await? {
            by_topic.entry(picture.topic_id).or_default().push(picture);
        }
        Ok(by_topic)
    }

    /// The versions of one topic or of all, newest first within a topic.
    async fn target_pictures_of(
        &self,
        topic_id: Option<TopicId>,
        confidential: bool,
    ) -> Result<Vec<TargetPicture>> {
        type Row = (
            i64,
            i64,
            i64,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            String,
            i64,
            Option<i64>,
        );
        let sql = format!(
            "SELECT p.id, p.topic_id, p.version, p.body, p.visibility, p.resolution_id, \
             r.year, r.number, r.title, p.created_by, p.modified_at, p.published_at \
             FROM target_pictures p LEFT JOIN resolutions r ON r.id = p.resolution_id \
             WHERE (p.visibility = 'published' OR $1 = 1) {} \
             ORDER BY p.topic_id, p.version DESC",
            if topic_id.is_some() {
                "AND p.topic_id = $2"
            } else {
                ""
            }
        );
        let mut query = sqlx::query_as(&sql).bind(i64::from(confidential));
        if let Some(topic_id) = topic_id {
            query = query.bind(topic_id.get());
        }
        let rows: Vec<Row> = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(
                |(
                    id,
                    topic_id,
                    version,
                    body,
                    vis,
                    res,
                    year,
                    number,
                    title,
                    by,
                    at,
                    published,
                )| {
                    Ok(TargetPicture {
                        id: TargetPictureId::new(id),
                        topic_id: TopicId::new(topic_id),
                        version,
                        body,
                        visibility: Visibility::from_str(&vis).map_err(corrupt)?,
                        resolution: match (res, year, number, title) {
                            (Some(id), Some(y), Some(n), Some(t)) => {
                                Some((ResolutionId::new(id), format!("{y}/{n:02}"), t))
                            }
                            _ => None,
                        },
                        created_by: by,
                        modified_at: timestamp(at),
                        published_at: published.map(timestamp),
                    })
                },
            )
            .collect()
    }

    /// Adds the next version of a topic's target picture.
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn add_target_picture(
        &self,
        topic_id: TopicId,
        body: &str,
        visibility: Visibility,
        by: &str,
    ) -> Result<TargetPictureId> {
        let mut tx = self.begin_write().await?;
        let id = insert_version(&mut tx, topic_id, body, visibility, by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The topic's draft of the next version, created from the newest version when there
    /// is none yet.
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn draft_target_picture(
        &self,
        topic_id: TopicId,
        by: &str,
    ) -> Result<TargetPictureId> {
        let mut tx = self.begin_write().await?;
        let id = draft_in(&mut tx, topic_id, by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Saves the draft's text; other versions are refused ([`lifecycle::edit`]).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn save_draft(&self, id: TargetPictureId, body: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let current = visibility_in(&mut tx, id).await?;
        lifecycle::edit(current)?;
        sqlx::query("UPDATE target_pictures SET body = $1, modified_at = $2 WHERE id = $3")
            .bind(body)
            .bind(now_micros())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a version on: draft → confidential (into the decision papers) → published
    /// with the resolution that decided it. Published versions stay published; core's
    /// [`lifecycle::advance`] decides what is allowed.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn advance_target_picture(
        &self,
        id: TargetPictureId,
        to: Visibility,
        resolution_id: Option<ResolutionId>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let current = visibility_in(&mut tx, id).await?;
        let published = match resolution_id {
            Some(resolution) => {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM resolutions WHERE id = $1 AND state = 'published'",
                )
                .bind(resolution.get())
                .fetch_one(&mut *tx)
                .await?;
                Some(n > 0)
            }
            None => None,
        };
        lifecycle::advance(current, to, published)?;
        let now = now_micros();
        if to == Visibility::Published {
            sqlx::query(
                "UPDATE target_pictures SET visibility = 'published', resolution_id = $1, \
                 published_at = $2, modified_at = $2 WHERE id = $3",
            )
            .bind(resolution_id.map(ResolutionId::get))
            .bind(now)
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        } else {
            // The rules let nothing else through: the draft goes into the decision papers.
            sqlx::query(
                "UPDATE target_pictures SET visibility = 'confidential', modified_at = $1 \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_version(
    tx: &mut Tx,
    topic_id: TopicId,
    body: &str,
    visibility: Visibility,
    by: &str,
) -> Result<TargetPictureId> {
    let (next,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM target_pictures WHERE topic_id = $1",
    )
    .bind(topic_id.get())
    .fetch_one(&mut **tx)
    .await?;
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO target_pictures (topic_id, version, body, visibility, created_by, \
         created_at, modified_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
         RETURNING id",
    )
    .bind(topic_id.get())
    .bind(next)
    .bind(body)
    .bind(visibility.as_str())
    .bind(by)
    .bind(now)
    .bind(visibility.is_public().then_some(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(TargetPictureId::new(id))
}

/// Where version `id` stands (`None`: there is no such version). Takes the version's
/// row lock on PostgreSQL, so that nothing changes it between the decision and the write;
/// SQLite's writer lock does the same.
async fn visibility_in(tx: &mut Tx, id: TargetPictureId) -> Result<Option<Visibility>> {
    let row: Option<(String,)> = sqlx::query_as(
        "UPDATE target_pictures SET visibility = visibility WHERE id = $1 RETURNING visibility",
    )
    .bind(id.get())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|(v,)| Visibility::from_str(&v).map_err(corrupt))
        .transpose()
}

pub(super) async fn draft_in(tx: &mut Tx, topic_id: TopicId, by: &str) -> Result<TargetPictureId> {
    let draft: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM target_pictures WHERE topic_id = $1 AND visibility = 'draft'",
    )
    .bind(topic_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id,)) = draft {
        return Ok(TargetPictureId::new(id));
    }
    let newest: Option<(String,)> = sqlx::query_as(
        "SELECT body FROM target_pictures WHERE topic_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(topic_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let body = newest.map(|(b,)| b).unwrap_or_default();
    insert_version(tx, topic_id, &body, Visibility::Draft, by).await
}
