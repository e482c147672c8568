-- Issue 22 (K15+): the message of a contact request can be reported to the moderators
-- ('contact'). SQLite cannot change a CHECK constraint: the table is rebuilt.
CREATE TABLE moderation_reports_new (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    item        TEXT    NOT NULL CHECK (item IN ('chat', 'impulse', 'contact')),
    item_id     INTEGER NOT NULL,
    reporter_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'removed', 'dismissed'))
);
INSERT INTO moderation_reports_new (id, event_id, item, item_id, reporter_id, reason, at, status)
    SELECT id, event_id, item, item_id, reporter_id, reason, at, status FROM moderation_reports;
DROP TABLE moderation_reports;
ALTER TABLE moderation_reports_new RENAME TO moderation_reports;
CREATE UNIQUE INDEX moderation_reports_once ON moderation_reports (event_id, item, item_id, reporter_id);

-- A follow-up group's date proposal (K16+), sent to its members as a calendar
-- invitation; a new proposal replaces it (the sequence counts up, so calendars update).
ALTER TABLE follow_up_groups ADD COLUMN meeting_start INTEGER;
ALTER TABLE follow_up_groups ADD COLUMN meeting_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE follow_up_groups ADD COLUMN meeting_place TEXT NOT NULL DEFAULT '';
ALTER TABLE follow_up_groups ADD COLUMN meeting_sequence INTEGER NOT NULL DEFAULT 0;
