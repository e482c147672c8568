//! The organizers' console of an event: the agenda, the rooms (and creating one), the
//! pitch timer and the event's settings.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use jiff::Timestamp;
use konvent_core::convention::{self as core, RoomKind};
use konvent_store::NewRoom;
use serde::Deserialize;

use super::{RoomLine, event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::fragments::lobby;

struct AgendaLine {
    index: usize,
    time: String,
    title: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "konvent/organize.html")]
struct OrganizePage {
    c: Chrome,
    slug: String,
    agenda: Vec<AgendaLine>,
    rooms: Vec<RoomLine>,
    /// The pitch timer (`live::fragments::lobby::timer`).
    timer: String,
    feedback_open: bool,
    /// Participants may appear under a pseudonym (issue 21).
    pseudonyms_allowed: bool,
    pitch_seconds: i64,
    room_kinds: Vec<(String, String)>,
    live_url: String,
    script: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn organize(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let event = state.store.event(&slug).await?;
    let t = ctx.tr();
    let counts = state.live.fanout.headcounts(event.id);
    render(&OrganizePage {
        c: Chrome::new(
            &ctx,
            "konvent",
            t.with("organize-title", &[("event", &event.title)]),
        ),
        agenda: info
            .agenda
            .iter()
            .enumerate()
            .map(|(index, a)| AgendaLine {
                index,
                time: format!("{}–{}", core::clock(a.starts_at), core::clock(a.ends_at)),
                title: a.title.clone(),
                current: event.current_item == Some(index),
            })
            .collect(),
        rooms: info
            .rooms
            .iter()
            .map(|r| {
                let count = counts.get(&r.slug).copied().unwrap_or(0);
                RoomLine {
                    slug: r.slug.clone(),
                    name: r.name.clone(),
                    kind: t.get(&format!("room-kind-{}", r.kind.as_str())),
                    count,
                    capacity: r.capacity,
                    muted: core::rule_in_force(count, event.mute_threshold),
                }
            })
            .collect(),
        timer: lobby::timer(event.timer.as_ref(), Timestamp::now()),
        feedback_open: event.feedback_open,
        pseudonyms_allowed: state.store.pseudonyms_allowed(event.id).await?,
        pitch_seconds: core::PITCH_SECONDS,
        room_kinds: RoomKind::ALL
            .iter()
            .filter(|k| **k != RoomKind::Table)
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    t.get(&format!("room-kind-{}", k.as_str())),
                )
            })
            .collect(),
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
    })
}

#[derive(Deserialize)]
pub struct RoomForm {
    slug: String,
    name: String,
    kind: String,
    capacity: String,
}

/// Creates a room (organizers).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn create_room(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RoomForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let mut errors = konvent_core::FieldErrors::new();
    let room_slug = form.slug.trim().to_owned();
    if !core::valid_slug(&room_slug) {
        errors.add(
            "slug",
            "slug",
            "Kurzbezeichnung: Kleinbuchstaben, Ziffern und Bindestriche, höchstens 60 Zeichen.",
        );
    }
    let name = match konvent_core::validation::checked_name(&form.name, 100) {
        Ok(name) => name,
        Err(("invisible-characters", message)) => {
            errors.add("name", "invisible-characters", message);
            String::new()
        }
        Err(_) => {
            errors.add(
                "name",
                "required",
                "Bitte einen Namen (bis 100 Zeichen) angeben.",
            );
            String::new()
        }
    };
    let kind = form.kind.parse::<RoomKind>();
    if kind.is_err() {
        errors.add("kind", "invalid", "Bitte eine Raumart wählen.");
    }
    let capacity = form
        .capacity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|c| (1..=100_000).contains(c));
    if capacity.is_none() {
        errors.add(
            "capacity",
            "invalid",
            "Kapazität: eine Zahl von 1 bis 100000.",
        );
    }
    let (Ok(kind), Some(capacity)) = (kind, capacity) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    state
        .store
        .create_room(
            info.event.id,
            &NewRoom {
                slug: room_slug,
                name,
                kind,
                capacity,
                moderator_id: None,
            },
        )
        .await?;
    state.live.invalidate(info.event.id);
    Ok(Redirect::to(&format!("/konvent/{slug}/organisation")))
}
