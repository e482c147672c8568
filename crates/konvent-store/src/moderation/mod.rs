//! Moderating an event (K17): organizers remove chat lines, impulses, pins and questions,
//! mute people in chat, remove people from the event, lock a room's chat, and work
//! through what participants reported. Every action is one transaction with its row in
//! `moderation_actions` (who, when, what, why) and its live-log entry.
//!
//! What was removed or hidden leaves the live log in the same transaction: its earlier
//! entries keep their place (sequence, kind, room, sender, time) but their data becomes
//! a tombstone without the text ([`tombstone`]), so every reader of the log (replay after
//! `since`, the chat history of `joined`, the hub's gap filling, pages and exports) gets
//! the redacted version. The text stays only in `moderation_actions`, for the organizers.

mod people;
mod read;

use konvent_core::ids::{AccountId, EventId};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

pub use konvent_core::convention::log::payload::tombstone;
use konvent_core::convention::log::payload::{self, Moderation};
use konvent_core::convention::moderation::ModerationRefusal;
use serde_json::Value;

use crate::live::{Entry, LiveTx, Tx, append};
use crate::{LiveRecord, Result, Store, StoreError, Who, Written, now_micros};

/// The longest reason a report or a moderation action may carry.
pub const REASON_MAX: usize = 500;

/// What can be removed (and, chat lines and impulses, reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModeratedItem {
    Chat,
    Impulse,
    Pin,
    Question,
    /// The message of a contact request (K15+), reported by its recipient.
    Contact,
}

impl ModeratedItem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Impulse => "impulse",
            Self::Pin => "pin",
            Self::Question => "question",
            Self::Contact => "contact",
        }
    }

    /// Whether participants may report it.
    pub fn reportable(self) -> bool {
        matches!(self, Self::Chat | Self::Impulse | Self::Contact)
    }
}

impl FromStr for ModeratedItem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chat" => Ok(Self::Chat),
            "impulse" => Ok(Self::Impulse),
            "pin" => Ok(Self::Pin),
            "question" => Ok(Self::Question),
            "contact" => Ok(Self::Contact),
            other => Err(format!("Unbekannte Art von Beitrag: {other:?}")),
        }
    }
}

/// Who may not write in chat, and which rooms' chat is locked, right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// Muted accounts, with when the mute ends (`None`: for the rest of the event).
    pub mutes: HashMap<AccountId, Option<jiff::Timestamp>>,
    /// Slugs of the rooms whose chat is locked.
    pub locked_rooms: HashSet<String>,
}

/// One moderation action, as the organizers' audit shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationAction {
    pub id: i64,
    pub at: jiff::Timestamp,
    pub actor: String,
    pub action: String,
    pub item: Option<String>,
    pub item_id: Option<i64>,
    pub room: Option<String>,
    pub person: Option<String>,
    /// What was removed.
    pub content: Option<String>,
    pub reason: String,
    pub ends_at: Option<jiff::Timestamp>,
}

/// A reported item waiting in the organizers' queue, with every report about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedItem {
    pub item: ModeratedItem,
    pub item_id: i64,
    pub author: Option<Who>,
    pub text: String,
    /// Reporter's name and reason, oldest first.
    pub reasons: Vec<(String, String)>,
}

/// A muted person and until when (`None`: for the rest of the event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mute {
    pub person: Who,
    pub ends_at: Option<jiff::Timestamp>,
}

/// Replaces the data of every earlier entry of `kind` about item `item_id` with its
/// [`tombstone`], inside `tx`. Chat lines are found by their sequence number (their id),
/// the others by the `id` in their data (a text search narrows the rows, the parsed data
/// decides).
pub(crate) async fn redact(tx: &mut Tx, event_id: EventId, kind: &str, item_id: i64) -> Result<()> {
    let rows: Vec<(i64, String)> = if kind == "chat" {
        sqlx::query_as(
            "SELECT seq, data FROM live_log WHERE event_id = $1 AND kind = 'chat' AND seq = $2",
        )
        .bind(event_id.get())
        .bind(item_id)
        .fetch_all(&mut **tx)
        .await?
    } else {
        sqlx::query_as(
            "SELECT seq, data FROM live_log WHERE event_id = $1 AND kind = $2 \
             AND (data LIKE $3 OR data LIKE $4)",
        )
        .bind(event_id.get())
        .bind(kind)
        .bind(format!("%\"id\":{item_id},%"))
        .bind(format!("%\"id\":{item_id}}}%"))
        .fetch_all(&mut **tx)
        .await?
    };
    for (seq, data) in rows {
        let data: Value =
            serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if data.get("id").and_then(Value::as_i64) != Some(item_id)
            || data.get("redacted") == Some(&Value::Bool(true))
        {
            continue;
        }
        sqlx::query("UPDATE live_log SET data = $1 WHERE event_id = $2 AND seq = $3")
            .bind(tombstone(kind, &data).to_string())
            .bind(event_id.get())
            .bind(seq)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// What one action records.
struct Action<'a> {
    action: &'a str,
    item: Option<&'a str>,
    item_id: Option<i64>,
    room: Option<&'a str>,
    person: Option<&'a Who>,
    content: Option<&'a str>,
    reason: &'a str,
    ends_at: Option<i64>,
}

impl Action<'_> {
    fn new(action: &str) -> Action<'_> {
        Action {
            action,
            item: None,
            item_id: None,
            room: None,
            person: None,
            content: None,
            reason: "",
            ends_at: None,
        }
    }
}

