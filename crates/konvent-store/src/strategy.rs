//! The strategy process and the World Café (K9–K11, K16, S1–S4). Focus topics live
//! across events; café rounds, tables, seats, impulses and pins belong to an event.
//! Every change people should see at once (an impulse, a summary, a round started, a pin)
//! is written with its live-log entry in one transaction, like the live convention's
//! commands, and published by the caller.
//!
//! Confidential target-picture versions are filtered here, in SQL, by the `confidential`
//! flag the caller passes after checking the reader's rights: no query returns them
//! otherwise.

use std::collections::HashMap;
use std::str::FromStr;

use konvent_core::konvent::RoomKind;
use konvent_core::konvent::log::payload::{self, ImpulseAction, PinAction, Tombstone};
use konvent_core::strategy::{FollowTarget, PinStatus, RoundStatus, Visibility};

use crate::live::{Entry, NewRoom, Tx, append, append_many, insert_room};
use crate::{Audience, Result, Store, StoreError, Who, Written, now_micros, timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: i64,
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

/// One version of a topic's target picture (S2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPicture {
    pub id: i64,
    pub topic_id: i64,
    pub version: i64,
    /// Markdown.
    pub body: String,
    pub visibility: Visibility,
    /// The resolution that decided it (number and title), once published.
    pub resolution: Option<(i64, String, String)>,
    pub created_by: String,
    pub modified_at: jiff::Timestamp,
    pub published_at: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub id: i64,
    pub event_id: i64,
    pub number: i64,
    pub status: RoundStatus,
    pub minutes: i64,
    pub ends_at: Option<jiff::Timestamp>,
    pub tables: Vec<CafeTable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CafeTable {
    pub id: i64,
    pub round_id: i64,
    pub event_id: i64,
    /// The round's number and where it stands.
    pub round: i64,
    pub round_status: RoundStatus,
    pub topic: Topic,
    pub room_id: i64,
    pub room_slug: String,
    pub moderator: Option<Who>,
    pub capacity: i64,
    pub seated: i64,
    pub summary: String,
    pub summary_by: Option<String>,
}

impl CafeTable {
    pub fn full(&self) -> bool {
        self.seated >= self.capacity
    }
}

/// Impulses per multi-row insert (8 parameters each; SQLite allows 32766).
const IMPULSE_BATCH_ROWS: usize = 500;

/// An impulse on its way to the store (see [`Store::add_impulses`]).
#[derive(Debug, Clone)]
pub struct NewImpulse {
    pub table_id: i64,
    pub author: Who,
    pub text: String,
    pub client_id: Option<String>,
}

/// A table of a round as the organizer sets it up.
#[derive(Debug, Clone)]
pub struct NewTable {
    pub topic_id: i64,
    pub moderator_id: Option<i64>,
    pub capacity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impulse {
    pub id: i64,
    pub event_id: i64,
    pub table_id: i64,
    pub topic_id: i64,
    pub round: i64,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub text: String,
    pub hidden: bool,
    pub merged_into: Option<i64>,
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
                id: self.author_id,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub id: i64,
    pub event_id: i64,
    pub topic: Option<(i64, String)>,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub text: String,
    pub status: PinStatus,
    pub outcome: String,
    pub outcome_url: Option<String>,
    pub decided_by: Option<String>,
    pub votes: i64,
}

impl Pin {
    /// The pin as its live entry carries it after `action`.
    pub fn payload(&self, action: PinAction) -> payload::Pin {
        payload::Pin {
            id: self.id,
            topic: self.topic.as_ref().map(|(_, t)| t.clone()),
            author: self.author_name.clone(),
            text: self.text.clone(),
            status: self.status.as_str().to_owned(),
            outcome: self.outcome.clone(),
            outcome_url: self.outcome_url.clone(),
            votes: self.votes,
            action,
        }
    }
}

/// A group the project team saved while consolidating a topic (S3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedGroup {
    pub id: i64,
    pub topic_id: i64,
    pub label: String,
    pub accepted_into: Option<i64>,
    pub members: Vec<Impulse>,
}

/// A connection point (K16) with what it points at, for the participant's page and for
/// the organizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPoint {
    pub account: Who,
    pub target: FollowTarget,
    pub target_id: i64,
    /// What it points at, in a few words.
    pub label: String,
}

fn corrupt(e: String) -> StoreError {
    StoreError::Corrupt(e)
}

type TopicRow = (i64, String, String, String, String, String);

const TOPIC_SELECT: &str =
    "SELECT id, slug, title, patron, question, guiding_questions FROM topics";

fn topic_from(row: TopicRow) -> Result<Topic> {
    let (id, slug, title, patron, question, questions) = row;
    Ok(Topic {
        id,
        slug,
        title,
        patron,
        question,
        guiding_questions: serde_json::from_str(&questions).map_err(|e| corrupt(e.to_string()))?,
    })
}

type ImpulseRow = (
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

const IMPULSE_SELECT: &str = "SELECT i.id, i.event_id, i.table_id, i.topic_id, i.round, \
     i.author_id, i.author_name, i.text, i.hidden, i.merged_into, i.created_at, i.edited_at \
     FROM impulses i";

fn impulse_from(row: ImpulseRow) -> Impulse {
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
        id,
        event_id,
        table_id,
        topic_id,
        round,
        author_id,
        author_name,
        text,
        hidden: hidden != 0,
        merged_into: merged,
        created_at: timestamp(at),
        edited: edited.is_some(),
    }
}

type PinRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);

const PIN_SELECT: &str = "SELECT p.id, p.event_id, p.topic_id, t.title, p.author_id, \
     p.author_name, p.text, p.status, p.outcome, p.outcome_url, p.decided_by, \
     (SELECT COUNT(*) FROM pin_votes v WHERE v.pin_id = p.id) AS votes \
     FROM pins p LEFT JOIN topics t ON t.id = p.topic_id";

fn pin_from(row: PinRow) -> Result<Pin> {
    let (
        id,
        event_id,
        topic_id,
        topic,
        author_id,
        author_name,
        text,
        status,
        outcome,
        url,
        by,
        votes,
    ) = row;
    Ok(Pin {
        id,
        event_id,
        topic: topic_id.zip(topic),
        author_id,
        author_name,
        text,
        status: PinStatus::from_str(&status).map_err(corrupt)?,
        outcome,
        outcome_url: url,
        decided_by: by,
        votes,
    })
}

