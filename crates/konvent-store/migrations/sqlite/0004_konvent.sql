-- The live convention (K1–K7, K12–K15): events with their agenda, rooms, who takes part,
-- and the live log: every durable change inside an event with the event's next sequence
-- number, written in the transaction of its effect.

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    slug           TEXT    NOT NULL UNIQUE,
    title          TEXT    NOT NULL,
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL,
    house_rules    TEXT    NOT NULL,
    mute_threshold INTEGER NOT NULL DEFAULT 20 CHECK (mute_threshold >= 0),
    feedback_url   TEXT,
    feedback_open  INTEGER NOT NULL DEFAULT 0,
    -- The agenda item the organizer has advanced to (index), NULL = follow the clock.
    current_item   INTEGER,
    timer_label    TEXT,
    timer_seconds  INTEGER,
    timer_ends_at  INTEGER,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL,
    CHECK (ends_at >= starts_at)
);

CREATE TABLE event_agenda (
    id        INTEGER PRIMARY KEY,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    title     TEXT    NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL,
    CHECK (ends_at >= starts_at)
);
CREATE INDEX event_agenda_by_event ON event_agenda (event_id, position);

CREATE TABLE rooms (
    id           INTEGER PRIMARY KEY,
    event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    slug         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('plenary', 'helpdesk', 'lounge', 'table', 'other')),
    capacity     INTEGER NOT NULL CHECK (capacity > 0),
    moderator_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    speaker_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    position     INTEGER NOT NULL,
    UNIQUE (event_id, slug)
);

-- Who takes part: participants, and the named helpers of the help desk (K12).
CREATE TABLE event_people (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('participant', 'helper')),
    PRIMARY KEY (event_id, account_id)
);

CREATE TABLE live_log (
    event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    room         TEXT,
    -- Who may see it: everybody in the event; the sender and the event's staff
    -- (organizers, helpers: messages to the help desk, questions not yet approved); or
    -- only sender and recipient.
    audience     TEXT    NOT NULL CHECK (audience IN ('all', 'staff', 'direct')),
    sender_id    INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    recipient_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    client_id    TEXT,
    data         TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (event_id, seq)
);
CREATE INDEX live_log_by_room ON live_log (event_id, room, kind, seq);
-- A command re-sent after a reconnect is recognised by its client id.
CREATE UNIQUE INDEX live_log_by_client ON live_log (event_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;

CREATE TABLE hands (
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    raised_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);

CREATE TABLE questions (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    anonymous  INTEGER NOT NULL DEFAULT 0,
    text       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'answered', 'rejected')),
    created_at INTEGER NOT NULL
);
CREATE INDEX questions_by_event ON questions (event_id);

CREATE TABLE question_votes (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (question_id, account_id)
);

-- Feedback is anonymous to organizers: who answered and what was answered are kept
-- apart (no account, no time on the answer), so neither a page nor the database links
-- them; `feedback_given` only enforces one answer per person.
CREATE TABLE feedback_given (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, account_id)
);
CREATE TABLE feedback_answers (
    -- A random id: the order of answers says nothing about who gave them.
    id       INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    rating   INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment  TEXT
);
