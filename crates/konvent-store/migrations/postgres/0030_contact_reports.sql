-- Issue 22 (K15+): the message of a contact request can be reported to the moderators
-- ('contact').
ALTER TABLE moderation_reports DROP CONSTRAINT moderation_reports_item_check;
ALTER TABLE moderation_reports ADD CONSTRAINT moderation_reports_item_check
    CHECK (item IN ('chat', 'impulse', 'contact'));
