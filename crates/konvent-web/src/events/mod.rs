//! The pages of a live convention (K1–K7, K12–K15): the list of events, the lobby with
//! house rules and agenda, rooms with chat, speaker queue and video, the organizers'
//! console, podium questions, direct messages to the help desk, and feedback.
//!
//! Every page works without JavaScript: forms post to `/konvent/{event}/aktion`, which
//! runs the same command as the WebSocket. With JavaScript, `live.js` connects to the
//! live hub and keeps the page current.

pub mod cafe;
pub mod map;
pub mod moderation;
pub mod pseudonym;
mod recipients;
pub mod registration;
pub mod results;

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use konvent_core::authz::Action;
use konvent_core::konvent::live::{Command, QuestionStatus, TimerAction};
use konvent_core::konvent::video::{VideoUser, room_name};
use konvent_core::konvent::{self as core, RoomKind};
use konvent_store::{EventRole, NewRoom, Room, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, render};
use crate::live::fragments::{self, Fx, floor::Person, lobby};
use crate::live::{Actor, EventInfo};
use crate::markdown;
use crate::settings::Video;

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
    if state
        .store
        .removed_from_event(info.event.id, principal.user_id)
        .await?
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
    lobby::Programme {
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

// The lobby ---------------------------------------------------------------------------

struct AgendaLine {
    index: usize,
    time: String,
    title: String,
    current: bool,
}

struct RoomLine {
    slug: String,
    name: String,
    kind: String,
    count: i64,
    capacity: i64,
    muted: bool,
}

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
    join: registration::Join,
    live_url: String,
    script: String,
}

pub async fn lobby(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let info = event_info(&state, &slug).await?;
    // Current item, timer and feedback change during the event: read them fresh.
    let event = state.store.event(&slug).await?;
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
        actor.as_ref().map(|a| a.viewer(&info)).unwrap_or_default(),
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
            .store
            .live_recent(event.id, None, "announcement", 5)
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
            registration::join_state(&state, &ctx, principal, event.id).await?
        }
        _ => registration::Join::default(),
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
        slug: event.slug,
    })
}

/// Signs the signed-in account up for the event by its registration rules
/// ([`registration::join`]); its organizers and admins join at once.
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
    registration::join(&state, &ctx, &principal, &info).await
}

#[derive(Deserialize, Default)]
pub struct Empty {}

// A room --------------------------------------------------------------------------------

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

pub async fn room(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, room_slug)): Path<(String, String)>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = fresh_room(&state, &info, &room_slug).await?;
    let event = info.event.id;
    let back = format!("/konvent/{slug}/raeume/{}", room.slug);
    let fx = Fx::for_page(&ctx, &slug, &back, actor.viewer(&info));
    let chat = state
        .store
        .live_recent(event, Some(&room.slug), "chat", 50)
        .await?;
    let latest = state
        .store
        .live_recent(event, None, "announcement", 1)
        .await?;
    let waiting: Vec<Person> = state
        .store
        .speaker_queue(room.id)
        .await?
        .into_iter()
        .map(|w| Person {
            id: w.id,
            name: w.name,
        })
        .collect();
    let speaker = room.speaker.as_ref().map(|s| Person {
        id: s.id,
        name: s.name.clone(),
    });
    let locked = state
        .store
        .restrictions(event)
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
        banner: fragments::chat::announcement_banner(latest.first(), &fx),
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
            // The cached event does not follow the timer.
            let event = state.store.event(&slug).await?;
            lobby::timer(event.timer.as_ref(), Timestamp::now())
        } else {
            String::new()
        },
        slug,
        room,
    })
}

/// The room with its current speaker (which the cache does not follow).
async fn fresh_room(state: &AppState, info: &EventInfo, slug: &str) -> AppResult<Room> {
    info.room(slug).ok_or(AppError::NotFound)?;
    state
        .store
        .rooms(info.event.id)
        .await?
        .into_iter()
        .find(|r| r.slug == slug)
        .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "konvent/video.html")]
