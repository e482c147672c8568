//! World Café tables (K9): a round's table of one topic in the topic's room, who sits
//! there (seats, limited by the table's capacity) and the summary its moderator writes
//! at the end of the round. The live entries carry a table as [`table_line_in`] reads it.

use konvent_core::ids::{AccountId, EventId, RoomId, RoundId, TableId, TopicId};
use std::collections::HashMap;
use std::str::FromStr;

use konvent_core::convention::log::payload;
use konvent_core::strategy::RoundStatus;

use crate::live::{Entry, LiveTx, Tx, append};
use crate::{Result, Store, StoreError, Who, Written, now_micros};

use super::corrupt;
use super::topics::{Topic, topic_from};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CafeTable {
    pub id: TableId,
    pub round_id: RoundId,
    pub event_id: EventId,
    /// The round's number and where it stands.
    pub round: i64,
    pub round_status: RoundStatus,
    pub topic: Topic,
    pub room_id: RoomId,
    pub room_slug: String,
    pub moderator: Option<Who>,
    pub capacity: i64,
    pub seated: i64,
    pub summary: String,
    pub summary_by: Option<String>,
}

impl CafeTable {
    /// Nobody more may sit down here (the rule [`Store::take_seat`] asks, too).
    pub fn full(&self) -> bool {
        konvent_core::strategy::cafe::take_seat(self.seated, self.capacity).is_err()
    }
}