async fn impulse_in(tx: &mut Tx, id: i64) -> Result<Impulse> {
    let row: Option<ImpulseRow> = sqlx::query_as(&format!("{IMPULSE_SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(impulse_from).ok_or(StoreError::NotFound)
}

async fn pin_in(tx: &mut Tx, id: i64) -> Result<Pin> {
    let row: Option<PinRow> = sqlx::query_as(&format!("{PIN_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    pin_from(row.ok_or(StoreError::NotFound)?)
}

/// The table's room slug, for live entries.
async fn table_room(tx: &mut Tx, table_id: i64) -> Result<(i64, String, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT r.event_id, r.slug, c.topic_id, k.number, c.round_id FROM cafe_tables c \
         JOIN rooms r ON r.id = c.room_id JOIN cafe_rounds k ON k.id = c.round_id \
         WHERE c.id = $1",
    )
    .bind(table_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A café table as live entries carry it.
async fn table_line_in(tx: &mut Tx, table_id: i64) -> Result<payload::CafeTable> {
    table_lines_in(tx, "c.id = $1", table_id)
        .await?
        .pop()
        .map(|(_, line)| line)
        .ok_or(StoreError::NotFound)
}

/// The café tables `condition` picks (on `cafe_tables c` and `cafe_rounds k`, with `id`
/// as `$1`) with their rounds, as live entries carry them, in round and topic order:
/// two queries however many tables there are.
async fn table_lines_in(
    tx: &mut Tx,
    condition: &str,
    id: i64,
) -> Result<Vec<(i64, payload::CafeTable)>> {
    type Row = (i64, i64, String, String, Option<String>, i64, String);
    let tables: Vec<Row> = sqlx::query_as(&format!(
        "SELECT c.id, c.round_id, t.title, t.question, a.display_name, c.capacity, k.status \
         FROM cafe_tables c JOIN cafe_rounds k ON k.id = c.round_id \
         JOIN topics t ON t.id = c.topic_id LEFT JOIN accounts a ON a.id = c.moderator_id \
         WHERE {condition} ORDER BY k.number, t.position"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let seats: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT s.table_id, a.id, {0} AS name FROM table_seats s JOIN accounts a \
             ON a.id = s.account_id JOIN cafe_tables c ON c.id = s.table_id \
             JOIN cafe_rounds k ON k.id = c.round_id JOIN rooms sr ON sr.id = c.room_id \
             WHERE {condition} ORDER BY name, a.id",
        crate::pseudonyms::name_in_event("sr.event_id", "a.id")
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let mut people: HashMap<i64, Vec<Who>> = HashMap::new();
    for (table, account, name) in seats {
        people
            .entry(table)
            .or_default()
            .push(Who { id: account, name });
    }
    Ok(tables
        .into_iter()
        .map(
            |(table, round, topic, question, moderator, capacity, status)| {
                let line = payload::CafeTable {
                    id: table,
                    topic,
                    question,
                    moderator,
                    capacity,
                    people: people.remove(&table).unwrap_or_default(),
                    status,
                };
                (round, line)
            },
        )
        .collect())
}

/// The event's café rounds for a `round` entry, in the order [`Store::rounds`] gives
/// them.
async fn rounds_in(tx: &mut Tx, event_id: i64) -> Result<Vec<payload::CafeRound>> {
    let rounds: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, number, status, ends_at FROM cafe_rounds WHERE event_id = $1 \
         ORDER BY number",
    )
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut tables = table_lines_in(tx, "k.event_id = $1", event_id).await?;
    Ok(rounds
        .into_iter()
        .map(|(id, number, status, ends_at)| {
            let (here, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tables)
                .into_iter()
                .partition(|(round, _)| *round == id);
            tables = rest;
            payload::CafeRound {
                id,
                number,
                status,
                ends_at: ends_at.map(timestamp),
                tables: here.into_iter().map(|(_, line)| line).collect(),
            }
        })
        .collect())
}

impl Store {
    // ---- Focus topics and target pictures (S1, S2) ----

    pub async fn create_topic(&self, topic: &NewTopic) -> Result<i64> {
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
        .map_err(|e| StoreError::conflict_on_unique(e, "Dieses Thema gibt es schon."))?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn topics(&self) -> Result<Vec<Topic>> {
        let rows: Vec<TopicRow> = sqlx::query_as(&format!("{TOPIC_SELECT} ORDER BY position"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(topic_from).collect()
    }

    pub async fn topic(&self, slug: &str) -> Result<Topic> {
        let row: Option<TopicRow> = sqlx::query_as(&format!("{TOPIC_SELECT} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        topic_from(row.ok_or(StoreError::NotFound)?)
    }

    /// A topic's target-picture versions, newest first. Drafts and confidential versions
    /// only with `confidential` (the caller checked the reader may see decision papers).
    pub async fn target_pictures(
        &self,
        topic_id: i64,
        confidential: bool,
    ) -> Result<Vec<TargetPicture>> {
        self.target_pictures_of(Some(topic_id), confidential).await
    }

    /// Every topic's target-picture versions as [`Store::target_pictures`] gives them for
    /// one, by topic: one query for a page that lists all topics.
    pub async fn target_pictures_by_topic(
        &self,
        confidential: bool,
    ) -> Result<HashMap<i64, Vec<TargetPicture>>> {
        let mut by_topic: HashMap<i64, Vec<TargetPicture>> = HashMap::new();
        for picture in self.target_pictures_of(None, confidential).await? {
            by_topic.entry(picture.topic_id).or_default().push(picture);
        }
        Ok(by_topic)
    }

    /// The versions of one topic or of all, newest first within a topic.
    async fn target_pictures_of(
        &self,
        topic_id: Option<i64>,
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
            query = query.bind(topic_id);
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
                        id,
                        topic_id,
                        version,
                        body,
                        visibility: Visibility::from_str(&vis).map_err(corrupt)?,
                        resolution: match (res, year, number, title) {
                            (Some(id), Some(y), Some(n), Some(t)) => {
                                Some((id, format!("{y}/{n:02}"), t))
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
    pub async fn add_target_picture(
        &self,
        topic_id: i64,
        body: &str,
        visibility: Visibility,
        by: &str,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_version(&mut tx, topic_id, body, visibility, by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The topic's draft of the next version, created from the newest version when there
    /// is none yet.
    pub async fn draft_target_picture(&self, topic_id: i64, by: &str) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = draft_in(&mut tx, topic_id, by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Saves the draft's text.
    pub async fn save_draft(&self, id: i64, body: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE target_pictures SET body = $1, modified_at = $2 \
             WHERE id = $3 AND visibility = 'draft'",
        )
        .bind(body)
        .bind(now_micros())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "Nur der Entwurf kann bearbeitet werden.".into(),
            ));
        }
        Ok(())
    }

    /// Moves a version on: draft → confidential (into the decision papers) → published
    /// with the resolution that decided it. Published versions stay published.
    pub async fn advance_target_picture(
        &self,
        id: i64,
        to: Visibility,
        resolution_id: Option<i64>,
    ) -> Result<()> {
        let now = now_micros();
        let done = match to {
            Visibility::Confidential => {
                sqlx::query(
                    "UPDATE target_pictures SET visibility = 'confidential', modified_at = $1 \
                     WHERE id = $2 AND visibility = 'draft'",
                )
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
            Visibility::Published => {
                let resolution = resolution_id.ok_or_else(|| {
                    StoreError::Conflict(
                        "Bitte den Beschluss angeben, der es beschlossen hat.".into(),
                    )
                })?;
                sqlx::query(
                    "UPDATE target_pictures SET visibility = 'published', resolution_id = $1, \
                     published_at = $2, modified_at = $2 \
                     WHERE id = $3 AND visibility = 'confidential' \
                     AND EXISTS (SELECT 1 FROM resolutions WHERE id = $1 AND state = 'published')",
                )
                .bind(resolution)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
            Visibility::Draft => {
                return Err(StoreError::Conflict(
                    "Eine Fassung wird nicht wieder zum Entwurf.".into(),
                ));
            }
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "Das geht in diesem Stand nicht (vertraulich erst aus dem Entwurf, \
                 veröffentlicht erst mit einem veröffentlichten Beschluss)."
                    .into(),
            ));
        }
        Ok(())
    }

    // ---- World Café (K9) ----

    /// Creates round `number` of an event with one table per topic. Each topic has one
    /// room per event (kind table, slug = the topic's), shared by its tables in all rounds.
    pub async fn create_round(
        &self,
        event_id: i64,
        number: i64,
        minutes: i64,
        tables: &[NewTable],
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (round,): (i64,) = sqlx::query_as(
            "INSERT INTO cafe_rounds (event_id, number, minutes) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(event_id)
        .bind(number)
        .bind(minutes)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "Diese Runde gibt es schon."))?;
        for table in tables {
            let (slug, title): (String, String) =
                sqlx::query_as("SELECT slug, title FROM topics WHERE id = $1")
                    .bind(table.topic_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            let room: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM rooms WHERE event_id = $1 AND slug = $2")
                    .bind(event_id)
                    .bind(&slug)
                    .fetch_optional(&mut *tx)
                    .await?;
            let room_id = match room {
                Some((id,)) => id,
                None => {
                    let new = NewRoom {
                        slug: slug.clone(),
                        name: format!("Thementisch {title}"),
                        kind: RoomKind::Table,
                        capacity: table.capacity,
                        moderator_id: table.moderator_id,
                    };
                    insert_room(&mut tx, event_id, &new).await?
                }
            };
            sqlx::query(
                "INSERT INTO cafe_tables (round_id, topic_id, room_id, moderator_id, capacity) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(round)
            .bind(table.topic_id)
            .bind(room_id)
            .bind(table.moderator_id)
            .bind(table.capacity)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::conflict_on_unique(e, "Jedes Thema hat nur einen Tisch pro Runde.")
            })?;
        }
        tx.commit().await?;
        Ok(round)
    }

    /// The event's rounds with their tables and how many sit at each.
    pub async fn rounds(&self, event_id: i64) -> Result<Vec<Round>> {
        type Row = (i64, i64, i64, String, i64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, event_id, number, status, minutes, ends_at FROM cafe_rounds \
             WHERE event_id = $1 ORDER BY number",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut tables = self.tables_where("k.event_id = $1", event_id).await?;
        rows.into_iter()
            .map(|(id, event_id, number, status, minutes, ends_at)| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tables)
                    .into_iter()
                    .partition(|t| t.round_id == id);
                tables = rest;
                Ok(Round {
                    id,
                    event_id,
                    number,
                    status: RoundStatus::from_str(&status).map_err(corrupt)?,
                    minutes,
                    ends_at: ends_at.map(timestamp),
                    tables: mine,
                })
            })
            .collect()
    }

    pub async fn cafe_table(&self, table_id: i64) -> Result<CafeTable> {
        self.tables_where("c.id = $1", table_id)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn tables_where(&self, condition: &str, value: i64) -> Result<Vec<CafeTable>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            round_id: i64,
            event_id: i64,
            round: i64,
            round_status: String,
            room_id: i64,
            room_slug: String,
            mod_id: Option<i64>,
            mod_name: Option<String>,
            capacity: i64,
            seated: i64,
            summary: String,
            summary_by: Option<String>,
            tid: i64,
            slug: String,
            title: String,
            patron: String,
            question: String,
            questions: String,
        }
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT c.id, c.round_id, k.event_id, k.number AS round, k.status AS round_status, \
             c.room_id, r.slug AS room_slug, c.moderator_id AS mod_id, \
             a.display_name AS mod_name, c.capacity, \
             (SELECT COUNT(*) FROM table_seats s WHERE s.table_id = c.id) AS seated, \
             c.summary, c.summary_by, t.id AS tid, t.slug, t.title, t.patron, t.question, \
             t.guiding_questions AS questions FROM cafe_tables c \
             JOIN cafe_rounds k ON k.id = c.round_id JOIN rooms r ON r.id = c.room_id \
             JOIN topics t ON t.id = c.topic_id \
             LEFT JOIN accounts a ON a.id = c.moderator_id \
             WHERE {condition} ORDER BY k.number, t.position"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CafeTable {
                    id: r.id,
                    round_id: r.round_id,
                    event_id: r.event_id,
                    round: r.round,
                    round_status: RoundStatus::from_str(&r.round_status).map_err(corrupt)?,
                    topic: topic_from((r.tid, r.slug, r.title, r.patron, r.question, r.questions))?,
                    room_id: r.room_id,
                    room_slug: r.room_slug,
                    moderator: r.mod_id.zip(r.mod_name).map(|(id, name)| Who { id, name }),
                    capacity: r.capacity,
                    seated: r.seated,
                    summary: r.summary,
                    summary_by: r.summary_by,
                })
            })
            .collect()
    }

    /// Starts or ends a round for all its tables together; starting sets the timer.
    /// Only one round runs at a time.
    pub async fn set_round(
        &self,
        event_id: i64,
        round_id: i64,
        by: &Who,
        status: RoundStatus,
    ) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let (number, minutes, current): (i64, i64, String) = sqlx::query_as(
            "SELECT number, minutes, status FROM cafe_rounds WHERE id = $1 AND event_id = $2",
        )
        .bind(round_id)
        .bind(event_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let now = now_micros();
        let ends_at = now + minutes * 60_000_000;
        match (current.as_str(), status) {
            ("ended", RoundStatus::Running) => {
                return Err(StoreError::Conflict(format!(
                    "Runde {number} ist schon beendet und lässt sich nicht noch einmal \
                     starten; starten lässt sich nur die nächste geplante Runde."
                )));
            }
            ("planned", RoundStatus::Running) => {
                // Rounds run in their order: only the first planned one starts.
                let (earlier,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM cafe_rounds WHERE event_id = $1 \
                     AND status = 'planned' AND number < $2",
                )
                .bind(event_id)
                .bind(number)
                .fetch_one(&mut **tx)
                .await?;
                if earlier > 0 {
                    return Err(StoreError::Conflict(format!(
                        "Vor Runde {number} ist noch eine frühere Runde geplant; \
                         bitte zuerst diese starten."
                    )));
                }
                let (running,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM cafe_rounds WHERE event_id = $1 AND status = 'running'",
                )
                .bind(event_id)
                .fetch_one(&mut **tx)
                .await?;
                if running > 0 {
                    return Err(StoreError::Conflict(
                        "Es läuft schon eine Runde; bitte sie zuerst beenden.".into(),
                    ));
                }
                sqlx::query(
                    "UPDATE cafe_rounds SET status = 'running', started_at = $1, ends_at = $2, \
                     ended_at = NULL WHERE id = $3",
                )
                .bind(now)
                .bind(ends_at)
                .bind(round_id)
                .execute(&mut **tx)
                .await?;
            }
            ("running", RoundStatus::Ended) => {
                sqlx::query(
                    "UPDATE cafe_rounds SET status = 'ended', ended_at = $1, ends_at = NULL \
                     WHERE id = $2",
                )
                .bind(now)
                .bind(round_id)
                .execute(&mut **tx)
                .await?;
            }
            _ => {
                return Err(StoreError::Conflict(
                    "Die Runde ist nicht in dem Stand, der dafür nötig ist.".into(),
                ));
            }
        }
        let entry = Entry {
            room: None,
            audience: Audience::All,
            sender_id: Some(by.id),
            recipient_id: None,
            client_id: None,
        };
        // Every round as it stands now, so an open café page shows the new state
        // without a reload.
        let rounds = rounds_in(tx, event_id).await?;
        let round = payload::Round {
            round: number,
            status: status.as_str().to_owned(),
            ends_at: (status == RoundStatus::Running).then(|| timestamp(ends_at)),
            rounds,
        };
        let record = append(tx, event_id, entry, |_| round).await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    /// Seats `account` at `table_id` for its round (replacing an earlier choice in the
    /// same round); `by` is who did it (the person or an organizer). A full table
    /// refuses with [`StoreError::Conflict`]. The live entry carries the new headcounts
    /// of the tables concerned.
    pub async fn take_seat(&self, table_id: i64, account: i64, by: i64) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        // Takes the table's row lock on PostgreSQL, so two people cannot both get the
        // last seat; SQLite's writer lock does the same.
        let (round_id, capacity): (i64, i64) = sqlx::query_as(
            "UPDATE cafe_tables SET capacity = capacity WHERE id = $1 \
             RETURNING round_id, capacity",
        )
        .bind(table_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let (seated,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM table_seats WHERE table_id = $1 AND account_id <> $2",
        )
        .bind(table_id)
        .bind(account)
        .fetch_one(&mut **tx)
        .await?;
        if seated >= capacity {
            return Err(StoreError::Conflict(
                "Dieser Tisch ist voll. Bitte wählen Sie einen anderen Tisch.".into(),
            ));
        }
        let before: Option<(i64,)> = sqlx::query_as(
            "SELECT table_id FROM table_seats WHERE round_id = $1 AND account_id = $2",
        )
        .bind(round_id)
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO table_seats (round_id, account_id, table_id, assigned) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (round_id, account_id) \
             DO UPDATE SET table_id = excluded.table_id, assigned = excluded.assigned",
        )
        .bind(round_id)
        .bind(account)
        .bind(table_id)
        .bind(i64::from(by != account))
        .execute(&mut **tx)
        .await?;
        let mut counts = Vec::new();
        for table in
            std::iter::once(table_id).chain(before.map(|(t,)| t).filter(|t| *t != table_id))
        {
            // Who sits there, from the same rows as the count: a page's "Am Tisch" and
            // its headcount are rendered from this one list.
            counts.push(table_line_in(tx, table).await?.into());
        }
        let (event_id, ..) = table_room(tx, table_id).await?;
        let entry = Entry {
            room: None,
            audience: Audience::All,
            sender_id: Some(by),
            recipient_id: None,
            client_id: None,
        };
        let seat = payload::Seat {
            account,
            table: table_id,
            tables: counts,
        };
        let record = append(tx, event_id, entry, |_| seat).await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    /// The table `account` sits at in a round.
    pub async fn seat(&self, round_id: i64, account: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT table_id FROM table_seats WHERE round_id = $1 AND account_id = $2",
        )
        .bind(round_id)
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// The event's café rounds as a `round` live entry carries them (`rounds`): the
    /// café page renders them with the same fragment as the live change.
    pub async fn cafe_rounds(&self, event_id: i64) -> Result<Vec<payload::CafeRound>> {
        let mut tx = self.pool.begin().await?;
        let rounds = rounds_in(&mut tx, event_id).await?;
        tx.commit().await?;
        Ok(rounds)
    }

    /// Who sits at a table.
    pub async fn table_people(&self, table_id: i64) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {0} AS name FROM table_seats s JOIN accounts a \
                 ON a.id = s.account_id JOIN cafe_tables st ON st.id = s.table_id \
                 JOIN rooms sr ON sr.id = st.room_id WHERE s.table_id = $1 ORDER BY name, a.id",
            crate::pseudonyms::name_in_event("sr.event_id", "a.id")
        ))
        .bind(table_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who { id, name })
            .collect())
    }

    /// The table's summary at the end of its round (K9), written or edited by its
    /// moderator; shown to the same topic's table in the next round.
    pub async fn save_summary(&self, table_id: i64, by: &Who, text: &str) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let (event_id, room, _, round, _) = table_room(tx, table_id).await?;
        sqlx::query(
            "UPDATE cafe_tables SET summary = $1, summary_by = $2, summary_at = $3 WHERE id = $4",
        )
        .bind(text)
        .bind(&by.name)
        .bind(now_micros())
        .bind(table_id)
        .execute(&mut **tx)
        .await?;
        let entry = Entry {
            room: Some(&room),
            audience: Audience::All,
            sender_id: Some(by.id),
            recipient_id: None,
            client_id: None,
        };
        let summary = payload::Summary {
            table: table_id,
            round,
            text: text.to_owned(),
            by: by.name.clone(),
        };
        let record = append(tx, event_id, entry, |_| summary).await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    /// The summary the same topic's table wrote in the previous round, if any.
    pub async fn previous_summary(&self, table_id: i64) -> Result<Option<(i64, String, String)>> {
        let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT p.number, pt.summary, pt.summary_by FROM cafe_tables c \
             JOIN cafe_rounds k ON k.id = c.round_id \
             JOIN cafe_rounds p ON p.event_id = k.event_id AND p.number = k.number - 1 \
             JOIN cafe_tables pt ON pt.round_id = p.id AND pt.topic_id = c.topic_id \
             WHERE c.id = $1",
        )
        .bind(table_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .filter(|(_, s, _)| !s.trim().is_empty())
            .map(|(n, s, by)| (n, s, by.unwrap_or_default())))
    }

    // ---- Impulses (K10) ----

    /// A new impulse at a table, live for everybody there.
    pub async fn add_impulse(
        &self,
        table_id: i64,
        author: &Who,
        text: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let (event_id, room, topic_id, round, _) = table_room(tx, table_id).await?;
        if let Some(done) = self.already_written(event_id, author.id, client_id).await? {
            return Ok(done);
        }
        let result = async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO impulses (event_id, table_id, topic_id, round, author_id, \
                 author_name, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id",
            )
            .bind(event_id)
            .bind(table_id)
            .bind(topic_id)
            .bind(round)
            .bind(author.id)
            .bind(&author.name)
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            let impulse = impulse_in(tx, id).await?;
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
        }
        .await;
        self.finish_live(owned, result, event_id, author.id, client_id)
            .await
    }

    /// Impulses that arrived together, committed in one transaction (group commit), in
    /// order; each with its live entry. If any of them fails (a re-sent one, a table that
    /// is gone), every one is tried on its own, so each gets its own answer.
    pub async fn add_impulses(&self, items: &[NewImpulse]) -> Vec<Result<Written>> {
        if items.is_empty() {
            return Vec::new();
        }
        match self.add_impulses_at_once(items).await {
            Ok(written) => written.into_iter().map(Ok).collect(),
            Err(_) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(
                        self.add_impulse(i.table_id, &i.author, &i.text, i.client_id.as_deref())
                            .await,
                    );
                }
                out
            }
        }
    }

    async fn add_impulses_at_once(&self, items: &[NewImpulse]) -> Result<Vec<Written>> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let mut tables: HashMap<i64, (i64, String, i64, i64, i64)> = HashMap::new();
        for item in items {
            if let std::collections::hash_map::Entry::Vacant(slot) = tables.entry(item.table_id) {
                slot.insert(table_room(tx, item.table_id).await?);
            }
        }
        let now = now_micros();
        // The impulses, several rows per statement; the ids come back with what tells
        // the rows apart (identical rows are interchangeable).
        let mut ids: Vec<Option<i64>> = vec![None; items.len()];
        for (c, chunk) in items.chunks(IMPULSE_BATCH_ROWS).enumerate() {
            let values = crate::row_placeholders(chunk.len(), 8);
            let sql = format!(
                "INSERT INTO impulses (event_id, table_id, topic_id, round, author_id, \
                 author_name, text, created_at) VALUES {} RETURNING id, table_id, author_id, text",
                values
            );
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
            for item in chunk {
                let (event_id, _, topic_id, round, _) = &tables[&item.table_id];
                query = query
                    .bind(*event_id)
                    .bind(item.table_id)
                    .bind(*topic_id)
                    .bind(*round)
                    .bind(item.author.id)
                    .bind(&item.author.name)
                    .bind(&item.text)
                    .bind(now);
            }
            let rows = query.fetch_all(&mut **tx).await?;
            let offset = c * IMPULSE_BATCH_ROWS;
            for (id, table_id, author_id, text) in rows {
                let slot = chunk
                    .iter()
                    .enumerate()
                    .position(|(i, item)| {
                        ids[offset + i].is_none()
                            && item.table_id == table_id
                            && item.author.id == author_id
                            && item.text == text
                    })
                    .ok_or_else(|| StoreError::Corrupt("impulse batch: unknown row".into()))?;
                ids[offset + slot] = Some(id);
            }
        }
        // Their live entries, per event in order.
        let mut out: Vec<Option<Written>> = vec![None; items.len()];
        let mut events: Vec<i64> = tables.values().map(|t| t.0).collect();
        events.sort_unstable();
        events.dedup();
        for event in events {
            let mut which = Vec::new();
            let mut entries = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (event_id, room, topic_id, round, _) = &tables[&item.table_id];
                if *event_id != event {
                    continue;
                }
                let id = ids[i].ok_or_else(|| StoreError::Corrupt("impulse batch".into()))?;
                let impulse = Impulse {
                    id,
                    event_id: *event_id,
                    table_id: item.table_id,
                    topic_id: *topic_id,
                    round: *round,
                    author_id: Some(item.author.id),
                    author_name: item.author.name.clone(),
                    text: item.text.clone(),
                    hidden: false,
                    merged_into: None,
                    created_at: timestamp(now),
                    edited: false,
                };
                entries.push((
                    Entry {
                        room: Some(room.as_str()),
                        audience: Audience::All,
                        sender_id: Some(item.author.id),
                        recipient_id: None,
                        client_id: item.client_id.as_deref(),
                    },
                    impulse.payload(ImpulseAction::Added),
                ));
                which.push(i);
            }
            let records = append_many(tx, event, entries).await?;
            for (i, record) in which.into_iter().zip(records) {
                out[i] = Some(Written {
                    record,
                    fresh: true,
                });
            }
        }
        owned.commit().await?;
        out.into_iter()
            .map(|w| w.ok_or_else(|| StoreError::Corrupt("impulse batch".into())))
            .collect()
    }

    /// The author edits their impulse, within [`IMPULSE_EDIT_SECONDS`] of writing it.
    pub async fn edit_impulse(&self, id: i64, author: &Who, text: &str) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let impulse = impulse_in(tx, id).await?;
        if impulse.author_id != Some(author.id) {
            return Err(StoreError::Conflict(
                "Nur wer einen Impuls geschrieben hat, kann ihn ändern.".into(),
            ));
        }
        if impulse.hidden {
            return Err(StoreError::Conflict(
                "Dieser Impuls ist ausgeblendet und kann nicht geändert werden.".into(),
            ));
        }
        let age = jiff::Timestamp::now().as_second() - impulse.created_at.as_second();
        if age > konvent_core::strategy::IMPULSE_EDIT_SECONDS {
            return Err(StoreError::Conflict(
                "Impulse können nur in der ersten Viertelstunde geändert werden.".into(),
            ));
        }
        sqlx::query("UPDATE impulses SET text = $1, edited_at = $2 WHERE id = $3")
            .bind(text)
            .bind(now_micros())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let (event_id, room, ..) = table_room(tx, impulse.table_id).await?;
        let impulse = impulse_in(tx, id).await?;
        let record = impulse_entry(
            tx,
            event_id,
            &room,
            author.id,
            None,
            &impulse,
            ImpulseAction::Edited,
        )
        .await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    /// The moderator hides an impulse (or shows it again) or merges it into another of
    /// the same table.
    pub async fn moderate_impulse(
        &self,
        id: i64,
        by: &Who,
        hidden: bool,
        merge_into: Option<i64>,
    ) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let impulse = impulse_in(tx, id).await?;
        if let Some(target) = merge_into {
            let other = impulse_in(tx, target).await?;
            if other.table_id != impulse.table_id || other.id == impulse.id {
                return Err(StoreError::Conflict(
                    "Zusammenführen geht nur mit einem anderen Impuls desselben Tisches.".into(),
                ));
            }
            if other.merged_into.is_some() {
                return Err(StoreError::Conflict(
                    "Dieser Impuls ist selbst schon zusammengeführt.".into(),
                ));
            }
        }
        sqlx::query("UPDATE impulses SET hidden = $1, merged_into = $2 WHERE id = $3")
            .bind(i64::from(hidden))
            .bind(merge_into)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        // What was merged into this one follows it.
        if let Some(target) = merge_into {
            sqlx::query("UPDATE impulses SET merged_into = $1 WHERE merged_into = $2")
                .bind(target)
                .bind(id)
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
        let record = if impulse.hidden {
            // Hidden: its text leaves the live log, and its own entry carries none
            // (showing it again writes a new entry with the text).
            crate::moderation::redact(tx, event_id, "impulse", id).await?;
            let entry = Entry {
                room: Some(&room),
                audience: Audience::All,
                sender_id: Some(by.id),
                recipient_id: None,
                client_id: None,
            };
            let data = Tombstone(impulse.payload(ImpulseAction::Moderated));
            append(tx, event_id, entry, |_| data).await?
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
            .await?
        };
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    pub async fn impulse(&self, id: i64) -> Result<Impulse> {
        let row: Option<ImpulseRow> = sqlx::query_as(&format!("{IMPULSE_SELECT} WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(impulse_from).ok_or(StoreError::NotFound)
    }

    /// A table's impulses in order, hidden ones only with `hidden`.
    pub async fn table_impulses(&self, table_id: i64, hidden: bool) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.table_id = $1 AND (i.hidden = 0 OR $2 = 1) ORDER BY i.id"
        ))
        .bind(table_id)
        .bind(i64::from(hidden))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// Every visible impulse of a topic, from all rounds and events, merged ones left out
    /// (their text lives on in the one they were merged into).
    pub async fn topic_impulses(&self, topic_id: i64) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.topic_id = $1 AND i.hidden = 0 AND i.merged_into IS NULL \
             ORDER BY i.id"
        ))
        .bind(topic_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// An event's visible impulses (for the podium bundle and the results export).
    pub async fn event_impulses(&self, event_id: i64) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.event_id = $1 AND i.hidden = 0 AND i.merged_into IS NULL \
             ORDER BY i.topic_id, i.round, i.id"
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    /// What `account` wrote.
    pub async fn impulses_by(&self, account: i64) -> Result<Vec<Impulse>> {
        let rows: Vec<ImpulseRow> = sqlx::query_as(&format!(
            "{IMPULSE_SELECT} WHERE i.author_id = $1 ORDER BY i.id"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(impulse_from).collect())
    }

    // ---- Pinboard (K11) ----

    pub async fn add_pin(
        &self,
        event_id: i64,
        topic_id: Option<i64>,
        author: &Who,
        text: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        if let Some(done) = self.already_written(event_id, author.id, client_id).await? {
            return Ok(done);
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let result = async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO pins (event_id, topic_id, author_id, author_name, text, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(event_id)
            .bind(topic_id)
            .bind(author.id)
            .bind(&author.name)
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            pin_entry(tx, event_id, author.id, client_id, id, PinAction::Added).await
        }
        .await;
        self.finish_live(owned, result, event_id, author.id, client_id)
            .await
    }

    /// An event's pins, most votes first, with the ones `account` voted for.
    pub async fn pins(&self, event_id: i64, account: i64) -> Result<(Vec<Pin>, Vec<i64>)> {
        let rows: Vec<PinRow> = sqlx::query_as(&format!(
            "{PIN_SELECT} WHERE p.event_id = $1 ORDER BY votes DESC, p.id"
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mine: Vec<(i64,)> = sqlx::query_as(
            "SELECT v.pin_id FROM pin_votes v JOIN pins p ON p.id = v.pin_id \
             WHERE p.event_id = $1 AND v.account_id = $2",
        )
        .bind(event_id)
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.into_iter().map(pin_from).collect::<Result<_>>()?,
            mine.into_iter().map(|(id,)| id).collect(),
        ))
    }

    pub async fn pins_by(&self, account: i64) -> Result<Vec<Pin>> {
        let rows: Vec<PinRow> = sqlx::query_as(&format!(
            "{PIN_SELECT} WHERE p.author_id = $1 ORDER BY p.id"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(pin_from).collect()
    }

    /// A dot vote for a pin, or taking it back. One per person and pin.
    pub async fn vote_pin(
        &self,
        event_id: i64,
        pin_id: i64,
        who: &Who,
        on: bool,
    ) -> Result<Written> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let pin = pin_in(tx, pin_id).await?;
        if pin.event_id != event_id {
            return Err(StoreError::NotFound);
        }
        if on {
            sqlx::query(
                "INSERT INTO pin_votes (pin_id, account_id) VALUES ($1, $2) \
                 ON CONFLICT (pin_id, account_id) DO NOTHING",
            )
            .bind(pin_id)
            .bind(who.id)
            .execute(&mut **tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM pin_votes WHERE pin_id = $1 AND account_id = $2")
                .bind(pin_id)
                .bind(who.id)
                .execute(&mut **tx)
                .await?;
        }
        let record = pin_entry(tx, event_id, who.id, None, pin_id, PinAction::Voted).await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    /// Organizers pick a pin up (with where: `outcome`, optionally a link) or close it
    /// with a reason.
    pub async fn decide_pin(
        &self,
        event_id: i64,
        pin_id: i64,
        by: &Who,
        status: PinStatus,
        outcome: &str,
        outcome_url: Option<&str>,
    ) -> Result<Written> {
        if status == PinStatus::Open {
            return Err(StoreError::Conflict(
                "Bitte aufgreifen oder schließen.".into(),
            ));
        }
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let pin = pin_in(tx, pin_id).await?;
        if pin.event_id != event_id {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE pins SET status = $1, outcome = $2, outcome_url = $3, decided_by = $4, \
             decided_at = $5 WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(outcome)
        .bind(outcome_url)
        .bind(&by.name)
        .bind(now_micros())
        .bind(pin_id)
        .execute(&mut **tx)
        .await?;
        let record = pin_entry(tx, event_id, by.id, None, pin_id, PinAction::Decided).await?;
        owned.commit().await?;
        Ok(Written {
            record,
            fresh: true,
        })
    }

    // ---- Connection points (K16) ----

    pub async fn follow(
        &self,
        account: i64,
        target: FollowTarget,
        target_id: i64,
        on: bool,
    ) -> Result<()> {
        let table = match target {
            FollowTarget::Topic => "topics",
            FollowTarget::Impulse => "impulses",
            FollowTarget::Pin => "pins",
        };
        let mut tx = self.begin_write().await?;
        let exists: Option<(i64,)> =
            sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(target_id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        if on {
            sqlx::query(
                "INSERT INTO connection_points (account_id, target, target_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, target, target_id) DO NOTHING",
            )
            .bind(account)
            .bind(target.as_str())
            .bind(target_id)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "DELETE FROM connection_points WHERE account_id = $1 AND target = $2 \
                 AND target_id = $3",
            )
            .bind(account)
            .bind(target.as_str())
            .bind(target_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Connection points with a label, for one person (`Some(account)`) or everybody.
    pub async fn connection_points(&self, account: Option<i64>) -> Result<Vec<ConnectionPoint>> {
        type Row = (i64, String, String, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.account_id, a.display_name, c.target, c.target_id, \
             CASE c.target WHEN 'topic' THEN (SELECT title FROM topics WHERE id = c.target_id) \
             WHEN 'impulse' THEN (SELECT text FROM impulses WHERE id = c.target_id) \
             ELSE (SELECT text FROM pins WHERE id = c.target_id) END \
             FROM connection_points c JOIN accounts a ON a.id = c.account_id \
             WHERE ($1 = 0 OR c.account_id = $2) ORDER BY c.target, c.target_id, a.display_name",
        )
        .bind(i64::from(account.is_some()))
        .bind(account.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, target, target_id, label)| {
                Ok(ConnectionPoint {
                    account: Who { id, name },
                    target: FollowTarget::from_str(&target).map_err(corrupt)?,
                    target_id,
                    label: label.unwrap_or_default(),
                })
            })
            .collect()
    }

    // ---- Consolidation (S3, S4) ----

    /// The groups the project team saved for a topic, with their impulses.
    pub async fn saved_groups(&self, topic_id: i64) -> Result<Vec<SavedGroup>> {
        self.saved_groups_of(Some(topic_id)).await
    }

    /// The saved groups of every topic (as [`Store::saved_groups`] gives them for one):
    /// three queries for a page that lists all topics.
    pub async fn all_saved_groups(&self) -> Result<Vec<SavedGroup>> {
        self.saved_groups_of(None).await
    }

    async fn saved_groups_of(&self, topic_id: Option<i64>) -> Result<Vec<SavedGroup>> {
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
        let membership: HashMap<i64, i64> = bind_topic::<(i64, i64)>(
            &format!(
                "SELECT m.impulse_id, m.group_id FROM impulse_group_members m \
                 JOIN impulse_groups g ON g.id = m.group_id WHERE {of_topic}"
            ),
            topic_id,
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let members: Vec<(i64, Impulse)> = rows
            .into_iter()
            .map(impulse_from)
            .map(|i| (membership.get(&i.id).copied().unwrap_or_default(), i))
            .collect();
        Ok(groups
            .into_iter()
            .map(|(id, topic_id, label, accepted_into)| SavedGroup {
                id,
                topic_id,
                label,
                accepted_into,
                members: members
                    .iter()
                    .filter(|(g, _)| *g == id)
                    .map(|(_, i)| i.clone())
                    .collect(),
            })
            .collect())
    }

    /// Saves a group of impulses of the topic (taking them out of any other group; a
    /// group left empty goes).
    pub async fn save_group(
        &self,
        topic_id: i64,
        label: &str,
        impulses: &[i64],
        by: &str,
    ) -> Result<i64> {
        if impulses.is_empty() {
            return Err(StoreError::Conflict("Eine Gruppe braucht Impulse.".into()));
        }
        let mut tx = self.begin_write().await?;
        let (group,): (i64,) = sqlx::query_as(
            "INSERT INTO impulse_groups (topic_id, label, created_by, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(topic_id)
        .bind(label)
        .bind(by)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        for &impulse in impulses {
            let owner: Option<(i64,)> =
                sqlx::query_as("SELECT topic_id FROM impulses WHERE id = $1")
                    .bind(impulse)
                    .fetch_optional(&mut *tx)
                    .await?;
            if owner != Some((topic_id,)) {
                return Err(StoreError::Conflict(
                    "Ein Impuls gehört nicht zu diesem Thema.".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO impulse_group_members (impulse_id, group_id) VALUES ($1, $2) \
                 ON CONFLICT (impulse_id) DO UPDATE SET group_id = excluded.group_id",
            )
            .bind(impulse)
            .bind(group)
            .execute(&mut *tx)
            .await?;
        }
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Moves every impulse of group `from` into group `into` (both of the topic).
    pub async fn merge_groups(&self, topic_id: i64, into: i64, from: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM impulse_groups WHERE topic_id = $1 AND id IN ($2, $3) \
             AND accepted_into IS NULL",
        )
        .bind(topic_id)
        .bind(into)
        .bind(from)
        .fetch_one(&mut *tx)
        .await?;
        if n != 2 || into == from {
            return Err(StoreError::Conflict(
                "Zusammenführen geht nur mit zwei offenen Gruppen dieses Themas.".into(),
            ));
        }
        sqlx::query("UPDATE impulse_group_members SET group_id = $1 WHERE group_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes an impulse out of its group (splitting it off).
    pub async fn ungroup_impulse(&self, topic_id: i64, impulse: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM impulse_group_members WHERE impulse_id = $1 AND group_id IN \
             (SELECT id FROM impulse_groups WHERE topic_id = $2 AND accepted_into IS NULL)",
        )
        .bind(impulse)
        .bind(topic_id)
        .execute(&mut *tx)
        .await?;
        drop_empty_groups(&mut tx, topic_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a group into the topic's draft of the next version: its label and
    /// impulses are appended to the draft's text as a point to work in, and the group
    /// remembers the version (S4).
    pub async fn accept_group(&self, topic_id: i64, group: i64, by: &str) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT label, accepted_into FROM impulse_groups WHERE id = $1 AND topic_id = $2",
        )
        .bind(group)
        .bind(topic_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (label, accepted) = row.ok_or(StoreError::NotFound)?;
        if accepted.is_some() {
            return Err(StoreError::Conflict(
                "Diese Gruppe ist schon übernommen.".into(),
            ));
        }
        let draft = draft_in(&mut tx, topic_id, by).await?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM impulse_group_members WHERE group_id = $1")
                .bind(group)
                .fetch_one(&mut *tx)
                .await?;
        let (body,): (String,) = sqlx::query_as("SELECT body FROM target_pictures WHERE id = $1")
            .bind(draft)
            .fetch_one(&mut *tx)
            .await?;
        let body = format!(
            "{}\n\n- **{label}** (aus {count} Impulsen; einzuarbeiten)",
            body.trim_end()
        );
        sqlx::query("UPDATE target_pictures SET body = $1, modified_at = $2 WHERE id = $3")
            .bind(body)
            .bind(now_micros())
            .bind(draft)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE impulse_groups SET accepted_into = $1 WHERE id = $2")
            .bind(draft)
            .bind(group)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(draft)
    }
}

async fn drop_empty_groups(tx: &mut Tx, topic_id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM impulse_groups WHERE topic_id = $1 AND accepted_into IS NULL AND id NOT IN \
         (SELECT group_id FROM impulse_group_members)",
    )
    .bind(topic_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_version(
    tx: &mut Tx,
    topic_id: i64,
    body: &str,
    visibility: Visibility,
    by: &str,
) -> Result<i64> {
    let (next,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM target_pictures WHERE topic_id = $1",
    )
    .bind(topic_id)
    .fetch_one(&mut **tx)
    .await?;
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO target_pictures (topic_id, version, body, visibility, created_by, \
         created_at, modified_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
         RETURNING id",
    )
    .bind(topic_id)
    .bind(next)
    .bind(body)
    .bind(visibility.as_str())
    .bind(by)
    .bind(now)
    .bind(visibility.is_public().then_some(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

async fn draft_in(tx: &mut Tx, topic_id: i64, by: &str) -> Result<i64> {
    let draft: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM target_pictures WHERE topic_id = $1 AND visibility = 'draft'",
    )
    .bind(topic_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id,)) = draft {
        return Ok(id);
    }
    let newest: Option<(String,)> = sqlx::query_as(
        "SELECT body FROM target_pictures WHERE topic_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(topic_id)
    .fetch_optional(&mut **tx)
    .await?;
    let body = newest.map(|(b,)| b).unwrap_or_default();
    insert_version(tx, topic_id, &body, Visibility::Draft, by).await
}

async fn impulse_entry(
    tx: &mut Tx,
    event_id: i64,
    room: &str,
    sender: i64,
    client_id: Option<&str>,
    impulse: &Impulse,
    action: ImpulseAction,
) -> Result<crate::LiveRecord> {
    let entry = Entry {
        room: Some(room),
        audience: Audience::All,
        sender_id: Some(sender),
        recipient_id: None,
        client_id,
    };
    append(tx, event_id, entry, |_| impulse.payload(action)).await
}

async fn pin_entry(
    tx: &mut Tx,
    event_id: i64,
    sender: i64,
    client_id: Option<&str>,
    pin_id: i64,
    action: PinAction,
) -> Result<crate::LiveRecord> {
    let pin = pin_in(tx, pin_id).await?;
    let entry = Entry {
        room: None,
        audience: Audience::All,
        sender_id: Some(sender),
        recipient_id: None,
        client_id,
    };
    append(tx, event_id, entry, |_| pin.payload(action)).await
}

/// `sql` with the topic bound as `$1` when there is one (its `WHERE` names it then).
fn bind_topic<'q, O>(
    sql: &'q str,
    topic_id: Option<i64>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    let query = sqlx::query_as(sql);
    match topic_id {
        Some(id) => query.bind(id),
        None => query,
    }
}
