-- Pseudonymous participation (issue 21): an organizer allows it per event; a
-- participant then appears there under a chosen name. `folded` is the name in lower
-- case, so two people cannot take names that differ only in case.
ALTER TABLE events ADD COLUMN pseudonyms_allowed BIGINT NOT NULL DEFAULT 0;

CREATE TABLE event_pseudonyms (
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    pseudonym  TEXT    NOT NULL,
    folded     TEXT    NOT NULL,
    set_at     BIGINT NOT NULL,
    PRIMARY KEY (event_id, account_id)
);
CREATE UNIQUE INDEX event_pseudonyms_by_name ON event_pseudonyms (event_id, folded);
