//! The JSON API of documents: an owner's documents as a list.

use axum::Json;
use axum::extract::{Path, State};
use konvent_store::Document;
use serde_json::json;

use super::{owner_from, readable};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;

fn document_json(state: &AppState, d: &Document) -> serde_json::Value {
    let base = state.settings.public_base();
    json!({
        "id": d.id,
        "title": d.title,
        "url": format!("{base}/dokumente/{}", d.id),
        "version": d.current().version,
        "file_name": d.current().file_name,
        "content_type": d.current().content_type,
        "size": d.current().size,
        "created_at": d.created_at,
        "modified_at": d.modified_at,
        "versions": d.versions.iter().map(|v| json!({
            "version": v.version,
            "url": format!("{base}/dokumente/{}/versionen/{}", d.id, v.version),
            "file_name": v.file_name,
            "content_type": v.content_type,
            "size": v.size,
            "sha256": v.sha256,
            "created_at": v.created_at,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/documents/{kind}/{id}`: the documents of one owner the reader may see.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), kind = %kind, id = id))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((kind, id)): Path<(String, i64)>,
) -> AppResult<Json<serde_json::Value>> {
    let owner = owner_from(&kind, id)?;
    readable(&state, &ctx, owner).await?;
    let docs = state.store.documents(owner).await?;
    Ok(Json(json!({
        "owner": { "kind": owner.kind.as_str(), "id": owner.id },
        "documents": docs.iter().map(|d| document_json(&state, d)).collect::<Vec<_>>(),
    })))
}
