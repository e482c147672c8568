//! The live convention's data: events, their agenda and rooms, who takes part, and the
//! live log. Every live write (chat line, hand, floor, agenda, timer, question) stores
//! its effect and its live-log entry with the event's next sequence number in one
//! transaction; the hub broadcasts only what this module has committed.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use jiff::Timestamp;
use konvent_core::konvent::live::QuestionStatus;
pub use konvent_core::konvent::log::{Audience, LiveRecord, Payload, Who, payload};
use konvent_core::konvent::{AgendaEntry, AgendaKind, RoomKind};
use sqlx::{Any, Transaction};

use crate::{Result, Store, StoreError, now_micros, timestamp};

pub(crate) type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
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

/// The pitch timer (K7): running until `ends_at`, or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub label: String,
    pub seconds: i64,
    pub ends_at: Option<Timestamp>,
}

impl Timer {
    /// The timer as its live entry carries it.
    pub fn payload(&self) -> payload::Timer {
        payload::Timer {
            running: self.ends_at.is_some(),
            seconds: self.seconds,
            ends_at: self.ends_at,
            label: self.label.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: i64,
    pub event_id: i64,
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
    pub moderator_id: Option<i64>,
}

/// Bound parameters per statement in a batch write (SQLite allows 32766).
const CHAT_BATCH_PARAMS: usize = 2000;

/// A chat line waiting for group commit ([`Store::post_chats`]).
#[derive(Debug, Clone)]
pub struct ChatLine {
    pub event_id: i64,
    pub room: String,
    pub from: Who,
    pub client_id: Option<String>,
    pub text: String,
    /// The sanitised rendering of `text`.
    pub html: String,
}

/// The result of a live write: the entry, and whether it is new (a command re-sent with
/// a client id that was already committed returns the first entry, `fresh = false`).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub record: LiveRecord,
    pub fresh: bool,
}

/// A podium question (K13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub text: String,
    pub author_id: Option<i64>,
    /// `None` when the asker chose to stay anonymous.
    pub asker: Option<Who>,
    pub status: QuestionStatus,
    pub votes: i64,
}

impl Question {
    fn payload(&self) -> payload::Question {
        payload::Question {
            id: self.id,
            text: self.text.clone(),
            asker: self.asker.clone(),
            status: self.status,
            votes: self.votes,
        }
    }

    /// Approved and answered questions are public; pending and rejected ones only the
    /// asker and the staff see.
    fn audience(&self) -> Audience {
        match self.status {
            QuestionStatus::Approved | QuestionStatus::Answered => Audience::All,
            QuestionStatus::Pending | QuestionStatus::Rejected => Audience::Staff,
        }
    }
}

/// A person's part in an event, besides global roles and scoped grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRole {
    Participant,
    /// A named helper of the help desk (K12).
    Helper,
}

/// The feedback of an event, without names (K14).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedbackResults {
    pub answers: i64,
    /// Count per rating 1–5.
    pub ratings: [i64; 5],
    pub comments: Vec<String>,
}

impl FeedbackResults {
    pub fn average(&self) -> Option<f64> {
        let sum: i64 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1) * n)
            .sum();
        (self.answers > 0).then(|| sum as f64 / self.answers as f64)
    }
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
        id,
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
        id,
        event_id,
        slug,
        name,
        kind: RoomKind::from_str(&kind).map_err(StoreError::Corrupt)?,
        capacity,
        moderator: mod_id.zip(mod_name).map(|(id, name)| Who { id, name }),
        speaker: sp_id.zip(sp_name).map(|(id, name)| Who { id, name }),
    })
}

type LiveRowWithClient = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    String,
);

type LiveRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    String,
    i64,
);

const LIVE_SELECT: &str = "SELECT event_id, seq, kind, room, audience, sender_id, recipient_id, \
     data, at FROM live_log";

fn live_from_row(r: LiveRow) -> Result<LiveRecord> {
    let (event_id, seq, kind, room, audience, sender_id, recipient_id, data, at) = r;
    Ok(LiveRecord {
        event_id,
        seq,
        kind,
        room,
        audience: Audience::parse(&audience).map_err(StoreError::Corrupt)?,
        sender_id,
        recipient_id,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        at,
    })
}

/// One entry to append; its kind comes with its payload.
pub(crate) struct Entry<'a> {
    pub room: Option<&'a str>,
    pub audience: Audience,
    pub sender_id: Option<i64>,
    pub recipient_id: Option<i64>,
    pub client_id: Option<&'a str>,
}

