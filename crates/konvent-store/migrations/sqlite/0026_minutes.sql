-- The minutes of a council session (Niederschrift, G11, issue 20), in versions. The
-- content is JSON generated from the session (attendance by account id, agenda,
-- resolutions with their frozen vote results, reports by status) plus the office's
-- notes; names are not stored, they are read from the accounts when shown.
-- A version is a draft, final (only the office sees it) or released (to the members).
-- Timestamps are Unix microseconds (UTC).
CREATE TABLE council_minutes (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES council_sessions (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('draft', 'final', 'released')),
    content      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    finalised_at INTEGER,
    released_at  INTEGER,
    UNIQUE (session_id, version)
);
