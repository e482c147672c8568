//! The minutes as tagged PDF.

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::view::{ResolutionView, View, view};
use super::{readable, require_reader, session_date};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::pdf::Block;

/// The tagged PDF of one version the reader may read.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, version = version))]
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
