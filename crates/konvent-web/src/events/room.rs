//! A room of an event (K3–K6): its chat, speaker queue and the way into its video call ([`super::video`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use jiff::Timestamp;
use konvent_core::convention::RoomKind;
use konvent_store::Room;

use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::fragments::{self, Fx, floor::Person, lobby};

#[derive(Template)]
#[template(path = "konvent/room.html")]
struct RoomPage {
    c: Chrome,
    slug: String,
    room: Room,
    kind: String,
    /// The live regions ([`fragments`]), rendered for this person.
    chat_log: String,
    chat_locked: String,
    banner: String,
    speaker: String,
    queue: String,
    moderator: bool,
    count: i64,
    capacity: i64,
    mic_open: String,
    mic_muted_line: String,
    mic_muted: bool,
    video: bool,
    live_url: String,
    script: String,
    back: String,
    other_rooms: Vec<(String, String)>,
    /// The pitch timer in the plenum, where the pitches are watched (K7); empty elsewhere.
    timer: String,
    /// In the help desk room: who is on duty (the event's helpers).
    helpdesk_staff: Option<Vec<konvent_store::Who>>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, room = %room_slug))]
pub async fn room(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, room_slug)): Path<(String, String)>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = info.room(&room_slug).ok_or(AppError::NotFound)?.clone();
    let event = info.event.id;
    let back = format!("/konvent/{slug}/raeume/{}", room.slug);
    let fx = Fx::for_page(&ctx, &slug, &back, actor.viewer(&info));
    let chat = state.live.chat_tail(event, &room.slug).await?;
    let announcements = state.live.announcements(event).await?;
    let waiting: Vec<Person> = state
        .live
        .hands(event, room.id)
        .await?
        .iter()
        .map(|w| Person {
            id: w.id,
            name: w.name.clone(),
        })
        .collect();
    let speaker = room.speaker.as_ref().map(|s| Person {
        id: s.id,
        name: s.name.clone(),
    });
    let locked = state
        .live
        .moderation
        .get(&state.store, event)
        .await?
        .locked_rooms
        .contains(&room.slug);
    let presence = state.live.fanout.presence(event, &room.slug);
    let threshold = info.event.mute_threshold.to_string();
    let threshold = [("threshold", threshold.as_str())];
    let helpdesk_staff = if room.kind == RoomKind::Helpdesk {
        Some(state.store.helpers(event).await?)
    } else {
        None
    };
    let t = ctx.tr();
    render(&RoomPage {
        helpdesk_staff,
        c: Chrome::new(
            &ctx,
            "konvent",
            format!("{} – {}", room.name, info.event.title),
        ),
        kind: t.get(&format!("room-kind-{}", room.kind.as_str())),
        chat_log: fragments::chat::chat_log(&room.slug, &chat, &fx),
        chat_locked: fragments::chat::chat_locked(locked, &fx),
        banner: fragments::chat::announcement_banner(announcements.last(), &fx),
        speaker: fragments::floor::speaker(&room.slug, speaker.as_ref(), &fx),
        queue: fragments::floor::queue(&room.slug, &waiting, &fx),
        moderator: actor.moderates(&info, &room),
        count: presence.count,
        capacity: room.capacity,
        mic_muted: presence.muted,
        mic_open: t.with("room-mic-rule", &threshold),
        mic_muted_line: t.with("room-muted-now", &threshold),
        video: state.settings.video().is_some(),
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        back,
        other_rooms: info
            .rooms
            .iter()
            .filter(|r| r.id != room.id)
            .map(|r| (r.slug.clone(), r.name.clone()))
            .collect(),
        timer: if room.kind == RoomKind::Plenary {
            lobby::timer(info.event.timer.as_ref(), Timestamp::now())
        } else {
            String::new()
        },
        slug,
        room,
    })
}
