//! What the organizers read about moderation: the mutes and locks in force, who was
//! removed, the queue of reported items and the log of every action.

use konvent_core::ids::{AccountId, EventId};
use std::str::FromStr;

use super::{ModeratedItem, ModerationAction, Mute, ReportedItem, Restrictions, item_now};
use crate::{Result, Store, StoreError, Who, now_micros};

type ActionRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
);

impl Store {
    /// The mutes in force and the locked rooms of an event.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn restrictions(&self, event_id: EventId) -> Result<Restrictions> {
        let mutes: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT account_id, ends_at FROM event_mutes WHERE event_id = $1 \
             AND (ends_at IS NULL OR ends_at > $2)",
        )
        .bind(event_id.get())
        .bind(now_micros())
        .fetch_all(&self.pool)
        .await?;
        let locked: Vec<(String,)> = sqlx::query_as(
            "SELECT r.slug FROM room_chat_locks l JOIN rooms r ON r.id = l.room_id \
             WHERE r.event_id = $1",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(Restrictions {
            mutes: mutes
                .into_iter()
                .map(|(id, ends)| (AccountId::new(id), ends.map(crate::timestamp)))
                .collect(),
            locked_rooms: locked.into_iter().map(|(s,)| s).collect(),
        })
    }

    /// Whether the account was removed from the event (and not let back in).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn removed_from_event(
        &self,
        event_id: EventId,
        account_id: AccountId,
    ) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM event_removals WHERE event_id = $1 AND account_id = $2")
                .bind(event_id.get())
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// The mutes in force, by name.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn mutes(&self, event_id: EventId) -> Result<Vec<Mute>> {
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT a.id, a.display_name, m.ends_at FROM event_mutes m \
             JOIN accounts a ON a.id = m.account_id WHERE m.event_id = $1 \
             AND (m.ends_at IS NULL OR m.ends_at > $2) ORDER BY a.display_name, a.id",
        )
        .bind(event_id.get())
        .bind(now_micros())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, ends)| Mute {
                person: Who::new(AccountId::new(id), name),
                ends_at: ends.map(crate::timestamp),
            })
            .collect())
    }

    /// The people removed from the event, by name.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn removed_people(&self, event_id: EventId) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.id, a.display_name FROM event_removals r \
             JOIN accounts a ON a.id = r.account_id WHERE r.event_id = $1 \
             ORDER BY a.display_name, a.id",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who::new(AccountId::new(id), name))
            .collect())
    }

    /// The reported items waiting for a decision, oldest report first.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn report_queue(&self, event_id: EventId) -> Result<Vec<ReportedItem>> {
        let rows: Vec<(String, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT r.item, r.item_id, a.display_name, r.reason FROM moderation_reports r \
             LEFT JOIN accounts a ON a.id = r.reporter_id \
             WHERE r.event_id = $1 AND r.status = 'open' ORDER BY r.id",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut queue: Vec<ReportedItem> = Vec::new();
        let mut tx = self.pool.begin().await?;
        for (item, item_id, reporter, reason) in rows {
            let item = ModeratedItem::from_str(&item).map_err(StoreError::Corrupt)?;
            let reporter = reporter.unwrap_or_default();
            if let Some(known) = queue
                .iter_mut()
                .find(|q| q.item == item && q.item_id == item_id)
            {
                known.reasons.push((reporter, reason));
                continue;
            }
            let (text, author) = match item_now(&mut tx, event_id, item, item_id).await? {
                Some((text, author, _)) => (text, author),
                None => (String::new(), None),
            };
            queue.push(ReportedItem {
                item,
                item_id,
                author,
                text,
                reasons: vec![(reporter, reason)],
            });
        }
        tx.commit().await?;
        Ok(queue)
    }

    /// Every moderation action of an event, newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn moderation_log(&self, event_id: EventId) -> Result<Vec<ModerationAction>> {
        let rows: Vec<ActionRow> = sqlx::query_as(
            "SELECT id, at, actor, action, item, item_id, room, person, content, reason, ends_at \
             FROM moderation_actions WHERE event_id = $1 ORDER BY at DESC, id DESC LIMIT 1000",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor, action, item, item_id, room, person, content, reason, ends)| {
                    ModerationAction {
                        id,
                        at: crate::timestamp(at),
                        actor,
                        action,
                        item,
                        item_id,
                        room,
                        person,
                        content,
                        reason,
                        ends_at: ends.map(crate::timestamp),
                    }
                },
            )
            .collect())
    }
}
