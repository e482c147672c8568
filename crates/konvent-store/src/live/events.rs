//! Events (K1, K2): their agenda, their rooms and who takes part in them.

use konvent_core::ids::{AccountId, EventId, RoomId};
use konvent_core::taken::Taken;
use std::str::FromStr;

use jiff::Timestamp;
use konvent_core::convention::log::Who;
use konvent_core::convention::{AgendaEntry, AgendaKind, RoomKind};

use super::{Timer, Tx};
use crate::{Result, Store, StoreError, now_micros, timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub slug: String,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Markdown.
    pub house_rules: String,
    pub mute_threshold: i64,
    pub feedback_url: Option<String>,
    pub feedback_open: bool,
    /// The agenda item the organizer advanced to; `None` follows the clock.
    pub current_item: Option<usize>,
    pub timer: Option<Timer>,
    pub last_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub event_id: EventId,
    pub slug: String,
    pub name: String,
    pub kind: RoomKind,
    pub capacity: i64,
    pub moderator: Option<Who>,
    pub speaker: Option<Who>,
}

/// What an organizer enters for a new event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub slug: String,
    pub title: String,
    pub house_rules: String,
    pub mute_threshold: i64,
    pub feedback_url: Option<String>,
    pub agenda: Vec<AgendaEntry>,
    pub rooms: Vec<NewRoom>,
}

#[derive(Debug, Clone)]
pub struct NewRoom {
    pub slug: String,
    pub name: String,
    pub kind: RoomKind,
    pub capacity: i64,
    pub moderator_id: Option<AccountId>,
}

/// A person's part in an event as stored (`participant` or `helper`).
pub(crate) fn event_role(stored: &str) -> EventRole {
    if stored == "helper" {
        EventRole::Helper
    } else {
        EventRole::Participant
    }
}

/// A person's part in an event, besides global roles and scoped grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRole {
    Participant,
    /// A named helper of the help desk (K12).
    Helper,
}

