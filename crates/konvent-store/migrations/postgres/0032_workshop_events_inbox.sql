-- Issue 20 (G7, G12): a workshop may belong to an event; that event's organizers keep
-- the workshop's documents. Without an event only the office does.
ALTER TABLE workshops ADD COLUMN event_id BIGINT REFERENCES events (id) ON DELETE SET NULL;

-- Issue 20 (G11): what konvent tells a person in konvent itself (beside a mail), e.g.
-- that the minutes of a session were released. A notice is keyed by what it is about
-- (kind, subject, version) per person and written with INSERT … ON CONFLICT DO NOTHING
-- in the transaction of the change and of its mail, so it comes once only.
-- Timestamps are Unix microseconds (UTC).
CREATE TABLE inbox_notices (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    subject_id BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, kind, subject_id, version)
);
