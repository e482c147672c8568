//! The venue map page (K8): the canvas people walk on, and beside it the same places as
//! an ordinary list with a "go there" button each — the way through the event for
//! keyboards and screen readers, and without JavaScript (the button then opens the
//! room). Organizers upload their own map drawn in Tiled, or go back to the generated one.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::convention::map::{self, AreaTarget, MAX_FILE_BYTES, VenueMap};
use konvent_core::strategy::RoundStatus;
use konvent_store::Round;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::live::{EventInfo, room_refs};
use konvent_live::map::{PINBOARD_KEY, area_key};

/// Most tileset files one upload may carry.
const MAX_TILESETS: usize = 16;

/// One place on the map, as the list and the canvas show it.
struct AreaView {
    key: String,
    name: String,
    kind: String,
    topic: Option<String>,
    patron: Option<String>,
    count: i64,
    capacity: Option<i64>,
    href: String,
}

#[derive(Template)]
#[template(path = "konvent/map.html")]
struct MapPage {
    c: Chrome,
    slug: String,
    /// The area to walk to once the map is drawn (`?zu=`, "Hierhin gehen" of K15+).
    zu: String,
    areas: Vec<AreaView>,
    organizer: bool,
    source: String,
    problems: Vec<String>,
    video: bool,
    /// The microphone rule of the room joined, in both its states.
    mic_open: String,
    mic_muted_line: String,
    live_url: String,
    script: String,
    map_script: String,
}

/// The topic at each table room: the running round's, else the latest round's.
fn topics_by_room(rounds: &[Round]) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    let running = rounds.iter().filter(|r| r.status == RoundStatus::Running);
    let others = rounds
        .iter()
        .rev()
        .filter(|r| r.status != RoundStatus::Running);
    for round in running.chain(others) {
        for table in &round.tables {
            out.entry(table.room_slug.clone())
                .or_insert_with(|| (table.topic.title.clone(), table.topic.patron.clone()));
        }
    }
    out
}

async fn area_views(state: &AppState, ctx: &Ctx, info: &EventInfo) -> AppResult<Vec<AreaView>> {
    let t = ctx.tr();
    let slug = &info.event.slug;
    let topics = topics_by_room(&state.live.rounds(info.event.id).await?);
    let rooms = state.live.fanout.headcounts(info.event.id);
    let standing = state.live.maps.area_counts(info.event.id);
    Ok(info
        .map
        .areas
        .iter()
        .enumerate()
        .map(|(i, area)| match &area.target {
            AreaTarget::Room { room } => {
                let r = info.room(room);
                let topic = topics.get(room);
                AreaView {
                    key: room.clone(),
                    name: area.name.clone(),
                    kind: r.map_or_else(String::new, |r| {
                        t.get(&format!("room-kind-{}", r.kind.as_str()))
                    }),
                    topic: topic.map(|(title, _)| title.clone()),
                    patron: topic.map(|(_, patron)| patron.clone()),
                    count: rooms.get(room).copied().unwrap_or(0),
                    capacity: r.map(|r| r.capacity),
                    href: format!("/konvent/{slug}/raeume/{room}"),
                }
            }
            AreaTarget::Pinboard => AreaView {
                key: PINBOARD_KEY.to_owned(),
                name: area.name.clone(),
                kind: t.get("map-kind-pinboard"),
                topic: None,
                patron: None,
                count: standing.get(i).copied().unwrap_or(0) as i64,
                capacity: None,
                href: format!("/konvent/{slug}/pinnwand"),
            },
        })
        .collect())
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    info: &EventInfo,
    organizer: bool,
    problems: Vec<String>,
) -> AppResult<MapPage> {
    let t = ctx.tr();
    let slug = info.event.slug.clone();
    let threshold = info.event.mute_threshold.to_string();
    Ok(MapPage {
        c: Chrome::new(
            ctx,
            "konvent",
            format!("{} – {}", t.get("map-title"), info.event.title),
        ),
        areas: area_views(state, ctx, info).await?,
        organizer,
        source: if info.map.source == "generated" {
            t.get("map-source-generated")
        } else {
            info.map.source.clone()
        },
        problems,
        video: state.settings.video().is_some(),
        mic_open: t.with("room-mic-rule", &[("threshold", &threshold)]),
        mic_muted_line: t.with("room-muted-now", &[("threshold", &threshold)]),
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        map_script: crate::assets::url("map.js"),
        zu: String::new(),
        slug,
    })
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    /// An area's key: walk there (next to somebody, from "Wer ist hier").
    #[serde(default)]
    zu: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn map_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<MapQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let mut page = page(&state, &ctx, &info, actor.organizer, vec![]).await?;
    if info.map.areas.iter().any(|a| area_key(&a.target) == q.zu) {
        page.zu = q.zu;
    }
    render(&page)
}

