//! iCalendar feeds (G8): `/calendar.ics` with every public meeting, and one file per
//! session and per follow-up meeting, so invitations open in Outlook and Thunderbird.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use konvent_core::gremien::council::SessionState;
use konvent_store::{FollowUp, Session};

use super::session_title;
use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::ics::{IcsEvent, IcsStatus, calendar};

pub(crate) fn session_event(base: &str, t: &Tr, s: &Session) -> IcsEvent {
    IcsEvent {
        uid: format!("session-{}@konvent", s.id),
        summary: session_title(t, s.number),
        description: Some(format!("{base}/gremien/sitzungen/{}", s.number)),
        location: s.video_url.clone().or_else(|| s.place.clone()),
        url: Some(format!("{base}/gremien/sitzungen/{}", s.number)),
        start: s.date.to_datetime(s.start_time),
        end: s.date.to_datetime(s.end_time),
        status: match s.state {
            SessionState::Cancelled => IcsStatus::Cancelled,
            SessionState::Planned => IcsStatus::Tentative,
            SessionState::Invited | SessionState::Held => IcsStatus::Confirmed,
        },
        sequence: sequence(s.created_at, s.modified_at),
        last_modified: konvent_store::timestamp(s.modified_at),
        created: konvent_store::timestamp(s.created_at),
    }
}

pub(crate) fn follow_up_event(base: &str, t: &Tr, f: &FollowUp) -> IcsEvent {
    IcsEvent {
        uid: format!("follow-up-{}@konvent", f.id),
        summary: t.with(
            "follow-up-title",
            &[("session", &session_title(t, f.session_number))],
        ),
        description: Some(format!(
            "{}\n{base}/gremien/sitzungen/{}#nachbesprechung",
            t.get("follow-up-lead"),
            f.session_number
        )),
        location: f
            .video_url
            .clone()
            .or_else(|| Some(t.get("follow-up-video"))),
        url: Some(format!(
            "{base}/gremien/sitzungen/{}#nachbesprechung",
            f.session_number
        )),
        start: f.date.to_datetime(f.start_time),
        end: f.date.to_datetime(f.end_time),
        status: if f.confirmed {
            IcsStatus::Confirmed
        } else {
            IcsStatus::Tentative
        },
        sequence: sequence(f.created_at, f.modified_at),
        last_modified: konvent_store::timestamp(f.modified_at),
        created: konvent_store::timestamp(f.created_at),
    }
}

/// Calendars must see a higher SEQUENCE after each change; seconds since creation grow
/// with every modification and fit the field.
pub(crate) fn sequence(created: i64, modified: i64) -> u32 {
    u32::try_from((modified - created).max(0) / 1_000_000).unwrap_or(u32::MAX)
}

fn ics_response(name: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// Calendars are German, whatever the reader's page language.
fn tr() -> Tr {
    Tr::new(Lang::De)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(State(state): State<AppState>) -> AppResult<Response> {
    let t = tr();
    let base = state.settings.public_base();
    let mut events: Vec<IcsEvent> = state
        .store
        .sessions()
        .await?
        .iter()
        .map(|s| session_event(&base, &t, s))
        .collect();
    events.extend(
        state
            .store
            .follow_ups()
            .await?
            .iter()
            .map(|f| follow_up_event(&base, &t, f)),
    );
    Ok(ics_response(
        "konvent.ics",
        calendar("IT-Planungsrat", &events, jiff::Timestamp::now()),
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(number = number))]
pub async fn session(
    State(state): State<AppState>,
    _ctx: Ctx,
    Id(number): Id,
) -> AppResult<Response> {
    let t = tr();
    let s = state.store.session(number).await?;
    let event = session_event(&state.settings.public_base(), &t, &s);
    Ok(ics_response(
        &format!("it-plr-sitzung-{number}.ics"),
        calendar(&event.summary.clone(), &[event], jiff::Timestamp::now()),
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(number = number))]
pub async fn follow_up(State(state): State<AppState>, Id(number): Id) -> AppResult<Response> {
    let t = tr();
    let s = state.store.session(number).await?;
    let f = state
        .store
        .follow_up(s.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let event = follow_up_event(&state.settings.public_base(), &t, &f);
    Ok(ics_response(
        &format!("nachbesprechung-{number}.ics"),
        calendar(&event.summary.clone(), &[event], jiff::Timestamp::now()),
    ))
}
