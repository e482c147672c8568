//! World Café rounds (K9): an event's numbered rounds, created with one table per
//! topic, started and ended for all their tables together; the `round` live entry that
//! carries every round as it stands. The tables themselves, their seats and summaries
//! are in [`super::cafe_tables`].

use konvent_core::ids::{AccountId, EventId, RoundId, TopicId};
use konvent_core::taken::Taken;
use std::str::FromStr;

use konvent_core::convention::RoomKind;
use konvent_core::convention::log::payload;
use konvent_core::strategy::RoundStatus;
use konvent_core::strategy::cafe::change_round;

use crate::live::{Entry, LiveTx, NewRoom, Tx, append, insert_room};
use crate::{Result, Store, StoreError, Who, Written, now_micros, timestamp};

use super::cafe_tables::{CafeTable, table_lines_in};
use super::corrupt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub id: RoundId,
    pub event_id: EventId,
    pub number: i64,
    pub status: RoundStatus,
    pub minutes: i64,
    pub ends_at: Option<jiff::Timestamp>,
    pub tables: Vec<CafeTable>,
}

/// A table of a round as the organizer sets it up.
#[derive(Debug, Clone)]
pub struct NewTable {
    pub topic_id: TopicId,
    pub moderator_id: Option<AccountId>,
    pub capacity: i64,
}

/// The event's café rounds for a `round` entry, in the order [`Store::rounds`] gives
/// them.
async fn rounds_in(tx: &mut Tx, event_id: EventId) -> Result<Vec<payload::CafeRound>> {
    let rounds: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, number, status, ends_at FROM cafe_rounds WHERE event_id = $1 \
         ORDER BY number",
    )
    .bind(event_id.get())
    .fetch_all(&mut **tx)
    .await?;
    let mut tables = table_lines_in(tx, "k.event_id = $1", event_id.get()).await?;
    Ok(rounds
        .into_iter()
        .map(|(id, number, status, ends_at)| {
            let id = RoundId::new(id);
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
    /// Creates round `number` of an event with one table per topic. Each topic has one
    /// room per event (kind table, slug = the topic's), shared by its tables in all rounds.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, number = number))]
    pub async fn create_round(
        &self,
        event_id: EventId,
        number: i64,
        minutes: i64,
        tables: &[NewTable],
    ) -> Result<RoundId> {
        let mut tx = self.begin_write().await?;
        let (round,): (i64,) = sqlx::query_as(
            "INSERT INTO cafe_rounds (event_id, number, minutes) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(event_id.get())
        .bind(number)
        .bind(minutes)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, Taken::Round))?;
        for table in tables {
            let (slug, title): (String, String) =
                sqlx::query_as("SELECT slug, title FROM topics WHERE id = $1")
                    .bind(table.topic_id.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            let room: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM rooms WHERE event_id = $1 AND slug = $2")
                    .bind(event_id.get())
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
                    (insert_room(&mut tx, event_id, &new).await?).get()
                }
            };
            sqlx::query(
                "INSERT INTO cafe_tables (round_id, topic_id, room_id, moderator_id, capacity) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(round)
            .bind(table.topic_id.get())
            .bind(room_id)
            .bind(table.moderator_id.map(AccountId::get))
            .bind(table.capacity)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::refused_on_unique(e, Taken::TopicTable))?;
        }
        tx.commit().await?;
        Ok(RoundId::new(round))
    }

    /// The event's rounds with their tables and how many sit at each.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn rounds(&self, event_id: EventId) -> Result<Vec<Round>> {
        type Row = (i64, i64, i64, String, i64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, event_id, number, status, minutes, ends_at FROM cafe_rounds \
             WHERE event_id = $1 ORDER BY number",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut tables = self.tables_where("k.event_id = $1", event_id.get()).await?;
        rows.into_iter()
            .map(|(id, event_id, number, status, minutes, ends_at)| {
                let id = RoundId::new(id);
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tables)
                    .into_iter()
                    .partition(|t| t.round_id == id);
                tables = rest;
                Ok(Round {
                    id,
                    event_id: EventId::new(event_id),
                    number,
                    status: RoundStatus::from_str(&status).map_err(corrupt)?,
                    minutes,
                    ends_at: ends_at.map(timestamp),
                    tables: mine,
                })
            })
            .collect()
    }

    /// Starts or ends a round for all its tables together; starting sets the timer.
    /// Only one round runs at a time.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, round_id = %round_id, by = %by.id))]
    pub async fn set_round(
        &self,
        event_id: EventId,
        round_id: RoundId,
        by: &Who,
        status: RoundStatus,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, None, async |LiveTx(tx)| {
            let (number, minutes, current): (i64, i64, String) = sqlx::query_as(
                "SELECT number, minutes, status FROM cafe_rounds WHERE id = $1 AND event_id = $2",
            )
            .bind(round_id.get())
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let current = RoundStatus::from_str(&current).map_err(corrupt)?;
            // Where every round of the event stands, for the rules in core.
            let rounds: Vec<(i64, String)> =
                sqlx::query_as("SELECT number, status FROM cafe_rounds WHERE event_id = $1")
                    .bind(event_id.get())
                    .fetch_all(&mut **tx)
                    .await?;
            let rounds = rounds
                .into_iter()
                .map(|(n, s)| Ok((n, RoundStatus::from_str(&s).map_err(corrupt)?)))
                .collect::<Result<Vec<_>>>()?;
            change_round(number, current, status, &rounds)?;
            let now = now_micros();
            let ends_at = now + minutes * 60_000_000;
            if status == RoundStatus::Running {
                sqlx::query(
                    "UPDATE cafe_rounds SET status = 'running', started_at = $1, ends_at = $2, \
                     ended_at = NULL WHERE id = $3",
                )
                .bind(now)
                .bind(ends_at)
                .bind(round_id.get())
                .execute(&mut **tx)
                .await?;
            } else {
                // The rules let nothing else through: a running round ends.
                sqlx::query(
                    "UPDATE cafe_rounds SET status = 'ended', ended_at = $1, ends_at = NULL \
                     WHERE id = $2",
                )
                .bind(now)
                .bind(round_id.get())
                .execute(&mut **tx)
                .await?;
            }
            let entry = Entry::to_all(None, by.id, None);
            // Every round as it stands now, so an open café page shows the new state
            // without a reload.
            let rounds = rounds_in(tx, event_id).await?;
            let round = payload::Round {
                round: number,
                status: status.as_str().to_owned(),
                ends_at: (status == RoundStatus::Running).then(|| timestamp(ends_at)),
                rounds,
            };
            append(tx, event_id, entry, |_| round).await
        })
        .await
    }

    /// The event's café rounds as a `round` live entry carries them (`rounds`): the
    /// café page renders them with the same fragment as the live change.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn cafe_rounds(&self, event_id: EventId) -> Result<Vec<payload::CafeRound>> {
        let mut tx = self.pool.begin().await?;
        let rounds = rounds_in(&mut tx, event_id).await?;
        tx.commit().await?;
        Ok(rounds)
    }
}
