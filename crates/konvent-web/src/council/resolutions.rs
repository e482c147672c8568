//! Resolutions (G5): public once published; until then part of the confidential
//! decision papers that only council members and admins see.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::ResolutionNumber;
use konvent_core::gremien::council::{ResolutionInput, ResolutionState};
use konvent_core::gremien::majority::DraftKind;
use konvent_core::ids::ResolutionId;
use konvent_store::Resolution;
use serde::Deserialize;

use super::visibility;
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, choices, form_response, store_errors};
use crate::layout::{Chrome, render};

pub fn state_label(t: &crate::i18n::Tr, state: ResolutionState) -> String {
    t.get(&format!("resolution-state-{}", state.as_str()))
}

#[derive(Template)]
#[template(path = "resolutions.html")]
struct ResolutionsPage {
    c: Chrome,
    list: Vec<(Resolution, String)>,
    may_edit: bool,
    confidential: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn resolutions(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let list = state
        .store
        .resolutions(visibility(&ctx))
        .await?
        .into_iter()
        .map(|r| {
            let label = state_label(&t, r.state);
            (r, label)
        })
        .collect();
    render(&ResolutionsPage {
        c: Chrome::new(&ctx, "gremien", t.get("resolutions-title")),
        list,
        may_edit: ctx.may(Action::EditCouncil),
        confidential: ctx.may(Action::ReadConfidential),
    })
}

#[derive(Template)]
#[template(path = "resolution.html")]
struct ResolutionPage {
    c: Chrome,
    r: Resolution,
    state: String,
    kind: String,
    /// The vote's result and how it was counted, once decided by a vote.
    result: Option<(String, String)>,
    body_html: String,
    may_edit: bool,
    documents: crate::documents::DocList,
}

/// `/gremien/beschluesse/2024/15`
fn number(year: &str, nn: &str) -> AppResult<ResolutionNumber> {
    ResolutionNumber::parse(&format!("{year}/{nn}")).map_err(|_| AppError::NotFound)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), year = %year, number = %nn))]
pub async fn resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, nn)): Path<(String, String)>,
) -> AppResult<Html<String>> {
    let n = number(&year, &nn)?;
    let r = state
        .store
        .resolution(i64::from(n.year), i64::from(n.number), visibility(&ctx))
        .await?;
    let t = ctx.tr();
    let owner = konvent_store::Owner {
        kind: konvent_core::documents::OwnerKind::Resolution,
        id: r.id.get(),
    };
    let documents = crate::documents::list(&state, &ctx, owner).await?;
    render(&ResolutionPage {
        documents,
        c: Chrome::new(
            &ctx,
            "gremien",
            t.with(
                "resolution-heading",
                &[("number", &r.reference()), ("title", &r.title)],
            ),
        ),
        state: state_label(&t, r.state),
        kind: super::votes::kind_label(&t, r.kind),
        result: r.vote_result.as_ref().map(|tally| {
            (
                super::votes::result_line(&t, tally),
                super::votes::reading(&t, tally),
            )
        }),
        body_html: crate::markdown::to_html(&r.body),
        r,
        may_edit: ctx.may(Action::EditCouncil),
    })
}

#[derive(Deserialize, Default)]
pub struct ResolutionForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    session_number: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    relevance: String,
    #[serde(default)]
    kind: String,
}

/// Relevance lines `DMK: Grund` into (abbreviation, reason).
fn parse_relevance(text: &str, errors: &mut FieldErrors) -> Vec<(String, String)> {
    let mut list = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((abbr, _)) if list.iter().any(|(a, _)| a == abbr.trim()) => {
                errors.add(
                    "relevance",
                    "invalid-relevance",
                    format!("{} steht doppelt.", abbr.trim()),
                );
                break;
            }
            Some((abbr, reason))
                if !abbr.trim().is_empty() && !reason.trim().is_empty() && reason.len() <= 1000 =>
            {
                list.push((abbr.trim().to_owned(), reason.trim().to_owned()));
            }
            _ => {
                errors.add(
                    "relevance",
                    "invalid-relevance",
                    format!("Bitte „Kürzel: Begründung“ schreiben: {line}"),
                );
                break;
            }
        }
    }
    list
}

