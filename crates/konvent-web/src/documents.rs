//! Documents (G12): the files of agenda items, resolutions, target-picture versions and
//! workshops. Who sees a document and who changes it follows from what it belongs to,
//! by the rules its owner already has; a download is always an attachment in a sandbox.

use askama::Template;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::documents::{
    Format, MAX_FILE_NAME_CHARS, MAX_TITLE_CHARS, OwnerKind, Upload, attachment_disposition,
    size_label,
};
use konvent_store::{Document, NewFile, Owner, OwnerInfo, StoreError};
use serde_json::json;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, datetime_de, render};

/// The policy a download is served with: nothing runs, nothing loads, even if a browser
/// were to show it.
const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

/// What the reader may do with an owner's documents, and where the owner's page is.
pub struct Access {
    pub may_read: bool,
    pub may_edit: bool,
    /// The owner's page (with the anchor of the documents' list).
    pub back: String,
    /// The owner's name, as headings and breadcrumbs show it.
    pub label: String,
}

/// Decides by the owner's own rules: agenda items and workshops are public; a resolution
/// as the decision papers are ([`crate::council::visibility`]); a target-picture version
/// as the topic page shows it ([`crate::strategy::reads_confidential`]'s action). Who
/// runs a workshop ([`Action::RunWorkshop`]: the office, its event's organizers) keeps
/// its documents.
pub async fn access(state: &AppState, ctx: &Ctx, owner: Owner) -> AppResult<Access> {
    let t = ctx.tr();
    let info = state.store.document_owner(owner).await?;
    Ok(match info {
        OwnerInfo::AgendaItem {
            session_number,
            title,
        } => Access {
            may_read: true,
            may_edit: ctx.may(Action::EditCouncil),
            back: format!("/gremien/sitzungen/{session_number}#top-{}", owner.id),
            label: format!(
                "{} – {title}",
                crate::council::session_title(&t, session_number)
            ),
        },
        OwnerInfo::Resolution {
            year,
            number,
            title,
            state: resolution_state,
        } => Access {
            may_read: crate::council::visibility(ctx).allows(resolution_state),
            may_edit: ctx.may(Action::EditCouncil),
            back: format!(
                "/gremien/beschluesse/{year}/{number:02}#dokumente-resolution-{}",
                owner.id
            ),
            label: format!("{year}/{number:02} {title}"),
        },
        OwnerInfo::TargetPicture {
            topic_id,
            slug,
            version,
            visibility,
        } => {
            let may_read =
                visibility.is_public() || ctx.may(Action::ReadDraftTargetPicture(topic_id));
            Access {
                may_read,
                may_edit: may_read && ctx.may(Action::ConsolidateTopic(topic_id)),
                back: format!("/strategie/themen/{slug}#v{version}"),
                label: t.with(
                    "documents-target-picture",
                    &[("version", &version.to_string())],
                ),
            }
        }
        OwnerInfo::Workshop { title, event_id } => Access {
            may_read: true,
            may_edit: ctx.may(Action::RunWorkshop(event_id)),
            back: format!("/gremien/workshops/{0}#dokumente-workshop-{0}", owner.id),
            label: title,
        },
    })
}

/// [`access`] for a reader who must see the owner: "not found" otherwise, so that a
/// confidential owner's documents do not reveal that they exist.
async fn readable(state: &AppState, ctx: &Ctx, owner: Owner) -> AppResult<Access> {
    let access = access(state, ctx, owner).await?;
    if access.may_read {
        Ok(access)
    } else {
        Err(AppError::NotFound)
    }
}

/// [`readable`] for one who changes the documents: sign in first, or forbidden.
async fn editable(state: &AppState, ctx: &Ctx, owner: Owner) -> AppResult<Access> {
    ctx.signed_in()?;
    let access = readable(state, ctx, owner).await?;
    if access.may_edit {
        Ok(access)
    } else {
        Err(AppError::Forbidden)
    }
}

fn owner_from(kind: &str, id: i64) -> AppResult<Owner> {
    let kind = OwnerKind::parse(kind).ok_or(AppError::NotFound)?;
    Ok(Owner { kind, id })
}

// The list on the owners' pages ---------------------------------------------------------

/// One document as the owners' pages list it.
pub struct DocLine {
    pub id: i64,
    pub title: String,
    pub file_name: String,
    pub format: String,
    pub size: String,
    pub version: i64,
    pub date: String,
    /// Older versions: (number, date).
    pub older: Vec<(i64, String)>,
}

/// The documents of one owner, as its page shows them.
pub struct DocList {
    /// A unique part of the list's element ids (`agenda-item-12`).
    pub anchor: String,
    pub items: Vec<DocLine>,
    pub may_edit: bool,
    pub new_url: String,
    /// The page follows the deletion of one of this list's documents: say so.
    pub deleted: bool,
}

impl DocList {
    /// An empty list nobody may add to.
    pub fn none() -> Self {
        Self {
            anchor: String::new(),
            items: Vec::new(),
            may_edit: false,
            new_url: String::new(),
            deleted: false,
        }
    }

