//! The titles a moderator gives the groups of the podium bundle (K13). The groups
//! themselves are computed from the impulses on every view; a title is stored with the
//! impulses its group had when it was named, and
//! [`konvent_core::convention::podium::titles_for`] finds the group it belongs to now.

use konvent_core::ids::{EventId, ImpulseId, PodiumTitleId, TopicId};
use std::collections::HashMap;

use konvent_core::convention::podium::NamedGroup;

use crate::{Result, Store, now_micros};

impl Store {
    /// The titles given to the podium groups of one topic at one event, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, topic_id = %topic_id))]
    pub async fn podium_titles(
        &self,
        event_id: EventId,
        topic_id: TopicId,
    ) -> Result<Vec<NamedGroup>> {
        let mut by_topic = self.podium_titles_by_topic(event_id).await?;
        Ok(by_topic.remove(&topic_id).unwrap_or_default())
    }

    /// The titles given to the podium groups at one event, by topic, oldest first: one
    /// query for the podium page's topics.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn podium_titles_by_topic(
        &self,
        event_id: EventId,
    ) -> Result<HashMap<TopicId, Vec<NamedGroup>>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT topic_id, id, title, members FROM podium_titles \
             WHERE event_id = $1 ORDER BY id",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut by_topic: HashMap<TopicId, Vec<NamedGroup>> = HashMap::new();
        for (topic_id, id, title, members) in rows {
            by_topic
                .entry(TopicId::new(topic_id))
                .or_default()
                .push(NamedGroup {
                    id: PodiumTitleId::new(id),
                    title,
                    // Written by `name_podium_group` only; an unreadable list names nothing.
                    members: serde_json::from_str(&members).unwrap_or_default(),
                });
        }
        Ok(by_topic)
    }

    /// Names a podium group (its impulses `members`): the title it carried before
    /// (`replaces`, if any) goes, and `title` is stored unless it is `None`, which gives
    /// the group back its suggested title. One transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, topic_id = %topic_id, replaces = replaces.map(PodiumTitleId::get), members = members.len()))]
    pub async fn name_podium_group(
        &self,
        event_id: EventId,
        topic_id: TopicId,
        replaces: Option<PodiumTitleId>,
        title: Option<&str>,
        members: &[ImpulseId],
        named_by: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(id) = replaces {
            sqlx::query("DELETE FROM podium_titles WHERE id = $1 AND event_id = $2")
                .bind(id.get())
                .bind(event_id.get())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(title) = title {
            sqlx::query(
                "INSERT INTO podium_titles (event_id, topic_id, title, members, named_by, named_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(event_id.get())
            .bind(topic_id.get())
            .bind(title)
            .bind(serde_json::to_string(members).unwrap_or_else(|_| "[]".to_owned()))
            .bind(named_by)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
