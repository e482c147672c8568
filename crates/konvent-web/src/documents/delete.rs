//! Deleting a document, after a page that asks.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::ids::DocumentId;
use konvent_store::Document;

use super::{Access, document_for, with_deleted_notice};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "document_delete.html")]
struct DeletePage {
    c: Chrome,
    back: String,
    owner: String,
    action: String,
    file_name: String,
    versions: usize,
}

/// A document the reader may change, or "not found" / "forbidden".
async fn changeable(state: &AppState, ctx: &Ctx, id: DocumentId) -> AppResult<(Document, Access)> {
    ctx.signed_in()?;
    let (doc, access) = document_for(state, ctx, id).await?;
    if access.may_edit {
        Ok((doc, access))
    } else {
        Err(AppError::Forbidden)
    }
}

/// The confirmation step: what goes (the document with all its versions), and a form.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn delete_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<DocumentId>,
) -> AppResult<Response> {
    let (doc, access) = changeable(&state, &ctx, id).await?;
    let heading = ctx
        .tr()
        .with("documents-delete-title", &[("title", &doc.title)]);
    Ok(render(&DeletePage {
        c: Chrome::new(&ctx, "gremien", heading),
        back: access.back,
        owner: access.label,
        action: format!("/dokumente/{id}/loeschen"),
        file_name: doc.current().file_name.clone(),
        versions: doc.versions.len(),
    })?
    .into_response())
}

#[derive(serde::Deserialize)]
pub struct DeleteForm {}

/// Deletes the document with every version; back to its owner's page, which says so.
/// Afterwards its addresses answer "not found".
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<DocumentId>,
    CsrfForm(_): CsrfForm<DeleteForm>,
) -> AppResult<Response> {
    let (doc, access) = changeable(&state, &ctx, id).await?;
    let owner = state.store.delete_document(&ctx.actor()?, doc.id).await?;
    Ok(Redirect::to(&with_deleted_notice(&access.back, owner)).into_response())
}
