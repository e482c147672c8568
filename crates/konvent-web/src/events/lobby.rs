//! The lobby of an event (K1, K7): what is on now and next, the pitch timer, house rules,
//! rooms with their headcounts and the latest announcements; and signing up for the
//! event from there.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use konvent_core::authz::Action;
use konvent_core::convention as core;
use konvent_store::EventRole;

use super::{Empty, RoomLine, actor, event_info, registration};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::fragments::{self, Fx, lobby};
use crate::markdown;

#[derive(Template)]
#[template(path = "konvent/lobby.html")]
struct LobbyPage {
    c: Chrome,
    slug: String,
    day: String,
    /// The live regions (`live::fragments::lobby`), rendered for this viewer.
    now: String,
    timer: String,
    destinations: String,
    program: String,
    house_rules: String,
    rooms: Vec<RoomLine>,
    announcements: Vec<String>,
    registered: bool,
    signed_in: bool,
    /// For a signed-in person not yet taking part: how they may join.
    join: registration::join::Join,
    live_url: String,
    script: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn lobby(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let info = event_info(&state, &slug).await?;
    // Current item, timer and feedback switch too: every change of them renews the copy
    // (`Live::publish`).
    let event = &info.event;
    let now = Timestamp::now();
    let programme = lobby::Programme {
        agenda: &info.agenda,
        announced: event.current_item,
        at: now,
    };
    let actor = actor(&state, &ctx, &info).await?;
    let fx = Fx::for_page(
        &ctx,
        &event.slug,
        format!("/konvent/{}", event.slug),
        actor
            .as_ref()
            .map_or_else(fragments::Viewer::visitor, |a| a.viewer(&info)),
    );
    let counts = state.live.fanout.headcounts(event.id);
    let rooms = info
        .rooms
        .iter()
        .map(|r| {
            let count = counts.get(&r.slug).copied().unwrap_or(0);
            let kind = t.get(&format!("room-kind-{}", r.kind.as_str()));
            RoomLine {
                slug: r.slug.clone(),
                name: r.name.clone(),
                // "Plenum · 3 / 500", not "Plenum Plenum · …".
                kind: if lobby::kind_adds(&r.name, &kind) {
                    kind
                } else {
                    String::new()
                },
                count,
                capacity: r.capacity,
                muted: core::rule_in_force(count, event.mute_threshold),
            }
        })
        .collect();
    let announcements = if actor.is_some() {
        state
            .live
            .announcements(event.id)
            .await?
            .iter()
            .rev()
            .map(fragments::chat::announcement)
            .collect()
    } else {
        Vec::new()
    };
    let join = match (&ctx.principal, &actor) {
        (Some(principal), None) => {
            registration::join::join_state(&state, &ctx, principal, event.id).await?
        }
        _ => registration::join::Join::default(),
    };
    render(&LobbyPage {
        c: Chrome::new(&ctx, "konvent", event.title.clone()),
        day: core::day(event.starts_at),
        now: lobby::now(&programme, &fx),
        timer: lobby::timer(event.timer.as_ref(), now),
        destinations: lobby::destinations(event.feedback_open, &fx),
        program: lobby::program(&programme, &fx),
        house_rules: markdown::to_html(&event.house_rules),
        rooms,
        announcements,
        registered: actor.is_some(),
        signed_in: ctx.principal.is_some(),
        join,
        live_url: format!("/konvent/{}/live", event.slug),
        script: crate::assets::url("live.js"),
        slug: event.slug.clone(),
    })
}

/// Signs the signed-in account up for the event by its registration rules
/// ([`registration::join::join`]); its organizers and admins join at once.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let principal = ctx.signed_in()?.clone();
    let info = event_info(&state, &slug).await?;
    if state
        .store
        .removed_from_event(info.event.id, principal.user_id)
        .await?
    {
        return Err(AppError::Forbidden);
    }
    let lobby = Redirect::to(&format!("/konvent/{slug}")).into_response();
    if state
        .store
        .event_role(info.event.id, principal.user_id)
        .await?
        .is_some()
    {
        return Ok(lobby);
    }
    if ctx.may(Action::OrganizeEvent(info.event.id)) {
        state
            .store
            .add_to_event(info.event.id, principal.user_id, EventRole::Participant)
            .await?;
        return Ok(lobby);
    }
    registration::join::join(&state, &ctx, &principal, &info).await
}
