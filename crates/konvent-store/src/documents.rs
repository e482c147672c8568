//! Documents (G12): files with versions attached to an agenda item, a resolution, a
//! target-picture version or a workshop. Each upload, each new version and each
//! deletion is one transaction with its audit entry; a document never loses a version
//! but goes as a whole.

use konvent_core::documents::DocumentRefusal;
use konvent_core::documents::{Format, MAX_PER_OWNER, MAX_VERSIONS, OwnerKind};
use konvent_core::ids::{AccountId, DocumentId, EventId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// What a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub kind: OwnerKind,
    pub id: i64,
}

/// One version of a document, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentVersion {
    pub version: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploader: String,
    pub created_at: i64,
}

/// A document with its versions, newest first (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub id: DocumentId,
    #[serde(skip)]
    pub owner: Owner,
    pub title: String,
    pub created_at: i64,
    pub modified_at: i64,
    pub versions: Vec<DocumentVersion>,
}

impl Document {
    /// The newest version, the one the document's own address serves.
    pub fn current(&self) -> &DocumentVersion {
        &self.versions[0]
    }
}

/// A file as it is stored: checked name and format, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    pub file_name: &'a str,
    pub format: Format,
    pub bytes: &'a [u8],
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

type DocRow = (i64, String, i64, String, i64, i64);
type VersionRow = (i64, i64, String, String, i64, String, String, i64);

const VERSION_COLUMNS: &str =
    "document_id, version, file_name, content_type, size, sha256, uploader, created_at";

fn assemble(docs: Vec<DocRow>, versions: Vec<VersionRow>) -> Result<Vec<Document>> {
    docs.into_iter()
        .map(|(id, kind, owner_id, title, created_at, modified_at)| {
            let kind = OwnerKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("document owner kind: {kind:?}")))?;
            let mut own: Vec<DocumentVersion> = versions
                .iter()
                .filter(|v| v.0 == id)
                .map(|v| DocumentVersion {
                    version: v.1,
                    file_name: v.2.clone(),
                    content_type: v.3.clone(),
                    size: v.4,
                    sha256: v.5.clone(),
                    uploader: v.6.clone(),
                    created_at: v.7,
                })
                .collect();
            own.sort_by_key(|v| std::cmp::Reverse(v.version));
            if own.is_empty() {
                return Err(StoreError::Corrupt(format!("document {id} has no version")));
            }
            Ok(Document {
                id: DocumentId::new(id),
                owner: Owner { kind, id: owner_id },
                title,
                created_at,
                modified_at,
                versions: own,
            })
        })
        .collect()
}