struct VideoPage {
    c: Chrome,
    back: String,
    create: Option<String>,
    join: Option<String>,
}

/// Opens the room's video: Jitsi with a signed token (a redirect), or BigBlueButton
/// with signed create and join links; without a configured backend, says so.
pub async fn video(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, room_slug)): Path<(String, String)>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = info.room(&room_slug).ok_or(AppError::NotFound)?;
    let presence = state.live.fanout.presence(info.event.id, &room.slug);
    let user = VideoUser {
        id: actor.who.id,
        name: &actor.who.name,
        email: &actor.email,
        moderator: actor.moderates(&info, room),
        muted: core::rule_in_force(presence.count, info.event.mute_threshold),
    };
    let name = room_name(&info.event.slug, &room.slug);
    match state.settings.video() {
        Some(Video::Jitsi(jitsi)) => Ok(Redirect::to(&jitsi.join_url(
            &name,
            &user,
            info.event.mute_threshold,
            Timestamp::now().as_second(),
        ))
        .into_response()),
        Some(Video::BigBlueButton(bbb)) => {
            // A BBB meeting must be created before anyone joins: moderators get the
            // signed create link (BBB answers it idempotently) beside the join link.
            let create = user
                .moderator
                .then(|| bbb.create_url(&name, &room.name, user.muted));
            Ok(render(&VideoPage {
                c: Chrome::new(&ctx, "konvent", ctx.tr().get("video-title")),
                back: format!("/konvent/{slug}/raeume/{room_slug}"),
                create,
                join: Some(bbb.join_url(&name, &user)),
            })?
            .into_response())
        }
        None => Ok(render(&VideoPage {
            c: Chrome::new(&ctx, "konvent", ctx.tr().get("video-missing-title")),
            back: format!("/konvent/{slug}/raeume/{room_slug}"),
            create: None,
            join: None,
        })?
        .into_response()),
    }
}

// Commands from forms ---------------------------------------------------------------

/// One form for every live command; fields are optional and checked per command.
#[derive(Deserialize, Default)]
pub struct ActionForm {
    t: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    up: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    seconds: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    anonymous: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    impulse: String,
    #[serde(default)]
    hidden: String,
    #[serde(default)]
    merge_into: String,
    #[serde(default)]
    round: String,
    #[serde(default)]
    running: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    /// A mute's length; empty: for the rest of the event.
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    locked: String,
    /// Where to go back to (a path of this event).
    #[serde(default)]
    zurueck: String,
}

fn number(field: &str, value: &str) -> AppResult<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(format!("{field}: keine Zahl")))
}

fn optional_number(field: &str, value: &str) -> AppResult<Option<i64>> {
    (!value.trim().is_empty())
        .then(|| number(field, value))
        .transpose()
}

fn yes(value: &str) -> bool {
    matches!(value, "true" | "on" | "1")
}