/// The table's room slug, for live entries.
pub(super) async fn table_room(
    tx: &mut Tx,
    table_id: TableId,
) -> Result<(EventId, String, TopicId, i64, RoundId)> {
    let row: Option<(i64, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT r.event_id, r.slug, c.topic_id, k.number, c.round_id FROM cafe_tables c \
         JOIN rooms r ON r.id = c.room_id JOIN cafe_rounds k ON k.id = c.round_id \
         WHERE c.id = $1",
    )
    .bind(table_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let (event_id, room, topic_id, round, round_id) = row.ok_or(StoreError::NotFound)?;
    Ok((
        EventId::new(event_id),
        room,
        TopicId::new(topic_id),
        round,
        RoundId::new(round_id),
    ))
}

/// A café table as live entries carry it.
pub(super) async fn table_line_in(tx: &mut Tx, table_id: TableId) -> Result<payload::CafeTable> {
    table_lines_in(tx, "c.id = $1", table_id.get())
        .await?
        .pop()
        .map(|(_, line)| line)
        .ok_or(StoreError::NotFound)
}

/// The café tables `condition` picks (on `cafe_tables c` and `cafe_rounds k`, with `id`
/// as `$1`) with their rounds, as live entries carry them, in round and topic order:
/// two queries however many tables there are.
pub(super) async fn table_lines_in(
    tx: &mut Tx,
    condition: &str,
    id: i64,
) -> Result<Vec<(RoundId, payload::CafeTable)>> {
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
            .push(Who::new(AccountId::new(account), name));
    }
    Ok(tables
        .into_iter()
        .map(
            |(table, round, topic, question, moderator, capacity, status)| {
                let line = payload::CafeTable {
                    id: TableId::new(table),
                    topic,
                    question,
                    moderator,
                    capacity,
                    people: people.remove(&table).unwrap_or_default(),
                    status,
                };
                (RoundId::new(round), line)
            },
        )
        .collect())
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id))]
    pub async fn cafe_table(&self, table_id: TableId) -> Result<CafeTable> {
        self.tables_where("c.id = $1", table_id.get())
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    pub(super) async fn tables_where(&self, condition: &str, value: i64) -> Result<Vec<CafeTable>> {
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
                    id: TableId::new(r.id),
                    round_id: RoundId::new(r.round_id),
                    event_id: EventId::new(r.event_id),
                    round: r.round,
                    round_status: RoundStatus::from_str(&r.round_status).map_err(corrupt)?,
                    topic: topic_from((r.tid, r.slug, r.title, r.patron, r.question, r.questions))?,
                    room_id: RoomId::new(r.room_id),
                    room_slug: r.room_slug,
                    moderator: r
                        .mod_id
                        .zip(r.mod_name)
                        .map(|(id, name)| Who::new(AccountId::new(id), name)),
                    capacity: r.capacity,
                    seated: r.seated,
                    summary: r.summary,
                    summary_by: r.summary_by,
                })
            })
            .collect()
    }

    /// Seats `account` at `table_id` for its round (replacing an earlier choice in the
    /// same round); `by` is who did it (the person or an organizer). A full table
    /// refuses ([`konvent_core::strategy::cafe::take_seat`]). The live entry carries the new headcounts
    /// of the tables concerned.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id, account = %account, by = %by))]
    pub async fn take_seat(
        &self,
        table_id: TableId,
        account: AccountId,
        by: AccountId,
    ) -> Result<Written> {
        let event_id = self.table_event(table_id).await?;
        self.live_write(event_id, by, None, async |LiveTx(tx)| {
            // Takes the table's row lock on PostgreSQL, so two people cannot both get the
            // last seat; SQLite's writer lock does the same.
            let (round_id, capacity): (i64, i64) = sqlx::query_as(
                "UPDATE cafe_tables SET capacity = capacity WHERE id = $1 \
                 RETURNING round_id, capacity",
            )
            .bind(table_id.get())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let (seated,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM table_seats WHERE table_id = $1 AND account_id <> $2",
            )
            .bind(table_id.get())
            .bind(account.get())
            .fetch_one(&mut **tx)
            .await?;
            konvent_core::strategy::cafe::take_seat(seated, capacity)?;
            let before: Option<(i64,)> = sqlx::query_as(
                "SELECT table_id FROM table_seats WHERE round_id = $1 AND account_id = $2",
            )
            .bind(round_id)
            .bind(account.get())
            .fetch_optional(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO table_seats (round_id, account_id, table_id, assigned) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (round_id, account_id) \
                 DO UPDATE SET table_id = excluded.table_id, assigned = excluded.assigned",
            )
            .bind(round_id)
            .bind(account.get())
            .bind(table_id.get())
            .bind(i64::from(by != account))
            .execute(&mut **tx)
            .await?;
            let mut counts = Vec::new();
            let before = before.map(|(t,)| TableId::new(t));
            for table in std::iter::once(table_id).chain(before.filter(|t| *t != table_id)) {
                // Who sits there, from the same rows as the count: a page's "Am Tisch" and
                // its headcount are rendered from this one list.
                counts.push(table_line_in(tx, table).await?.into());
            }
            let entry = Entry::to_all(None, by, None);
            let seat = payload::Seat {
                account,
                table: table_id,
                tables: counts,
            };
            append(tx, event_id, entry, |_| seat).await
        })
        .await
    }

    /// The table `account` sits at in a round.
    #[tracing::instrument(level = "debug", skip_all, fields(round_id = %round_id, account = %account))]
    pub async fn seat(&self, round_id: RoundId, account: AccountId) -> Result<Option<TableId>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT table_id FROM table_seats WHERE round_id = $1 AND account_id = $2",
        )
        .bind(round_id.get())
        .bind(account.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| TableId::new(id)))
    }

    /// Who sits at a table.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id))]
    pub async fn table_people(&self, table_id: TableId) -> Result<Vec<Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.id, {0} AS name FROM table_seats s JOIN accounts a \
                 ON a.id = s.account_id JOIN cafe_tables st ON st.id = s.table_id \
                 JOIN rooms sr ON sr.id = st.room_id WHERE s.table_id = $1 ORDER BY name, a.id",
            crate::pseudonyms::name_in_event("sr.event_id", "a.id")
        ))
        .bind(table_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Who::new(AccountId::new(id), name))
            .collect())
    }

    /// The table's summary at the end of its round (K9), written or edited by its
    /// moderator; shown to the same topic's table in the next round.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id, by = %by.id))]
    pub async fn save_summary(&self, table_id: TableId, by: &Who, text: &str) -> Result<Written> {
        let event_id = self.table_event(table_id).await?;
        self.live_write(event_id, by.id, None, async |LiveTx(tx)| {
            let (_, room, _, round, _) = table_room(tx, table_id).await?;
            sqlx::query(
                "UPDATE cafe_tables SET summary = $1, summary_by = $2, summary_at = $3 \
                 WHERE id = $4",
            )
            .bind(text)
            .bind(&by.name)
            .bind(now_micros())
            .bind(table_id.get())
            .execute(&mut **tx)
            .await?;
            let entry = Entry::to_all(Some(&room), by.id, None);
            let summary = payload::Summary {
                table: table_id,
                round,
                text: text.to_owned(),
                by: by.name.clone(),
            };
            append(tx, event_id, entry, |_| summary).await
        })
        .await
    }

    /// The event a café table's room belongs to: a live write is the event's, so
    /// the table's writes read it before their transaction.
    pub(super) async fn table_event(&self, table_id: TableId) -> Result<EventId> {
        let (event_id,): (i64,) = sqlx::query_as(
            "SELECT r.event_id FROM cafe_tables c JOIN rooms r ON r.id = c.room_id \
             WHERE c.id = $1",
        )
        .bind(table_id.get())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(EventId::new(event_id))
    }

    /// The summary the same topic's table wrote in the previous round, if any.
    #[tracing::instrument(level = "debug", skip_all, fields(table_id = %table_id))]
    pub async fn previous_summary(
        &self,
        table_id: TableId,
    ) -> Result<Option<(i64, String, String)>> {
        let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT p.number, pt.summary, pt.summary_by FROM cafe_tables c \
             JOIN cafe_rounds k ON k.id = c.round_id \
             JOIN cafe_rounds p ON p.event_id = k.event_id AND p.number = k.number - 1 \
             JOIN cafe_tables pt ON pt.round_id = p.id AND pt.topic_id = c.topic_id \
             WHERE c.id = $1",
        )
        .bind(table_id.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .filter(|(_, s, _)| !s.trim().is_empty())
            .map(|(n, s, by)| (n, s, by.unwrap_or_default())))
    }
}