async fn insert_version(
    tx: &mut Tx,
    actor: &Actor,
    document_id: DocumentId,
    version: i64,
    file: NewFile<'_>,
    at: i64,
) -> Result<()> {
    let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO document_versions (document_id, version, file_name, content_type, size, \
         sha256, content, uploaded_by, uploader, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(document_id.get())
    .bind(version)
    .bind(file.file_name)
    .bind(file.format.content_type())
    .bind(size)
    .bind(hex::encode(Sha256::digest(file.bytes)))
    .bind(file.bytes.to_vec())
    .bind(actor.account_id.map(AccountId::get))
    .bind(&actor.name)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Attaches a new document (version 1) to its owner. Refused with
    /// [`DocumentRefusal::TooManyDocuments`] when the owner holds [`MAX_PER_OWNER`] documents already.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), owner_kind = ?owner.kind, owner_id = owner.id))]
    pub async fn add_document(
        &self,
        actor: &Actor,
        owner: Owner,
        title: &str,
        file: NewFile<'_>,
    ) -> Result<DocumentId> {
        let mut tx = self.begin_write().await?;
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM documents WHERE owner_kind = $1 AND owner_id = $2",
        )
        .bind(owner.kind.as_str())
        .bind(owner.id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= MAX_PER_OWNER as i64 {
            return Err(DocumentRefusal::TooManyDocuments.into());
        }
        let at = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO documents (owner_kind, owner_id, title, created_by, created_at, \
             modified_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(owner.kind.as_str())
        .bind(owner.id)
        .bind(title)
        .bind(actor.account_id.map(AccountId::get))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let id = DocumentId::new(id);
        insert_version(&mut tx, actor, id, 1, file, at).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "document",
                entity_id: id.get(),
                action: "create",
                before: None,
                after: Some(serde_json::json!({
                    "owner": owner.kind.as_str(), "owner_id": owner.id, "title": title,
                    "version": 1, "file_name": file.file_name, "size": file.bytes.len(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds the next version of a document; the older ones stay. Returns its number.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), document_id = %document_id))]
    pub async fn replace_document(
        &self,
        actor: &Actor,
        document_id: DocumentId,
        file: NewFile<'_>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (latest,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM document_versions WHERE document_id = $1")
                .bind(document_id.get())
                .fetch_one(&mut *tx)
                .await?;
        let latest = latest.ok_or(StoreError::NotFound)?;
        if latest >= MAX_VERSIONS {
            return Err(DocumentRefusal::TooManyVersions.into());
        }
        let at = now_micros();
        let version = latest + 1;
        insert_version(&mut tx, actor, document_id, version, file, at).await?;
        sqlx::query("UPDATE documents SET modified_at = $1 WHERE id = $2")
            .bind(at)
            .bind(document_id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "document",
                entity_id: document_id.get(),
                action: "new_version",
                before: Some(serde_json::json!({ "version": latest })),
                after: Some(serde_json::json!({
                    "version": version, "file_name": file.file_name, "size": file.bytes.len(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Removes a document with every version and its bytes (they live in its rows), in
    /// one transaction with its audit entry; the audit keeps what was removed, without
    /// the bytes. [`StoreError::NotFound`] when it does not exist (any more).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), document_id = %document_id))]
    pub async fn delete_document(&self, actor: &Actor, document_id: DocumentId) -> Result<Owner> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, i64, String)> =
            sqlx::query_as("SELECT owner_kind, owner_id, title FROM documents WHERE id = $1")
                .bind(document_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        let (kind, owner_id, title) = row.ok_or(StoreError::NotFound)?;
        let kind = OwnerKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("document owner kind: {kind:?}")))?;
        let versions: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT version, file_name, size, sha256 FROM document_versions \
             WHERE document_id = $1 ORDER BY version",
        )
        .bind(document_id.get())
        .fetch_all(&mut *tx)
        .await?;
        // Versions first: the cascade would do it, but not every connection of every
        // backend is sure to have foreign keys on.
        sqlx::query("DELETE FROM document_versions WHERE document_id = $1")
            .bind(document_id.get())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(document_id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "document",
                entity_id: document_id.get(),
                action: "deleted",
                before: Some(serde_json::json!({
                    "owner": kind.as_str(), "owner_id": owner_id, "title": title,
                    "versions": versions.iter().map(|(version, file_name, size, sha256)| {
                        serde_json::json!({
                            "version": version, "file_name": file_name, "size": size,
                            "sha256": sha256,
                        })
                    }).collect::<Vec<_>>(),
                })),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Owner { kind, id: owner_id })
    }

    /// The documents of one owner, oldest first, each with its versions.
    #[tracing::instrument(level = "debug", skip_all, fields(owner_kind = ?owner.kind, owner_id = owner.id))]
    pub async fn documents(&self, owner: Owner) -> Result<Vec<Document>> {
        let docs: Vec<DocRow> = sqlx::query_as(
            "SELECT id, owner_kind, owner_id, title, created_at, modified_at FROM documents \
             WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id",
        )
        .bind(owner.kind.as_str())
        .bind(owner.id)
        .fetch_all(&self.pool)
        .await?;
        let versions: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT v.{} FROM document_versions v JOIN documents d ON d.id = v.document_id \
             WHERE d.owner_kind = $1 AND d.owner_id = $2",
            VERSION_COLUMNS.replace(", ", ", v.")
        ))
        .bind(owner.kind.as_str())
        .bind(owner.id)
        .fetch_all(&self.pool)
        .await?;
        assemble(docs, versions)
    }

    /// Every document of one kind of owner (for OParl and the owners' lists), oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = ?kind))]
    pub async fn documents_of_kind(&self, kind: OwnerKind) -> Result<Vec<Document>> {
        let docs: Vec<DocRow> = sqlx::query_as(
            "SELECT id, owner_kind, owner_id, title, created_at, modified_at FROM documents \
             WHERE owner_kind = $1 ORDER BY id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        let versions: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT v.{} FROM document_versions v JOIN documents d ON d.id = v.document_id \
             WHERE d.owner_kind = $1",
            VERSION_COLUMNS.replace(", ", ", v.")
        ))
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        assemble(docs, versions)
    }

    /// One document with its versions; the caller checks that the reader may see its owner.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn document(&self, id: DocumentId) -> Result<Document> {
        let docs: Vec<DocRow> = sqlx::query_as(
            "SELECT id, owner_kind, owner_id, title, created_at, modified_at FROM documents \
             WHERE id = $1",
        )
        .bind(id.get())
        .fetch_all(&self.pool)
        .await?;
        let versions: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = $1"
        ))
        .bind(id.get())
        .fetch_all(&self.pool)
        .await?;
        assemble(docs, versions)?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    /// The bytes of one version of a document.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, version = version))]
    pub async fn document_content(&self, id: DocumentId, version: i64) -> Result<Vec<u8>> {
        let (content,): (Vec<u8>,) = sqlx::query_as(
            "SELECT content FROM document_versions WHERE document_id = $1 AND version = $2",
        )
        .bind(id.get())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(content)
    }
}