    /// Whether the page shows the list at all.
    pub fn shown(&self) -> bool {
        self.may_edit || self.deleted || !self.items.is_empty()
    }
}

fn line(d: &Document) -> DocLine {
    let current = d.current();
    DocLine {
        id: d.id,
        title: d.title.clone(),
        file_name: current.file_name.clone(),
        format: Format::from_content_type(&current.content_type).map_or_else(
            || current.content_type.clone(),
            |f| f.extension().to_uppercase(),
        ),
        size: size_label(current.size),
        version: current.version,
        date: datetime_de(current.created_at),
        older: d
            .versions
            .iter()
            .skip(1)
            .map(|v| (v.version, datetime_de(v.created_at)))
            .collect(),
    }
}

/// The query a page is shown with after a document of `owner` was deleted.
const DELETED_PARAM: &str = "dokument-geloescht";

fn anchor_of(owner: Owner) -> String {
    format!("{}-{}", owner.kind.as_str(), owner.id)
}

/// Whether the request is the page shown after a deletion from this owner's list.
fn after_deletion(ctx: &Ctx, owner: Owner) -> bool {
    let Some((_, query)) = ctx.path.split_once('?') else {
        return false;
    };
    let wanted = format!("{DELETED_PARAM}={}", anchor_of(owner));
    query.split('&').any(|pair| pair == wanted)
}

/// The owner's page (`back`, perhaps with an anchor) with the deletion's query.
fn with_deleted_notice(back: &str, owner: Owner) -> String {
    let (path, fragment) = match back.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (back, String::new()),
    };
    let joint = if path.contains('?') { '&' } else { '?' };
    format!(
        "{path}{joint}{DELETED_PARAM}={}{fragment}",
        anchor_of(owner)
    )
}

fn list_of(ctx: &Ctx, owner: Owner, docs: &[Document], may_edit: bool) -> DocList {
    DocList {
        anchor: anchor_of(owner),
        items: docs.iter().filter(|d| d.owner == owner).map(line).collect(),
        may_edit,
        new_url: format!("/dokumente/neu/{}/{}", owner.kind.as_str(), owner.id),
        deleted: may_edit && after_deletion(ctx, owner),
    }
}

/// The list of one owner the reader may see (the caller showed the owner itself).
pub async fn list(state: &AppState, ctx: &Ctx, owner: Owner) -> AppResult<DocList> {
    let access = access(state, ctx, owner).await?;
    let docs = if access.may_read {
        state.store.documents(owner).await?
    } else {
        Vec::new()
    };
    Ok(list_of(
        ctx,
        owner,
        &docs,
        access.may_read && access.may_edit,
    ))
}

/// The lists of several owners of one kind the page shows, read at once. The caller
/// shows only owners the reader may see; `may_edit` is the owner kind's edit right.
pub async fn lists(
    state: &AppState,
    ctx: &Ctx,
    kind: OwnerKind,
    ids: &[i64],
    may_edit: bool,
) -> AppResult<Vec<DocList>> {
    let docs = state.store.documents_of_kind(kind).await?;
    Ok(ids
        .iter()
        .map(|id| list_of(ctx, Owner { kind, id: *id }, &docs, may_edit))
        .collect())
}

// Upload and replace ------------------------------------------------------------------

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
        Err(StoreError::Conflict(message)) => {
            page.file_error = Some(message);
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A document and what the reader may do with it.
async fn document_for(state: &AppState, ctx: &Ctx, id: i64) -> AppResult<(Document, Access)> {
    let doc = state.store.document(id).await?;
    let access = readable(state, ctx, doc.owner).await?;
    Ok((doc, access))
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

pub async fn replace_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let (doc, access) = document_for(&state, &ctx, id).await?;
    if !access.may_edit {
        return Err(AppError::Forbidden);
    }
    Ok(render(&replace_page(&ctx, &state, &access, &doc))?.into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
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
        Err(StoreError::Conflict(message)) => {
            page.file_error = Some(message);
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// Delete ---------------------------------------------------------------------------------

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
async fn changeable(state: &AppState, ctx: &Ctx, id: i64) -> AppResult<(Document, Access)> {
    ctx.signed_in()?;
    let (doc, access) = document_for(state, ctx, id).await?;
    if access.may_edit {
        Ok((doc, access))
    } else {
        Err(AppError::Forbidden)
    }
}

/// The confirmation step: what goes (the document with all its versions), and a form.
pub async fn delete_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
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
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<DeleteForm>,
) -> AppResult<Response> {
    let (doc, access) = changeable(&state, &ctx, id).await?;
    let owner = state.store.delete_document(&ctx.actor()?, doc.id).await?;
    Ok(Redirect::to(&with_deleted_notice(&access.back, owner)).into_response())
}

// Downloads -----------------------------------------------------------------------------

async fn serve(state: &AppState, ctx: &Ctx, id: i64, version: Option<i64>) -> AppResult<Response> {
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
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    serve(&state, &ctx, id, None).await
}

/// One version's own address.
pub async fn download_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, version)): Path<(i64, i64)>,
) -> AppResult<Response> {
    serve(&state, &ctx, id, Some(version)).await
}

// JSON API --------------------------------------------------------------------------------

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
