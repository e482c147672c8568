-- Bulk invitations (issue 18, DESIGN A2): an admin or organizer invites a checked list
-- of people at once. The list is checked whole before anything is written; then a
-- background job writes the invitations in batches (one transaction per batch, each
-- with its mails in the outbox) and counts them here, so that a progress page can show
-- "N of M written, K mails sent". Timestamps are Unix microseconds (UTC).

CREATE TABLE bulk_invitations (
    id          INTEGER PRIMARY KEY,
    created_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    -- The organizer's page the list came from; NULL for the admin page.
    event_id    INTEGER REFERENCES events (id) ON DELETE SET NULL,
    total       INTEGER NOT NULL,
    written     INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'done', 'failed')),
    error       TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX bulk_invitations_by ON bulk_invitations (created_by, created_at);

-- Which list a mail belongs to (for the count of mails sent).
ALTER TABLE mail_outbox ADD COLUMN bulk_id INTEGER REFERENCES bulk_invitations (id) ON DELETE SET NULL;
CREATE INDEX mail_outbox_bulk ON mail_outbox (bulk_id, status) WHERE bulk_id IS NOT NULL;

-- An invitation may add the new account to an event, and suggest the name the list gave.
ALTER TABLE login_tokens ADD COLUMN event_id INTEGER REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE login_tokens ADD COLUMN display_name TEXT;
