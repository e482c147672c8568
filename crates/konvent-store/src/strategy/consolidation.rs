//! Consolidation (S3, S4): the groups of a topic's impulses the project team saves,
//! merges and splits, and accepts into the draft of the topic's next target picture.

use std::collections::HashMap;

use konvent_core::ids::{ImpulseGroupId, ImpulseId, TargetPictureId, TopicId};
use konvent_core::strategy::consolidation;

use crate::live::Tx;
use crate::{Result, Store, StoreError, now_micros};

use super::impulses::{IMPULSE_SELECT, Impulse, ImpulseRow, impulse_from};
use super::target_pictures::draft_in;

/// A group the project team saved while consolidating a topic (S3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedGroup {
    pub id: ImpulseGroupId,
    pub topic_id: TopicId,
    pub label: String,
    pub accepted_into: Option<TargetPictureId>,
    pub members: Vec<Impulse>,
}

impl Store {
    /// The groups the project team saved for a topic, with their impulses.
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn saved_groups(&self, topic_id: TopicId) -> Result<Vec<SavedGroup>> {
        self.saved_groups_of(Some(topic_id)).await
    }

    /// The saved groups of every topic (as [`Store::saved_groups`] gives them for one):
    /// three queries for a page that lists all topics.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_saved_groups(&self) -> Result<Vec<SavedGroup>> {
        self.saved_groups_of(None).await
    }

    async fn saved_groups_of(&self, topic_id: Option<TopicId>) -> Result<Vec<SavedGroup>> {
        // `g.topic_id = $1`, or every topic.
        let of_topic = if topic_id.is_some() {
            "g.topic_id = $1"
        } else {
            "1 = 1"
        };
        let groups: Vec<(i64, i64, String, Option<i64>)> = bind_topic(
            &format!(
                "SELECT g.id, g.topic_id, g.label, g.accepted_into FROM impulse_groups g \
             WHERE {of_topic} ORDER BY g.id"
            ),
            topic_id,
        )
        .fetch_all(&self.pool)
        .await?;
        let rows: Vec<ImpulseRow> = bind_topic(
            &format!(
                "{IMPULSE_SELECT} JOIN impulse_group_members m ON m.impulse_id = i.id \
                 JOIN impulse_groups g ON g.id = m.group_id WHERE {of_topic} ORDER BY i.id"
            ),
            topic_id,
        )
        .fetch_all(&self.pool)
        .await?;
        let membership: HashMap<ImpulseId, ImpulseGroupId> = bind_topic::<(i64, i64)>(
            &format!(
                "SELECT m.impulse_id, m.group_id FROM impulse_group_members m \
                 JOIN impulse_groups g ON g.id = m.group_id WHERE {of_topic}"
            ),
            topic_id,
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(impulse, group)| (ImpulseId::new(impulse), ImpulseGroupId::new(group)))
        .collect();
        let members: Vec<(Option<ImpulseGroupId>, Impulse)> = rows
            .into_iter()
            .map(impulse_from)
            .map(|i| (membership.get(&i.id).copied(), i))
            .collect();
        Ok(groups
            .into_iter()
            .map(|(id, topic_id, label, accepted_into)| {
                let id = ImpulseGroupId::new(id);
                SavedGroup {
                    id,
                    topic_id: TopicId::new(topic_id),
                    label,
                    accepted_into: accepted_into.map(TargetPictureId::new),
                    members: members
                        .iter()
                        .filter(|(g, _)| *g == Some(id))
                        .map(|(_, i)| i.clone())
                        .collect(),
                }
            })
            .collect())
    }

    /// Saves a group of impulses of the topic (taking them out of any other group; a
    /// group left empty goes).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn save_group(
        &self,
        topic_id: TopicId,
        label: &str,
        impulses: &[ImpulseId],
        by: &str,
    ) -> Result<ImpulseGroupId> {
        consolidation::save(impulses)?;
        let mut tx = self.begin_write().await?;
        let (group,): (i64,) = sqlx::query_as(
            "INSERT INTO impulse_groups (topic_id, label, created_by, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(topic_id.get())
        .bind(label)
        .bind(by)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        for &impulse in impulses {
            let owner: Option<(i64,)> =
                sqlx::query_as("SELECT topic_id FROM impulses WHERE id = $1")
                    .bind(impulse.get())
                    .fetch_optional(&mut *tx)
                    .await?;
            consolidation::member(topic_id, owner.map(|(topic,)| TopicId::new(topic)))?;
            sqlx::query(
                "INSERT INTO impulse_group_members (impulse_id, group_id) VALUES ($1, $2) \
                 ON CONFLICT (impulse_id) DO UPDATE SET group_id = excluded.group_id",
            )
            .bind(impulse.get())
            .bind(group)
            .execute(&mut *tx)
            .await?;
        }
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(ImpulseGroupId::new(group))
    }

    /// Moves every impulse of group `from` into group `into` (both of the topic).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn merge_groups(
        &self,
        topic_id: TopicId,
        into: ImpulseGroupId,
        from: ImpulseGroupId,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM impulse_groups WHERE topic_id = $1 AND id IN ($2, $3) \
             AND accepted_into IS NULL",
        )
        .bind(topic_id.get())
        .bind(into.get())
        .bind(from.get())
        .fetch_one(&mut *tx)
        .await?;
        consolidation::merge(into, from, n)?;
        sqlx::query("UPDATE impulse_group_members SET group_id = $1 WHERE group_id = $2")
            .bind(into.get())
            .bind(from.get())
            .execute(&mut *tx)
            .await?;
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes an impulse out of its group (splitting it off).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn ungroup_impulse(&self, topic_id: TopicId, impulse: ImpulseId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM impulse_group_members WHERE impulse_id = $1 AND group_id IN \
             (SELECT id FROM impulse_groups WHERE topic_id = $2 AND accepted_into IS NULL)",
        )
        .bind(impulse.get())
        .bind(topic_id.get())
        .execute(&mut *tx)
        .await?;
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a group into the topic's draft of the next version: its label and
    /// impulses are appended to the draft's text as a point to work in, and the group
    /// remembers the version (S4).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id, group = %group))]
    pub async fn accept_group(
        &self,
        topic_id: TopicId,
        group: ImpulseGroupId,
        by: &str,
    ) -> Result<TargetPictureId> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT label, accepted_into FROM impulse_groups WHERE id = $1 AND topic_id = $2",
        )
        .bind(group.get())
        .bind(topic_id.get())
        .fetch_optional(&mut *tx)
        .await?;
        let (label, accepted) = row.ok_or(StoreError::NotFound)?;
        consolidation::accept(accepted.map(TargetPictureId::new))?;
        let draft = draft_in(&mut tx, topic_id, by).await?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM impulse_group_members WHERE group_id = $1")
                .bind(group.get())
                .fetch_one(&mut *tx)
                .await?;
        let (body,): (String,) = sqlx::query_as("SELECT body FROM target_pictures WHERE id = $1")
            .bind(draft.get())
            .fetch_one(&mut *tx)
            .await?;
        let body = format!(
            "{}\n\n- **{label}** (aus {count} Impulsen; einzuarbeiten)",
            body.trim_end()
        );
        sqlx::query("UPDATE target_pictures SET body = $1, modified_at = $2 WHERE id = $3")
            .bind(body)
            .bind(now_micros())
            .bind(draft.get())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE impulse_groups SET accepted_into = $1 WHERE id = $2")
            .bind(draft.get())
            .bind(group.get())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(draft)
    }
}

async fn drop_empty_groups(tx: &mut Tx, topic_id: TopicId) -> Result<()> {
    sqlx::query(
        "DELETE FROM impulse_groups WHERE topic_id = $1 AND accepted_into IS NULL AND id NOT IN \
         (SELECT group_id FROM impulse_group_members)",
    )
    .bind(topic_id.get())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `sql` with the topic bound as `$1` when there is one (its `WHERE` names it then).
fn bind_topic<'q, O>(
    sql: &'q str,
    topic_id: Option<TopicId>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    let query = sqlx::query_as(sql);
    match topic_id {
        Some(id) => query.bind(id.get()),
        None => query,
    }
}
