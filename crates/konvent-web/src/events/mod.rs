//! The pages of a live convention (K1–K7, K12–K15): the list of events, the lobby with
//! house rules and agenda, rooms with chat, speaker queue and video, the organizers'
//! console, podium questions, direct messages to the help desk, and feedback.
//!
//! Every page works without JavaScript: forms post to `/konvent/{event}/aktion`, which
//! runs the same command as the WebSocket. With JavaScript, `live.js` connects to the
//! live hub and keeps the page current.
//!
//! This module holds what the pages share (who is looking, the event's cached info) and
//! the list of events; each page has its own submodule.

pub mod cafe;
pub mod commands;
pub mod feedback;
pub mod lobby;
pub mod map;
pub mod messages;
pub mod moderation;
pub mod organize;
pub mod podium;
pub mod pseudonym;
pub mod questions;
mod recipients;
pub mod registration;
pub mod results;
pub mod room;
pub mod video;

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use jiff::Timestamp;
use konvent_core::convention as core;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, render};
use crate::live::fragments;
use crate::live::{Actor, EventInfo};

pub(crate) async fn event_info(state: &AppState, slug: &str) -> AppResult<Arc<EventInfo>> {
    Ok(state.live.info(slug).await?)
}

/// The signed-in person's part in the event; `None` for visitors and people who are not
/// registered.
async fn actor(state: &AppState, ctx: &Ctx, info: &EventInfo) -> AppResult<Option<Actor>> {
    match &ctx.principal {
        Some(p) => Ok(Actor::of(&state.store, info, p).await?),
        None => Ok(None),
    }
}

/// Like [`actor`], but the page needs one: sign in first, or register first.
pub(crate) async fn require_actor(
    state: &AppState,
    ctx: &Ctx,
    info: &EventInfo,
) -> AppResult<Actor> {
    let principal = ctx.signed_in()?;
    if let Some(actor) = actor(state, ctx, info).await? {
        return Ok(actor);
    }
    // Removed from the event by its organizers (K17): no way in until they let them back.
    // The same read `Actor::of` just made (kept by the store).
    if state
        .store
        .membership(info.event.id, principal.user_id)
        .await?
        .removed
    {
        return Err(AppError::Forbidden);
    }
    Err(AppError::BadRequest(ctx.tr().with(
        "event-not-registered",
        &[("event", info.event.title.as_str())],
    )))
}

pub(crate) fn require_organizer(actor: &Actor) -> AppResult<()> {
    if actor.organizer {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// "12:50" and a German phrase for the lobby (the now/next panel's lines).
fn phase_line(t: &Tr, info: &EventInfo, now: Timestamp) -> (String, Option<String>) {
    fragments::lobby::Programme {
        agenda: &info.agenda,
        announced: info.event.current_item,
        at: now,
    }
    .lines(t)
}

// The list of events -----------------------------------------------------------------

struct EventLine {
    slug: String,
    title: String,
    day: String,
    phase: String,
}

#[derive(Template)]
#[template(path = "konvent/events.html")]
struct EventsPage {
    c: Chrome,
    events: Vec<EventLine>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let now = Timestamp::now();
    let mut events = Vec::new();
    for event in state.store.events().await? {
        let info = event_info(&state, &event.slug).await?;
        events.push(EventLine {
            day: core::day(event.starts_at),
            phase: phase_line(&t, &info, now).0,
            slug: event.slug,
            title: event.title,
        });
    }
    render(&EventsPage {
        c: Chrome::new(&ctx, "konvent", t.get("area-konvent-title")),
        events,
    })
}

/// A room's line in the lobby and in the organizers' console.
struct RoomLine {
    slug: String,
    name: String,
    kind: String,
    count: i64,
    capacity: i64,
    muted: bool,
}

#[derive(Deserialize, Default)]
pub struct Empty {}
