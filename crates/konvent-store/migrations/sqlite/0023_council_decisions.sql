-- How the council decides (issue 20), the rest of G9/G10: a member's request to stop a
-- written procedure and take the matter to a session, the office's decision on it, and
-- who attended a session for whom. Timestamps are Unix microseconds (UTC).

-- A written procedure the office stopped: it ends without a result (closed_at and
-- result stay empty); the draft went onto the agenda of a session.
ALTER TABLE council_votes ADD COLUMN stopped_at INTEGER;
ALTER TABLE council_votes ADD COLUMN stopped_for_session INTEGER
    REFERENCES council_sessions (id) ON DELETE SET NULL;
-- A stopped procedure is no longer open: the draft may come to a vote again.
DROP INDEX council_votes_one_open;
CREATE UNIQUE INDEX council_votes_one_open ON council_votes (resolution_id)
    WHERE closed_at IS NULL AND stopped_at IS NULL;

-- One request per seat and procedure, with a short reason; the office's decision on
-- the requests ('stopped' or 'continued') is set on all of them at once.
CREATE TABLE council_stop_requests (
    vote_id     INTEGER NOT NULL REFERENCES council_votes (id) ON DELETE CASCADE,
    seat        TEXT    NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    decision    TEXT    CHECK (decision IN ('stopped', 'continued')),
    decided_at  INTEGER,
    PRIMARY KEY (vote_id, seat)
);

-- Who attended a session: a member for their seat, a deputy for a member's seat, a
-- guest of a FachMK (by its abbreviation), or an apology for a seat.
CREATE TABLE council_attendance (
    session_id  INTEGER NOT NULL REFERENCES council_sessions (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('member', 'deputy', 'guest', 'apology')),
    seat        TEXT,
    conference  TEXT,
    created_at  INTEGER NOT NULL,
    CHECK ((role = 'guest') = (seat IS NULL)),
    CHECK ((role = 'guest') = (conference IS NOT NULL)),
    PRIMARY KEY (session_id, account_id)
);
CREATE INDEX council_attendance_by_account ON council_attendance (account_id);