async fn record(tx: &mut Tx, event_id: EventId, by: &Who, a: Action<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO moderation_actions (event_id, at, actor_id, actor, action, item, item_id, \
         room, person_id, person, content, reason, ends_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(event_id.get())
    .bind(now_micros())
    .bind(by.id.get())
    .bind(&by.name)
    .bind(a.action)
    .bind(a.item)
    .bind(a.item_id)
    .bind(a.room)
    .bind((a.person.map(|p| p.id)).map(AccountId::get))
    .bind(a.person.map(|p| p.name.as_str()))
    .bind(a.content)
    .bind(a.reason)
    .bind(a.ends_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a table moderator's hiding, showing or merging of an impulse in the moderation
/// log, in the caller's transaction.
pub(crate) async fn record_impulse(
    tx: &mut Tx,
    event_id: EventId,
    by: &Who,
    action: &str,
    impulse: &crate::Impulse,
    room: &str,
) -> Result<()> {
    let author = impulse
        .author_id
        .map(|id| Who::new(id, impulse.author_name.clone()));
    let mut a = Action::new(action);
    a.item = Some("impulse");
    a.item_id = Some(impulse.id.get());
    a.room = Some(room);
    a.person = author.as_ref();
    a.content = Some(&impulse.text);
    record(tx, event_id, by, a).await
}

/// The staff's live entry of an action on a person or a report (reasons are for the
/// staff only).
async fn staff_entry(
    tx: &mut Tx,
    event_id: EventId,
    by: &Who,
    client_id: Option<&str>,
    data: Moderation,
) -> Result<LiveRecord> {
    let entry = Entry::to_staff(by.id, client_id);
    append(tx, event_id, entry, |_| data).await
}

/// An item as it stands: its text, author and room (`None` when it is gone).
async fn item_now(
    tx: &mut Tx,
    event_id: EventId,
    item: ModeratedItem,
    id: i64,
) -> Result<Option<(String, Option<Who>, Option<String>)>> {
    let who = |id: Option<i64>, name: Option<String>| {
        id.zip(name)
            .map(|(id, name)| Who::new(AccountId::new(id), name))
    };
    Ok(match item {
        ModeratedItem::Chat => {
            let row: Option<(Option<String>, String)> = sqlx::query_as(
                "SELECT room, data FROM live_log WHERE event_id = $1 AND seq = $2 AND kind = 'chat'",
            )
            .bind(event_id.get())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
            match row {
                None => None,
                Some((room, data)) => {
                    let data: Value = serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    if data.get("redacted") == Some(&Value::Bool(true)) {
                        None
                    } else {
                        Some((
                            data["text"].as_str().unwrap_or_default().to_owned(),
                            who(
                                data["from"]["id"].as_i64(),
                                data["from"]["name"].as_str().map(str::to_owned),
                            ),
                            room,
                        ))
                    }
                }
            }
        }
        ModeratedItem::Impulse => {
            let row: Option<(String, Option<i64>, String, String)> = sqlx::query_as(
                "SELECT i.text, i.author_id, i.author_name, r.slug FROM impulses i \
                 JOIN cafe_tables c ON c.id = i.table_id JOIN rooms r ON r.id = c.room_id \
                 WHERE i.id = $1 AND i.event_id = $2",
            )
            .bind(id)
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|(text, author, name, room)| (text, who(author, Some(name)), Some(room)))
        }
        ModeratedItem::Contact => {
            let row: Option<(String, i64, String)> = sqlx::query_as(
                "SELECT r.message, r.from_id, a.display_name FROM contact_requests r \
                 JOIN accounts a ON a.id = r.from_id \
                 WHERE r.id = $1 AND r.message <> '' AND (r.event_id = $2 OR (r.event_id = 0 \
                 AND EXISTS (SELECT 1 FROM moderation_reports m WHERE m.event_id = $2 \
                 AND m.item = 'contact' AND m.item_id = r.id)))",
            )
            .bind(id)
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|(text, author, name)| {
                (text, Some(Who::new(AccountId::new(author), name)), None)
            })
        }
        ModeratedItem::Pin => {
            let row: Option<(String, Option<i64>, String)> = sqlx::query_as(
                "SELECT text, author_id, author_name FROM pins WHERE id = $1 AND event_id = $2",
            )
            .bind(id)
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|(text, author, name)| (text, who(author, Some(name)), None))
        }
        ModeratedItem::Question => {
            let row: Option<(String, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT q.text, q.author_id, a.display_name FROM questions q \
                 LEFT JOIN accounts a ON a.id = q.author_id WHERE q.id = $1 AND q.event_id = $2",
            )
            .bind(id)
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|(text, author, name)| (text, who(author, name), None))
        }
    })
}

