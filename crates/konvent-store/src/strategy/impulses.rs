//! Impulses (K10): what participants write at a café table, live for everybody there;
//! edited by their author for a quarter of an hour, hidden or merged by the table's
//! moderation. Impulses that arrive together are committed in
//! [`super::impulse_batch`].

use konvent_core::convention::log::payload::{self, ImpulseAction, Tombstone};
use konvent_core::ids::{AccountId, EventId, ImpulseId, TableId, TopicId};
use konvent_core::strategy::impulses;

use crate::live::{Entry, LiveTx, Tx, append};
use crate::{Result, Store, StoreError, Who, Written, now_micros, timestamp};

use super::cafe_tables::table_room;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impulse {
    pub id: ImpulseId,
    pub event_id: EventId,
    pub table_id: TableId,
    pub topic_id: TopicId,
    pub round: i64,
    pub author_id: Option<AccountId>,
    pub author_name: String,
    pub text: String,
    pub hidden: bool,
    pub merged_into: Option<ImpulseId>,
    pub created_at: jiff::Timestamp,
    pub edited: bool,
}

impl Impulse {
    /// The impulse as its live entry carries it after `action`.
    pub fn payload(&self, action: ImpulseAction) -> payload::Impulse {
        payload::Impulse {
            id: self.id,
            table: self.table_id,
            round: self.round,
            author: payload::Author {
                id: self.author_id.map(AccountId::get),
                name: self.author_name.clone(),
            },
            text: self.text.clone(),
            hidden: self.hidden,
            merged_into: self.merged_into,
            edited: self.edited,
            created_at: self.created_at,
            action,
        }
    }
}

pub(super) type ImpulseRow = (
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
);

pub(super) const IMPULSE_SELECT: &str = "SELECT i.id, i.event_id, i.table_id, i.topic_id, i.round, \
     i.author_id, i.author_name, i.text, i.hidden, i.merged_into, i.created_at, i.edited_at \
     FROM impulses i";

pub(super) fn impulse_from(row: ImpulseRow) -> Impulse {
    let (
        id,
        event_id,
        table_id,
        topic_id,
        round,
        author_id,
        author_name,
        text,
        hidden,
        merged,
        at,
        edited,
    ) = row;
    Impulse {
        id: ImpulseId::new(id),
        event_id: EventId::new(event_id),
        table_id: TableId::new(table_id),
        topic_id: TopicId::new(topic_id),
        round,
        author_id: author_id.map(AccountId::new),
        author_name,
        text,
        hidden: hidden != 0,
        merged_into: merged.map(ImpulseId::new),
        created_at: timestamp(at),
        edited: edited.is_some(),
    }
}

async fn impulse_in(tx: &mut Tx, id: ImpulseId) -> Result<Impulse> {
    let row: Option<ImpulseRow> = sqlx::query_as(&format!("{IMPULSE_SELECT} WHERE i.id = $1"))
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(impulse_from).ok_or(StoreError::NotFound)
}

impl Store {
    /// A new impulse at a table, live for everybody there.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id, author = %author.id))]
    pub async fn add_impulse(
        &self,
        table_id: TableId,
        author: &Who,
        text: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        // The live write is the event's, so the event comes first; the table's room,
        // topic and round are read again in the transaction that writes the impulse.
        let event_id = self.table_event(table_id).await?;
        self.live_write(event_id, author.id, client_id, async |LiveTx(tx)| {
            let (_, room, topic_id, round, _) = table_room(tx, table_id).await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO impulses (event_id, table_id, topic_id, round, author_id, \
                 author_name, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id",
            )
            .bind(event_id.get())
            .bind(table_id.get())
            .bind(topic_id.get())
            .bind(round)
            .bind(author.id.get())
            .bind(&author.name)
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            let impulse = impulse_in(tx, ImpulseId::new(id)).await?;
            impulse_entry(
                tx,
                event_id,
                &room,
                author.id,
                client_id,
                &impulse,
                ImpulseAction::Added,
            )
            .await
        })
        .await
    }

    /// The author edits their impulse, within [`IMPULSE_EDIT_SECONDS`] of writing it.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, author = %author.id))]
    pub async fn edit_impulse(&self, id: ImpulseId, author: &Who, text: &str) -> Result<Written> {
        // The live write is the event's, so the event comes first; the impulse is read
        // again in the transaction that edits it.
        let event_id = self.impulse(id).await?.event_id;
        self.live_write(event_id, author.id, None, async |LiveTx(tx)| {
            let impulse = impulse_in(tx, id).await?;
            impulses::edit(
                impulse.author_id,
                author.id,
                impulse.hidden,
                impulse.created_at,
                jiff::Timestamp::now(),
            )?;
            sqlx::query("UPDATE impulses SET text = $1, edited_at = $2 WHERE id = $3")
                .bind(text)
                .bind(now_micros())
                .bind(id.get())
                .execute(&mut **tx)
                .await?;
            let (event_id, room, ..) = table_room(tx, impulse.table_id).await?;
            let impulse = impulse_in(tx, id).await?;
            impulse_entry(
                tx,
                event_id,
                &room,
                author.id,
                None,
                &impulse,
                ImpulseAction::Edited,
            )
            .await
        })
        .await
    }

