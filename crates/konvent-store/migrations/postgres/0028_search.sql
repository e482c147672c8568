-- Search (issue 20); see the SQLite migration for the design. PostgreSQL searches
-- `terms` with to_tsvector('simple', …), which splits the pre-stemmed terms exactly as
-- SQLite's unicode61 tokenizer does and changes none of them.
CREATE TABLE search_index (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    terms       TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    day         TEXT,
    year        BIGINT,
    state       TEXT    NOT NULL,
    conferences TEXT    NOT NULL,
    link        TEXT    NOT NULL,
    tsv         tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED
);
CREATE INDEX search_index_by_kind ON search_index (kind);
CREATE INDEX search_index_tsv ON search_index USING GIN (tsv);

CREATE TABLE search_dirty (
    kind       TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);
CREATE TABLE search_synced (
    kind       TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);

-- Bumps the generation of the kinds named in the trigger's arguments, once per
-- statement (a batch of impulses costs one update).
CREATE FUNCTION search_touch() RETURNS trigger AS $$
BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind = ANY (TG_ARGV);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Which source tables each kind reads (keep in step with konvent-store's search.rs).
CREATE TRIGGER search_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('resolution', 'target_picture');
CREATE TRIGGER search_resolution_relevance AFTER INSERT OR UPDATE OR DELETE ON resolution_relevance
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('resolution');
CREATE TRIGGER search_conferences AFTER INSERT OR UPDATE OR DELETE ON conferences
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('resolution', 'concern');
CREATE TRIGGER search_council_sessions AFTER INSERT OR UPDATE OR DELETE ON council_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('session', 'agenda_item', 'resolution');
CREATE TRIGGER search_agenda_items AFTER INSERT OR UPDATE OR DELETE ON agenda_items
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('agenda_item');
CREATE TRIGGER search_concerns AFTER INSERT OR UPDATE OR DELETE ON concerns
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('concern');
CREATE TRIGGER search_topics AFTER INSERT OR UPDATE OR DELETE ON topics
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('target_picture', 'impulse');
CREATE TRIGGER search_target_pictures AFTER INSERT OR UPDATE OR DELETE ON target_pictures
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('target_picture');
CREATE TRIGGER search_events AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('impulse');
CREATE TRIGGER search_cafe_tables AFTER INSERT OR UPDATE OR DELETE ON cafe_tables
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('impulse');
CREATE TRIGGER search_impulses AFTER INSERT OR UPDATE OR DELETE ON impulses
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('impulse');
