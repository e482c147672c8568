//! Council sessions (G4): their number, date, times, place and state. A new session
//! from the 43rd on gets the standard reporting item; a session marked held gets its
//! follow-up meeting.

use jiff::civil::{Date, Time};
use konvent_core::gremien::calendar::follow_up_date;
use konvent_core::gremien::council::{
    REPORTING_ITEM_TITLE, SessionInput, SessionState, has_standard_reporting_item,
};
use konvent_core::ids::{AccountId, SessionId};
use konvent_core::taken::Taken;
use serde::Serialize;
use sqlx::FromRow;

use super::agenda::insert_agenda_item;
use super::follow_ups::{follow_up_in, schedule_follow_up};
use super::{Tx, corrupt, invalid, parse_date, parse_time, time_text};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: SessionId,
    pub number: i64,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub place: Option<String>,
    pub video_url: Option<String>,
    pub state: SessionState,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(FromRow)]
struct SessionRow {
    id: i64,
    number: i64,
    date: String,
    start_time: String,
    end_time: String,
    place: Option<String>,
    video_url: Option<String>,
    state: String,
    created_at: i64,
    modified_at: i64,
}

const SESSION_COLUMNS: &str = "id, number, date, start_time, end_time, place, video_url, state, \
    created_at, modified_at";

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self> {
        Ok(Self {
            id: SessionId::new(r.id),
            number: r.number,
            date: parse_date(&r.date)?,
            start_time: parse_time(&r.start_time)?,
            end_time: parse_time(&r.end_time)?,
            place: r.place,
            video_url: r.video_url,
            state: r.state.parse().map_err(|_| corrupt("state", &r.state))?,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

pub(crate) async fn session_in(tx: &mut Tx, number: i64) -> Result<Session> {
    let row: SessionRow = sqlx::query_as(&format!(
        "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE number = $1 AND deleted_at IS NULL"
    ))
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    row.try_into()
}

impl Store {
    /// All sessions, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sessions(&self) -> Result<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE deleted_at IS NULL \
             ORDER BY number DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Session::try_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(number = number))]
    pub async fn session(&self, number: i64) -> Result<Session> {
        let row: SessionRow = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE number = $1 AND deleted_at IS NULL"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Creates a session; from the 43rd on with the standard item "Reporting FachMK";
    /// a session created as held gets its follow-up meeting.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = input.number))]
    pub async fn create_session(
        &self,
        actor: &Actor,
        input: &SessionInput,
        follow_up_offset_days: i64,
    ) -> Result<SessionId> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO council_sessions (number, date, start_time, end_time, place, video_url, \
             state, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(input.number)
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.place)
        .bind(&input.video_url)
        .bind(input.state.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, Taken::SessionNumber))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "session",
                entity_id: id,
                action: "created",
                before: None,
                after: audit::snapshot(input),
            },
        )
        .await?;
        if has_standard_reporting_item(input.number) {
            insert_agenda_item(
                &mut tx,
                actor,
                SessionId::new(id),
                REPORTING_ITEM_TITLE,
                true,
            )
            .await?;
        }
        if input.state == SessionState::Held {
            schedule_follow_up(
                &mut tx,
                actor,
                SessionId::new(id),
                input.date,
                follow_up_offset_days,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(SessionId::new(id))
    }

    /// Changes a session. Marking it held schedules its follow-up meeting; a new date
    /// moves an unconfirmed follow-up with it.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn update_session(
        &self,
        actor: &Actor,
        number: i64,
        input: &SessionInput,
        follow_up_offset_days: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = session_in(&mut tx, number).await?;
        sqlx::query(
            "UPDATE council_sessions SET number = $1, date = $2, start_time = $3, end_time = $4, \
             place = $5, video_url = $6, state = $7, modified_at = $8 WHERE id = $9",
        )
        .bind(input.number)
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.place)
        .bind(&input.video_url)
        .bind(input.state.as_str())
        .bind(now_micros())
        .bind(before.id.get())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, Taken::SessionNumber))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "session",
                entity_id: before.id.get(),
                action: "updated",
                before: audit::snapshot(&before),
                after: audit::snapshot(input),
            },
        )
        .await?;
        let follow_up = follow_up_in(&mut tx, before.id).await?;
        match follow_up {
            None if input.state == SessionState::Held => {
                schedule_follow_up(&mut tx, actor, before.id, input.date, follow_up_offset_days)
                    .await?;
            }
            Some(f) if !f.confirmed && input.date != before.date => {
                let date = follow_up_date(input.date, follow_up_offset_days);
                sqlx::query("UPDATE follow_ups SET date = $1, modified_at = $2 WHERE id = $3")
                    .bind(date.to_string())
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
                        action: "moved",
                        before: audit::snapshot(&f.date),
                        after: audit::snapshot(&date),
                    },
                )
                .await?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A change to the agenda changes the session (its `modified` time, for open data).
pub(super) async fn touch_session(tx: &mut Tx, session: SessionId) -> Result<()> {
    sqlx::query("UPDATE council_sessions SET modified_at = $1 WHERE id = $2")
        .bind(now_micros())
        .bind(session.get())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether a session can still take new agenda items: not held, not cancelled and not
/// in the past. Refuses with a message for `field` (the form's session choice or the
/// new item's title) that names the session and why.
pub(crate) fn check_upcoming(
    number: i64,
    date: &str,
    state: &str,
    field: &'static str,
) -> Result<()> {
    let state: SessionState = state.parse().map_err(|_| corrupt("state", state))?;
    let date = parse_date(date)?;
    let day = date.strftime("%d.%m.%Y");
    match state {
        SessionState::Held => Err(invalid(
            field,
            "session-held",
            &format!(
                "Die {number}. Sitzung hat am {day} schon stattgefunden. Bitte eine kommende Sitzung wählen."
            ),
        )),
        SessionState::Cancelled => Err(invalid(
            field,
            "session-cancelled",
            &format!("Die {number}. Sitzung ist abgesagt. Bitte eine kommende Sitzung wählen."),
        )),
        _ if date < crate::today() => Err(invalid(
            field,
            "session-past",
            &format!(
                "Die {number}. Sitzung lag am {day} in der Vergangenheit. Bitte eine kommende Sitzung wählen."
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether a session still lies ahead: planned or invited, today or later.
pub fn is_upcoming(session: &Session) -> bool {
    matches!(session.state, SessionState::Planned | SessionState::Invited)
        && session.date >= crate::today()
}
