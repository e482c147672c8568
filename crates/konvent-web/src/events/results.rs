//! What an event produced: the work results as Markdown, CSV and PDF (summaries,
//! impulses per topic and round, pinboard, feedback summary). Organizers only; target
//! pictures are not part of it. The podium bundle is in [`super::podium`].

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use konvent_core::convention as core;
use konvent_core::export::CsvWriter;
use konvent_core::strategy::PinStatus;
use konvent_store::{FeedbackResults, Pin};

use super::podium::visible;
use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;

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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
