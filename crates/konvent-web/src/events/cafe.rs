//! The World Café of an event (K9, K10): its rounds and tables, choosing a table (a full
//! one refuses politely and offers the others), the organizers' start and end for all
//! tables with one timer, and a table's own page: the moderator's guide through welcome,
//! introduction and guiding questions, the previous round's summary, and the impulses,
//! live for everybody at the table. Also the pinboard (K11).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::convention::live::{self, Command, RefusalKind};
use konvent_core::ids::{PinId, TableId};
use konvent_core::strategy::{FollowTarget, ROUND_MINUTES, TABLE_CAPACITY};
use konvent_store::{CafeTable, NewTable, Topic, Who};
use serde::Deserialize;

use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::{CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::cafe::leads;
use crate::live::fragments::cafe::{self as fragments, ImpulseLine, Seated};
use crate::live::fragments::{Fx, pins};

/// A table the organizers can seat somebody at (its round has not ended).
struct AssignTable {
    id: TableId,
    label: String,
}

#[derive(Template)]
#[template(path = "konvent/cafe.html")]
struct CafePage {
    c: Chrome,
    slug: String,
    /// The rounds region (`live::fragments::cafe::cafe_rounds`).
    rounds: String,
    /// Tables with room, named in the notice after a full table refused.
    free: Vec<(String, i64, i64)>,
    organizer: bool,
    people: Vec<Who>,
    assign: Vec<AssignTable>,
    topics: Vec<Topic>,
    minutes: i64,
    capacity: i64,
    notice: Option<String>,
    live_url: String,
    script: String,
}

async fn cafe_page(
    state: &AppState,
    ctx: &Ctx,
    slug: &str,
    notice: Option<String>,
) -> AppResult<Html<String>> {
    let info = event_info(state, slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    let t = ctx.tr();
    // The same reading as a `round` entry's `rounds` gets, so page and frame agree.
    let rounds = state.live.cafe_rounds(info.event.id).await?;
    let fx = Fx::page(
        ctx.lang,
        slug,
        &ctx.csrf,
        format!("/konvent/{slug}/cafe"),
        actor.viewer(&info),
    );
    let open = || rounds.iter().filter(|r| r.status != "ended");
    let free = open()
        .flat_map(|r| r.tables.iter())
        .filter(|tb| (tb.people.len() as i64) < tb.capacity)
        .map(|tb| (tb.topic.clone(), tb.people.len() as i64, tb.capacity))
        .collect();
    let assign = open()
        .flat_map(|r| {
            r.tables.iter().map(|tb| AssignTable {
                id: tb.id,
                label: format!("{} {} – {}", t.get("round"), r.number, tb.topic),
            })
        })
        .collect();
    let people = if actor.organizer {
        state.store.event_people(info.event.id, 500).await?
    } else {
        Vec::new()
    };
    render(&CafePage {
        c: Chrome::new(
            ctx,
            "konvent",
            t.with("cafe-title", &[("event", &info.event.title)]),
        ),
        slug: slug.to_owned(),
        rounds: fragments::cafe_rounds(&rounds, &fx),
        free,
        organizer: actor.organizer,
        people,
        assign,
        topics: if actor.organizer {
            state.store.topics().await?
        } else {
            Vec::new()
        },
        minutes: ROUND_MINUTES,
        capacity: TABLE_CAPACITY,
        notice,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn cafe(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    cafe_page(&state, &ctx, &slug, None).await
}

/// Takes a seat (or, for organizers, assigns one): the form's fields are the `seat`
/// command's (`table`, and `user` for somebody else), read by core's one definition of
/// the commands. A full table answers with the café page, the reason on top and the
/// tables that still have room.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn seat(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfPairs(fields): CsrfPairs,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let command = live::from_form(
        std::iter::once(("t", "seat")).chain(
            fields
                .iter()
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        ),
    )
    .map_err(|r| AppError::BadRequest(crate::refusals::live(ctx.tr(), &r)))?;
    let Command::Seat { table, user, .. } = command else {
        return Err(AppError::BadRequest("Kein Platz gewählt.".into()));
    };
    match crate::live::run(&state.live, &info, &actor, None, command).await {
        Ok(_) if user.is_some_and(|u| u != actor.who.id) => {
            Ok(Redirect::to(&format!("/konvent/{slug}/cafe")).into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/konvent/{slug}/cafe/tische/{table}")).into_response()),
        Err(r) if r.kind == RefusalKind::Forbidden => Err(AppError::Forbidden),
        Err(r) if r.kind == RefusalKind::RateLimited => Err(AppError::TooManyRequests),
        Err(r) => {
            let mut response = cafe_page(
                &state,
                &ctx,
                &slug,
                Some(crate::refusals::live(ctx.tr(), &r)),
            )
            .await?
            .into_response();
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
    }
}

/// Organizers add the next round: one table per chosen topic, each led by the moderator
/// of that topic's table in the round before (if any).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn create_round(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    super::require_organizer(&actor)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "topic")
        .map(|(_, v)| v.clone())
        .collect();
    let minutes = field("minutes")
        .parse::<i64>()
        .ok()
        .filter(|m| (5..=240).contains(m));
    let capacity = field("capacity")
        .parse::<i64>()
        .ok()
        .filter(|c| (2..=500).contains(c));
    let problem = if chosen.is_empty() {
        Some("Bitte mindestens ein Thema für die Tische wählen.")
    } else if minutes.is_none() {
        Some("Die Dauer muss zwischen 5 und 240 Minuten liegen.")
    } else if capacity.is_none() {
        Some("Die Plätze pro Tisch müssen zwischen 2 und 500 liegen.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let mut response = cafe_page(&state, &ctx, &slug, Some(problem.to_owned()))
            .await?
            .into_response();
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let rounds = state.store.rounds(info.event.id).await?;
    let last = rounds.last();
    let mut tables = Vec::new();
    for topic in state.store.topics().await? {
        if !chosen.contains(&topic.slug) {
            continue;
        }
        tables.push(NewTable {
            moderator_id: last
                .and_then(|r| r.tables.iter().find(|t| t.topic.id == topic.id))
                .and_then(|t| t.moderator.as_ref().map(|m| m.id)),
            topic_id: topic.id,
            capacity: capacity.unwrap_or(TABLE_CAPACITY),
        });
    }
    let number = last.map(|r| r.number).unwrap_or(0) + 1;
    state
        .store
        .create_round(
            info.event.id,
            number,
            minutes.unwrap_or(ROUND_MINUTES),
            &tables,
        )
        .await?;
    // The round may have opened rooms for new topics.
    state.live.invalidate(info.event.id);
    Ok(Redirect::to(&format!("/konvent/{slug}/cafe")).into_response())
}

// A table -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "konvent/table.html")]
struct TablePage {
    c: Chrome,
    slug: String,
    table: CafeTable,
    topic: Topic,
    /// The round's state: `planned`, `running` or `ended` (the round region's
    /// `data-state`).
    round_state: String,
    round_region: String,
    seated: bool,
    leads: bool,
    previous: Option<(i64, String, String)>,
    /// The impulse lines (`live::fragments::cafe::impulse`).
    impulses: Vec<String>,
    /// The merge form's choices, twice (`merge-from`, `merge-into`).
    merge_from: Vec<String>,
    merge_into: Vec<String>,
    people: String,
    summary: String,
    /// The summary was just saved (the plain form's way back says so).
    saved: bool,
    following: bool,
    live_url: String,
    script: String,
    back: String,
}

#[derive(Deserialize)]
pub struct TableQuery {
    #[serde(default)]
    gespeichert: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, table_id = %table_id))]
pub async fn table(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, table_id)): Path<(String, TableId)>,
    Query(query): Query<TableQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let table = state.store.cafe_table(table_id).await?;
    if table.event_id != info.event.id {
        return Err(AppError::NotFound);
    }
    let leads = leads(&actor, &info, &table);
    let seated = state.store.seat(table.round_id, actor.who.id).await? == Some(table.id);
    let back = format!("/konvent/{slug}/cafe/tische/{}", table.id);
    let fx = Fx::page(
        ctx.lang,
        &slug,
        &ctx.csrf,
        back.clone(),
        actor.viewer(&info),
    );
    // Every impulse, hidden ones too: the fragment shows those only to the table's
    // moderators, and without their text.
    let lines: Vec<ImpulseLine> = state
        .store
        .table_impulses(table.id, true)
        .await?
        .iter()
        .map(|i| ImpulseLine::of(i, &table.room_slug))
        .collect();
    let choices = |list: &str| {
        lines
            .iter()
            .filter(|i| fragments::mergeable(i))
            .map(|i| fragments::merge_option(list, i))
            .collect::<Vec<_>>()
    };
    let people: Vec<Seated> = state
        .store
        .table_people(table.id)
        .await?
        .iter()
        .map(Seated::from)
        .collect();
    let following = state
        .store
        .connection_points(Some(actor.who.id))
        .await?
        .iter()
        .any(|c| c.target == FollowTarget::Topic && c.target_id == table.topic.id.get());
    render(&TablePage {
        c: Chrome::new(
            &ctx,
            "konvent",
            ctx.tr().with(
                "table-title",
                &[
                    ("topic", &table.topic.title),
                    ("round", &table.round.to_string()),
                ],
            ),
        ),
        round_state: table.round_status.as_str().to_owned(),
        round_region: fragments::table_round_id(table.id),
        previous: state.store.previous_summary(table.id).await?,
        impulses: lines.iter().map(|i| fragments::impulse(i, &fx)).collect(),
        merge_from: choices("merge-from"),
        merge_into: choices("merge-into"),
        people: fragments::table_people(table.id, table.capacity, &people, &fx),
        summary: fragments::table_summary(
            table.id,
            &table.room_slug,
            &table.summary,
            table.summary_by.as_deref().unwrap_or_default(),
            &fx,
        ),
        saved: query.gespeichert.as_deref() == Some("zusammenfassung"),
        topic: table.topic.clone(),
        back,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
        table,
        seated,
        leads,
        following,
    })
}

// The pinboard (K11) ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "konvent/pinboard.html")]
struct PinboardPage {
    c: Chrome,
    slug: String,
    /// Each pin's fragment, rendered for the viewer.
    pins: Vec<String>,
    /// The pins the viewer voted for and follows up on, as `mine` keys (`p3 f3 p7`).
    mine: String,
    topics: Vec<Topic>,
    live_url: String,
    script: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn pinboard(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let t = ctx.tr();
    let (pins, voted) = state.store.pins(info.event.id, actor.who.id).await?;
    let followed = state
        .store
        .connection_points(Some(actor.who.id))
        .await?
        .into_iter()
        .filter(|c| c.target == FollowTarget::Pin)
        .map(|c| pins::follow_key(PinId::new(c.target_id)));
    let mine: Vec<String> = voted
        .into_iter()
        .map(pins::vote_key)
        .chain(followed)
        .collect();
    let mut viewer = actor.viewer(&info);
    viewer.mine.extend(mine.iter().cloned());
    let fx = Fx::for_page(&ctx, &slug, format!("/konvent/{slug}/pinnwand"), viewer);
    render(&PinboardPage {
        c: Chrome::new(&ctx, "konvent", t.get("pinboard-title")),
        pins: pins
            .iter()
            .map(|pin| pins::pin(pins::PinData::of(pin), &fx))
            .collect(),
        mine: mine.join(" "),
        topics: state.store.topics().await?,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
    })
}
