-- Bulk invitations that survive a restart, and the organisation a list names (issue 18).
--
-- The checked list is stored with its job in one transaction before anything else
-- happens. A node works a job under a lease (claimed_by, lease_until), renewed with
-- every batch; a batch deletes the rows it wrote in its own transaction, so the rows
-- left are exactly those not yet written. A node that stops releases its lease; a node
-- that dies lets it run out; then any node (this one after its restart, or another)
-- claims the job and goes on with the rows left. A batch whose lease was taken over
-- writes nothing, so nobody is invited twice. Finished jobs keep no rows.
-- Timestamps are Unix microseconds (UTC).

ALTER TABLE bulk_invitations ADD COLUMN claimed_by TEXT;
ALTER TABLE bulk_invitations ADD COLUMN lease_until BIGINT;
-- The inviter's language: the mails' language for rows that name none.
ALTER TABLE bulk_invitations ADD COLUMN language TEXT NOT NULL DEFAULT 'de';

CREATE TABLE bulk_invitation_rows (
    job_id       BIGINT NOT NULL REFERENCES bulk_invitations (id) ON DELETE CASCADE,
    -- The row of the spreadsheet (or line of the pasted text): the order of writing.
    row_number   BIGINT NOT NULL,
    email        TEXT    NOT NULL,
    name         TEXT,
    organisation TEXT,
    role         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    event_id     BIGINT REFERENCES events (id) ON DELETE CASCADE,
    language     TEXT,
    PRIMARY KEY (job_id, row_number)
);

-- Where someone works, as a list gave it: kept on the invitation until it is used, then
-- on the account (a list never overwrites what an account already says).
ALTER TABLE login_tokens ADD COLUMN organisation TEXT;
ALTER TABLE accounts ADD COLUMN organisation TEXT;
