//! Uploading a document to its owner, and replacing it with a new version.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::documents::{MAX_FILE_NAME_CHARS, MAX_TITLE_CHARS, Upload, size_label};
use konvent_core::ids::DocumentId;
use konvent_store::{Document, NewFile, StoreError};

use super::{Access, document_for, editable, owner_from};
use crate::AppState;
use crate::ctx::{Ctx, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "document_form.html")]
struct FormPage {
    c: Chrome,
    action: String,
    back: String,
    owner: String,
    /// The title field (only for a new document).
    with_title: bool,
    title: String,
    title_error: Option<String>,
    file_error: Option<String>,
    max_size: String,
    max_title: usize,
}

fn form_page(
    ctx: &Ctx,
    state: &AppState,
    access: &Access,
    action: String,
    heading: String,
) -> FormPage {
    FormPage {
        c: Chrome::new(ctx, "gremien", heading),
        action,
        back: access.back.clone(),
        owner: access.label.clone(),
        with_title: true,
        title: String::new(),
        title_error: None,
        file_error: None,
        max_size: size_label(state.settings.max_document_bytes as i64),
        max_title: MAX_TITLE_CHARS,
    }
}

/// What an upload form sent.
struct Sent {
    title: String,
    file_name: String,
    bytes: Vec<u8>,
    too_large: bool,
}

/// Reads the form: CSRF token, title and file. A file over the limit (the route's body
/// limit or the setting) is not an error here: the form says so beside the field.
async fn read_form(ctx: &Ctx, state: &AppState, mut multipart: Multipart) -> AppResult<Sent> {
    let mut csrf = String::new();
    let mut sent = Sent {
        title: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
        too_large: false,
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                sent.too_large = true;
                break;
            }
            Err(e) => return Err(AppError::BadRequest(format!("Upload unlesbar: {e}"))),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|_| AppError::Csrf)?,
            Some("title") => {
                sent.title = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("Upload unlesbar: {e}")))?;
            }
            Some("file") => {
                sent.file_name = field
                    .file_name()
                    .unwrap_or("")
                    .chars()
                    .take(4 * MAX_FILE_NAME_CHARS)
                    .collect();
                match field.bytes().await {
                    Ok(bytes) => sent.bytes = bytes.to_vec(),
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        sent.too_large = true;
                        break;
                    }
                    Err(e) => return Err(AppError::BadRequest(format!("Upload unlesbar: {e}"))),
                }
            }
            _ => {}
        }
    }
    // A body cut off at the limit may not have reached the token: the form is shown
    // again, nothing is written, so the check can wait for a whole form.
    if !sent.too_large {
        check_csrf(ctx, &csrf)?;
    }
    if sent.bytes.len() > state.settings.max_document_bytes {
        sent.too_large = true;
    }
    Ok(sent)
}

/// Checks what was sent; the form again with the messages beside the fields, or the upload.
fn check(ctx: &Ctx, page: &mut FormPage, sent: &Sent) -> Result<Upload, StatusCode> {
    let t = ctx.tr();
    page.title = sent.title.clone();
    if sent.too_large {
        page.file_error = Some(t.with("documents-too-large", &[("max", &page.max_size)]));
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let title = page.with_title.then_some(sent.title.as_str());
    Upload::parse(title, &sent.file_name, &sent.bytes).map_err(|errors: FieldErrors| {
        let message = |field: &str| {
            errors.get(field).map(|e| {
                let key = format!("error-{}", e.code);
                let text = t.get(&key);
                if text == key { e.message.clone() } else { text }
            })
        };
        page.title_error = message("title");
        page.file_error = message("file");
        StatusCode::UNPROCESSABLE_ENTITY
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), kind = %kind, id = id))]
pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((kind, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let owner = owner_from(&kind, id)?;
    let access = editable(&state, &ctx, owner).await?;
    let page = form_page(
        &ctx,
        &state,
        &access,
        ctx.path.clone(),
        ctx.tr().get("documents-add"),
    );
    Ok(render(&page)?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), kind = %kind, id = id))]
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, i64)>,
    multipart: Multipart,
) -> AppResult<Response> {
    check_origin(&headers)?;
    let owner = owner_from(&kind, id)?;
    let access = editable(&state, &ctx, owner).await?;
    let sent = read_form(&ctx, &state, multipart).await?;
    let mut page = form_page(
        &ctx,
        &state,
        &access,
        ctx.path.clone(),
        ctx.tr().get("documents-add"),
    );
    let upload = match check(&ctx, &mut page, &sent) {
        Ok(upload) => upload,
        Err(status) => return Ok((status, render(&page)?).into_response()),
    };
    let file = NewFile {
        file_name: &upload.file_name,
        format: upload.format,
        bytes: &sent.bytes,
    };
    match state
        .store
        .add_document(&ctx.actor()?, owner, &upload.title, file)
        .await
    {
        Ok(_) => Ok(Redirect::to(&access.back).into_response()),
        Err(StoreError::Refused(refused)) => {
            page.file_error = Some(crate::refusals::text(ctx.tr(), &refused));
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn replace_page(ctx: &Ctx, state: &AppState, access: &Access, doc: &Document) -> FormPage {
    let heading = ctx
        .tr()
        .with("documents-replace-title", &[("title", &doc.title)]);
    let mut page = form_page(
        ctx,
        state,
        access,
        format!("/dokumente/{}/ersetzen", doc.id),
        heading,
    );
    page.with_title = false;
    page
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn replace_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<DocumentId>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let (doc, access) = document_for(&state, &ctx, id).await?;
    if !access.may_edit {
        return Err(AppError::Forbidden);
    }
    Ok(render(&replace_page(&ctx, &state, &access, &doc))?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<DocumentId>,
    multipart: Multipart,
) -> AppResult<Response> {
    check_origin(&headers)?;
    ctx.signed_in()?;
    let (doc, access) = document_for(&state, &ctx, id).await?;
    if !access.may_edit {
        return Err(AppError::Forbidden);
    }
    let sent = read_form(&ctx, &state, multipart).await?;
    let mut page = replace_page(&ctx, &state, &access, &doc);
    let upload = match check(&ctx, &mut page, &sent) {
        Ok(upload) => upload,
        Err(status) => return Ok((status, render(&page)?).into_response()),
    };
    let file = NewFile {
        file_name: &upload.file_name,
        format: upload.format,
        bytes: &sent.bytes,
    };
    match state.store.replace_document(&ctx.actor()?, id, file).await {
        Ok(_) => Ok(Redirect::to(&access.back).into_response()),
        Err(StoreError::Refused(refused)) => {
            page.file_error = Some(crate::refusals::text(ctx.tr(), &refused));
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
