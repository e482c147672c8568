//! Workshops (G7): the list, a workshop with its work results and documents, and its
//! export.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::cooperation::WorkResultInput;
use konvent_core::ids::WorkshopId;
use konvent_store::Workshop;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::AppResult;
use crate::layout::{Chrome, date_de, render};

#[derive(Template)]
#[template(path = "workshops.html")]
struct WorkshopsPage {
    c: Chrome,
    list: Vec<(WorkshopId, String, String)>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn workshops(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let list = state
        .store
        .workshops()
        .await?
        .into_iter()
        .map(|(id, title, date)| (id, title, date.as_ref().map(date_de).unwrap_or_default()))
        .collect();
    render(&WorkshopsPage {
        c: Chrome::new(&ctx, "gremien", ctx.tr().get("workshops-title")),
        list,
    })
}

#[derive(Template)]
#[template(path = "workshop.html")]
struct WorkshopPage {
    c: Chrome,
    w: Workshop,
    may_add: bool,
    error: Option<(i64, String)>,
    documents: crate::documents::DocList,
}

async fn workshop_documents(
    state: &AppState,
    ctx: &Ctx,
    id: WorkshopId,
) -> AppResult<crate::documents::DocList> {
    let owner = konvent_store::Owner {
        kind: konvent_core::documents::OwnerKind::Workshop,
        id: id.get(),
    };
    crate::documents::list(state, ctx, owner).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn workshop(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<WorkshopId>,
) -> AppResult<Html<String>> {
    let w = state.store.workshop(id).await?;
    let documents = workshop_documents(&state, &ctx, id).await?;
    render(&WorkshopPage {
        c: Chrome::new(&ctx, "gremien", w.title.clone()),
        documents,
        may_add: ctx.may(Action::AddWorkResult),
        w,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ResultForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    text: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id, question = question))]
pub async fn add_work_result(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, question)): Path<(WorkshopId, i64)>,
    CsrfForm(form): CsrfForm<ResultForm>,
) -> AppResult<Response> {
    ctx.require(Action::AddWorkResult)?;
    match WorkResultInput::parse(&form.group, &form.text) {
        Ok(input) => {
            state
                .store
                .add_work_result(&ctx.actor()?, id, question, &input)
                .await?;
            Ok(Redirect::to(&format!("/gremien/workshops/{id}#frage-{question}")).into_response())
        }
        Err(errors) => {
            let w = state.store.workshop(id).await?;
            let message = errors
                .0
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let page = WorkshopPage {
                documents: workshop_documents(&state, &ctx, id).await?,
                c: Chrome::new(&ctx, "gremien", w.title.clone()),
                may_add: true,
                w,
                error: Some((question, message)),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// The work results as Markdown, to pass on or print.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn export_workshop(
    State(state): State<AppState>,
    Id(id): Id<WorkshopId>,
) -> AppResult<Response> {
    let w = state.store.workshop(id).await?;
    let mut md = format!("# {}\n\n", w.title);
    if let Some(d) = &w.date {
        md.push_str(&format!("{}\n\n", date_de(d)));
    }
    for (i, q) in w.questions.iter().enumerate() {
        md.push_str(&format!("## {}. {}\n\n", i + 1, q.text));
        if q.results.is_empty() {
            md.push_str("_Noch keine Ergebnisse._\n\n");
        }
        for (group, text, _) in &q.results {
            md.push_str(&format!("**{group}:** {text}\n\n"));
        }
    }
    Ok((
        [
            (CONTENT_TYPE, "text/markdown; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"workshop-{id}-ergebnisse.md\""),
            ),
        ],
        md,
    )
        .into_response())
}
