//! The start page and the landing pages of the three areas.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use konvent_core::authz::Action;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    counts: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let conferences = state.store.conferences().await?.len();
    let persons = state.store.persons().await?.len();
    let counts = ctx.tr().with(
        "home-gremien-count",
        &[
            ("conferences", &conferences.to_string()),
            ("persons", &persons.to_string()),
        ],
    );
    render(&HomePage {
        c: Chrome::new(&ctx, "", "konvent"),
        counts,
    })
}

#[derive(Template)]
#[template(path = "area_gremien.html")]
struct GremienPage {
    c: Chrome,
    summary: String,
    may_edit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn gremien(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let conferences = state.store.conferences().await?;
    let assignments = state.store.assignments_by_conference().await?;
    let today = konvent_store::today();
    let vacancies = assignments
        .values()
        .flatten()
        .filter(|a| a.person.is_none() && a.is_current(today))
        .count();
    let t = ctx.tr();
    let summary = t.with(
        "area-gremien-conferences",
        &[
            ("count", &conferences.len().to_string()),
            ("vacancies", &vacancies.to_string()),
        ],
    );
    render(&GremienPage {
        c: Chrome::new(&ctx, "gremien", t.get("area-gremien-title")),
        summary,
        may_edit: ctx.may(Action::EditDirectory),
    })
}
