//! The conferences' concerns (G7): the list, submitting one, and its triage.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::cooperation::{ConcernInput, ConcernKind, ConcernStatus, TriageInput};
use konvent_core::ids::ConcernId;
use konvent_store::Concern;
use serde::Deserialize;

use super::{conferences_for, work_for};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, attach, choices, form_response, store_errors};
use crate::layout::{Chrome, datetime_de, render};

fn status_label(t: &crate::i18n::Tr, s: ConcernStatus) -> String {
    t.get(&format!("concern-status-{}", s.as_str()))
}

fn kind_label(t: &crate::i18n::Tr, k: ConcernKind) -> String {
    t.get(&format!("concern-kind-{}", k.as_str()))
}

#[derive(Template)]
#[template(path = "concerns.html")]
struct ConcernsPage {
    c: Chrome,
    rows: Vec<(Concern, String, String)>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn concerns(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let principal = ctx.signed_in()?;
    let mine = conferences_for(&state, principal, work_for).await?;
    if mine.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::Forbidden);
    }
    let t = ctx.tr();
    let rows = state
        .store
        .concerns(mine.as_deref())
        .await?
        .into_iter()
        .map(|k| {
            let (kind, status) = (kind_label(&t, k.kind), status_label(&t, k.status));
            (k, kind, status)
        })
        .collect();
    render(&ConcernsPage {
        c: Chrome::new(&ctx, "gremien", t.get("concerns-title")),
        rows,
    })
}

