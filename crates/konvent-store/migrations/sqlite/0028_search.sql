-- Search (issue 20). `search_index` holds one row per findable thing, with the text it
-- shows and `terms`, the stemmed, folded terms that konvent-core's `search::Terms` made
-- in Rust; `search_terms` (FTS5, rowid = search_index.id) indexes those terms. Who may
-- find a row is its `audience` (public, signed_in, confidential, conference:ABBR,
-- topic:ID, event:ID), decided when the row is written by the rules of the kind's page.
CREATE TABLE search_index (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    terms       TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    day         TEXT,
    year        INTEGER,
    state       TEXT    NOT NULL,
    -- ' DMK IMK ': the conferences it concerns, space-delimited on both sides.
    conferences TEXT    NOT NULL,
    link        TEXT    NOT NULL
);
CREATE INDEX search_index_by_kind ON search_index (kind);

CREATE VIRTUAL TABLE search_terms USING fts5 (terms, tokenize = 'unicode61');

-- The index is re-synced before a search, per kind, when its sources changed: every
-- write to a source table bumps the kind's `search_dirty` generation in the writer's own
-- transaction (the triggers below), and a search rebuilds each kind whose generation
-- differs from the one in `search_synced`. Two tables, so that writers never wait for
-- a rebuild's lock.
CREATE TABLE search_dirty (
    kind       TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
);
CREATE TABLE search_synced (
    kind       TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
);

-- Which source tables each kind reads (keep in step with konvent-store's search.rs).
CREATE TRIGGER search_resolutions_insert AFTER INSERT ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'target_picture');
END;
CREATE TRIGGER search_resolutions_update AFTER UPDATE ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'target_picture');
END;
CREATE TRIGGER search_resolutions_delete AFTER DELETE ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'target_picture');
END;
CREATE TRIGGER search_resolution_relevance_insert AFTER INSERT ON resolution_relevance BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution');
END;
CREATE TRIGGER search_resolution_relevance_update AFTER UPDATE ON resolution_relevance BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution');
END;
CREATE TRIGGER search_resolution_relevance_delete AFTER DELETE ON resolution_relevance BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution');
END;
CREATE TRIGGER search_conferences_insert AFTER INSERT ON conferences BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'concern');
END;
CREATE TRIGGER search_conferences_update AFTER UPDATE ON conferences BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'concern');
END;
CREATE TRIGGER search_conferences_delete AFTER DELETE ON conferences BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('resolution', 'concern');
END;
CREATE TRIGGER search_council_sessions_insert AFTER INSERT ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('session', 'agenda_item', 'resolution');
END;
CREATE TRIGGER search_council_sessions_update AFTER UPDATE ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('session', 'agenda_item', 'resolution');
END;
CREATE TRIGGER search_council_sessions_delete AFTER DELETE ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('session', 'agenda_item', 'resolution');
END;
CREATE TRIGGER search_agenda_items_insert AFTER INSERT ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('agenda_item');
END;
CREATE TRIGGER search_agenda_items_update AFTER UPDATE ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('agenda_item');
END;
CREATE TRIGGER search_agenda_items_delete AFTER DELETE ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('agenda_item');
END;
CREATE TRIGGER search_concerns_insert AFTER INSERT ON concerns BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('concern');
END;
CREATE TRIGGER search_concerns_update AFTER UPDATE ON concerns BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('concern');
END;
CREATE TRIGGER search_concerns_delete AFTER DELETE ON concerns BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('concern');
END;
CREATE TRIGGER search_topics_insert AFTER INSERT ON topics BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture', 'impulse');
END;
CREATE TRIGGER search_topics_update AFTER UPDATE ON topics BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture', 'impulse');
END;
CREATE TRIGGER search_topics_delete AFTER DELETE ON topics BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture', 'impulse');
END;
CREATE TRIGGER search_target_pictures_insert AFTER INSERT ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture');
END;
CREATE TRIGGER search_target_pictures_update AFTER UPDATE ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture');
END;
CREATE TRIGGER search_target_pictures_delete AFTER DELETE ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('target_picture');
END;
CREATE TRIGGER search_events_insert AFTER INSERT ON events BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_events_update AFTER UPDATE ON events BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_events_delete AFTER DELETE ON events BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_cafe_tables_insert AFTER INSERT ON cafe_tables BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_cafe_tables_update AFTER UPDATE ON cafe_tables BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_cafe_tables_delete AFTER DELETE ON cafe_tables BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_impulses_insert AFTER INSERT ON impulses BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_impulses_update AFTER UPDATE ON impulses BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
CREATE TRIGGER search_impulses_delete AFTER DELETE ON impulses BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