impl ActionForm {
    fn command(&self) -> AppResult<Command> {
        let id = None;
        Ok(match self.t.as_str() {
            "chat" => Command::Chat {
                id,
                text: self.text.clone(),
            },
            "announce" => Command::Announce {
                id,
                text: self.text.clone(),
            },
            "dm" => Command::Dm {
                id,
                to: (self.to != "helpdesk")
                    .then(|| number("to", &self.to))
                    .transpose()?,
                to_helpdesk: self.to == "helpdesk",
                text: self.text.clone(),
            },
            "hand" => Command::Hand {
                id,
                up: self.up == "true",
            },
            "floor" => Command::Floor {
                id,
                user: (!self.user.is_empty())
                    .then(|| number("user", &self.user))
                    .transpose()?,
            },
            "agenda" => Command::Agenda {
                id,
                current: (!self.current.is_empty())
                    .then(|| number("current", &self.current))
                    .transpose()?,
            },
            "timer" => Command::Timer {
                id,
                action: if self.action == "stop" {
                    TimerAction::Stop
                } else {
                    TimerAction::Start
                },
                seconds: (!self.seconds.is_empty())
                    .then(|| number("seconds", &self.seconds))
                    .transpose()?,
                label: Some(self.label.clone()),
            },
            "ask" => Command::Ask {
                id,
                text: self.text.clone(),
                anonymous: self.anonymous == "on" || self.anonymous == "true",
            },
            "upvote" => Command::Upvote {
                id,
                question: number("question", &self.question)?,
            },
            "moderate" => Command::Moderate {
                id,
                question: number("question", &self.question)?,
                status: self
                    .status
                    .parse::<QuestionStatus>()
                    .map_err(AppError::BadRequest)?,
            },
            "impulse" => Command::Impulse {
                id,
                table: number("table", &self.table)?,
                text: self.text.clone(),
            },
            "edit_impulse" => Command::EditImpulse {
                id,
                impulse: number("impulse", &self.impulse)?,
                text: self.text.clone(),
            },
            "moderate_impulse" => Command::ModerateImpulse {
                id,
                impulse: number("impulse", &self.impulse)?,
                hidden: yes(&self.hidden),
                merge_into: optional_number("merge_into", &self.merge_into)?,
            },
            "summary" => Command::Summary {
                id,
                table: number("table", &self.table)?,
                text: self.text.clone(),
            },
            "round" => Command::Round {
                id,
                round: number("round", &self.round)?,
                running: yes(&self.running),
            },
            "seat" => Command::Seat {
                id,
                table: number("table", &self.table)?,
                user: optional_number("user", &self.user)?,
            },
            "pin" => Command::Pin {
                id,
                text: self.text.clone(),
                topic: Some(self.topic.clone()),
            },
            "vote_pin" => Command::VotePin {
                id,
                pin: number("pin", &self.pin)?,
                on: yes(&self.on),
            },
            "decide_pin" => Command::DecidePin {
                id,
                pin: number("pin", &self.pin)?,
                status: self.status.clone(),
                outcome: self.outcome.clone(),
                url: Some(self.url.clone()),
            },
            "remove" => Command::Remove {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "report" => Command::Report {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "dismiss_report" => Command::DismissReport {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "mute" => Command::Mute {
                id,
                user: number("user", &self.user)?,
                minutes: optional_number("minutes", &self.minutes)?,
                reason: self.reason.clone(),
            },
            "unmute" => Command::Unmute {
                id,
                user: number("user", &self.user)?,
            },
            "expel" => Command::Expel {
                id,
                user: number("user", &self.user)?,
                reason: self.reason.clone(),
            },
            "readmit" => Command::Readmit {
                id,
                user: number("user", &self.user)?,
            },
            "lock_chat" => Command::LockChat {
                id,
                room: self.room.clone(),
                locked: yes(&self.locked),
                reason: self.reason.clone(),
            },
            other => return Err(AppError::BadRequest(format!("unbekannte Aktion {other:?}"))),
        })
    }
}

/// Runs a command posted from a page (no JavaScript needed) and goes back.
pub async fn action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = if form.room.is_empty() {
        None
    } else {
        Some(info.room(&form.room).ok_or(AppError::NotFound)?)
    };
    let command = form.command()?;
    let prefix = format!("/konvent/{slug}");
    // Back within the event, or to the konvent-wide contacts page, which reports a
    // request's message to the moderators of the event it was sent from.
    let back = konvent_core::validation::local_path(&form.zurueck)
        .filter(|back| {
            back == &prefix
                || back.starts_with(&format!("{prefix}/"))
                || back == "/konto/kontakte?hinweis=gemeldet"
        })
        .unwrap_or(prefix);
    if let Err(r) = crate::live::run(&state.live, &info, &actor, room, command).await {
        if let Some(again) = repeated_support(&state, &info, &actor, &form, &back).await? {
            return Ok(again);
        }
        return Err(match r.code {
            "forbidden" => AppError::Forbidden,
            "rate_limited" => AppError::TooManyRequests,
            _ => AppError::BadRequest(crate::refusals::live(ctx.tr(), &r)),
        });
    }
    Ok(Redirect::to(&back))
}

// The organizers' console -------------------------------------------------------------

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
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => other.into(),
        })?;
    state.live.invalidate(info.event.id);
    Ok(Redirect::to(&format!("/konvent/{slug}/organisation")))
}

