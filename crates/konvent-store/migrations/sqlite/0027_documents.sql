-- Documents (G12, issue 20): files attached to an agenda item, a resolution, a
-- target-picture version or a workshop. A document keeps every version it was given;
-- the newest is what its stable address serves. The owner is named by kind and id
-- (the owners live in four tables); a document goes with its owner's confidentiality,
-- which is decided when it is read. Timestamps are Unix microseconds (UTC).
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    owner_kind  TEXT    NOT NULL
        CHECK (owner_kind IN ('agenda-item', 'resolution', 'target-picture', 'workshop')),
    owner_id    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    created_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);
CREATE INDEX documents_by_owner ON documents (owner_kind, owner_id);

-- The file itself is kept in the database, so that both backends, backups and the
-- event log stay one thing; the size limit keeps rows small enough for that.
CREATE TABLE document_versions (
    document_id  INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    content      BLOB   NOT NULL,
    uploaded_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    uploader     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE INDEX document_versions_by_uploader ON document_versions (uploaded_by);
