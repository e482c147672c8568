-- konvent foundation: accounts, sessions, the event log, the audit log and the
-- directory of conferences (G1, G2). Timestamps are Unix microseconds (UTC); calendar
-- dates are ISO text (YYYY-MM-DD), which sorts correctly.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE grants (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    PRIMARY KEY (account_id, role, scope)
);

-- Single-use, expiring links: invitations (create an account) and sign-in links.
CREATE TABLE login_tokens (
    token_hash TEXT    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('invitation', 'sign_in')),
    email      TEXT    NOT NULL,
    role       TEXT,
    scope      TEXT,
    created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

-- Failed sign-ins, per e-mail address and per client address, for rate limiting.
CREATE TABLE sign_in_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);

-- The event log: every durable change inside a scope, numbered without gaps.
CREATE TABLE event_scopes (
    scope    TEXT    PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
CREATE TABLE event_log (
    scope   TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    payload TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (scope, seq)
);

CREATE TABLE conferences (
    id             INTEGER PRIMARY KEY,
    abbreviation   TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    lead_states    TEXT,
    office_contact TEXT,
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL
);

CREATE TABLE persons (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    title        TEXT,
    function     TEXT,
    organisation TEXT,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL
);

-- Who holds (or held, or will hold) which role for a conference. No person = vacancy.
CREATE TABLE role_assignments (
    id                    INTEGER PRIMARY KEY,
    conference_id         INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    role                  TEXT    NOT NULL CHECK (role IN ('spokesperson', 'contact', 'rapporteur')),
    person_id             INTEGER REFERENCES persons (id),
    function              TEXT,
    starts_on             TEXT,
    ends_on               TEXT,
    appointing_resolution TEXT,
    legal_basis           TEXT    NOT NULL,
    note                  TEXT,
    created_at            INTEGER NOT NULL,
    modified_at           INTEGER NOT NULL,
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX role_assignments_by_conference ON role_assignments (conference_id);
CREATE INDEX role_assignments_by_person ON role_assignments (person_id);

-- Every change to governance data: who, when, before and after (JSON).
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_id      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    actor         TEXT    NOT NULL,
    conference_id INTEGER REFERENCES conferences (id) ON DELETE SET NULL,
    entity        TEXT    NOT NULL,
    entity_id     INTEGER NOT NULL,
    action        TEXT    NOT NULL,
    before_json   TEXT,
    after_json    TEXT
);
CREATE INDEX audit_log_by_conference ON audit_log (conference_id, at);
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);
