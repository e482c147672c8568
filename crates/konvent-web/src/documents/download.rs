//! Downloads of a document and of its earlier versions: always an attachment, in a
//! sandbox.

use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use konvent_core::documents::{Format, attachment_disposition};
use konvent_core::ids::DocumentId;

use super::document_for;
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};

/// The policy a download is served with: nothing runs, nothing loads, even if a browser
/// were to show it.
const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

async fn serve(
    state: &AppState,
    ctx: &Ctx,
    id: DocumentId,
    version: Option<i64>,
) -> AppResult<Response> {
    let (doc, _) = document_for(state, ctx, id).await?;
    let v = match version {
        Some(n) => doc
            .versions
            .iter()
            .find(|v| v.version == n)
            .ok_or(AppError::NotFound)?,
        None => doc.current(),
    };
    let bytes = state.store.document_content(id, v.version).await?;
    // The stored type is one konvent chose by the bytes; anything else is served as bytes.
    let content_type = Format::from_content_type(&v.content_type)
        .map_or("application/octet-stream", Format::content_type);
    let disposition = HeaderValue::from_str(&attachment_disposition(&v.file_name))
        .map_err(|e| AppError::Internal(format!("disposition: {e}")))?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CONTENT_DISPOSITION, disposition);
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// The document's stable address: always its newest version.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<DocumentId>,
) -> AppResult<Response> {
    serve(&state, &ctx, id, None).await
}

/// One version's own address.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id, version = version))]
pub async fn download_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, version)): Path<(DocumentId, i64)>,
) -> AppResult<Response> {
    serve(&state, &ctx, id, Some(version)).await
}
