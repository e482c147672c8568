-- The strategy process (S1–S4) and the World Café that feeds it (K9–K11, K13, K16):
-- focus topics and their target-picture versions, café rounds and tables, seats,
-- impulses, the pinboard with its dot votes, connection points, and the groups the
-- project team forms when it consolidates a topic's impulses.

CREATE TABLE topics (
    id                INTEGER PRIMARY KEY,
    slug              TEXT    NOT NULL UNIQUE,
    title             TEXT    NOT NULL,
    patron            TEXT    NOT NULL,
    question          TEXT    NOT NULL,
    -- JSON array of the questions a table moderator leads through.
    guiding_questions TEXT    NOT NULL,
    position          INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
);

CREATE TABLE target_pictures (
    id            INTEGER PRIMARY KEY,
    topic_id      INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version > 0),
    body          TEXT    NOT NULL,
    visibility    TEXT    NOT NULL CHECK (visibility IN ('draft', 'confidential', 'published')),
    resolution_id INTEGER REFERENCES resolutions (id) ON DELETE SET NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL,
    published_at  INTEGER,
    UNIQUE (topic_id, version)
);

CREATE TABLE cafe_rounds (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL CHECK (number > 0),
    status     TEXT    NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'running', 'ended')),
    minutes    INTEGER NOT NULL CHECK (minutes > 0),
    started_at INTEGER,
    ends_at    INTEGER,
    ended_at   INTEGER,
    UNIQUE (event_id, number)
);

CREATE TABLE cafe_tables (
    id           INTEGER PRIMARY KEY,
    round_id     INTEGER NOT NULL REFERENCES cafe_rounds (id) ON DELETE CASCADE,
    topic_id     INTEGER NOT NULL REFERENCES topics (id),
    room_id      INTEGER NOT NULL REFERENCES rooms (id),
    moderator_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    capacity     INTEGER NOT NULL CHECK (capacity > 0),
    summary      TEXT    NOT NULL DEFAULT '',
    summary_by   TEXT,
    summary_at   INTEGER,
    UNIQUE (round_id, topic_id)
);

CREATE TABLE table_seats (
    round_id   INTEGER NOT NULL REFERENCES cafe_rounds (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    table_id   INTEGER NOT NULL REFERENCES cafe_tables (id) ON DELETE CASCADE,
    assigned   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, account_id)
);
CREATE INDEX table_seats_by_table ON table_seats (table_id);

CREATE TABLE impulses (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    table_id    INTEGER NOT NULL REFERENCES cafe_tables (id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics (id),
    round       INTEGER NOT NULL,
    author_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    author_name TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    hidden      INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER REFERENCES impulses (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER
);
CREATE INDEX impulses_by_table ON impulses (table_id, id);
CREATE INDEX impulses_by_topic ON impulses (topic_id, id);
CREATE INDEX impulses_by_author ON impulses (author_id);

CREATE TABLE impulse_groups (
    id            INTEGER PRIMARY KEY,
    topic_id      INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    label         TEXT    NOT NULL,
    accepted_into INTEGER REFERENCES target_pictures (id) ON DELETE SET NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX impulse_groups_by_topic ON impulse_groups (topic_id);

CREATE TABLE impulse_group_members (
    impulse_id INTEGER PRIMARY KEY REFERENCES impulses (id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL REFERENCES impulse_groups (id) ON DELETE CASCADE
);
CREATE INDEX impulse_group_members_by_group ON impulse_group_members (group_id);

CREATE TABLE pins (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    topic_id    INTEGER REFERENCES topics (id) ON DELETE SET NULL,
    author_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    author_name TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'picked_up', 'closed')),
    -- Where it was taken up, or why it was closed.
    outcome     TEXT    NOT NULL DEFAULT '',
    outcome_url TEXT,
    decided_by  TEXT,
    decided_at  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX pins_by_event ON pins (event_id);

CREATE TABLE pin_votes (
    pin_id     INTEGER NOT NULL REFERENCES pins (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (pin_id, account_id)
);

CREATE TABLE connection_points (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target     TEXT    NOT NULL CHECK (target IN ('topic', 'impulse', 'pin')),
    target_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, target, target_id)
);
CREATE INDEX connection_points_by_target ON connection_points (target, target_id);
