//! A spokesperson's informal report for a council session, along the guiding questions
//! of the deck, or the one-click "Kein Austausch – kein Bericht".

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::council::{GUIDING_QUESTIONS, ReportInput};
use serde::Deserialize;

use super::session_title;
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, Kind, attach};
use crate::layout::{Chrome, render};

/// The answers of a report with their guiding questions, in the deck's order.
pub fn answers(r: &ReportInput) -> Vec<(&'static str, Option<&str>)> {
    let values = [&r.collaboration, &r.perception, &r.topics, &r.problems];
    GUIDING_QUESTIONS
        .iter()
        .zip(values)
        .map(|((_, question), value)| (*question, value.as_deref()))
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    collaboration: String,
    #[serde(default)]
    perception: String,
    #[serde(default)]
    topics: String,
    #[serde(default)]
    problems: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    c: Chrome,
    number: i64,
    abbreviation: String,
    fields: Vec<Field>,
    problems: Vec<String>,
    current: Option<String>,
}

/// Checks that the session and conference exist and that the reader speaks for it.
async fn allowed(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
    abbr: &str,
) -> AppResult<(String, Abbreviation)> {
    let abbreviation = Abbreviation::parse(abbr).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::SpeakFor(&abbreviation))?;
    state.store.session(number).await?;
    let conference = state.store.conference(abbr).await?.conference;
    Ok((conference.name, abbreviation))
}

fn page(
    ctx: &Ctx,
    number: i64,
    abbr: &str,
    name: &str,
    form: &ReportForm,
    errors: &FieldErrors,
    current: Option<String>,
) -> ReportPage {
    let t = ctx.tr();
    let values = [
        &form.collaboration,
        &form.perception,
        &form.topics,
        &form.problems,
    ];
    let mut fields: Vec<Field> = GUIDING_QUESTIONS
        .iter()
        .zip(values)
        .map(|((name, question), value)| {
            let mut f = Field::new(&t, name, Kind::Textarea).value(value);
            f.label = (*question).to_owned();
            f
        })
        .collect();
    let problems = attach(&t, &mut fields, errors);
    let title = t.with(
        "report-title",
        &[
            ("conference", name),
            ("session", &session_title(&t, number)),
        ],
    );
    ReportPage {
        c: Chrome::new(ctx, "gremien", title),
        number,
        abbreviation: abbr.to_owned(),
        fields,
        problems,
        current,
    }
}

pub async fn report_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, abbr)): Path<(i64, String)>,
) -> AppResult<Response> {
    let (name, _) = allowed(&state, &ctx, number, &abbr).await?;
    let session = state.store.session(number).await?;
    let existing = state
        .store
        .reports(session.id)
        .await?
        .into_iter()
        .find(|r| r.conference == abbr);
    let t = ctx.tr();
    let current = existing.as_ref().map(|r| {
        if r.input.no_exchange {
            t.get("report-status-none")
        } else {
            t.get("report-status-filed")
        }
    });
    let form = existing
        .map(|r| ReportForm {
            collaboration: r.input.collaboration.unwrap_or_default(),
            perception: r.input.perception.unwrap_or_default(),
            topics: r.input.topics.unwrap_or_default(),
            problems: r.input.problems.unwrap_or_default(),
        })
        .unwrap_or_default();
    Ok(render(&page(
        &ctx,
        number,
        &abbr,
        &name,
        &form,
        &FieldErrors::new(),
        current,
    ))?
    .into_response())
}

pub async fn save_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, abbr)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> AppResult<Response> {
    let (name, _) = allowed(&state, &ctx, number, &abbr).await?;
    match ReportInput::parse(
        &form.collaboration,
        &form.perception,
        &form.topics,
        &form.problems,
    ) {
        Ok(report) => {
            state
                .store
                .file_report(&ctx.actor()?, number, &abbr, &report)
                .await?;
            Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#reporting")).into_response())
        }
        Err(errors) => {
            let page = page(&ctx, number, &abbr, &name, &form, &errors, None);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// "Kein Austausch – kein Bericht" in one click.
pub async fn no_exchange(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, abbr)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<crate::session::Empty>,
) -> AppResult<Response> {
    allowed(&state, &ctx, number, &abbr).await?;
    state
        .store
        .file_report(&ctx.actor()?, number, &abbr, &ReportInput::no_exchange())
        .await?;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#reporting")).into_response())
}
