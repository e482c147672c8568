-- A spokesperson's duties per relevant resolution and conference, the concerns and topic
-- proposals the conferences bring to the council, and workshops with their work
-- results (G3, G7).

CREATE TABLE duties (
    id            INTEGER PRIMARY KEY,
    resolution_id INTEGER NOT NULL REFERENCES resolutions (id) ON DELETE CASCADE,
    conference_id INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    phase         TEXT    NOT NULL CHECK (phase IN ('before', 'during', 'after')),
    position      INTEGER NOT NULL,
    task          TEXT    NOT NULL,
    owner         TEXT,
    due_on        TEXT,
    done_at       INTEGER,
    done_by       TEXT,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL,
    UNIQUE (resolution_id, conference_id, position)
);
CREATE INDEX duties_by_conference ON duties (conference_id, done_at);

CREATE TABLE concerns (
    id            INTEGER PRIMARY KEY,
    conference_id INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('concern', 'topic')),
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    submitter_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    submitter     TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('open', 'accepted', 'answered', 'declined')),
    answer        TEXT,
    agenda_item_id INTEGER REFERENCES agenda_items (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL
);
CREATE INDEX concerns_by_conference ON concerns (conference_id);

CREATE TABLE workshops (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    date        TEXT,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);

CREATE TABLE workshop_questions (
    id          INTEGER PRIMARY KEY,
    workshop_id INTEGER NOT NULL REFERENCES workshops (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    text        TEXT    NOT NULL
);

CREATE TABLE workshop_results (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL REFERENCES workshop_questions (id) ON DELETE CASCADE,
    group_name  TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX workshop_results_by_question ON workshop_results (question_id);
