-- Documents (G12, issue 20): files attached to an agenda item, a resolution, a
-- target-picture version or a workshop. A document keeps every version it was given;
-- the newest is what its stable address serves. The owner is named by kind and id
-- (the owners live in four tables); a document goes with its owner's confidentiality,
-- which is decided when it is read. Timestamps are Unix microseconds (UTC).
CREATE TABLE documents (
    id          BIGSERIAL PRIMARY KEY,
    owner_kind  TEXT    NOT NULL
        CHECK (owner_kind IN ('agenda-item', 'resolution', 'target-picture', 'workshop')),
    owner_id    BIGINT NOT NULL,
    title       TEXT    NOT NULL,
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX documents_by_owner ON documents (owner_kind, owner_id);

-- The file itself is kept in the database, so that both backends, backups and the
-- event log stay one thing; the size limit keeps rows small enough for that.
CREATE TABLE document_versions (
    document_id  BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT    NOT NULL,
    content      BYTEA   NOT NULL,
    uploaded_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    uploader     TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE INDEX document_versions_by_uploader ON document_versions (uploaded_by);