/// What the web layer needs to know of a document's owner to decide who sees and who
/// changes its documents, and where its page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerInfo {
    AgendaItem {
        session_number: i64,
        title: String,
    },
    Resolution {
        year: i64,
        number: i64,
        title: String,
        state: konvent_core::gremien::council::ResolutionState,
    },
    TargetPicture {
        topic_id: i64,
        slug: String,
        version: i64,
        visibility: konvent_core::strategy::Visibility,
    },
    Workshop {
        title: String,
        /// The event it belongs to, whose organizers keep its documents.
        event_id: Option<EventId>,
    },
}

impl Store {
    /// The owner a document belongs to, or "not found" when it does not exist (any more).
    #[tracing::instrument(level = "debug", skip_all, fields(owner_kind = ?owner.kind, owner_id = owner.id))]
    pub async fn document_owner(&self, owner: Owner) -> Result<OwnerInfo> {
        let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what}: {v:?}"));
        let info = match owner.kind {
            OwnerKind::AgendaItem => {
                let row: Option<(i64, String)> = sqlx::query_as(
                    "SELECT s.number, a.title FROM agenda_items a \
                     JOIN council_sessions s ON s.id = a.session_id \
                     WHERE a.id = $1 AND a.deleted_at IS NULL AND s.deleted_at IS NULL",
                )
                .bind(owner.id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(session_number, title)| OwnerInfo::AgendaItem {
                    session_number,
                    title,
                })
            }
            OwnerKind::Resolution => {
                let row: Option<(i64, i64, String, String)> = sqlx::query_as(
                    "SELECT year, number, title, state FROM resolutions \
                     WHERE id = $1 AND deleted_at IS NULL",
                )
                .bind(owner.id)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some((year, number, title, state)) => Some(OwnerInfo::Resolution {
                        year,
                        number,
                        title,
                        state: state.parse().map_err(|_| corrupt("state", &state))?,
                    }),
                    None => None,
                }
            }
            OwnerKind::TargetPicture => {
                let row: Option<(i64, String, i64, String)> = sqlx::query_as(
                    "SELECT t.id, t.slug, p.version, p.visibility FROM target_pictures p \
                     JOIN topics t ON t.id = p.topic_id WHERE p.id = $1",
                )
                .bind(owner.id)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some((topic_id, slug, version, visibility)) => Some(OwnerInfo::TargetPicture {
                        topic_id,
                        slug,
                        version,
                        visibility: visibility
                            .parse()
                            .map_err(|_| corrupt("visibility", &visibility))?,
                    }),
                    None => None,
                }
            }
            OwnerKind::Workshop => {
                let row: Option<(String, Option<i64>)> =
                    sqlx::query_as("SELECT title, event_id FROM workshops WHERE id = $1")
                        .bind(owner.id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(title, event_id)| OwnerInfo::Workshop {
                    title,
                    event_id: event_id.map(EventId::new),
                })
            }
        };
        info.ok_or(StoreError::NotFound)
    }
}
