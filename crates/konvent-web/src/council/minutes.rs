//! The minutes of a council session (Niederschrift, G11): the office generates them from
//! the session, edits the draft (remarks and notes per agenda item), finalises and
//! releases them to the members; each version is readable as HTML and as tagged PDF.
//! Who sees what: the office (`EditCouncil`) every version; the members
//! (`ReadConfidential`) the released ones; nobody else any.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::majority::Seat;
use konvent_store::{MAX_MINUTES_TEXT, Minutes, MinutesResolution, MinutesState, Presence};

use super::{session_title, weekday_date};
use crate::AppState;
use crate::ctx::{CsrfForm, CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, datetime_de, render};
use crate::pdf::Block;

/// Whether the reader is the office (every version) or a member (released versions).
fn may_edit(ctx: &Ctx) -> bool {
    ctx.may(Action::EditCouncil)
}

/// The versions the reader may read: all for the office, the released for members,
/// none for anybody else.
pub fn readable(ctx: &Ctx, all: Vec<Minutes>) -> Vec<Minutes> {
    if may_edit(ctx) {
        all
    } else if ctx.may(Action::ReadConfidential) {
        all.into_iter()
            .filter(|m| m.state == MinutesState::Released)
            .collect()
    } else {
        Vec::new()
    }
}

