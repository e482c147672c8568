-- Issue 20 (G7, G12): a workshop may belong to an event; that event's organizers keep
-- the workshop's documents. Without an event only the office does.
ALTER TABLE workshops ADD COLUMN event_id INTEGER REFERENCES events (id) ON DELETE SET NULL;

-- Issue 20 (G11): what konvent tells a person in konvent itself (beside a mail), e.g.
-- that the minutes of a session were released. A notice is keyed by what it is about
-- (kind, subject, version) per person and written with INSERT … ON CONFLICT DO NOTHING
-- in the transaction of the change and of its mail, so it comes once only.
-- Timestamps are Unix microseconds (UTC).
CREATE TABLE inbox_notices (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    subject_id INTEGER NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, kind, subject_id, version)
);
