//! The feedback survey of an event (K14): opened and closed by the organizers, answered
//! once per person, its results shown to the organizers without names.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::Refused;
use konvent_core::ids::AccountId;
use konvent_core::taken::Taken;
use konvent_store::StoreError;
use serde::Deserialize;

use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Deserialize)]
pub struct FeedbackToggle {
    open: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
    account: AccountId,
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
            Ok(()) | Err(StoreError::Refused(Refused::Taken(Taken::Feedback))) => {
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
