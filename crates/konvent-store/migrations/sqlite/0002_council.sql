-- Council sessions with their agendas, resolutions with their relevance for the
-- conferences, the conferences' reports per session, and the follow-up meetings
-- (G4, G5, G6). Rows carry created/modified times and a soft-delete mark, as OParl
-- needs them.

CREATE TABLE council_sessions (
    id          INTEGER PRIMARY KEY,
    number      INTEGER NOT NULL UNIQUE CHECK (number > 0),
    date        TEXT    NOT NULL,
    start_time  TEXT    NOT NULL,
    end_time    TEXT    NOT NULL,
    place       TEXT,
    video_url   TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('planned', 'invited', 'held', 'cancelled')),
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at  INTEGER
);

CREATE TABLE agenda_items (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES council_sessions (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    -- The standard item "Reporting FachMK" (from the 43rd session on).
    is_reporting INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE INDEX agenda_items_by_session ON agenda_items (session_id, position);

CREATE TABLE resolutions (
    id          INTEGER PRIMARY KEY,
    year        INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    links       TEXT    NOT NULL,
    session_id  INTEGER REFERENCES council_sessions (id) ON DELETE SET NULL,
    state       TEXT    NOT NULL CHECK (state IN ('draft', 'decided', 'published')),
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at  INTEGER,
    UNIQUE (year, number)
);

CREATE TABLE resolution_relevance (
    resolution_id INTEGER NOT NULL REFERENCES resolutions (id) ON DELETE CASCADE,
    conference_id INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    reason        TEXT    NOT NULL,
    PRIMARY KEY (resolution_id, conference_id)
);

-- One report per session and conference; "no exchange, no report" is a valid answer.
CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES council_sessions (id) ON DELETE CASCADE,
    conference_id INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    no_exchange   INTEGER NOT NULL,
    collaboration TEXT,
    perception    TEXT,
    topics        TEXT,
    problems      TEXT,
    author_id     INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    author        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL,
    UNIQUE (session_id, conference_id)
);

-- The working-level video meeting three weeks after a session.
CREATE TABLE follow_ups (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL UNIQUE REFERENCES council_sessions (id) ON DELETE CASCADE,
    date        TEXT    NOT NULL,
    start_time  TEXT    NOT NULL,
    end_time    TEXT    NOT NULL,
    video_url   TEXT,
    confirmed   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at  INTEGER
);
