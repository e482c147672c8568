//! The follow-up meeting after a held session (G4): scheduled three weeks later, moving
//! with the session's date until it is confirmed.

use jiff::civil::{Date, Time};
use konvent_core::gremien::calendar::follow_up_date;
use konvent_core::gremien::council::FollowUpInput;
use konvent_core::ids::{AccountId, FollowUpId, SessionId};
use serde::Serialize;
use sqlx::FromRow;

use super::sessions::session_in;
use super::{Tx, parse_date, parse_time, time_text};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub session_id: SessionId,
    pub session_number: i64,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub video_url: Option<String>,
    pub confirmed: bool,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(FromRow)]
struct FollowUpRow {
    id: i64,
    session_id: i64,
    session_number: i64,
    date: String,
    start_time: String,
    end_time: String,
    video_url: Option<String>,
    confirmed: i64,
    created_at: i64,
    modified_at: i64,
}

const FOLLOW_UP_SELECT: &str = "SELECT f.id, f.session_id, s.number AS session_number, f.date, \
    f.start_time, f.end_time, f.video_url, f.confirmed, f.created_at, f.modified_at \
    FROM follow_ups f JOIN council_sessions s ON s.id = f.session_id \
    WHERE f.deleted_at IS NULL AND s.deleted_at IS NULL";

impl TryFrom<FollowUpRow> for FollowUp {
    type Error = StoreError;
    fn try_from(r: FollowUpRow) -> Result<Self> {
        Ok(Self {
            id: FollowUpId::new(r.id),
            session_id: SessionId::new(r.session_id),
            session_number: r.session_number,
            date: parse_date(&r.date)?,
            start_time: parse_time(&r.start_time)?,
            end_time: parse_time(&r.end_time)?,
            video_url: r.video_url,
            confirmed: r.confirmed != 0,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

pub(super) async fn follow_up_in(tx: &mut Tx, session_id: SessionId) -> Result<Option<FollowUp>> {
    let row: Option<FollowUpRow> =
        sqlx::query_as(&format!("{FOLLOW_UP_SELECT} AND f.session_id = $1"))
            .bind(session_id.get())
            .fetch_optional(&mut **tx)
            .await?;
    row.map(FollowUp::try_from).transpose()
}

/// The follow-up meeting: a video conference of the working level, 10:00–11:30, on the
/// first working day three weeks (or the configured offset) after the session.
pub(super) async fn schedule_follow_up(
    tx: &mut Tx,
    actor: &Actor,
    session_id: SessionId,
    session_date: Date,
    offset_days: i64,
) -> Result<()> {
    let date = follow_up_date(session_date, offset_days);
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO follow_ups (session_id, date, start_time, end_time, created_at, modified_at) \
         VALUES ($1, $2, '10:00', '11:30', $3, $3) RETURNING id",
    )
    .bind(session_id.get())
    .bind(date.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "follow_up",
            entity_id: id,
            action: "scheduled",
            before: None,
            after: audit::snapshot(&date),
        },
    )
    .await?;
    Ok(())
}

impl Store {
    /// All follow-up meetings, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn follow_ups(&self) -> Result<Vec<FollowUp>> {
        let rows: Vec<FollowUpRow> =
            sqlx::query_as(&format!("{FOLLOW_UP_SELECT} ORDER BY f.date DESC"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(FollowUp::try_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session_id))]
    pub async fn follow_up(&self, session_id: SessionId) -> Result<Option<FollowUp>> {
        let row: Option<FollowUpRow> =
            sqlx::query_as(&format!("{FOLLOW_UP_SELECT} AND f.session_id = $1"))
                .bind(session_id.get())
                .fetch_optional(&self.pool)
                .await?;
        row.map(FollowUp::try_from).transpose()
    }

    /// Sets a follow-up meeting's date, time and video link. A date the office chose
    /// stays put: the meeting counts as confirmed and no longer moves with the session.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn update_follow_up(
        &self,
        actor: &Actor,
        number: i64,
        input: &FollowUpInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let f = follow_up_in(&mut tx, session.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE follow_ups SET date = $1, start_time = $2, end_time = $3, video_url = $4, \
             confirmed = 1, modified_at = $5 WHERE id = $6",
        )
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.video_url)
        .bind(now_micros())
        .bind(f.id.get())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "follow_up",
                entity_id: f.id.get(),
                action: "updated",
                before: audit::snapshot(&f),
                after: audit::snapshot(input),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms a follow-up meeting on its date: from now on it stays put.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn confirm_follow_up(&self, actor: &Actor, number: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let f = follow_up_in(&mut tx, session.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE follow_ups SET confirmed = 1, modified_at = $1 WHERE id = $2")
            .bind(now_micros())
            .bind(f.id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "follow_up",
                entity_id: f.id.get(),
                action: "confirmed",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
