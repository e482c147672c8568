//! Documents (G12): the files of agenda items, resolutions, target-picture versions and
//! workshops. Who sees a document and who changes it follows from what it belongs to,
//! by the rules its owner already has; a download is always an attachment in a sandbox.
//!
//! This module holds who may do what with an owner's documents and the lists on the
//! owners' pages; uploading and replacing ([`upload`]), deleting ([`delete`]),
//! downloading ([`download`]) and the JSON API ([`api`]) have their own files.

pub mod api;
pub mod delete;
pub mod download;
pub mod upload;

use konvent_core::authz::Action;
use konvent_core::documents::{Format, OwnerKind, size_label};
use konvent_core::ids::{DocumentId, EventId, TopicId};
use konvent_store::{Document, Owner, OwnerInfo};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::datetime_de;

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
            let may_read = visibility.is_public()
                || ctx.may(Action::ReadDraftTargetPicture(TopicId::new(topic_id)));
            Access {
                may_read,
                may_edit: may_read && ctx.may(Action::ConsolidateTopic(TopicId::new(topic_id))),
                back: format!("/strategie/themen/{slug}#v{version}"),
                label: t.with(
                    "documents-target-picture",
                    &[("version", &version.to_string())],
                ),
            }
        }
        OwnerInfo::Workshop { title, event_id } => Access {
            may_read: true,
            may_edit: ctx.may(Action::RunWorkshop(event_id.map(EventId::get))),
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
    pub id: DocumentId,
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

/// A document and what the reader may do with it.
async fn document_for(
    state: &AppState,
    ctx: &Ctx,
    id: DocumentId,
) -> AppResult<(Document, Access)> {
    let doc = state.store.document(id).await?;
    let access = readable(state, ctx, doc.owner).await?;
    Ok((doc, access))
}
