//! Podium questions (K13): the page that lists them, for supporting and moderating.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use konvent_core::ids::QuestionId;
use serde::Deserialize;

use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::layout::{Chrome, render};
use crate::live::fragments::{self, Fx};

/// The notice a questions page shows after a plain form post (`?hinweis=`).
pub(super) const ALREADY_SUPPORTED: &str = "schon-unterstuetzt";

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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
        let about = query.frage.trim().parse::<i64>().ok().map(QuestionId::new);
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
