-- Moderating an event (K17): who is muted or removed, which rooms' chat is locked,
-- reported items, and every moderation action (who, when, what, why).

-- Every moderation action; what was removed is kept here for the organizers (the live
-- log keeps only a tombstone of it).
CREATE TABLE moderation_actions (
    id        INTEGER PRIMARY KEY,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    actor_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    -- The item acted on (`chat`, `impulse`, `pin`, `question`) or the room (`room`).
    item      TEXT,
    item_id   INTEGER,
    room      TEXT,
    person_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    person    TEXT,
    content   TEXT,
    reason    TEXT    NOT NULL DEFAULT '',
    ends_at   INTEGER
);
CREATE INDEX moderation_actions_by_event ON moderation_actions (event_id, at);

-- `ends_at` NULL: for the rest of the event.
CREATE TABLE event_mutes (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ends_at    INTEGER,
    PRIMARY KEY (event_id, account_id)
);

-- People removed from an event; they may not come back until an organizer lets them.
CREATE TABLE event_removals (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    PRIMARY KEY (event_id, account_id)
);

CREATE TABLE room_chat_locks (
    room_id INTEGER PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE
);

CREATE TABLE moderation_reports (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    item        TEXT    NOT NULL CHECK (item IN ('chat', 'impulse')),
    item_id     INTEGER NOT NULL,
    reporter_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'removed', 'dismissed'))
);
CREATE UNIQUE INDEX moderation_reports_once ON moderation_reports (event_id, item, item_id, reporter_id);
