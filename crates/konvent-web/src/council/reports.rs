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
use konvent_core::ids::SessionId;
use konvent_store::Report;
use serde::{Deserialize, Serialize};

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

/// A conference's report as the reader may see it. Reports are internal (G4): everybody
/// sees whether a conference reported; its answers and who entered them only those who
/// may read that conference's reports ([`Action::ReadReport`]). Every page, API answer
/// and export shows reports through [`visible_reports`], so the rule lives here once.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub session_id: SessionId,
    pub conference: String,
    pub conference_name: String,
    /// `filed`, or `none` (no exchange, no report).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<ReportInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
}

impl ReportView {
    fn new(ctx: &Ctx, r: Report) -> Self {
        let readable =
            Abbreviation::parse(&r.conference).is_ok_and(|a| ctx.may(Action::ReadReport(&a)));
        let status = if r.input.no_exchange { "none" } else { "filed" };
        let (input, author, modified_at) = if readable {
            (Some(r.input), Some(r.author), Some(r.modified_at))
        } else {
            (None, None, None)
        };
        Self {
            session_id: r.session_id,
            conference: r.conference,
            conference_name: r.conference_name,
            status,
            input,
            author,
            modified_at,
        }
    }
}

/// The reports filed for a session, as the reader may see them.
pub async fn visible_reports(
    state: &AppState,
    ctx: &Ctx,
    session_id: SessionId,
) -> AppResult<Vec<ReportView>> {
    Ok(state
        .store
        .reports(session_id)
        .await?
        .into_iter()
        .map(|r| ReportView::new(ctx, r))
        .collect())
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, conference = %abbr))]
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, conference = %abbr))]
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
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, conference = %abbr))]
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
