-- The lists' change counter (issue 17): lists that many read and few change are kept in
-- memory by each node and read again only when this counter has moved (konvent-store's
-- kept.rs). Triggers bump it on every write to the tables those lists read, whoever
-- writes (any node, a command-line tool), so a kept list is never trusted past a change.
-- One counter for all of them: a write's transaction locks one row at most, so two
-- writers can never wait for each other's counters in PostgreSQL.
--
-- The duties list (G3) reads the duties, their resolutions and conferences, and the
-- spokespersons (their grants and accounts). "Meine Ergebnisse" (K16, S1-S4) reads the
-- topics, target pictures, saved groups, impulses, pins, follows, contacts, profiles and
-- follow-up groups with their events and rooms.
CREATE TABLE change_counters (
    kind       TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO change_counters (kind, generation) VALUES ('lists', 1);

-- Bumps the counter named in the trigger's argument, once per statement.
CREATE FUNCTION change_touch() RETURNS trigger AS $$
BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = TG_ARGV[0];
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER change_duties AFTER INSERT OR UPDATE OR DELETE ON duties
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_conferences AFTER INSERT OR UPDATE OR DELETE ON conferences
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_grants AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_topics AFTER INSERT OR UPDATE OR DELETE ON topics
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_target_pictures AFTER INSERT OR UPDATE OR DELETE ON target_pictures
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_impulse_groups AFTER INSERT OR UPDATE OR DELETE ON impulse_groups
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_impulse_group_members AFTER INSERT OR UPDATE OR DELETE ON impulse_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_impulses AFTER INSERT OR UPDATE OR DELETE ON impulses
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_pins AFTER INSERT OR UPDATE OR DELETE ON pins
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_pin_votes AFTER INSERT OR UPDATE OR DELETE ON pin_votes
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_connection_points AFTER INSERT OR UPDATE OR DELETE ON connection_points
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_contact_blocks AFTER INSERT OR UPDATE OR DELETE ON contact_blocks
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_contact_requests AFTER INSERT OR UPDATE OR DELETE ON contact_requests
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_network_profiles AFTER INSERT OR UPDATE OR DELETE ON network_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_event_pseudonyms AFTER INSERT OR UPDATE OR DELETE ON event_pseudonyms
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_mail_preferences AFTER INSERT OR UPDATE OR DELETE ON mail_preferences
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_follow_up_groups AFTER INSERT OR UPDATE OR DELETE ON follow_up_groups
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_follow_up_group_members AFTER INSERT OR UPDATE OR DELETE ON follow_up_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_events AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_rooms AFTER INSERT OR UPDATE OR DELETE ON rooms
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_event_people AFTER INSERT OR UPDATE OR DELETE ON event_people
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
CREATE TRIGGER change_event_removals AFTER INSERT OR UPDATE OR DELETE ON event_removals
    FOR EACH STATEMENT EXECUTE FUNCTION change_touch('lists');
