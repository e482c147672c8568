-- Titles the moderator gives the groups of the podium bundle (K13), per event and
-- topic, with the impulses the group had when it was named (a JSON array of impulse
-- ids): the title stays with the group that still holds most of them.

CREATE TABLE podium_titles (
    id        INTEGER PRIMARY KEY,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    topic_id  INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    title     TEXT    NOT NULL,
    members   TEXT    NOT NULL,
    named_by  TEXT    NOT NULL,
    named_at  INTEGER NOT NULL
);
CREATE INDEX podium_titles_by_event ON podium_titles (event_id, topic_id);
