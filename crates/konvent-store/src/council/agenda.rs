//! A council session's agenda (G4): items added, moved and removed while the session
//! lies ahead; removed items are kept for the record.

use konvent_core::ids::{AccountId, AgendaItemId, SessionId};
use serde::Serialize;

use super::Tx;
use super::sessions::{check_upcoming, session_in, touch_session};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgendaItem {
    pub id: AgendaItemId,
    pub session_id: SessionId,
    pub position: i64,
    pub title: String,
    pub is_reporting: bool,
    pub created_at: i64,
    pub modified_at: i64,
    /// Set when the item was taken off the agenda (kept for OParl's deleted objects).
    pub deleted_at: Option<i64>,
}

impl Store {
    /// The agenda of a session, in order.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session_id))]
    pub async fn agenda(&self, session_id: SessionId) -> Result<Vec<AgendaItem>> {
        self.agenda_items(session_id, false).await
    }

    /// The items taken off a session's agenda, for open data that reports deletions.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session_id))]
    pub async fn removed_agenda_items(&self, session_id: SessionId) -> Result<Vec<AgendaItem>> {
        self.agenda_items(session_id, true).await
    }

    async fn agenda_items(&self, session_id: SessionId, removed: bool) -> Result<Vec<AgendaItem>> {
        type Row = (i64, i64, i64, String, i64, i64, i64, Option<i64>);
        let condition = if removed { "IS NOT NULL" } else { "IS NULL" };
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT id, session_id, position, title, is_reporting, created_at, modified_at, \
             deleted_at FROM agenda_items WHERE session_id = $1 AND deleted_at {condition} \
             ORDER BY position, id"
        ))
        .bind(session_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    session_id,
                    position,
                    title,
                    is_reporting,
                    created_at,
                    modified_at,
                    deleted_at,
                )| {
                    AgendaItem {
                        id: AgendaItemId::new(id),
                        session_id: SessionId::new(session_id),
                        position,
                        title,
                        is_reporting: is_reporting != 0,
                        created_at,
                        modified_at,
                        deleted_at,
                    }
                },
            )
            .collect())
    }

    /// Adds an item to the agenda of a session that is still to come: a held, cancelled
    /// or past session takes no new items.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn add_agenda_item(
        &self,
        actor: &Actor,
        number: i64,
        title: &str,
    ) -> Result<AgendaItemId> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        check_upcoming(
            number,
            &session.date.to_string(),
            session.state.as_str(),
            "title",
        )?;
        let id = insert_agenda_item(&mut tx, actor, session.id, title, false).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Swaps an item with its neighbour (`up`: the one before it).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, item_id = %item_id))]
    pub async fn move_agenda_item(
        &self,
        actor: &Actor,
        number: i64,
        item_id: AgendaItemId,
        up: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let items: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, position FROM agenda_items WHERE session_id = $1 AND deleted_at IS NULL \
             ORDER BY position, id",
        )
        .bind(session.id.get())
        .fetch_all(&mut *tx)
        .await?;
        let index = items
            .iter()
            .position(|(id, _)| *id == item_id.get())
            .ok_or(StoreError::NotFound)?;
        let other = if up {
            index.checked_sub(1)
        } else {
            Some(index + 1).filter(|i| *i < items.len())
        };
        if let Some(other) = other {
            // Renumber densely, then swap the two, so equal positions cannot stall a move.
            let mut order: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
            order.swap(index, other);
            for (position, id) in order.iter().enumerate() {
                sqlx::query(
                    "UPDATE agenda_items SET position = $1, modified_at = $2 WHERE id = $3",
                )
                .bind(position as i64 + 1)
                .bind(now_micros())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            touch_session(&mut tx, session.id).await?;
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "agenda_item",
                    entity_id: item_id.get(),
                    action: if up { "moved_up" } else { "moved_down" },
                    before: None,
                    after: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes an item from the agenda (it stays stored as deleted, as OParl expects).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, item_id = %item_id))]
    pub async fn remove_agenda_item(
        &self,
        actor: &Actor,
        number: i64,
        item_id: AgendaItemId,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let done = sqlx::query(
            "UPDATE agenda_items SET deleted_at = $1, modified_at = $1 \
             WHERE id = $2 AND session_id = $3 AND deleted_at IS NULL",
        )
        .bind(now_micros())
        .bind(item_id.get())
        .bind(session.id.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        touch_session(&mut tx, session.id).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "agenda_item",
                entity_id: item_id.get(),
                action: "removed",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn insert_agenda_item(
    tx: &mut Tx,
    actor: &Actor,
    session_id: SessionId,
    title: &str,
    is_reporting: bool,
) -> Result<AgendaItemId> {
    let now = now_micros();
    let (position,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM agenda_items WHERE session_id = $1 AND deleted_at IS NULL",
    )
    .bind(session_id.get())
    .fetch_one(&mut **tx)
    .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO agenda_items (session_id, position, title, is_reporting, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(session_id.get())
    .bind(position)
    .bind(title)
    .bind(i64::from(is_reporting))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    touch_session(tx, session_id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "agenda_item",
            entity_id: id,
            action: "created",
            before: None,
            after: Some(serde_json::json!({ "title": title, "session_id": session_id })),
        },
    )
    .await?;
    Ok(AgendaItemId::new(id))
}
