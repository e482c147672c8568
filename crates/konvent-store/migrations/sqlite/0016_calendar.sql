-- Calendar entries in mails, event registration and meeting invitations (issue 18).
--
-- A mail may carry one iCalendar object (RFC 5545) with its iTIP method (REQUEST,
-- CANCEL, PUBLISH); like the bodies it is kept until the mail is sent, then erased.
--
-- An event's registration mode says who may register through the public form:
-- 'invitation' (nobody: the organizers add people; the default), 'open' (anyone with the
-- link, after confirming the address) or 'approval' (as open, then an organizer
-- approves). An optional capacity limits the registered; further confirmed registrants
-- wait in the order they confirmed. A registration's links carry single-use tokens of
-- which only hashes are stored: the address confirmation (erased once used) and the
-- cancellation.
--
-- A council session or follow-up meeting whose invitations were sent keeps the sequence
-- of its calendar entry (raised with every move, RFC 5546) and who was invited, so that
-- updates and cancellations reach the same people under the same UID.
-- Timestamps are Unix microseconds (UTC).

ALTER TABLE mail_outbox ADD COLUMN calendar_method TEXT;
ALTER TABLE mail_outbox ADD COLUMN calendar_ics TEXT;

ALTER TABLE events ADD COLUMN registration_mode TEXT NOT NULL DEFAULT 'invitation'
    CHECK (registration_mode IN ('invitation', 'open', 'approval'));
ALTER TABLE events ADD COLUMN registration_capacity INTEGER
    CHECK (registration_capacity IS NULL OR registration_capacity > 0);

CREATE TABLE event_registrations (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    organisation  TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('unconfirmed', 'awaiting_approval',
                          'registered', 'waiting', 'cancelled', 'declined')),
    confirm_hash  TEXT    UNIQUE,
    cancel_hash   TEXT    NOT NULL UNIQUE,
    confirmed_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (event_id, email)
);
CREATE INDEX event_registrations_by_status ON event_registrations (event_id, status, confirmed_at);

CREATE TABLE meeting_invitations (
    meeting_kind  TEXT    NOT NULL CHECK (meeting_kind IN ('session', 'follow_up')),
    meeting_id    INTEGER NOT NULL,
    sequence      INTEGER NOT NULL DEFAULT 0,
    -- Date, times and place of the last invitation sent: a change of them is a move.
    sent_as       TEXT    NOT NULL,
    cancelled_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (meeting_kind, meeting_id)
);

CREATE TABLE meeting_invitees (
    meeting_kind  TEXT    NOT NULL,
    meeting_id    INTEGER NOT NULL,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    invited_at    INTEGER NOT NULL,
    PRIMARY KEY (meeting_kind, meeting_id, email),
    FOREIGN KEY (meeting_kind, meeting_id)
        REFERENCES meeting_invitations (meeting_kind, meeting_id) ON DELETE CASCADE
);
