//! Attendance at a council session (issue 20): the office records on the session page
//! who attended for whom — a member, a deputy for a member, a guest of a FachMK — and
//! apologies. The council sees it on the session page; the vote regions show per seat
//! whether its ballot counts (the store refuses the ballot of an absent member).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::majority::Seat;
use konvent_core::ids::AccountId;
use konvent_store::{Attendee, Presence};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;

/// One person on the attendance list, as shown.
pub struct Line {
    pub account_id: AccountId,
    pub name: String,
    pub label: String,
}

/// A seat and who is there for it (or apologised).
pub struct SeatRow {
    pub seat: String,
    pub lines: Vec<Line>,
    pub state: String,
}

/// The attendance section of a session page.
pub struct View {
    pub recorded: bool,
    pub seats: Vec<SeatRow>,
    pub guests: Vec<Line>,
    pub conferences: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
}

pub fn presence_label(t: &Tr, p: Presence) -> String {
    t.get(&format!("attendance-role-{}", p.as_str()))
}

/// How a seat stands in a session: present, represented, apologised or absent.
pub fn seat_state(t: &Tr, list: &[Attendee], seat: Seat) -> String {
    let of_seat = |p: Presence| {
        list.iter()
            .find(|a| a.seat == Some(seat) && a.presence == p)
    };
    if of_seat(Presence::Member).is_some() {
        t.get("attendance-present")
    } else if let Some(d) = of_seat(Presence::Deputy) {
        t.with("attendance-represented", &[("name", &d.name)])
    } else if of_seat(Presence::Apology).is_some() {
        t.get("attendance-apologised")
    } else {
        t.get("attendance-absent")
    }
}

pub async fn view(state: &AppState, t: &Tr, number: i64) -> AppResult<View> {
    let list = state.store.attendance(number).await?;
    let recorded = list
        .iter()
        .any(|a| matches!(a.presence, Presence::Member | Presence::Deputy));
    let line = |a: &Attendee| Line {
        account_id: a.account_id,
        name: a.name.clone(),
        label: presence_label(t, a.presence),
    };
    let seats = Seat::ALL
        .into_iter()
        .map(|seat| SeatRow {
            seat: seat.name().to_owned(),
            lines: list
                .iter()
                .filter(|a| a.seat == Some(seat))
                .map(line)
                .collect(),
            state: seat_state(t, &list, seat),
        })
        .collect();
    let guests = list
        .iter()
        .filter(|a| a.presence == Presence::Guest)
        .map(|a| Line {
            label: a.conference.clone().unwrap_or_default(),
            ..line(a)
        })
        .collect();
    let conferences = state
        .store
        .conferences()
        .await?
        .into_iter()
        .map(|c| (c.abbreviation, c.name))
        .collect();
    let roles = Presence::ALL
        .into_iter()
        .map(|p| (p.as_str().to_owned(), presence_label(t, p)))
        .collect();
    Ok(View {
        recorded,
        seats,
        guests,
        conferences,
        roles,
    })
}

/// Publishes the session's vote regions again (they show the attendance).
async fn republish(state: &AppState, number: i64) {
    match state.store.session_votes(number).await {
        Ok(votes) => {
            for v in votes {
                super::votes_live::publish(state, v.id).await;
            }
        }
        Err(e) => tracing::error!(error = %e, number, "attendance: cannot read the votes"),
    }
}

#[derive(Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    conference: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfForm(form): CsrfForm<RecordForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let presence: Presence = form
        .role
        .parse()
        .map_err(|m: &str| AppError::BadRequest(m.to_owned()))?;
    if form.email.len() > 320 || form.conference.len() > 40 {
        return Err(AppError::BadRequest("Eingabe zu lang.".into()));
    }
    let conference = (!form.conference.trim().is_empty()).then_some(form.conference.as_str());
    state
        .store
        .record_attendance(&ctx.actor()?, number, &form.email, presence, conference)
        .await?;
    republish(&state, number).await;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#anwesenheit")).into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, member = %account))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, account)): Path<(i64, AccountId)>,
    CsrfForm(_): CsrfForm<RemoveForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state
        .store
        .remove_attendance(&ctx.actor()?, number, account)
        .await?;
    republish(&state, number).await;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#anwesenheit")).into_response())
}