/// The map for the canvas: the grid, the areas with their names, topics and patrons.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn map_json(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Json<Value>> {
    let info = event_info(&state, &slug).await?;
    require_actor(&state, &ctx, &info).await?;
    let views = area_views(&state, &ctx, &info).await?;
    let areas: Vec<Value> = info
        .map
        .areas
        .iter()
        .zip(&views)
        .map(|(area, view)| {
            json!({
                "key": view.key,
                "name": view.name,
                "kind": match &area.target {
                    AreaTarget::Room { .. } => info.room(area_key(&area.target)).map_or("other", |r| r.kind.as_str()),
                    AreaTarget::Pinboard => "pinboard",
                },
                "topic": view.topic,
                "patron": view.patron,
                "count": view.count,
                "capacity": view.capacity,
                "x": area.x, "y": area.y, "w": area.w, "h": area.h,
            })
        })
        .collect();
    Ok(Json(json!({
        "width": info.map.width,
        "height": info.map.height,
        "rows": info.map.rows,
        "spawn": [info.map.spawn.0, info.map.spawn.1],
        "areas": areas,
    })))
}

#[derive(Deserialize)]
pub struct GotoForm {
    area: String,
}

/// "Go there" without JavaScript: the area's room (or the pinboard) opens.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn goto(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<GotoForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    require_actor(&state, &ctx, &info).await?;
    let area = info
        .map
        .areas
        .iter()
        .find(|a| area_key(&a.target) == form.area)
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&match &area.target {
        AreaTarget::Room { room } => format!("/konvent/{slug}/raeume/{room}"),
        AreaTarget::Pinboard => format!("/konvent/{slug}/pinnwand"),
    }))
}

/// The upload: the CSRF field, the map file and any external tilesets, within limits.
struct Upload {
    csrf: String,
    map: Option<(String, Vec<u8>)>,
    tilesets: HashMap<String, Vec<u8>>,
}

async fn read_upload(mut multipart: Multipart) -> AppResult<Upload> {
    let mut upload = Upload {
        csrf: String::new(),
        map: None,
        tilesets: HashMap::new(),
    };
    let mut total = 0usize;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("Upload unlesbar: {e}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().unwrap_or("").to_owned();
        match name.as_str() {
            "csrf" => upload.csrf = field.text().await.map_err(|_| AppError::Csrf)?,
            "karte" | "tilesets" => {
                let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
                total += bytes.len();
                if bytes.len() > MAX_FILE_BYTES || total > 4 * MAX_FILE_BYTES {
                    return Err(AppError::PayloadTooLarge);
                }
                if bytes.is_empty() {
                    continue;
                }
                if name == "karte" {
                    upload.map = Some((file_name, bytes.to_vec()));
                } else if upload.tilesets.len() < MAX_TILESETS {
                    upload.tilesets.insert(file_name, bytes.to_vec());
                } else {
                    return Err(AppError::BadRequest(format!(
                        "Höchstens {MAX_TILESETS} Tilesets auf einmal."
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// A file name as it may be shown and stored: its last part, at most 100 characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if base.is_empty() {
        "karte.tmj".to_owned()
    } else {
        base
    }
}

/// An organizer's map from Tiled: checked whole; with any problem it is refused with the
/// list, and the map in use stays.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(slug): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    check_origin(&headers)?;
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let upload = read_upload(multipart).await?;
    check_csrf(&ctx, &upload.csrf)?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let result = match &upload.map {
        None => Err(vec![t.get("map-import-no-file")]),
        Some((name, bytes)) => map::import_tiled(
            &clean_name(name),
            bytes,
            &upload.tilesets,
            &room_refs(&info.rooms),
        ),
    };
    let map = match result {
        Ok(map) => map,
        Err(problems) => {
            let page = page(&state, &ctx, &info, true, problems).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    save(&state, &slug, &actor.who, Some(&map)).await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/karte")).into_response())
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

/// Back to the map generated from the rooms.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    save(&state, &slug, &actor.who, None).await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/karte")))
}

async fn save(
    state: &AppState,
    slug: &str,
    by: &konvent_store::Who,
    map: Option<&VenueMap>,
) -> AppResult<()> {
    let info = event_info(state, slug).await?;
    let json = map
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let written = state
        .store
        .set_venue_map(
            info.event.id,
            Some(by),
            map.zip(json.as_deref())
                .map(|(m, j)| (m.source.as_str(), j)),
        )
        .await?;
    state.live.invalidate(info.event.id);
    // Loads the new map into the hub before anybody hears of it.
    event_info(state, slug).await?;
    state.live.publish(&written);
    Ok(())
}
