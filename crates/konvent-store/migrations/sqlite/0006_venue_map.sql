-- The venue map of an event (K8): the organizer's own map, imported from the Tiled
-- editor and checked, stored as konvent's normalised form. Without a row the event
-- walks on the map generated from its rooms.

CREATE TABLE venue_maps (
    event_id    INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    source_name TEXT    NOT NULL,
    map_json    TEXT    NOT NULL,
    uploaded_by TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