impl Store {
    /// Removes an item for everybody: out of the page, the exports and the live log (its
    /// entries become tombstones); a `removed` entry tells the clients to drop it. The
    /// text is kept in the moderation log for the organizers.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, item = ?item, item_id = item_id))]
    pub async fn remove_item(
        &self,
        event_id: EventId,
        by: &Who,
        item: ModeratedItem,
        item_id: i64,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            let (content, author, room) = item_now(tx, event_id, item, item_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            match item {
                ModeratedItem::Chat => {}
                ModeratedItem::Impulse => {
                    sqlx::query("UPDATE impulses SET hidden = 1 WHERE id = $1")
                        .bind(item_id)
                        .execute(&mut **tx)
                        .await?;
                }
                ModeratedItem::Pin => {
                    sqlx::query(
                        "DELETE FROM connection_points WHERE target = 'pin' AND target_id = $1",
                    )
                    .bind(item_id)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query("DELETE FROM pins WHERE id = $1")
                        .bind(item_id)
                        .execute(&mut **tx)
                        .await?;
                }
                ModeratedItem::Question => {
                    sqlx::query("DELETE FROM questions WHERE id = $1")
                        .bind(item_id)
                        .execute(&mut **tx)
                        .await?;
                }
                // The message goes; a request still open is declined with it.
                ModeratedItem::Contact => {
                    sqlx::query(
                        "UPDATE contact_requests SET message = '', status = CASE \
                         WHEN status = 'open' THEN 'declined' ELSE status END WHERE id = $1",
                    )
                    .bind(item_id)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            redact(tx, event_id, item.as_str(), item_id).await?;
            sqlx::query(
                "UPDATE moderation_reports SET status = 'removed' WHERE event_id = $1 \
                 AND item = $2 AND item_id = $3 AND status = 'open'",
            )
            .bind(event_id.get())
            .bind(item.as_str())
            .bind(item_id)
            .execute(&mut **tx)
            .await?;
            let mut action = Action::new("remove");
            action.item = Some(item.as_str());
            action.item_id = Some(item_id);
            action.room = room.as_deref();
            action.person = author.as_ref();
            action.content = Some(&content);
            action.reason = reason;
            record(tx, event_id, by, action).await?;
            let entry = Entry::to_all(room.as_deref(), by.id, client_id);
            let removed = payload::Removed {
                item: item.as_str().to_owned(),
                id: item_id,
            };
            append(tx, event_id, entry, |_| removed).await
        })
        .await
    }

    /// A participant reports a chat line or an impulse, with a reason; once per person
    /// and item. The entry reaches the reporter and the staff.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, item = ?item, item_id = item_id))]
    pub async fn report(
        &self,
        event_id: EventId,
        by: &Who,
        item: ModeratedItem,
        item_id: i64,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if !item.reportable() {
            return Err(ModerationRefusal::NotReportable.into());
        }
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            // A contact request's message only by the one it was sent to: one sent from
            // an event in that event, one sent from "Meine Ergebnisse" (no event) in the
            // event its recipient reports it from, whose moderators then handle it.
            if item == ModeratedItem::Contact {
                let mine: Option<(i64,)> = sqlx::query_as(
                    "SELECT 1 FROM contact_requests WHERE id = $1 AND to_id = $2 \
                     AND message <> '' AND event_id IN (0, $3)",
                )
                .bind(item_id)
                .bind(by.id.get())
                .bind(event_id.get())
                .fetch_optional(&mut **tx)
                .await?;
                if mine.is_none() {
                    return Err(StoreError::NotFound);
                }
            } else {
                item_now(tx, event_id, item, item_id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO moderation_reports (event_id, item, item_id, reporter_id, reason, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(event_id.get())
            .bind(item.as_str())
            .bind(item_id)
            .bind(by.id.get())
            .bind(reason)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::refused_on_unique(e, ModerationRefusal::AlreadyReported))?;
            let entry = Entry::to_staff(by.id, client_id);
            let report = payload::Report {
                report: id,
                item: item.as_str().to_owned(),
                id: item_id,
            };
            append(tx, event_id, entry, |_| report).await
        })
        .await
    }

    /// Dismisses the open reports about an item (it stays).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, item = ?item, item_id = item_id))]
    pub async fn dismiss_reports(
        &self,
        event_id: EventId,
        by: &Who,
        item: ModeratedItem,
        item_id: i64,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            let done = sqlx::query(
                "UPDATE moderation_reports SET status = 'dismissed' WHERE event_id = $1 \
                 AND item = $2 AND item_id = $3 AND status = 'open'",
            )
            .bind(event_id.get())
            .bind(item.as_str())
            .bind(item_id)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let mut action = Action::new("dismiss");
            action.item = Some(item.as_str());
            action.item_id = Some(item_id);
            action.reason = reason;
            record(tx, event_id, by, action).await?;
            let data = Moderation::Dismiss {
                item: item.as_str().to_owned(),
                id: item_id,
            };
            staff_entry(tx, event_id, by, client_id, data).await
        })
        .await
    }
}