fn resolution_page(
    ctx: &Ctx,
    action: String,
    title: String,
    f: &ResolutionForm,
    cancel: String,
) -> FormPage {
    let t = ctx.tr();
    let states = ResolutionState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), state_label(&t, *s)));
    let kinds = DraftKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), super::votes::kind_label(&t, *k)));
    let fields = vec![
        Field::text(&t, "number", &f.number)
            .required()
            .hint(t.get("hint-resolution")),
        Field::text(&t, "title", &f.title).required(),
        Field::new(&t, "body", Kind::Textarea)
            .value(&f.body)
            .hint(t.get("hint-markdown")),
        Field::new(&t, "links", Kind::Textarea)
            .value(&f.links)
            .hint(t.get("hint-links")),
        Field::text(&t, "session_number", &f.session_number)
            .hint(t.get("hint-session-of-resolution")),
        Field::new(&t, "state", Kind::Select(choices(states, &f.state)))
            .required()
            .hint(t.get("hint-resolution-state")),
        Field::new(&t, "kind", Kind::Select(choices(kinds, &f.kind)))
            .required()
            .hint(t.get("hint-resolution-kind")),
        Field::new(&t, "relevance", Kind::Textarea)
            .value(&f.relevance)
            .hint(t.get("hint-relevance")),
    ];
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", title),
        action,
        fields,
        t.get("save"),
    );
    page.cancel = Some(cancel);
    page
}

async fn save(
    state: &AppState,
    ctx: &Ctx,
    existing: Option<ResolutionId>,
    form: &ResolutionForm,
) -> AppResult<Result<String, FieldErrors>> {
    let parsed = ResolutionInput::parse(
        &form.number,
        &form.title,
        &form.body,
        &form.links,
        &form.session_number,
        &form.state,
    );
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let relevance = parse_relevance(&form.relevance, &mut errors);
    let kind = match form.kind.trim() {
        "" => Some(DraftKind::default()),
        k => k
            .parse::<DraftKind>()
            .map_err(|m| errors.add("kind", "invalid-choice", m))
            .ok(),
    };
    let (Ok(mut input), Some(kind)) = (parsed, kind) else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    input.kind = kind;
    let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
    match state
        .store
        .save_resolution_notifying(&ctx.actor()?, existing, &input, &relevance, &render)
        .await
    {
        Ok((_, queued)) => {
            if queued > 0 {
                state.mail.wake();
            }
            Ok(Ok(format!(
                "/gremien/beschluesse/{}/{:02}",
                input.number.year, input.number.number
            )))
        }
        Err(e) => Ok(Err(store_errors(ctx.tr(), "number", e)?)),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn new_resolution(ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let form = ResolutionForm {
        state: ResolutionState::Draft.as_str().into(),
        kind: DraftKind::default().as_str().into(),
        ..ResolutionForm::default()
    };
    let page = resolution_page(
        &ctx,
        "/gremien/beschluesse/neu".into(),
        ctx.tr().get("resolution-new"),
        &form,
        "/gremien/beschluesse".into(),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn create_resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ResolutionForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    match save(&state, &ctx, None, &form).await? {
        Ok(location) => Ok(Redirect::to(&location).into_response()),
        Err(errors) => {
            let page = resolution_page(
                &ctx,
                "/gremien/beschluesse/neu".into(),
                ctx.tr().get("resolution-new"),
                &form,
                "/gremien/beschluesse".into(),
            );
            form_response(page, &errors)
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), year = %year, number = %nn))]
pub async fn edit_resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, nn)): Path<(String, String)>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let n = number(&year, &nn)?;
    let r = state
        .store
        .resolution(
            i64::from(n.year),
            i64::from(n.number),
            konvent_store::Visibility::Confidential,
        )
        .await?;
    let form = ResolutionForm {
        number: r.reference(),
        title: r.title.clone(),
        body: r.body.clone(),
        links: r.links.join("\n"),
        session_number: r.session_number.map(|n| n.to_string()).unwrap_or_default(),
        state: r.state.as_str().into(),
        kind: r.kind.as_str().into(),
        relevance: r
            .relevance
            .iter()
            .map(|v| format!("{}: {}", v.conference, v.reason))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let path = format!("/gremien/beschluesse/{}/{:02}", r.year, r.number);
    let page = resolution_page(
        &ctx,
        format!("{path}/bearbeiten"),
        ctx.tr().get("resolution-edit"),
        &form,
        path,
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), year = %year, number = %nn))]
pub async fn update_resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, nn)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ResolutionForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let n = number(&year, &nn)?;
    let r = state
        .store
        .resolution(
            i64::from(n.year),
            i64::from(n.number),
            konvent_store::Visibility::Confidential,
        )
        .await?;
    match save(&state, &ctx, Some(r.id), &form).await? {
        Ok(location) => Ok(Redirect::to(&location).into_response()),
        Err(errors) => {
            let path = format!("/gremien/beschluesse/{}/{:02}", r.year, r.number);
            let page = resolution_page(
                &ctx,
                format!("{path}/bearbeiten"),
                ctx.tr().get("resolution-edit"),
                &form,
                path,
            );
            form_response(page, &errors)
        }
    }
}