#[derive(Deserialize)]
pub struct FeedbackToggle {
    open: String,
}

pub async fn toggle_feedback(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<FeedbackToggle>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let written = state
        .store
        .set_feedback_open(info.event.id, &actor.who, form.open == "true")
        .await?;
    state.live.publish(&written);
    Ok(Redirect::to(&format!("/konvent/{slug}/organisation")))
}

// Podium questions ----------------------------------------------------------------------

/// The notice a questions page shows after a plain form post (`?hinweis=`).
const ALREADY_SUPPORTED: &str = "schon-unterstuetzt";

/// A refused "Unterstützen" of a question the person already supports (a second click,
/// or a second tab) goes back to the page with a notice beside the question instead of
/// an error page.
async fn repeated_support(
    state: &AppState,
    info: &EventInfo,
    actor: &Actor,
    form: &ActionForm,
    back: &str,
) -> AppResult<Option<Redirect>> {
    if form.t != "upvote" {
        return Ok(None);
    }
    let Ok(question) = number("question", &form.question) else {
        return Ok(None);
    };
    let supported = state
        .store
        .question_votes(info.event.id, actor.who.id)
        .await?;
    if !supported.contains(&question) {
        return Ok(None);
    }
    let path = back.split(['?', '#']).next().unwrap_or(back);
    Ok(Some(Redirect::to(&format!(
        "{path}?hinweis={ALREADY_SUPPORTED}&frage={question}#questions-notice"
    ))))
}

#[derive(Template)]
#[template(path = "konvent/questions.html")]
struct QuestionsPage {
    c: Chrome,
    slug: String,
    /// Each question's fragment, rendered for the viewer.
    questions: Vec<String>,
    /// The questions the viewer supports, as `mine` keys (`q5 q7`).
    mine: String,
    notice: Option<String>,
    live_url: String,
    script: String,
}

/// What a questions page may be told after a plain form post.
#[derive(Deserialize)]
pub struct QuestionsQuery {
    #[serde(default)]
    hinweis: String,
    /// The question the notice is about (ignored unless the viewer sees it).
    #[serde(default)]
    frage: String,
}

pub async fn questions(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(query): Query<QuestionsQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let t = ctx.tr();
    let supported: Vec<String> = state
        .store
        .question_votes(info.event.id, actor.who.id)
        .await?
        .into_iter()
        .map(fragments::questions::mine_key)
        .collect();
    let mut viewer = actor.viewer(&info);
    viewer.mine.extend(supported.iter().cloned());
    let fx = Fx::for_page(&ctx, &slug, format!("/konvent/{slug}/fragen"), viewer);
    let listed = state
        .store
        .questions(info.event.id, Some(actor.who.id), actor.staff)
        .await?;
    // The notice names the question, so that it is clear at the top of the page.
    let notice = (query.hinweis == ALREADY_SUPPORTED).then(|| {
        let about = query.frage.trim().parse::<i64>().ok();
        match listed.iter().find(|q| Some(q.id) == about) {
            Some(q) => t.with("questions-already-supported-this", &[("text", &q.text)]),
            None => t.get("questions-already-supported"),
        }
    });
    let questions = listed
        .iter()
        .map(|q| fragments::questions::question(fragments::questions::QuestionData::of(q), &fx))
        .collect();
    render(&QuestionsPage {
        c: Chrome::new(&ctx, "konvent", t.get("questions-title")),
        questions,
        mine: supported.join(" "),
        notice,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
    })
}

