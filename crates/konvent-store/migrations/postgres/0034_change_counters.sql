-- Change counters (issue 17): lists that many read and few change are kept in memory by
-- each node and read again only when the counter of the tables they read has moved.
-- Triggers bump the counter on every write to those tables, whoever writes (any node,
-- a command-line tool), so a kept list is never trusted past a change.
CREATE TABLE change_counters (
    kind       TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO change_counters (kind, generation) VALUES ('duties', 1);

-- Bumps the counters named in the trigger's arguments, once per statement.
CREATE FUNCTION change_touch() RETURNS trigger AS $$
BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = ANY (TG_ARGV);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- `duties`: the duties list (G3) reads the duties, their resolutions and conferences,
-- and the spokespersons (their grants and accounts).
CREATE TRIGGER change_duties AFTER INSERT OR UPDATE OR DELETE ON duties
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('duties');
CREATE TRIGGER change_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('duties');
CREATE TRIGGER change_conferences AFTER INSERT OR UPDATE OR DELETE ON conferences
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('duties');
CREATE TRIGGER change_grants AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('duties');
CREATE TRIGGER change_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('duties');
