//! Pseudonymous participation (issue 21): the page where a participant chooses, changes
//! or removes the name they appear under in an event, and the organizers' switch that
//! allows it. Organizers and the help desk see on the same page who is behind each
//! pseudonym. What other participants see is decided in one place: the name an
//! [`crate::live::Actor`] carries, and the store's `name_in_event` for names read back.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::Refused;
use konvent_core::convention::registration::PseudonymRefusal;
use konvent_core::ids::EventId;
use konvent_store::{PSEUDONYM_MAX, Pseudonym, StoreError};
use serde::Deserialize;

use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::Actor;

#[derive(Template)]
#[template(path = "konvent/pseudonym.html")]
struct PseudonymPage {
    c: Chrome,
    slug: String,
    allowed: bool,
    /// The pseudonym chosen (also while the event does not allow them).
    current: Option<String>,
    /// What the field shows (the entry that was refused, or the current pseudonym).
    value: String,
    error: Option<String>,
    saved: bool,
    max: usize,
    /// Organizers and the help desk: every pseudonym with the person behind it.
    staff: Option<Vec<Pseudonym>>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    slug: &str,
    actor: &Actor,
    entered: Option<String>,
    error: Option<String>,
    saved: bool,
) -> AppResult<Html<String>> {
    let event = actor_event(state, slug).await?;
    let current = state.store.pseudonym(event, actor.who.id).await?;
    let staff = if actor.staff {
        Some(state.store.event_pseudonyms(event).await?)
    } else {
        None
    };
    render(&PseudonymPage {
        c: Chrome::new(ctx, "konvent", ctx.tr().get("pseudonym-title")),
        slug: slug.to_owned(),
        allowed: state.store.pseudonyms_allowed(event).await?,
        value: entered.unwrap_or_else(|| current.clone().unwrap_or_default()),
        current,
        error,
        saved,
        max: PSEUDONYM_MAX,
        staff,
    })
}

async fn actor_event(state: &AppState, slug: &str) -> AppResult<EventId> {
    Ok(event_info(state, slug).await?.event.id)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    gespeichert: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(query): Query<ShowQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let saved = query.gespeichert.is_some();
    page(&state, &ctx, &slug, &actor, None, None, saved).await
}

#[derive(Deserialize)]
pub struct PseudonymForm {
    #[serde(default)]
    pseudonym: String,
    /// `remove` removes the pseudonym; anything else saves the field.
    #[serde(default)]
    action: String,
}

/// Saves or removes the pseudonym. Counts against the person's budget like every
/// durable command; a refused name comes back beside the field (422).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<PseudonymForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let event = info.event.id;
    if !state.live.within_budget(event, actor.who.id, actor.staff) {
        return Err(AppError::TooManyRequests);
    }
    let chosen = (form.action != "remove").then_some(form.pseudonym.as_str());
    match state.store.set_pseudonym(event, actor.who.id, chosen).await {
        Ok(_) => {
            // Open sockets carry the old name; they reconnect with the new one.
            state.live.account_changed(actor.who.id);
            Ok(Redirect::to(&format!("/konvent/{slug}/pseudonym?gespeichert=1")).into_response())
        }
        Err(e @ (StoreError::Invalid(_) | StoreError::Refused(Refused::Pseudonym(_)))) => {
            // Beside the field: its shape, or a name somebody else has.
            let message = match e {
                StoreError::Refused(r @ Refused::Pseudonym(p))
                    if p != PseudonymRefusal::NotAllowed =>
                {
                    crate::refusals::text(ctx.tr(), &r)
                }
                StoreError::Invalid(errors) => errors
                    .get("pseudonym")
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
                other => return Err(other.into()),
            };
            let mut page = page(
                &state,
                &ctx,
                &slug,
                &actor,
                Some(form.pseudonym),
                Some(message),
                false,
            )
            .await?
            .into_response();
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SettingForm {
    #[serde(default)]
    allowed: String,
}

/// The organizers' switch (audited in the store).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn setting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<SettingForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    state
        .store
        .set_pseudonyms_allowed(info.event.id, form.allowed == "true", &ctx.actor()?)
        .await?;
    // Every open socket of the event carries names decided under the old setting.
    for person in state.store.event_people(info.event.id, i64::MAX).await? {
        state.live.account_changed(person.id);
    }
    Ok(Redirect::to(&format!("/konvent/{slug}/organisation")))
}
