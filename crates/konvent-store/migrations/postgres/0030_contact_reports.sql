-- Issue 22 (K15+): the message of a contact request can be reported to the moderators
-- ('contact').
ALTER TABLE moderation_reports DROP CONSTRAINT moderation_reports_item_check;
ALTER TABLE moderation_reports ADD CONSTRAINT moderation_reports_item_check
    CHECK (item IN ('chat', 'impulse', 'contact'));

-- A follow-up group's date proposal (K16+), sent to its members as a calendar
-- invitation; a new proposal replaces it (the sequence counts up, so calendars update).
ALTER TABLE follow_up_groups ADD COLUMN meeting_start BIGINT;
ALTER TABLE follow_up_groups ADD COLUMN meeting_minutes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE follow_up_groups ADD COLUMN meeting_place TEXT NOT NULL DEFAULT '';
ALTER TABLE follow_up_groups ADD COLUMN meeting_sequence BIGINT NOT NULL DEFAULT 0;