#[derive(Deserialize, Default)]
pub struct ConcernForm {
    #[serde(default)]
    conference: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn concern_page(state: &AppState, ctx: &Ctx, f: &ConcernForm) -> AppResult<FormPage> {
    let t = ctx.tr();
    let principal = ctx.signed_in()?;
    let mine = conferences_for(state, principal, work_for).await?;
    let options: Vec<(String, String)> = state
        .store
        .conferences()
        .await?
        .into_iter()
        .filter(|c| mine.as_ref().is_none_or(|m| m.contains(&c.abbreviation)))
        .map(|c| {
            (
                c.abbreviation.clone(),
                format!("{} ({})", c.name, c.abbreviation),
            )
        })
        .collect();
    if options.is_empty() {
        return Err(AppError::Forbidden);
    }
    let kinds = ConcernKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), kind_label(&t, *k)));
    let fields = vec![
        Field::new(
            &t,
            "conference",
            Kind::Select(choices(options, &f.conference)),
        )
        .required(),
        Field::new(&t, "kind", Kind::Select(choices(kinds, &f.kind))).required(),
        Field::text(&t, "title", &f.title).required(),
        Field::new(&t, "body", Kind::Textarea)
            .value(&f.body)
            .required(),
    ];
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", t.get("concern-new")),
        "/gremien/anliegen/neu",
        fields,
        t.get("concern-submit"),
    );
    page.intro = Some(t.get("concern-new-lead"));
    page.cancel = Some("/gremien/anliegen".into());
    Ok(page)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn new_concern(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let form = ConcernForm {
        kind: ConcernKind::Concern.as_str().into(),
        ..ConcernForm::default()
    };
    form_response(
        concern_page(&state, &ctx, &form).await?,
        &FieldErrors::new(),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn submit_concern(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ConcernForm>,
) -> AppResult<Response> {
    let conference = Abbreviation::parse(&form.conference).map_err(|_| AppError::Forbidden);
    let conference = match conference {
        Ok(c) => c,
        Err(e) => {
            ctx.signed_in()?;
            return Err(e);
        }
    };
    ctx.require(Action::WorkFor(&conference))?;
    match ConcernInput::parse(&form.kind, &form.title, &form.body) {
        Ok(input) => {
            let id = state
                .store
                .submit_concern(&ctx.actor()?, conference.as_str(), &input)
                .await?;
            Ok(Redirect::to(&format!("/gremien/anliegen/{id}")).into_response())
        }
        Err(errors) => form_response(concern_page(&state, &ctx, &form).await?, &errors),
    }
}

#[derive(Template)]
#[template(path = "concern.html")]
struct ConcernPage {
    c: Chrome,
    k: Concern,
    kind: String,
    status: String,
    submitted: String,
    triage: Option<Vec<Field>>,
    problems: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct TriageForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    session_number: String,
}

/// The sessions a concern can be put on: those still to come (not held, not cancelled,
/// not past), soonest first, after an empty "please choose". The session the concern is
/// already on stays listed, so that saving the answer keeps it.
async fn session_choices(
    state: &AppState,
    ctx: &Ctx,
    k: &Concern,
    selected: &str,
) -> AppResult<Vec<crate::forms::Choice>> {
    let t = ctx.tr();
    let mut sessions: Vec<_> = state
        .store
        .sessions()
        .await?
        .into_iter()
        .filter(|s| konvent_store::is_upcoming(s) || k.session_number == Some(s.number))
        .collect();
    sessions.sort_by_key(|s| (s.date, s.number));
    let options = std::iter::once((String::new(), t.get("choose-session")))
        .chain(sessions.into_iter().map(|s| {
            (
                s.number.to_string(),
                format!(
                    "{} – {}",
                    crate::council::session_title(&t, s.number),
                    crate::council::weekday_date(&t, &s.date)
                ),
            )
        }))
        .collect::<Vec<_>>();
    Ok(choices(options, selected))
}

async fn concern_view(
    state: &AppState,
    ctx: &Ctx,
    id: ConcernId,
    f: Option<&TriageForm>,
    errors: &FieldErrors,
) -> AppResult<ConcernPage> {
    let k = state.store.concern(id).await?;
    let conference = Abbreviation::parse(&k.conference).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::WorkFor(&conference))?;
    let t = ctx.tr();
    let (triage, problems) = if ctx.may(Action::EditCouncil) {
        let current = TriageForm {
            status: k.status.as_str().into(),
            answer: k.answer.clone().unwrap_or_default(),
            session_number: k.session_number.map(|n| n.to_string()).unwrap_or_default(),
        };
        let f = f.unwrap_or(&current);
        let statuses = ConcernStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(&t, *s)));
        let mut fields = vec![
            Field::new(&t, "status", Kind::Select(choices(statuses, &f.status))).required(),
            Field::new(&t, "answer", Kind::Textarea)
                .value(&f.answer)
                .hint(t.get("hint-concern-answer")),
            Field {
                label: t.get("field-upcoming-session"),
                ..Field::new(
                    &t,
                    "session_number",
                    Kind::Select(session_choices(state, ctx, &k, &f.session_number).await?),
                )
            }
            .hint(t.get("hint-concern-session")),
        ];
        let problems = attach(&t, &mut fields, errors);
        (Some(fields), problems)
    } else {
        (None, vec![])
    };
    Ok(ConcernPage {
        c: Chrome::new(ctx, "gremien", k.title.clone()),
        kind: kind_label(&t, k.kind),
        status: status_label(&t, k.status),
        submitted: datetime_de(k.created_at),
        k,
        triage,
        problems,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn concern(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<ConcernId>,
) -> AppResult<Html<String>> {
    render(&concern_view(&state, &ctx, id, None, &FieldErrors::new()).await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn triage_concern(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<ConcernId>,
    CsrfForm(form): CsrfForm<TriageForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let errors = match TriageInput::parse(&form.status, &form.answer, &form.session_number) {
        Ok(triage) => {
            let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
            match state
                .store
                .triage_concern_notifying(&ctx.actor()?, id, &triage, &render)
                .await
            {
                Ok(queued) => {
                    if queued > 0 {
                        state.mail.wake();
                    }
                    return Ok(Redirect::to(&format!("/gremien/anliegen/{id}")).into_response());
                }
                Err(e) => store_errors(ctx.tr(), "status", e)?,
            }
        }
        Err(errors) => errors,
    };
    let page = concern_view(&state, &ctx, id, Some(&form), &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}
