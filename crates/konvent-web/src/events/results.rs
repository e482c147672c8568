//! What an event produced: the podium bundle (K13: per topic the impulses of the day,
//! grouped and ranked, and the top pinboard entries, on one page for the stage) and the
//! work results as Markdown, CSV and PDF (summaries, impulses per topic and round,
//! pinboard, feedback summary). Organizers only; target pictures are not part of it.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::export::CsvWriter;
use konvent_core::konvent as core;
use konvent_core::konvent::podium;
use konvent_core::strategy::PinStatus;
use konvent_core::strategy::grouping::group;
use konvent_store::{FeedbackResults, Impulse, Pin};
use serde::Deserialize;

use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

/// How many groups and pins the podium page shows.
const PODIUM_GROUPS: usize = 5;
const PODIUM_PINS: usize = 5;

// The podium bundle ------------------------------------------------------------------

struct PodiumGroup {
    /// What the moderator says on stage: the name given, else the suggestion.
    title: String,
    /// The opening of the group's most typical impulse.
    suggested: String,
    named: bool,
    terms: String,
    count: usize,
    examples: Vec<String>,
    /// The most typical impulse: the naming form names the group by it.
    anchor: i64,
    /// A refused title, shown beside the field.
    error: Option<String>,
    entered: Option<String>,
}

struct PodiumTopic {
    id: i64,
    title: String,
    impulses: usize,
    groups: Vec<PodiumGroup>,
}

#[derive(Template)]
#[template(path = "konvent/podium.html")]
struct PodiumPage {
    c: Chrome,
    slug: String,
    topics: Vec<PodiumTopic>,
    pins: Vec<Pin>,
    title_max: usize,
}

/// The impulses worth showing: not hidden, not merged into another.
fn visible(impulses: Vec<Impulse>) -> Vec<Impulse> {
    impulses
        .into_iter()
        .filter(|i| !i.hidden && i.merged_into.is_none())
        .collect()
}

/// One topic's impulses in groups, biggest first: for each its impulses (in the order
/// given) and its most typical one, and the shared terms.
fn topic_groups<'a>(mine: &[&'a Impulse]) -> Vec<(Vec<&'a Impulse>, &'a Impulse, Vec<String>)> {
    let texts: Vec<&str> = mine.iter().map(|i| i.text.as_str()).collect();
    let (groups, _) = group(&texts);
    groups
        .into_iter()
        .map(|g| {
            (
                g.members.iter().map(|&i| mine[i]).collect(),
                mine[g.centre],
                g.shared,
            )
        })
        .collect()
}

/// A title the form refused: for the group of impulse `anchor`, what was entered, why.
struct Refused {
    anchor: i64,
    entered: String,
    message: String,
}

