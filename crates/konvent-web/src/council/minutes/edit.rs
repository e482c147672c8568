//! The office's work on the minutes: generating a draft from the session, editing its
//! remarks and notes, finalising and releasing it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::ids::AgendaItemId;
use konvent_store::{MAX_MINUTES_TEXT, MinutesState};

use super::session_date;
use super::view::view;
use crate::AppState;
use crate::council::session_title;
use crate::ctx::{CsrfForm, CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(serde::Deserialize)]
pub struct Empty {}

fn back(number: i64) -> Response {
    Redirect::to(&format!("/gremien/sitzungen/{number}/niederschrift")).into_response()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn generate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.generate_minutes(&ctx.actor()?, number).await?;
    Ok(back(number))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn finalise(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.finalise_minutes(&ctx.actor()?, number).await?;
    Ok(back(number))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    let (_, queued) = state
        .store
        .release_minutes(&ctx.actor()?, number, &render)
        .await?;
    if queued > 0 {
        state.mail.wake();
    }
    Ok(back(number))
}

#[derive(Template)]
#[template(path = "minutes_edit.html")]
struct EditPage {
    c: Chrome,
    number: i64,
    /// Which version saving writes (the draft, or a new one after a final version).
    lead: String,
    remarks: String,
    items: Vec<EditItem>,
    /// A message beside the remarks.
    remarks_error: Option<String>,
    limit: usize,
}

/// An agenda item's notes in the edit form, with the message beside them.
struct EditItem {
    id: AgendaItemId,
    title: String,
    notes: String,
    error: Option<String>,
}

async fn edit_page(state: &AppState, ctx: &Ctx, number: i64) -> AppResult<EditPage> {
    let t = ctx.tr();
    let date = session_date(state, &t, number).await?;
    let all = state.store.minutes(number).await?;
    let m = all.last().ok_or(AppError::NotFound)?;
    let v = view(&t, date, m);
    Ok(EditPage {
        c: Chrome::new(
            ctx,
            "gremien",
            t.with(
                "minutes-edit-title",
                &[("session", &session_title(&t, number))],
            ),
        ),
        number,
        lead: if m.state == MinutesState::Draft {
            t.with("minutes-edit-draft", &[("version", &m.version.to_string())])
        } else {
            t.with(
                "minutes-edit-new-version",
                &[("version", &(m.version + 1).to_string())],
            )
        },
        remarks: v.remarks,
        items: v
            .items
            .into_iter()
            .map(|i| EditItem {
                id: i.id,
                title: i.title,
                notes: i.notes,
                error: None,
            })
            .collect(),
        remarks_error: None,
        limit: MAX_MINUTES_TEXT,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    Ok(render(&edit_page(&state, &ctx, number).await?)?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let t = ctx.tr();
    let mut remarks = String::new();
    let mut notes = Vec::new();
    for (k, v) in pairs {
        if k == "remarks" {
            remarks = v;
        } else if let Some(id) = k.strip_prefix("notes-").and_then(|s| s.parse::<i64>().ok()) {
            let id = AgendaItemId::new(id);
            if notes.len() >= 500 {
                return Err(AppError::BadRequest("Zu viele Felder.".into()));
            }
            notes.push((id, v));
        }
    }
    let too_long = |s: &str| s.chars().count() > MAX_MINUTES_TEXT;
    let message = || {
        t.with(
            "minutes-too-long",
            &[("limit", &MAX_MINUTES_TEXT.to_string())],
        )
    };
    let remarks_error = too_long(&remarks).then(message);
    let note_errors: Vec<(AgendaItemId, String)> = notes
        .iter()
        .filter(|(_, n)| too_long(n))
        .map(|(id, _)| (*id, message()))
        .collect();
    if remarks_error.is_some() || !note_errors.is_empty() {
        let mut page = edit_page(&state, &ctx, number).await?;
        page.remarks = remarks;
        for item in &mut page.items {
            if let Some((_, n)) = notes.iter().find(|(id, _)| *id == item.id) {
                item.notes = n.clone();
            }
            item.error = note_errors
                .iter()
                .find(|(id, _)| *id == item.id)
                .map(|(_, e)| e.clone());
        }
        page.remarks_error = remarks_error;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    state
        .store
        .edit_minutes(&ctx.actor()?, number, &remarks, &notes)
        .await?;
    Ok(back(number))
}