/// Only the office and the members read minutes at all.
fn require_reader(ctx: &Ctx) -> AppResult<()> {
    ctx.signed_in()?;
    if ctx.may(Action::ReadConfidential) || may_edit(ctx) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub fn state_label(t: &Tr, state: MinutesState) -> String {
    t.get(&format!("minutes-state-{}", state.as_str()))
}

/// A resolution in the minutes, as shown.
pub struct ResolutionView {
    pub heading: String,
    pub kind: String,
    pub body_html: String,
    pub body: String,
    pub result: Option<(String, String)>,
}

pub struct ItemView {
    pub id: i64,
    pub title: String,
    pub notes: String,
    pub resolutions: Vec<ResolutionView>,
}

/// One version of the minutes, as shown (and as the PDF is written).
pub struct View {
    pub title: String,
    pub date: String,
    pub version: i64,
    pub state: String,
    pub stamp: String,
    /// Seat, how it was there, who.
    pub seats: Vec<(String, String, String)>,
    /// Guests: name and conference.
    pub guests: Vec<String>,
    pub items: Vec<ItemView>,
    pub resolutions: Vec<ResolutionView>,
    /// Status label and the conferences with that status.
    pub reports: Vec<(String, String)>,
    pub remarks: String,
}

fn resolution_view(t: &Tr, r: &MinutesResolution) -> ResolutionView {
    ResolutionView {
        heading: t.with(
            "resolution-heading",
            &[("number", &r.reference), ("title", &r.title)],
        ),
        kind: super::votes::kind_label(t, r.kind),
        body_html: crate::markdown::to_html(&r.body),
        body: r.body.clone(),
        result: r.result.as_ref().map(|tally| {
            (
                super::votes::result_line(t, tally),
                super::votes::reading(t, tally),
            )
        }),
    }
}

fn view(t: &Tr, date: String, m: &Minutes) -> View {
    let c = &m.content;
    let name = |a: &konvent_store::MinutesAttendee| {
        if a.name.is_empty() {
            t.get("minutes-unknown-person")
        } else {
            a.name.clone()
        }
    };
    let recorded = c
        .attendance
        .iter()
        .any(|a| matches!(a.presence, Presence::Member | Presence::Deputy));
    let seats = Seat::ALL
        .into_iter()
        .map(|seat| {
            let of = |p: Presence| {
                c.attendance
                    .iter()
                    .find(|a| a.seat == Some(seat) && a.presence == p)
            };
            let (how, who) = if let Some(a) = of(Presence::Member) {
                (t.get("attendance-present"), name(a))
            } else if let Some(a) = of(Presence::Deputy) {
                (t.get("attendance-role-deputy"), name(a))
            } else if let Some(a) = of(Presence::Apology) {
                (t.get("attendance-apologised"), name(a))
            } else if recorded {
                (t.get("attendance-absent"), "–".to_owned())
            } else {
                (t.get("minutes-not-recorded"), "–".to_owned())
            };
            (seat.name().to_owned(), how, who)
        })
        .collect();
    let guests = c
        .attendance
        .iter()
        .filter(|a| a.presence == Presence::Guest)
        .map(|a| format!("{} ({})", name(a), a.conference.clone().unwrap_or_default()))
        .collect();
    let reports = ["filed", "none", "open"]
        .into_iter()
        .map(|status| {
            let list: Vec<&str> = c
                .reports
                .iter()
                .filter(|r| r.status == status)
                .map(|r| r.conference.as_str())
                .collect();
            (
                t.get(&format!("report-status-{status}")),
                if list.is_empty() {
                    "–".to_owned()
                } else {
                    list.join(", ")
                },
            )
        })
        .collect();
    let stamp = match (m.released_at, m.finalised_at) {
        (Some(at), _) => t.with("minutes-released-at", &[("at", &datetime_de(at))]),
        (None, Some(at)) => t.with("minutes-finalised-at", &[("at", &datetime_de(at))]),
        _ => t.with(
            "minutes-modified-at",
            &[("at", &datetime_de(m.modified_at))],
        ),
    };
    View {
        title: t.with(
            "minutes-title",
            &[("session", &session_title(t, m.session_number))],
        ),
        date,
        version: m.version,
        state: state_label(t, m.state),
        stamp,
        seats,
        guests,
        items: c
            .items
            .iter()
            .map(|i| ItemView {
                id: i.agenda_item_id,
                title: i.title.clone(),
                notes: i.notes.clone(),
                resolutions: i
                    .resolutions
                    .iter()
                    .map(|r| resolution_view(t, r))
                    .collect(),
            })
            .collect(),
        resolutions: c
            .resolutions
            .iter()
            .map(|r| resolution_view(t, r))
            .collect(),
        reports,
        remarks: c.remarks.clone(),
    }
}

/// A version in the list of versions.
pub struct VersionRow {
    pub version: i64,
    pub state: String,
    pub stamp: String,
}

#[derive(Template)]
#[template(path = "minutes.html")]
struct MinutesPage {
    c: Chrome,
    number: i64,
    view: Option<View>,
    versions: Vec<VersionRow>,
    may_edit: bool,
    /// The newest version's state (the office's next step).
    latest: Option<MinutesState>,
}

async fn session_date(state: &AppState, t: &Tr, number: i64) -> AppResult<String> {
    let s = state.store.session(number).await?;
    Ok(weekday_date(t, &s.date))
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
    version: Option<i64>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let date = session_date(state, &t, number).await?;
    require_reader(ctx)?;
    let all = state.store.minutes(number).await?;
    let latest = all.last().map(|m| m.state);
    let list = readable(ctx, all);
    let shown = match version {
        Some(v) => Some(
            list.iter()
                .find(|m| m.version == v)
                .ok_or(AppError::NotFound)?,
        ),
        None => list.last(),
    };
    let versions = list
        .iter()
        .rev()
        .map(|m| VersionRow {
            version: m.version,
            state: state_label(&t, m.state),
            stamp: view(&t, String::new(), m).stamp,
        })
        .collect();
    let view = shown.map(|m| view(&t, date, m));
    Ok(render(&MinutesPage {
        c: Chrome::new(
            ctx,
            "gremien",
            t.with("minutes-title", &[("session", &session_title(&t, number))]),
        ),
        number,
        view,
        versions,
        may_edit: may_edit(ctx),
        latest: if may_edit(ctx) { latest } else { None },
    })?
    .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
) -> AppResult<Response> {
    page(&state, &ctx, number, None).await
}

pub async fn show_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, version)): Path<(i64, i64)>,
) -> AppResult<Response> {
    page(&state, &ctx, number, Some(version)).await
}

/// The tagged PDF of one version the reader may read.
pub async fn pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, version)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let t = ctx.tr();
    require_reader(&ctx)?;
    let date = session_date(&state, &t, number).await?;
    let m = readable(&ctx, state.store.minutes(number).await?)
        .into_iter()
        .find(|m| m.version == version)
        .ok_or(AppError::NotFound)?;
    let v = view(&t, date, &m);
    let lang = match t.lang {
        crate::i18n::Lang::De => "de-DE",
        crate::i18n::Lang::En => "en-GB",
    };
    let body = crate::pdf::document(&v.title, lang, &pdf_blocks(&t, &v));
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"niederschrift-{number}-v{version}.pdf\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn resolution_blocks(t: &Tr, r: &ResolutionView, blocks: &mut Vec<Block>) {
    blocks.push(Block::subheading(r.heading.clone()));
    blocks.push(Block::text(format!("{}: {}", t.get("field-kind"), r.kind)));
    if !r.body.trim().is_empty() {
        blocks.push(Block::text(r.body.clone()));
    }
    match &r.result {
        Some((line, reading)) => blocks.push(Block::list(vec![line.clone(), reading.clone()])),
        None => blocks.push(Block::text(t.get("minutes-no-vote"))),
    }
}

