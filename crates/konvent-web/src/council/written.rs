//! The written procedure (Umlaufverfahren, G10): the office starts one on a draft with
//! a deadline and every seat holder hears of it (in konvent and by mail, without the
//! draft's title); members vote on this page until the deadline; the scheduler
//! (`run_scheduler`) closes it at the deadline exactly once, counting non-voters as
//! abstaining, also when konvent was stopped at the time and starts again later.

use konvent_core::ids::{ResolutionId, VoteId};
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use konvent_core::authz::Action;
use konvent_core::gremien::council::{ResolutionState, parse_time};
use serde::Deserialize;
use tokio::sync::watch;

use super::votes::{page_fx, vote_html};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "written.html")]
struct WrittenPage {
    c: Chrome,
    votes: Vec<String>,
    drafts: Vec<(ResolutionId, String)>,
    may_edit: bool,
    seat: bool,
    script: String,
    problem: Option<String>,
}

async fn page(state: &AppState, ctx: &Ctx, problem: Option<String>) -> AppResult<Response> {
    ctx.require(Action::ReadConfidential)?;
    let fx = page_fx(state, ctx, "/gremien/umlaufverfahren".into()).await?;
    let votes = state
        .store
        .written_procedures()
        .await?
        .iter()
        .map(|v| vote_html(&fx, v))
        .collect();
    let drafts = state
        .store
        .resolutions(konvent_store::Visibility::Confidential)
        .await?
        .into_iter()
        .filter(|r| r.state == ResolutionState::Draft && r.vote_result.is_none())
        .map(|r| (r.id, format!("{} {}", r.reference(), r.title)))
        .collect();
    let t = ctx.tr();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let html = render(&WrittenPage {
        c: Chrome::new(ctx, "gremien", t.get("written-title")),
        votes,
        drafts,
        may_edit: ctx.may(Action::EditCouncil),
        seat: fx.viewer.is_some_and(|(seat, _)| seat),
        script: crate::assets::url("council.js"),
        problem,
    })?;
    Ok((status, html).into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn written(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    page(&state, &ctx, None).await
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// A deadline given as a Berlin date and clock time, in Unix microseconds.
fn deadline(date: &str, time: &str) -> Option<i64> {
    let date: Date = date.trim().parse().ok()?;
    let time = parse_time(if time.trim().is_empty() {
        "23:59"
    } else {
        time
    })?;
    let zone = TimeZone::get("Europe/Berlin").ok()?;
    let at = date.to_datetime(time).to_zoned(zone).ok()?;
    Some(at.timestamp().as_microsecond())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<StartForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let t = ctx.tr();
    let Ok(resolution) = form.resolution.trim().parse::<i64>().map(ResolutionId::new) else {
        return page(&state, &ctx, Some(t.get("written-choose-draft"))).await;
    };
    let Some(deadline) = deadline(&form.date, &form.time) else {
        return page(&state, &ctx, Some(t.get("written-bad-deadline"))).await;
    };
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    match state
        .store
        .start_written_procedure(&ctx.actor()?, resolution, deadline, &render)
        .await
    {
        Ok((id, queued)) => {
            if queued > 0 {
                state.mail.wake();
            }
            super::votes_live::publish(&state, id).await;
            Ok(Redirect::to(&format!("/gremien/umlaufverfahren#vote-{id}")).into_response())
        }
        Err(konvent_store::StoreError::Invalid(_)) => {
            page(&state, &ctx, Some(t.get("written-bad-deadline"))).await
        }
        Err(e) => Err(AppError::from(e)),
    }
}

/// The longest the scheduler sleeps: a procedure started on another node is noticed
/// within this time even before its own deadline.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Closes the procedures that are due and publishes their result; returns how many.
pub async fn step(state: &AppState) -> Result<usize, konvent_store::StoreError> {
    let closed = state.store.close_due_votes(now()).await?;
    for c in &closed {
        tracing::info!(vote = %c.vote_id, outcome = ?c.outcome, "written procedure closed");
        super::votes_live::publish(state, c.vote_id).await;
    }
    Ok(closed.len())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Runs until `stop` turns true: sleeps until the next deadline (at most [`MAX_SLEEP`])
/// and closes what is due. Exactly once: the store closes a vote only while it is open.
pub async fn run_scheduler(state: AppState, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if let Err(e) = step(&state).await {
            tracing::warn!(error = %e, "written procedures: cannot close; trying again later");
        }
        let wait = match state.store.next_vote_deadline().await {
            Ok(Some(deadline)) => {
                Duration::from_micros(u64::try_from(deadline - now()).unwrap_or(0)).min(MAX_SLEEP)
            }
            _ => MAX_SLEEP,
        };
        tokio::select! {
            () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}

// ---- a request to stop a written procedure, and the office's decision ----

#[derive(Deserialize)]
pub struct StopRequestForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    zurueck: String,
}

/// A seat holder asks for the procedure to be stopped and taken to a session.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn request_stop(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<VoteId>,
    CsrfForm(form): CsrfForm<StopRequestForm>,
) -> AppResult<Response> {
    let principal = ctx.require(Action::ReadConfidential)?;
    if state.store.seat_of(principal.user_id).await?.is_none() {
        return Err(AppError::Forbidden);
    }
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    let queued = state
        .store
        .request_stop(&ctx.actor()?, principal.user_id, id, &form.reason, &render)
        .await?;
    if queued > 0 {
        state.mail.wake();
    }
    let vote = state.store.vote(id).await?;
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&super::votes::back_to(&form.zurueck, &vote)).into_response())
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    session: String,
    #[serde(default)]
    zurueck: String,
}

/// The office stops the procedure; the draft goes onto the chosen session's agenda.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn stop(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<VoteId>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let Ok(number) = form.session.trim().parse::<i64>() else {
        return Err(AppError::BadRequest(ctx.tr().get("stop-choose-session")));
    };
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    let (_, queued) = state
        .store
        .stop_written_procedure(&ctx.actor()?, id, number, &render)
        .await?;
    if queued > 0 {
        state.mail.wake();
    }
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}")).into_response())
}

/// The office lets the procedure run on.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn resume(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<VoteId>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    let queued = state
        .store
        .continue_written_procedure(&ctx.actor()?, id, &render)
        .await?;
    if queued > 0 {
        state.mail.wake();
    }
    let vote = state.store.vote(id).await?;
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&super::votes::back_to(&form.zurueck, &vote)).into_response())
}