// Direct messages (help desk) -------------------------------------------------------

#[derive(Template)]
#[template(path = "konvent/messages.html")]
struct MessagesPage {
    c: Chrome,
    slug: String,
    messages: Vec<String>,
    recipients: Vec<recipients::RecipientGroup>,
    live_url: String,
    script: String,
}

pub async fn messages(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let t = ctx.tr();
    let records = state
        .store
        .direct_messages(info.event.id, actor.who.id, actor.staff, 200)
        .await?;
    let recipients = recipients::groups(&state, &info, &actor, &records, &t).await?;
    let fx = Fx::for_page(
        &ctx,
        &slug,
        format!("/konvent/{slug}/nachrichten"),
        actor.viewer(&info),
    );
    let messages = records
        .iter()
        .map(|r| fragments::chat::dm_line(r, &fx))
        .collect();
    render(&MessagesPage {
        c: Chrome::new(&ctx, "konvent", t.get("dm-title")),
        messages,
        recipients,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
    })
}

// Feedback ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "konvent/feedback.html")]
struct FeedbackPage {
    c: Chrome,
    slug: String,
    open: bool,
    given: bool,
    external: Option<String>,
    error: Option<String>,
}

pub async fn feedback_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let event = state.store.event(&slug).await?;
    feedback_page(&state, &ctx, &event, actor.who.id, None).await
}

async fn feedback_page(
    state: &AppState,
    ctx: &Ctx,
    event: &konvent_store::Event,
    account: i64,
    error: Option<String>,
) -> AppResult<Html<String>> {
    render(&FeedbackPage {
        c: Chrome::new(ctx, "konvent", ctx.tr().get("feedback-title")),
        open: event.feedback_open,
        given: state.store.has_given_feedback(event.id, account).await?,
        external: event.feedback_url.clone(),
        error,
        slug: event.slug.clone(),
    })
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

pub async fn submit_feedback(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<FeedbackForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let event = state.store.event(&slug).await?;
    if !event.feedback_open {
        return Err(AppError::Conflict(ctx.tr().get("feedback-closed")));
    }
    let rating = form
        .rating
        .parse::<i64>()
        .ok()
        .filter(|r| (1..=5).contains(r));
    let comment = form.comment.trim();
    let problem = if rating.is_none() {
        Some(ctx.tr().get("feedback-rating-required"))
    } else if comment.chars().count() > 4000 {
        Some(ctx.tr().get("feedback-comment-too-long"))
    } else {
        None
    };
    if let (Some(rating), None) = (rating, &problem) {
        let comment = (!comment.is_empty()).then_some(comment);
        match state
            .store
            .submit_feedback(event.id, actor.who.id, rating, comment)
            .await
        {
            Ok(()) | Err(StoreError::Conflict(_)) => {
                return Ok(Redirect::to(&format!("/konvent/{slug}/feedback")).into_response());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut page = feedback_page(&state, &ctx, &event, actor.who.id, problem)
        .await?
        .into_response();
    *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

#[derive(Template)]
#[template(path = "konvent/feedback_results.html")]
struct FeedbackResultsPage {
    c: Chrome,
    slug: String,
    answers: i64,
    average: String,
    bars: Vec<(i64, i64)>,
    comments: Vec<String>,
}

pub async fn feedback_results(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let results = state.store.feedback_results(info.event.id).await?;
    render(&FeedbackResultsPage {
        c: Chrome::new(&ctx, "konvent", ctx.tr().get("feedback-results-title")),
        answers: results.answers,
        average: results
            .average()
            .map(|a| format!("{a:.1}").replace('.', ","))
            .unwrap_or_else(|| "–".into()),
        bars: results
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1, *n))
            .collect(),
        comments: results.comments,
        slug,
    })
}