fn pdf_blocks(t: &Tr, v: &View) -> Vec<Block> {
    let mut blocks = vec![
        Block::title(v.title.clone()),
        Block::text(format!(
            "{} · {} {} · {}",
            v.date,
            t.get("minutes-version"),
            v.version,
            v.stamp
        )),
        Block::heading(t.get("attendance-title")),
        Block::table(
            &[
                (t.get("vote-col-seat").as_str(), 0.3),
                (t.get("attendance-col").as_str(), 0.3),
                (t.get("attendance-col-people").as_str(), 0.4),
            ],
            v.seats
                .iter()
                .map(|(a, b, c)| vec![a.clone(), b.clone(), c.clone()])
                .collect(),
        ),
    ];
    if !v.guests.is_empty() {
        blocks.push(Block::subheading(t.get("attendance-guests")));
        blocks.push(Block::list(v.guests.clone()));
    }
    blocks.push(Block::heading(t.get("agenda-title")));
    blocks.push(Block::list(
        v.items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}. {}", i + 1, item.title))
            .collect(),
    ));
    for (i, item) in v.items.iter().enumerate() {
        blocks.push(Block::heading(format!("TOP {} – {}", i + 1, item.title)));
        if !item.notes.is_empty() {
            blocks.push(Block::text(item.notes.clone()));
        }
        for r in &item.resolutions {
            resolution_blocks(t, r, &mut blocks);
        }
    }
    if !v.resolutions.is_empty() {
        blocks.push(Block::heading(t.get("minutes-further-resolutions")));
        for r in &v.resolutions {
            resolution_blocks(t, r, &mut blocks);
        }
    }
    blocks.push(Block::heading(t.get("reporting-title")));
    blocks.push(Block::list(
        v.reports
            .iter()
            .map(|(status, list)| format!("{status}: {list}"))
            .collect(),
    ));
    if !v.remarks.is_empty() {
        blocks.push(Block::heading(t.get("minutes-remarks")));
        blocks.push(Block::text(v.remarks.clone()));
    }
    blocks
}

#[derive(serde::Deserialize)]
pub struct Empty {}

fn back(number: i64) -> Response {
    Redirect::to(&format!("/gremien/sitzungen/{number}/niederschrift")).into_response()
}

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
    id: i64,
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

pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    Ok(render(&edit_page(&state, &ctx, number).await?)?.into_response())
}

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
    let note_errors: Vec<(i64, String)> = notes
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

/// What the session's JSON shows of its minutes to the reader: the office the newest
/// version's state and links; a member the released versions' links; the public only
/// that minutes were released. `None` when there is nothing the reader may know.
pub async fn api_summary(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
) -> AppResult<Option<serde_json::Value>> {
    use serde_json::json;
    let all = state.store.minutes(number).await?;
    let released = all.iter().any(|m| m.state == MinutesState::Released);
    let base = format!("/gremien/sitzungen/{number}/niederschrift");
    let link = |m: &Minutes| {
        json!({
            "version": m.version,
            "status": m.state.as_str(),
            "html": format!("{base}/fassungen/{}", m.version),
            "pdf": format!("{base}/fassungen/{}/niederschrift.pdf", m.version),
        })
    };
    if may_edit(ctx) {
        let Some(latest) = all.last() else {
            return Ok(None);
        };
        return Ok(Some(json!({
            "status": latest.state.as_str(),
            "version": latest.version,
            "html": base,
            "versions": all.iter().map(link).collect::<Vec<_>>(),
        })));
    }
    if !released {
        return Ok(None);
    }
    if ctx.may(Action::ReadConfidential) {
        let list = readable(ctx, all);
        let latest = list.last().map(|m| m.version);
        return Ok(Some(json!({
            "status": "released",
            "version": latest,
            "html": base,
            "versions": list.iter().map(link).collect::<Vec<_>>(),
        })));
    }
    Ok(Some(json!({ "status": "released" })))
}