type EventRow = (
    i64,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

const EVENT_SELECT: &str = "SELECT id, slug, title, starts_at, ends_at, house_rules, \
     mute_threshold, feedback_url, feedback_open, current_item, timer_label, timer_seconds, \
     timer_ends_at, last_seq FROM events";

fn event_from_row(r: EventRow) -> Event {
    let (
        id,
        slug,
        title,
        starts_at,
        ends_at,
        house_rules,
        mute_threshold,
        feedback_url,
        feedback_open,
        current_item,
        timer_label,
        timer_seconds,
        timer_ends_at,
        last_seq,
    ) = r;
    Event {
        id: EventId::new(id),
        slug,
        title,
        starts_at: timestamp(starts_at),
        ends_at: timestamp(ends_at),
        house_rules,
        mute_threshold,
        feedback_url,
        feedback_open: feedback_open != 0,
        current_item: current_item.and_then(|i| usize::try_from(i).ok()),
        timer: timer_seconds.map(|seconds| Timer {
            label: timer_label.unwrap_or_default(),
            seconds,
            ends_at: timer_ends_at.map(timestamp),
        }),
        last_seq,
    }
}

type RoomRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

const ROOM_SELECT: &str = "SELECT r.id, r.event_id, r.slug, r.name, r.kind, r.capacity, \
     m.id, m.display_name, s.id, s.display_name FROM rooms r \
     LEFT JOIN accounts m ON m.id = r.moderator_id \
     LEFT JOIN accounts s ON s.id = r.speaker_id";

fn room_from_row(r: RoomRow) -> Result<Room> {
    let (id, event_id, slug, name, kind, capacity, mod_id, mod_name, sp_id, sp_name) = r;
    Ok(Room {
        id: RoomId::new(id),
        event_id: EventId::new(event_id),
        slug,
        name,
        kind: RoomKind::from_str(&kind).map_err(StoreError::Corrupt)?,
        capacity,
        moderator: mod_id
            .zip(mod_name)
            .map(|(id, name)| Who::new(AccountId::new(id), name)),
        speaker: sp_id
            .zip(sp_name)
            .map(|(id, name)| Who::new(AccountId::new(id), name)),
    })
}

impl Store {
    /// Creates an event with its agenda and rooms.
    #[tracing::instrument(level = "debug", skip_all, fields(slug = %event.slug))]
    pub async fn create_event(&self, event: &NewEvent) -> Result<EventId> {
        let (starts_at, ends_at) = event
            .agenda
            .iter()
            .fold(None, |acc: Option<(Timestamp, Timestamp)>, e| {
                Some(match acc {
                    None => (e.starts_at, e.ends_at),
                    Some((s, t)) => (s.min(e.starts_at), t.max(e.ends_at)),
                })
            })
            .ok_or_else(|| StoreError::Corrupt("an event needs an agenda".into()))?;
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO events (slug, title, starts_at, ends_at, house_rules, mute_threshold, \
             feedback_url, created_at, modified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&event.slug)
        .bind(&event.title)
        .bind(starts_at.as_microsecond())
        .bind(ends_at.as_microsecond())
        .bind(&event.house_rules)
        .bind(event.mute_threshold)
        .bind(&event.feedback_url)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, Taken::EventSlug))?;
        let id = EventId::new(id);
        for (position, item) in event.agenda.iter().enumerate() {
            sqlx::query(
                "INSERT INTO event_agenda (event_id, position, kind, title, starts_at, ends_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id.get())
            .bind(position as i64)
            .bind(item.kind.as_str())
            .bind(&item.title)
            .bind(item.starts_at.as_microsecond())
            .bind(item.ends_at.as_microsecond())
            .execute(&mut *tx)
            .await?;
        }
        for room in &event.rooms {
            insert_room(&mut tx, id, room).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a room to an event (organizers create rooms beyond plenary, help desk and
    /// lounge).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, room = %room.slug))]
    pub async fn create_room(&self, event_id: EventId, room: &NewRoom) -> Result<RoomId> {
        let mut tx = self.begin_write().await?;
        let id = insert_room(&mut tx, event_id, room).await?;
        tx.commit().await?;
        Ok(id)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn events(&self) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> =
            sqlx::query_as(&format!("{EVENT_SELECT} ORDER BY starts_at DESC, id DESC"))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(event_from_row).collect())
    }

    /// An event's slug by its id.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_slug(&self, event_id: EventId) -> Result<String> {
        sqlx::query_scalar::<_, String>("SELECT slug FROM events WHERE id = $1")
            .bind(event_id.get())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(slug = %slug))]
    pub async fn event(&self, slug: &str) -> Result<Event> {
        let row: EventRow = sqlx::query_as(&format!("{EVENT_SELECT} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(event_from_row(row))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_agenda(&self, event_id: EventId) -> Result<Vec<AgendaEntry>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT kind, title, starts_at, ends_at FROM event_agenda \
             WHERE event_id = $1 ORDER BY position",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, title, starts_at, ends_at)| {
                Ok(AgendaEntry {
                    kind: AgendaKind::from_str(&kind).map_err(StoreError::Corrupt)?,
                    title,
                    starts_at: timestamp(starts_at),
                    ends_at: timestamp(ends_at),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn rooms(&self, event_id: EventId) -> Result<Vec<Room>> {
        let rows: Vec<RoomRow> = sqlx::query_as(&format!(
            "{ROOM_SELECT} WHERE r.event_id = $1 ORDER BY r.position, r.id"
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(room_from_row).collect()
    }

    /// Registers an account for an event (or makes it a helper).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn add_to_event(
        &self,
        event_id: EventId,
        account_id: AccountId,
        role: EventRole,
    ) -> Result<()> {
        let role = match role {
            EventRole::Participant => "participant",
            EventRole::Helper => "helper",
        };
        sqlx::query(
            "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (event_id, account_id) DO UPDATE SET role = excluded.role",
        )
        .bind(event_id.get())
        .bind(account_id.get())
        .bind(role)
        .execute(&self.pool)
        .await?;
        self.memo.account_changed(account_id);
        Ok(())
    }

    /// The account's part in the event, if it is registered.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn event_role(
        &self,
        event_id: EventId,
        account_id: AccountId,
    ) -> Result<Option<EventRole>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM event_people WHERE event_id = $1 AND account_id = $2")
                .bind(event_id.get())
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(r,)| event_role(&r)))
    }

    /// The named helpers of the help desk (K12).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn helpers(&self, event_id: EventId) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {} FROM event_people p JOIN accounts a ON a.id = p.account_id \
                 WHERE p.event_id = $1 AND p.role = 'helper' ORDER BY a.display_name",
            crate::pseudonyms::name_in_event("$1", "a.id")
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who::new(AccountId::new(id), name))
            .collect())
    }

    /// Everybody registered for the event, by name (at most `limit`, for pick lists).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_people(&self, event_id: EventId, limit: i64) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {0} AS name FROM event_people p JOIN accounts a \
                 ON a.id = p.account_id WHERE p.event_id = $1 ORDER BY name, a.id LIMIT $2",
            crate::pseudonyms::name_in_event("$1", "a.id")
        ))
        .bind(event_id.get())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who::new(AccountId::new(id), name))
            .collect())
    }
}

pub(crate) async fn insert_room(tx: &mut Tx, event_id: EventId, room: &NewRoom) -> Result<RoomId> {
    let (position,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rooms WHERE event_id = $1")
        .bind(event_id.get())
        .fetch_one(&mut **tx)
        .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rooms (event_id, slug, name, kind, capacity, moderator_id, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(event_id.get())
    .bind(&room.slug)
    .bind(&room.name)
    .bind(room.kind.as_str())
    .bind(room.capacity)
    .bind(room.moderator_id.map(AccountId::get))
    .bind(position)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| StoreError::refused_on_unique(e, Taken::RoomSlug))?;
    Ok(RoomId::new(id))
}