/// Appends to the live log inside `tx`: takes the event's next sequence number (the
/// counter row stays locked until the transaction ends, so numbers have no gaps and no
/// duplicates) and stores the entry. `data` receives the sequence number, so entries can
/// carry it as their id.
pub(crate) async fn append<P: Payload>(
    tx: &mut Tx,
    event_id: i64,
    entry: Entry<'_>,
    data: impl FnOnce(i64) -> P,
) -> Result<LiveRecord> {
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE events SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(event_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let data = data(seq).data().map_err(StoreError::Encode)?;
    let at = now_micros();
    sqlx::query(
        "INSERT INTO live_log (event_id, seq, kind, room, audience, sender_id, recipient_id, \
         client_id, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event_id)
    .bind(seq)
    .bind(P::KIND)
    .bind(entry.room)
    .bind(entry.audience.as_str())
    .bind(entry.sender_id)
    .bind(entry.recipient_id)
    .bind(entry.client_id)
    .bind(data.to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(LiveRecord {
        event_id,
        seq,
        kind: P::KIND.to_owned(),
        room: entry.room.map(str::to_owned),
        audience: entry.audience,
        sender_id: entry.sender_id,
        recipient_id: entry.recipient_id,
        data,
        at,
    })
}

/// Appends several entries of one event in one go: one sequence range, multi-row
/// inserts. Their data must not depend on the sequence number.
pub(crate) async fn append_many<P: Payload>(
    tx: &mut Tx,
    event_id: i64,
    entries: Vec<(Entry<'_>, P)>,
) -> Result<Vec<LiveRecord>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let n = entries.len() as i64;
    let (last,): (i64,) = sqlx::query_as(
        "UPDATE events SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq",
    )
    .bind(n)
    .bind(event_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let at = now_micros();
    let records: Vec<(Option<&str>, LiveRecord)> = entries
        .into_iter()
        .enumerate()
        .map(|(i, (entry, data))| {
            Ok((
                entry.client_id,
                LiveRecord {
                    event_id,
                    seq: last - n + 1 + i as i64,
                    kind: P::KIND.to_owned(),
                    room: entry.room.map(str::to_owned),
                    audience: entry.audience,
                    sender_id: entry.sender_id,
                    recipient_id: entry.recipient_id,
                    data: data.data().map_err(StoreError::Encode)?,
                    at,
                },
            ))
        })
        .collect::<Result<_>>()?;
    for chunk in records.chunks(CHAT_BATCH_PARAMS / 10) {
        let values = crate::row_placeholders(chunk.len(), 10);
        let sql = format!(
            "INSERT INTO live_log (event_id, seq, kind, room, audience, sender_id, \
             recipient_id, client_id, data, at) VALUES {}",
            values
        );
        let mut query = sqlx::query(&sql);
        for (client_id, r) in chunk {
            query = query
                .bind(r.event_id)
                .bind(r.seq)
                .bind(r.kind.as_str())
                .bind(r.room.as_deref())
                .bind(r.audience.as_str())
                .bind(r.sender_id)
                .bind(r.recipient_id)
                .bind(*client_id)
                .bind(r.data.to_string())
                .bind(r.at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

async fn hand_queue(tx: &mut Tx, room_id: i64) -> Result<Vec<Who>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT a.id, {} FROM hands h JOIN accounts a ON a.id = h.account_id \
             JOIN rooms hr ON hr.id = h.room_id \
             WHERE h.room_id = $1 ORDER BY h.raised_at, h.account_id",
        crate::pseudonyms::name_in_event("hr.event_id", "a.id")
    ))
    .bind(room_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Who { id, name })
        .collect())
}

/// (id, text, author id, author name, anonymous, status, votes)
type QuestionRow = (i64, String, Option<i64>, Option<String>, i64, String, i64);

/// The columns of a [`QuestionRow`]; the asker's name is the one they have in the event.
fn question_select() -> String {
    format!(
        "SELECT q.id, q.text, q.author_id, {}, q.anonymous, \
         q.status, (SELECT COUNT(*) FROM question_votes v WHERE v.question_id = q.id) AS votes \
         FROM questions q LEFT JOIN accounts a ON a.id = q.author_id",
        crate::pseudonyms::name_in_event("q.event_id", "a.id")
    )
}

async fn question(tx: &mut Tx, event_id: i64, id: i64) -> Result<Question> {
    let row: Option<QuestionRow> = sqlx::query_as(&format!(
        "{} WHERE q.id = $1 AND q.event_id = $2",
        question_select()
    ))
    .bind(id)
    .bind(event_id)
    .fetch_optional(&mut **tx)
    .await?;
    question_from(row.ok_or(StoreError::NotFound)?)
}

fn question_from(row: QuestionRow) -> Result<Question> {
    let (id, text, author_id, name, anonymous, status, votes) = row;
    Ok(Question {
        id,
        text,
        author_id,
        asker: if anonymous != 0 {
            None
        } else {
            author_id.zip(name).map(|(id, name)| Who { id, name })
        },
        status: QuestionStatus::from_str(&status).map_err(StoreError::Corrupt)?,
        votes,
    })
}

impl Store {
    /// Creates an event with its agenda and rooms.
    pub async fn create_event(&self, event: &NewEvent) -> Result<i64> {
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
        .map_err(|e| {
            StoreError::conflict_on_unique(
                e,
                "Eine Veranstaltung mit dieser Kurzbezeichnung gibt es schon.",
            )
        })?;
        for (position, item) in event.agenda.iter().enumerate() {
            sqlx::query(
                "INSERT INTO event_agenda (event_id, position, kind, title, starts_at, ends_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
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
    pub async fn create_room(&self, event_id: i64, room: &NewRoom) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_room(&mut tx, event_id, room).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn events(&self) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> =
            sqlx::query_as(&format!("{EVENT_SELECT} ORDER BY starts_at DESC, id DESC"))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(event_from_row).collect())
    }

    /// The live log's epoch (migration 0013): clients resuming with another one reload.
    pub async fn live_epoch(&self) -> Result<String> {
        sqlx::query_scalar::<_, String>("SELECT epoch FROM live_epoch WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the live log has no epoch".into()))
    }

    /// Gives the live log a new epoch (after the database was restored from a backup):
    /// every page that resumes reloads. Answers the new epoch.
    pub async fn new_live_epoch(&self) -> Result<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let epoch: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        sqlx::query("UPDATE live_epoch SET epoch = $1 WHERE id = 1")
            .bind(&epoch)
            .execute(&self.pool)
            .await?;
        Ok(epoch)
    }

    /// An event's slug by its id.
    pub async fn event_slug(&self, event_id: i64) -> Result<String> {
        sqlx::query_scalar::<_, String>("SELECT slug FROM events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// An event's last committed live-log sequence number.
    pub async fn last_seq(&self, event_id: i64) -> Result<i64> {
        sqlx::query_scalar::<_, i64>("SELECT last_seq FROM events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn event(&self, slug: &str) -> Result<Event> {
        let row: EventRow = sqlx::query_as(&format!("{EVENT_SELECT} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(event_from_row(row))
    }

    pub async fn event_agenda(&self, event_id: i64) -> Result<Vec<AgendaEntry>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT kind, title, starts_at, ends_at FROM event_agenda \
             WHERE event_id = $1 ORDER BY position",
        )
        .bind(event_id)
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

    pub async fn rooms(&self, event_id: i64) -> Result<Vec<Room>> {
        let rows: Vec<RoomRow> = sqlx::query_as(&format!(
            "{ROOM_SELECT} WHERE r.event_id = $1 ORDER BY r.position, r.id"
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(room_from_row).collect()
    }

    /// Registers an account for an event (or makes it a helper).
    pub async fn add_to_event(
        &self,
        event_id: i64,
        account_id: i64,
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
        .bind(event_id)
        .bind(account_id)
        .bind(role)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account's part in the event, if it is registered.
    pub async fn event_role(&self, event_id: i64, account_id: i64) -> Result<Option<EventRole>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM event_people WHERE event_id = $1 AND account_id = $2")
                .bind(event_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(r,)| {
            if r == "helper" {
                EventRole::Helper
            } else {
                EventRole::Participant
            }
        }))
    }

    /// The named helpers of the help desk (K12).
    pub async fn helpers(&self, event_id: i64) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {} FROM event_people p JOIN accounts a ON a.id = p.account_id \
                 WHERE p.event_id = $1 AND p.role = 'helper' ORDER BY a.display_name",
            crate::pseudonyms::name_in_event("$1", "a.id")
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who { id, name })
            .collect())
    }

    /// Everybody registered for the event, by name (at most `limit`, for pick lists).
    pub async fn event_people(&self, event_id: i64, limit: i64) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {0} AS name FROM event_people p JOIN accounts a \
                 ON a.id = p.account_id WHERE p.event_id = $1 ORDER BY name, a.id LIMIT $2",
            crate::pseudonyms::name_in_event("$1", "a.id")
        ))
        .bind(event_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who { id, name })
            .collect())
    }

    /// Creates `count` participant accounts for a load test or rehearsal, registers them
    /// for the event and signs each in; returns their session tokens. One transaction.
    pub async fn load_test_sessions(&self, event_id: i64, count: usize) -> Result<Vec<String>> {
        let now = now_micros();
        let expires = now + 7 * 24 * 3600 * 1_000_000;
        let mut tx = self.begin_write().await?;
        let (start,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut *tx)
            .await?;
        let mut tokens = Vec::with_capacity(count);
        for i in 0..count {
            let n = start + i as i64 + 1;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO accounts (email, display_name, created_at) VALUES ($1, $2, $3) \
                 RETURNING id",
            )
            .bind(format!("lasttest-{event_id}-{n}@konvent.invalid"))
            .bind(format!("Lasttest {n}"))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, 'participant')",
            )
            .bind(event_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let token = crate::new_token();
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(crate::accounts::token_hash(&token))
            .bind(id)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
            tokens.push(token);
        }
        tx.commit().await?;
        Ok(tokens)
    }

    /// The live-log entries after `after`, in order, at most `limit`.
    pub async fn live_since(
        &self,
        event_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(event_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(live_from_row).collect()
    }

    /// The last `limit` entries of `kinds` for a room (or for the whole event when `room`
    /// is `None`), oldest first: what a page shows before live updates take over. Removed
    /// entries (tombstones, see `moderation`) are left out.
    pub async fn live_recent(
        &self,
        event_id: i64,
        room: Option<&str>,
        kind: &str,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND kind = $2 AND (room = $3 OR ($3 IS NULL AND room IS NULL)) \
             AND data NOT LIKE '%\"redacted\":true%' ORDER BY seq DESC LIMIT $4"
        ))
        .bind(event_id)
        .bind(kind)
        .bind(room)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows
            .into_iter()
            .map(live_from_row)
            .collect::<Result<Vec<_>>>()?;
        records.reverse();
        Ok(records)
    }

    /// The direct messages `account` sent or received, and (for staff) those to the help
    /// desk; oldest first.
    pub async fn direct_messages(
        &self,
        event_id: i64,
        account: i64,
        staff: bool,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND kind = 'dm' AND (sender_id = $2 \
             OR recipient_id = $2 OR (audience = 'staff' AND $3 = 1)) ORDER BY seq DESC LIMIT $4"
        ))
        .bind(event_id)
        .bind(account)
        .bind(i64::from(staff))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows
            .into_iter()
            .map(live_from_row)
            .collect::<Result<Vec<_>>>()?;
        records.reverse();
        Ok(records)
    }

    /// The entry a command with this client id already produced, if any.
    pub(crate) async fn already_written(
        &self,
        event_id: i64,
        sender: i64,
        client_id: Option<&str>,
    ) -> Result<Option<Written>> {
        let Some(client_id) = client_id else {
            return Ok(None);
        };
        let row: Option<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND sender_id = $2 AND client_id = $3"
        ))
        .bind(event_id)
        .bind(sender)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Written {
                record: live_from_row(r)?,
                fresh: false,
            })
        })
        .transpose()
    }

    /// Finishes one live write: commits `result` or, when it broke the unique client-id
    /// index (two copies of the same command racing), returns the winner's entry.
    pub(crate) async fn finish_live(
        &self,
        tx: Tx,
        result: Result<LiveRecord>,
        event_id: i64,
        sender: i64,
        client_id: Option<&str>,
    ) -> Result<Written> {
        match result {
            Ok(record) => {
                tx.commit().await?;
                Ok(Written {
                    record,
                    fresh: true,
                })
            }
            Err(StoreError::Database(sqlx::Error::Database(db))) if db.is_unique_violation() => {
                drop(tx);
                self.already_written(event_id, sender, client_id)
                    .await?
                    .ok_or_else(|| StoreError::Conflict("doppelter Befehl".into()))
            }
            Err(e) => Err(e),
        }
    }

    /// A chat line in a room (K3). `html` is the sanitised rendering of `text`.
    pub async fn post_chat(
        &self,
        event_id: i64,
        room: &str,
        from: &Who,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, from.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let entry = Entry {
                room: Some(room),
                audience: Audience::All,
                sender_id: Some(from.id),
                recipient_id: None,
                client_id,
            };
            append(tx, event_id, entry, |seq| {
                payload::Chat(line(seq, from, text, html))
            })
            .await
        }
        .await;
        self.finish_live(owned, result, event_id, from.id, client_id)
            .await
    }

    /// Several chat lines in one transaction (group commit): one sequence range per
    /// event, one multi-row insert, one commit. Lines whose client id was already
    /// committed (or that repeat one in the same batch) return the first entry with
    /// `fresh = false`. If the batch as a whole fails, every line is tried on its own,
    /// so one bad line cannot take the others down with it.
    pub async fn post_chats(&self, lines: &[ChatLine]) -> Vec<Result<Written>> {
        if lines.is_empty() {
            return Vec::new();
        }
        match self.post_chats_at_once(lines).await {
            Ok(written) => written.into_iter().map(Ok).collect(),
            Err(_) => {
                let mut out = Vec::with_capacity(lines.len());
                for l in lines {
                    out.push(
                        self.post_chat(
                            l.event_id,
                            &l.room,
                            &l.from,
                            l.client_id.as_deref(),
                            &l.text,
                            &l.html,
                        )
                        .await,
                    );
                }
                out
            }
        }
    }

    async fn post_chats_at_once(&self, lines: &[ChatLine]) -> Result<Vec<Written>> {
        let mut tx = self.begin_write().await?;
        // What was already committed under the lines' client ids.
        let mut earlier: HashMap<(i64, i64, String), LiveRecord> = HashMap::new();
        let with_ids: Vec<&ChatLine> = lines.iter().filter(|l| l.client_id.is_some()).collect();
        for chunk in with_ids.chunks(CHAT_BATCH_PARAMS / 3) {
            let conditions: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(event_id = ${} AND sender_id = ${} AND client_id = ${})",
                        3 * i + 1,
                        3 * i + 2,
                        3 * i + 3
                    )
                })
                .collect();
            let sql = format!(
                "SELECT event_id, seq, kind, room, audience, sender_id, recipient_id, data, at, \
                 client_id FROM live_log WHERE {}",
                conditions.join(" OR ")
            );
            let mut query = sqlx::query_as::<_, LiveRowWithClient>(&sql);
            for l in chunk {
                query = query
                    .bind(l.event_id)
                    .bind(l.from.id)
                    .bind(l.client_id.as_deref());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let (event_id, seq, kind, room, audience, sender_id, recipient_id, data, at, cid) =
                    row;
                let record = live_from_row((
                    event_id,
                    seq,
                    kind,
                    room,
                    audience,
                    sender_id,
                    recipient_id,
                    data,
                    at,
                ))?;
                if let Some(sender) = record.sender_id {
                    earlier.insert((event_id, sender, cid), record);
                }
            }
        }
        // Which lines are new, and the sequence numbers they take per event.
        let mut fresh_per_event: Vec<(i64, i64)> = Vec::new();
        let mut is_fresh = Vec::with_capacity(lines.len());
        let mut seen: HashSet<(i64, i64, &str)> = HashSet::new();
        for l in lines {
            let fresh = match l.client_id.as_deref() {
                Some(cid) => {
                    !earlier.contains_key(&(l.event_id, l.from.id, cid.to_owned()))
                        && seen.insert((l.event_id, l.from.id, cid))
                }
                None => true,
            };
            if fresh {
                match fresh_per_event.iter_mut().find(|(e, _)| *e == l.event_id) {
                    Some((_, n)) => *n += 1,
                    None => fresh_per_event.push((l.event_id, 1)),
                }
            }
            is_fresh.push(fresh);
        }
        let mut next_seq: HashMap<i64, i64> = HashMap::new();
        for (event_id, n) in &fresh_per_event {
            let (last,): (i64,) = sqlx::query_as(
                "UPDATE events SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq",
            )
            .bind(n)
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            next_seq.insert(*event_id, last - n + 1);
        }
        let at = now_micros();
        let mut records: Vec<Option<LiveRecord>> = Vec::with_capacity(lines.len());
        for (l, fresh) in lines.iter().zip(&is_fresh) {
            if !fresh {
                records.push(None);
                continue;
            }
            let seq = next_seq.get_mut(&l.event_id).ok_or(StoreError::NotFound)?;
            let record = LiveRecord {
                event_id: l.event_id,
                seq: *seq,
                kind: payload::Chat::KIND.to_owned(),
                room: Some(l.room.clone()),
                audience: Audience::All,
                sender_id: Some(l.from.id),
                recipient_id: None,
                data: payload::Chat(line(*seq, &l.from, &l.text, &l.html))
                    .data()
                    .map_err(StoreError::Encode)?,
                at,
            };
            *seq += 1;
            records.push(Some(record));
        }
        let new: Vec<(&ChatLine, &LiveRecord)> = lines
            .iter()
            .zip(&records)
            .filter_map(|(l, r)| r.as_ref().map(|r| (l, r)))
            .collect();
        for chunk in new.chunks(CHAT_BATCH_PARAMS / 10) {
            let values = crate::row_placeholders(chunk.len(), 10);
            let sql = format!(
                "INSERT INTO live_log (event_id, seq, kind, room, audience, sender_id, \
                 recipient_id, client_id, data, at) VALUES {}",
                values
            );
            let mut query = sqlx::query(&sql);
            for (l, r) in chunk {
                query = query
                    .bind(r.event_id)
                    .bind(r.seq)
                    .bind(payload::Chat::KIND)
                    .bind(r.room.as_deref())
                    .bind(r.audience.as_str())
                    .bind(r.sender_id)
                    .bind(None::<i64>)
                    .bind(l.client_id.as_deref())
                    .bind(r.data.to_string())
                    .bind(r.at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // Repeats inside the batch get the entry of their first copy.
        let mut out: Vec<Written> = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let written = match &records[i] {
                Some(record) => Written {
                    record: record.clone(),
                    fresh: true,
                },
                None => {
                    let key = (
                        l.event_id,
                        l.from.id,
                        l.client_id.clone().unwrap_or_default(),
                    );
                    let record = match earlier.get(&key) {
                        Some(r) => r.clone(),
                        None => lines[..i]
                            .iter()
                            .zip(&records)
                            .find(|(o, r)| {
                                r.is_some()
                                    && o.event_id == l.event_id
                                    && o.from.id == l.from.id
                                    && o.client_id == l.client_id
                            })
                            .and_then(|(_, r)| r.clone())
                            .ok_or(StoreError::NotFound)?,
                    };
                    Written {
                        record,
                        fresh: false,
                    }
                }
            };
            out.push(written);
        }
        Ok(out)
    }

    /// An announcement to every room (K3).
    pub async fn announce(
        &self,
        event_id: i64,
        from: &Who,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, from.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let entry = Entry {
                room: None,
                audience: Audience::All,
                sender_id: Some(from.id),
                recipient_id: None,
                client_id,
            };
            append(tx, event_id, entry, |seq| {
                payload::Announcement(line(seq, from, text, html))
            })
            .await
        }
        .await;
        self.finish_live(owned, result, event_id, from.id, client_id)
            .await
    }

    /// A direct message to a named person, or (`to = None`) to the help desk, whose staff
    /// all see it (K12).
    pub async fn direct_message(
        &self,
        event_id: i64,
        from: &Who,
        to: Option<&Who>,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, from.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let entry = Entry {
                room: None,
                audience: if to.is_some() {
                    Audience::Direct
                } else {
                    Audience::Staff
                },
                sender_id: Some(from.id),
                recipient_id: to.map(|w| w.id),
                client_id,
            };
            append(tx, event_id, entry, |seq| {
                payload::Dm::new(line(seq, from, text, html), to.cloned())
            })
            .await
        }
        .await;
        self.finish_live(owned, result, event_id, from.id, client_id)
            .await
    }

    /// Raises or lowers a hand (K6); the entry carries the queue after the change.
    pub async fn set_hand(
        &self,
        event_id: i64,
        room: &Room,
        who: &Who,
        up: bool,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, who.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            if up {
                sqlx::query(
                    "INSERT INTO hands (room_id, account_id, raised_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (room_id, account_id) DO NOTHING",
                )
                .bind(room.id)
                .bind(who.id)
                .bind(now_micros())
                .execute(&mut **tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM hands WHERE room_id = $1 AND account_id = $2")
                    .bind(room.id)
                    .bind(who.id)
                    .execute(&mut **tx)
                    .await?;
            }
            let queue = hand_queue(tx, room.id).await?;
            let entry = Entry {
                room: Some(&room.slug),
                audience: Audience::All,
                sender_id: Some(who.id),
                recipient_id: None,
                client_id,
            };
            let hand = payload::Hand {
                user: who.clone(),
                up,
                queue,
            };
            append(tx, event_id, entry, |_| hand).await
        }
        .await;
        self.finish_live(owned, result, event_id, who.id, client_id)
            .await
    }

    /// Gives the floor to `speaker` (whose hand goes down) or takes it back (`None`).
    pub async fn give_floor(
        &self,
        event_id: i64,
        room: &Room,
        by: &Who,
        speaker: Option<&Who>,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            sqlx::query("UPDATE rooms SET speaker_id = $1 WHERE id = $2")
                .bind(speaker.map(|s| s.id))
                .bind(room.id)
                .execute(&mut **tx)
                .await?;
            if let Some(s) = speaker {
                sqlx::query("DELETE FROM hands WHERE room_id = $1 AND account_id = $2")
                    .bind(room.id)
                    .bind(s.id)
                    .execute(&mut **tx)
                    .await?;
            }
            let queue = hand_queue(tx, room.id).await?;
            let entry = Entry {
                room: Some(&room.slug),
                audience: Audience::All,
                sender_id: Some(by.id),
                recipient_id: None,
                client_id,
            };
            let floor = payload::Floor {
                speaker: speaker.cloned(),
                queue,
            };
            append(tx, event_id, entry, |_| floor).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, client_id)
            .await
    }

    /// The current speaker queue of a room, in order.
    pub async fn speaker_queue(&self, room_id: i64) -> Result<Vec<Who>> {
        let mut tx = self.pool.begin().await?;
        let queue = hand_queue(&mut tx, room_id).await?;
        tx.commit().await?;
        Ok(queue)
    }

    /// Advances the agenda to item `current` (or back to the clock with `None`). The entry
    /// carries the whole `agenda` too: a lobby renders its now/next line and its programme
    /// from the entry alone (the clock's item is the one at the entry's time).
    pub async fn set_current_item(
        &self,
        event_id: i64,
        by: &Who,
        current: Option<usize>,
        agenda: &[AgendaEntry],
        client_id: Option<&str>,
    ) -> Result<Written> {
        let item = current.and_then(|i| agenda.get(i));
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            sqlx::query("UPDATE events SET current_item = $1, modified_at = $2 WHERE id = $3")
                .bind(current.map(|c| c as i64))
                .bind(now_micros())
                .bind(event_id)
                .execute(&mut **tx)
                .await?;
            let entry = Entry {
                room: None,
                audience: Audience::All,
                sender_id: Some(by.id),
                recipient_id: None,
                client_id,
            };
            let data = payload::Agenda {
                current,
                item: item.cloned(),
                agenda: agenda.to_vec(),
            };
            append(tx, event_id, entry, |_| data).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, client_id)
            .await
    }

    /// Starts (`timer.ends_at` set) or stops the pitch timer (K7).
    pub async fn set_timer(
        &self,
        event_id: i64,
        by: &Who,
        timer: &Timer,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            sqlx::query(
                "UPDATE events SET timer_label = $1, timer_seconds = $2, timer_ends_at = $3 \
                     WHERE id = $4",
            )
            .bind(&timer.label)
            .bind(timer.seconds)
            .bind(timer.ends_at.map(|t| t.as_microsecond()))
            .bind(event_id)
            .execute(&mut **tx)
            .await?;
            let entry = Entry {
                room: None,
                audience: Audience::All,
                sender_id: Some(by.id),
                recipient_id: None,
                client_id,
            };
            append(tx, event_id, entry, |_| timer.payload()).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, client_id)
            .await
    }

    /// A podium question from the audience (K13); it waits for approval.
    pub async fn ask(
        &self,
        event_id: i64,
        by: &Who,
        text: &str,
        anonymous: bool,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO questions (event_id, author_id, anonymous, text, status, created_at) \
                     VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
            )
            .bind(event_id)
            .bind(by.id)
            .bind(i64::from(anonymous))
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            let q = question(tx, event_id, id).await?;
            question_entry(tx, event_id, &q, by, client_id).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, client_id)
            .await
    }

    /// One vote per person and question.
    pub async fn upvote(
        &self,
        event_id: i64,
        by: &Who,
        question_id: i64,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let q = question(tx, event_id, question_id).await?;
            if q.audience() != Audience::All {
                return Err(StoreError::NotFound);
            }
            sqlx::query("INSERT INTO question_votes (question_id, account_id) VALUES ($1, $2)")
                .bind(question_id)
                .bind(by.id)
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_on_unique(e, "Sie haben für diese Frage schon gestimmt.")
                })?;
            let q = question(tx, event_id, question_id).await?;
            question_entry(tx, event_id, &q, by, client_id).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, client_id)
            .await
    }

    /// Approves, marks answered or rejects a question. A question that was public and is
    /// no longer (rejected, or back to pending) first leaves everybody's pages: a
    /// `removed` entry for everybody, returned first (to be published before the
    /// question's own entry, which reaches only the staff and its asker).
    pub async fn moderate_question(
        &self,
        event_id: i64,
        by: &Who,
        question_id: i64,
        status: QuestionStatus,
        client_id: Option<&str>,
    ) -> Result<(Option<LiveRecord>, Written)> {
        if let Some(done) = self.already_written(event_id, by.id, client_id).await? {
            return Ok((None, done));
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let before = question(tx, event_id, question_id).await?;
            sqlx::query("UPDATE questions SET status = $1 WHERE id = $2 AND event_id = $3")
                .bind(status.as_str())
                .bind(question_id)
                .bind(event_id)
                .execute(&mut **tx)
                .await?;
            let q = question(tx, event_id, question_id).await?;
            let withdrawn = if before.audience() == Audience::All && q.audience() != Audience::All {
                let entry = Entry {
                    room: None,
                    audience: Audience::All,
                    sender_id: Some(by.id),
                    recipient_id: None,
                    client_id: None,
                };
                let removed = payload::Removed {
                    item: crate::ModeratedItem::Question.as_str().to_owned(),
                    id: question_id,
                };
                Some(append(tx, event_id, entry, |_| removed).await?)
            } else {
                None
            };
            Ok((
                withdrawn,
                question_entry(tx, event_id, &q, by, client_id).await?,
            ))
        }
        .await;
        let (withdrawn, result) = match result {
            Ok((withdrawn, record)) => (withdrawn, Ok(record)),
            Err(e) => (None, Err(e)),
        };
        let written = self
            .finish_live(owned, result, event_id, by.id, client_id)
            .await?;
        // Committed with the question's entry only when that one is new.
        Ok((withdrawn.filter(|_| written.fresh), written))
    }

    /// The questions of an event, most votes first; `staff` also sees pending and
    /// rejected ones, `asker` their own.
    pub async fn questions(
        &self,
        event_id: i64,
        viewer: Option<i64>,
        staff: bool,
    ) -> Result<Vec<Question>> {
        let rows: Vec<QuestionRow> = sqlx::query_as(&format!(
            "{} WHERE q.event_id = $1 ORDER BY votes DESC, q.id",
            question_select()
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let q = question_from(row)?;
            if staff || q.audience() == Audience::All || (viewer.is_some() && q.author_id == viewer)
            {
                out.push(q);
            }
        }
        Ok(out)
    }

    /// The questions of an event that `account` supported (K13), for the page to mark
    /// them.
    pub async fn question_votes(&self, event_id: i64, account: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT v.question_id FROM question_votes v JOIN questions q ON q.id = v.question_id \
             WHERE q.event_id = $1 AND v.account_id = $2 ORDER BY v.question_id",
        )
        .bind(event_id)
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Opens or closes the feedback survey (K14).
    pub async fn set_feedback_open(&self, event_id: i64, by: &Who, open: bool) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, by.id, None).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            sqlx::query("UPDATE events SET feedback_open = $1 WHERE id = $2")
                .bind(i64::from(open))
                .bind(event_id)
                .execute(&mut **tx)
                .await?;
            let entry = Entry {
                room: None,
                audience: Audience::All,
                sender_id: Some(by.id),
                recipient_id: None,
                client_id: None,
            };
            append(tx, event_id, entry, |_| payload::FeedbackOpen { open }).await
        }
        .await;
        self.finish_live(owned, result, event_id, by.id, None).await
    }

    /// Stores one feedback answer; a second one from the same person is a conflict.
    pub async fn submit_feedback(
        &self,
        event_id: i64,
        account_id: i64,
        rating: i64,
        comment: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO feedback_given (event_id, account_id) VALUES ($1, $2)")
            .bind(event_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::conflict_on_unique(e, "Sie haben schon eine Rückmeldung gegeben.")
            })?;
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO feedback_answers (id, event_id, rating, comment) VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from_le_bytes(id) & i64::MAX)
        .bind(event_id)
        .bind(rating)
        .bind(comment)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn has_given_feedback(&self, event_id: i64, account_id: i64) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM feedback_given WHERE event_id = $1 AND account_id = $2")
                .bind(event_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// The answers without names; comments in a stable order that is not the order of
    /// submission.
    pub async fn feedback_results(&self, event_id: i64) -> Result<FeedbackResults> {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT rating, comment FROM feedback_answers WHERE event_id = $1 ORDER BY id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut results = FeedbackResults::default();
        for (rating, comment) in rows {
            results.answers += 1;
            if let Some(slot) = usize::try_from(rating - 1)
                .ok()
                .and_then(|i| results.ratings.get_mut(i))
            {
                *slot += 1;
            }
            if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
                results.comments.push(c);
            }
        }
        Ok(results)
    }
}

