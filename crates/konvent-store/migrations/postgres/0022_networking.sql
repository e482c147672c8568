-- Networking (issue 22, K15+): opt-in profiles, contact requests, blocks, and follow-up
-- groups of the people who marked the same connection point. Timestamps are Unix
-- microseconds (UTC).

-- A profile for one event (event_id > 0) or for konvent as a whole (event_id = 0; no
-- foreign key for that reason). In an event, the event's own profile wins over the
-- konvent-wide one. `visibility`: 'nobody', 'event' (the event's participants; for the
-- konvent-wide profile: the participants of an event the person takes part in),
-- 'signed_in' (everybody signed in). `topics` is a JSON array of short strings.
CREATE TABLE network_profiles (
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_id      BIGINT NOT NULL DEFAULT 0,
    organisation  TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL DEFAULT '',
    region        TEXT    NOT NULL DEFAULT '',
    topics        TEXT    NOT NULL DEFAULT '[]',
    about         TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    share_email   BIGINT NOT NULL DEFAULT 0,
    visibility    TEXT    NOT NULL DEFAULT 'nobody'
                  CHECK (visibility IN ('nobody', 'event', 'signed_in')),
    show_location BIGINT NOT NULL DEFAULT 0,
    match_points  BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, event_id)
);
CREATE INDEX network_profiles_by_event ON network_profiles (event_id);

-- One request per ordered pair: a declined request stays (silently) so it is not
-- asked again; 'accepted' makes the two contacts.
CREATE TABLE contact_requests (
    id         BIGSERIAL PRIMARY KEY,
    from_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    to_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL DEFAULT 0,
    message    TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL DEFAULT 'open'
               CHECK (status IN ('open', 'accepted', 'declined')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    UNIQUE (from_id, to_id)
);
CREATE INDEX contact_requests_to ON contact_requests (to_id, status);

CREATE TABLE contact_blocks (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, blocked_id)
);
CREATE INDEX contact_blocks_blocked ON contact_blocks (blocked_id);

-- A small follow-up group started from a connection point (K16+).
CREATE TABLE follow_up_groups (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    target     TEXT    NOT NULL CHECK (target IN ('topic', 'impulse', 'pin')),
    target_id  BIGINT NOT NULL,
    created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE follow_up_group_members (
    group_id   BIGINT NOT NULL REFERENCES follow_up_groups (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX follow_up_group_members_by_account ON follow_up_group_members (account_id);