async fn podium_page(
    state: &AppState,
    ctx: &Ctx,
    slug: String,
    refused: Option<Refused>,
) -> AppResult<Html<String>> {
    let info = event_info(state, &slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    require_organizer(&actor)?;
    let impulses = visible(state.store.event_impulses(info.event.id).await?);
    let mut named_by_topic = state.store.podium_titles_by_topic(info.event.id).await?;
    let mut topics = Vec::new();
    for topic in state.store.topics().await? {
        let mine: Vec<&Impulse> = impulses.iter().filter(|i| i.topic_id == topic.id).collect();
        if mine.is_empty() {
            continue;
        }
        let groups = topic_groups(&mine);
        let named = named_by_topic.remove(&topic.id).unwrap_or_default();
        let ids: Vec<Vec<i64>> = groups
            .iter()
            .map(|(members, _, _)| members.iter().map(|i| i.id).collect())
            .collect();
        let titles = podium::titles_for(&ids, &named);
        topics.push(PodiumTopic {
            id: topic.id,
            title: topic.title,
            impulses: mine.len(),
            // Biggest first (the grouping's order); singletons only fill up.
            groups: groups
                .into_iter()
                .zip(titles)
                .take(PODIUM_GROUPS)
                .map(|((members, centre, shared), title)| {
                    let suggested = podium::suggested_title(&centre.text);
                    let refused = refused.as_ref().filter(|r| r.anchor == centre.id);
                    PodiumGroup {
                        title: title
                            .map(|n| named[n].title.clone())
                            .unwrap_or_else(|| suggested.clone()),
                        named: title.is_some(),
                        suggested,
                        terms: shared.join(", "),
                        count: members.len(),
                        // The most typical first, then the next one.
                        examples: std::iter::once(centre)
                            .chain(members.iter().copied().filter(|i| i.id != centre.id))
                            .take(2)
                            .map(|i| i.text.clone())
                            .collect(),
                        anchor: centre.id,
                        error: refused.map(|r| r.message.clone()),
                        entered: refused.map(|r| r.entered.clone()),
                    }
                })
                .collect(),
        });
    }
    let (pins, _) = state.store.pins(info.event.id, actor.who.id).await?;
    render(&PodiumPage {
        c: Chrome::new(
            ctx,
            "konvent",
            ctx.tr()
                .with("podium-title", &[("event", &info.event.title)]),
        ),
        slug,
        topics,
        pins: pins
            .into_iter()
            .filter(|p| p.status != PinStatus::Closed)
            .take(PODIUM_PINS)
            .collect(),
        title_max: podium::TITLE_MAX,
    })
}

pub async fn podium(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    podium_page(&state, &ctx, slug, None).await
}

#[derive(Deserialize)]
pub struct NameGroupForm {
    topic: String,
    /// Any impulse of the group; the page sends its most typical one.
    impulse: String,
    #[serde(default)]
    title: String,
}

/// The moderator names a podium group (or empties the field for the suggestion again).
/// The group is found anew from one of its impulses, so the name is stored with the
/// impulses the group has now.
pub async fn name_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<NameGroupForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let number = |field: &str, value: &str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest(format!("{field}: keine Zahl")))
    };
    let topic = number("topic", &form.topic)?;
    let anchor = number("impulse", &form.impulse)?;
    let title = match podium::parse_title(&form.title) {
        Ok(title) => title,
        Err(message) => {
            let refused = Refused {
                anchor,
                entered: form.title.clone(),
                message,
            };
            let mut response = podium_page(&state, &ctx, slug, Some(refused))
                .await?
                .into_response();
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let impulses = visible(state.store.event_impulses(info.event.id).await?);
    let mine: Vec<&Impulse> = impulses.iter().filter(|i| i.topic_id == topic).collect();
    let groups = topic_groups(&mine);
    let Some((members, _, _)) = groups
        .iter()
        .find(|(members, _, _)| members.iter().any(|i| i.id == anchor))
    else {
        return Err(AppError::Conflict(
            "Diesen Impuls zeigt das Bündel nicht mehr (ausgeblendet oder zusammengeführt); \
             bitte die Seite neu laden."
                .to_owned(),
        ));
    };
    let ids: Vec<i64> = members.iter().map(|i| i.id).collect();
    let named = state.store.podium_titles(info.event.id, topic).await?;
    let replaces = podium::titles_for(std::slice::from_ref(&ids), &named)[0].map(|n| named[n].id);
    state
        .store
        .name_podium_group(
            info.event.id,
            topic,
            replaces,
            title.as_deref(),
            &ids,
            &actor.who.name,
        )
        .await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/podium#gruppe-{anchor}")).into_response())
}

// The work results --------------------------------------------------------------------

struct TableResult {
    topic: String,
    moderator: String,
    summary: String,
    impulses: Vec<(String, String)>,
}

struct Results {
    title: String,
    day: String,
    rounds: Vec<(i64, Vec<TableResult>)>,
    pins: Vec<Pin>,
    feedback: FeedbackResults,
}

async fn results(state: &AppState, ctx: &Ctx, slug: &str) -> AppResult<Results> {
    let info = event_info(state, slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    require_organizer(&actor)?;
    let impulses = visible(state.store.event_impulses(info.event.id).await?);
    let rounds = state
        .store
        .rounds(info.event.id)
        .await?
        .into_iter()
        .map(|round| {
            let tables = round
                .tables
                .into_iter()
                .map(|t| TableResult {
                    impulses: impulses
                        .iter()
                        .filter(|i| i.table_id == t.id)
                        .map(|i| (i.author_name.clone(), i.text.clone()))
                        .collect(),
                    topic: t.topic.title,
                    moderator: t.moderator.map(|m| m.name).unwrap_or_default(),
                    summary: t.summary,
                })
                .collect();
            (round.number, tables)
        })
        .collect();
    let (pins, _) = state.store.pins(info.event.id, actor.who.id).await?;
    Ok(Results {
        title: info.event.title.clone(),
        day: core::day(info.event.starts_at),
        rounds,
        pins,
        feedback: state.store.feedback_results(info.event.id).await?,
    })
}

fn pin_status(p: &Pin) -> &'static str {
    match p.status {
        PinStatus::Open => "offen",
        PinStatus::PickedUp => "aufgegriffen",
        PinStatus::Closed => "geschlossen",
    }
}

fn feedback_line(f: &FeedbackResults) -> String {
    match f.average() {
        Some(avg) => format!(
            "{} Antworten, Durchschnitt {} von 5 (Verteilung 1–5: {})",
            f.answers,
            format!("{avg:.1}").replace('.', ","),
            f.ratings
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        None => "Noch keine Antworten.".to_owned(),
    }
}

/// One line of Markdown text: no line breaks, Markdown's own characters escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn markdown(r: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Arbeitsergebnisse – {}\n\n{}\n", md(&r.title), r.day);
    for (number, tables) in &r.rounds {
        let _ = writeln!(out, "## World Café – Runde {number}\n");
        for t in tables {
            let _ = writeln!(out, "### {}\n", md(&t.topic));
            if !t.moderator.is_empty() {
                let _ = writeln!(out, "Moderation: {}\n", md(&t.moderator));
            }
            if !t.summary.trim().is_empty() {
                let _ = writeln!(out, "**Zusammenfassung:** {}\n", md(&t.summary));
            }
            let _ = writeln!(out, "Impulse ({}):\n", t.impulses.len());
            for (author, text) in &t.impulses {
                let _ = writeln!(out, "- {} ({})", md(text), md(author));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Postkasten & Pinnwand\n");
    for p in &r.pins {
        let _ = write!(
            out,
            "- {} – {} Stimmen – {}",
            md(&p.text),
            p.votes,
            pin_status(p)
        );
        if !p.outcome.is_empty() {
            let _ = write!(out, ": {}", md(&p.outcome));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n## Feedback\n\n{}", feedback_line(&r.feedback));
    out
}

/// The results as a spreadsheet; every cell goes through the one export writer, which
/// defuses formula-like texts (impulses and pins are written by participants).
fn csv(r: &Results) -> Vec<u8> {
    let mut w = CsvWriter::new([
        "Art", "Runde", "Thema", "Von", "Text", "Stimmen", "Stand", "Ergebnis",
    ]);
    for (number, tables) in &r.rounds {
        let round = number.to_string();
        for t in tables {
            if !t.summary.trim().is_empty() {
                w.row([
                    "Zusammenfassung",
                    &round,
                    &t.topic,
                    &t.moderator,
                    &t.summary,
                    "",
                    "",
                    "",
                ]);
            }
            for (author, text) in &t.impulses {
                w.row(["Impuls", &round, &t.topic, author, text, "", "", ""]);
            }
        }
    }
    for p in &r.pins {
        w.row([
            "Pinnwand",
            "",
            p.topic.as_ref().map(|t| t.1.as_str()).unwrap_or(""),
            &p.author_name,
            &p.text,
            &p.votes.to_string(),
            pin_status(p),
            &p.outcome,
        ]);
    }
    w.row([
        "Feedback",
        "",
        "",
        "",
        &feedback_line(&r.feedback),
        "",
        "",
        "",
    ]);
    w.finish()
}

fn pdf_blocks(r: &Results) -> Vec<crate::pdf::Block> {
    use crate::pdf::Block;
    let mut blocks = vec![
        Block::title(format!("Arbeitsergebnisse – {}", r.title)),
        Block::text(r.day.clone()),
    ];
    for (number, tables) in &r.rounds {
        blocks.push(Block::heading(format!("World Café – Runde {number}")));
        for t in tables {
            blocks.push(Block::subheading(t.topic.clone()));
            if !t.moderator.is_empty() {
                blocks.push(Block::text(format!("Moderation: {}", t.moderator)));
            }
            if !t.summary.trim().is_empty() {
                blocks.push(Block::text(format!("Zusammenfassung: {}", t.summary)));
            }
            blocks.push(Block::list(
                t.impulses
                    .iter()
                    .map(|(author, text)| format!("{text} ({author})"))
                    .collect(),
            ));
        }
    }
    blocks.push(Block::heading("Postkasten & Pinnwand".into()));
    if r.pins.is_empty() {
        blocks.push(Block::text("Keine Beiträge.".into()));
    } else {
        blocks.push(Block::table(
            &[
                ("Beitrag", 0.46),
                ("Stimmen", 0.12),
                ("Status", 0.16),
                ("Ergebnis", 0.26),
            ],
            r.pins
                .iter()
                .map(|p| {
                    vec![
                        p.text.clone(),
                        p.votes.to_string(),
                        pin_status(p).to_owned(),
                        p.outcome.clone(),
                    ]
                })
                .collect(),
        ));
    }
    blocks.push(Block::heading("Feedback".into()));
    blocks.push(Block::text(feedback_line(&r.feedback)));
    blocks
}

fn download(body: Vec<u8>, mime: &'static str, name: String) -> Response {
    (
        [
            (CONTENT_TYPE, mime.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn export_md(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let r = results(&state, &ctx, &slug).await?;
    Ok(download(
        markdown(&r).into_bytes(),
        "text/markdown; charset=utf-8",
        format!("arbeitsergebnisse-{slug}.md"),
    ))
}

pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let r = results(&state, &ctx, &slug).await?;
    Ok(download(
        csv(&r),
        "text/csv; charset=utf-8",
        format!("arbeitsergebnisse-{slug}.csv"),
    ))
}

pub async fn export_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let r = results(&state, &ctx, &slug).await?;
    Ok(download(
        crate::pdf::document(
            &format!("Arbeitsergebnisse – {}", r.title),
            "de-DE",
            &pdf_blocks(&r),
        ),
        "application/pdf",
        format!("arbeitsergebnisse-{slug}.pdf"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_what_people_wrote() {
        assert_eq!(md("**fett** <b>\nneu"), "\\*\\*fett\\*\\* \\<b\\> neu");
    }
}