async fn question_entry(
    tx: &mut Tx,
    event_id: i64,
    q: &Question,
    by: &Who,
    client_id: Option<&str>,
) -> Result<LiveRecord> {
    let entry = Entry {
        room: None,
        audience: q.audience(),
        sender_id: Some(by.id),
        // The asker follows their question through every status, also when the
        // organizers approve or reject it (a pending or rejected one reaches only the
        // staff and its asker).
        recipient_id: q.author_id,
        client_id,
    };
    append(tx, event_id, entry, |_| q.payload()).await
}

/// A written line as chat lines, announcements and direct messages carry it.
fn line(seq: i64, from: &Who, text: &str, html: &str) -> payload::Line {
    payload::Line {
        id: seq,
        from: from.clone(),
        text: text.to_owned(),
        html: html.to_owned(),
    }
}

pub(crate) async fn insert_room(tx: &mut Tx, event_id: i64, room: &NewRoom) -> Result<i64> {
    let (position,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rooms WHERE event_id = $1")
        .bind(event_id)
        .fetch_one(&mut **tx)
        .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rooms (event_id, slug, name, kind, capacity, moderator_id, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(event_id)
    .bind(&room.slug)
    .bind(&room.name)
    .bind(room.kind.as_str())
    .bind(room.capacity)
    .bind(room.moderator_id)
    .bind(position)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        StoreError::conflict_on_unique(e, "Einen Raum mit dieser Kurzbezeichnung gibt es schon.")
    })?;
    Ok(id)
}