    /// The moderator hides an impulse (or shows it again) or merges it into another of
    /// the same table.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, by = %by.id))]
    pub async fn moderate_impulse(
        &self,
        id: ImpulseId,
        by: &Who,
        hidden: bool,
        merge_into: Option<ImpulseId>,
    ) -> Result<Written> {
        // The live write is the event's, so the event comes first; the impulse is read
        // again in the transaction that changes it.
        let event_id = self.impulse(id).await?.event_id;
        self.live_write(event_id, by.id, None, async |LiveTx(tx)| {
            let impulse = impulse_in(tx, id).await?;
            if let Some(target) = merge_into {
                let other = impulse_in(tx, target).await?;
                impulses::merge(
                    impulse.id,
                    impulse.table_id,
                    other.id,
                    other.table_id,
                    other.merged_into.is_some(),
                )?;
            }
            sqlx::query("UPDATE impulses SET hidden = $1, merged_into = $2 WHERE id = $3")
                .bind(i64::from(hidden))
                .bind(merge_into.map(ImpulseId::get))
                .bind(id.get())
                .execute(&mut **tx)
                .await?;
            // What was merged into this one follows it.
            if let Some(target) = merge_into {
                sqlx::query("UPDATE impulses SET merged_into = $1 WHERE merged_into = $2")
                    .bind(target.get())
                    .bind(id.get())
                    .execute(&mut **tx)
                    .await?;
            }
            let (event_id, room, ..) = table_room(tx, impulse.table_id).await?;
            let impulse = impulse_in(tx, id).await?;
            let action = match (merge_into, hidden) {
                (Some(_), _) => "merge",
                (None, true) => "hide",
                (None, false) => "show",
            };
            crate::moderation::record_impulse(tx, event_id, by, action, &impulse, &room).await?;
            if impulse.hidden {
                // Hidden: its text leaves the live log, and its own entry carries none
                // (showing it again writes a new entry with the text).
                crate::moderation::redact(tx, event_id, "impulse", id.get()).await?;
                let entry = Entry::to_all(Some(&room), by.id, None);
                let data = Tombstone(impulse.payload(ImpulseAction::Moderated));
                append(tx, event_id, entry, |_| data).await
            } else {
                impulse_entry(
                    tx,
                    event_id,
                    &room,
                    by.id,
                    None,
                    &impulse,
                    ImpulseAction::Moderated,
                )
                .await
            }
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn impulse(&self, id: ImpulseId) -> Result<Impulse> {
        let row: Option<ImpulseRow> = sqlx::query_as(&format!("{IMPULSE_SELECT} WHERE i.id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await?;
        row.map(impulse_from).ok_or(StoreError::NotFound)
    }

    /// A table's impulses in order, hidden ones only with `hidden`.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id))]
    pub async fn table_impulses(&self, table_id: TableId, hidden: bool) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.table_id = $1 AND (i.hidden = 0 OR $2 = 1) ORDER BY i.id"
        ))
        .bind(table_id.get())
        .bind(i64::from(hidden))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// Every visible impulse of a topic, from all rounds and events, merged ones left out
    /// (their text lives on in the one they were merged into).
    #[tracing::instrument(level = "debug", skip_all, fields(topic_id = %topic_id))]
    pub async fn topic_impulses(&self, topic_id: TopicId) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.topic_id = $1 AND i.hidden = 0 AND i.merged_into IS NULL \
             ORDER BY i.id"
        ))
        .bind(topic_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// An event's visible impulses (for the podium bundle and the results export).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_impulses(&self, event_id: EventId) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.event_id = $1 AND i.hidden = 0 AND i.merged_into IS NULL \
             ORDER BY i.topic_id, i.round, i.id"
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// What `account` wrote.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn impulses_by(&self, account: AccountId) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.author_id = $1 ORDER BY i.id"
        ))
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }
}

async fn impulse_entry(
    tx: &mut Tx,
    event_id: EventId,
    room: &str,
    sender: AccountId,
    client_id: Option<&str>,
    impulse: &Impulse,
    action: ImpulseAction,
) -> Result<crate::LiveRecord> {
    let entry = Entry::to_all(Some(room), sender, client_id);
    append(tx, event_id, entry, |_| impulse.payload(action)).await
}
