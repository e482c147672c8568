-- The lists' change counter (issue 17): lists that many read and few change are kept in
-- memory by each node and read again only when this counter has moved (konvent-store's
-- kept.rs). Triggers bump it on every write to the tables those lists read, whoever
-- writes (any node, a command-line tool), so a kept list is never trusted past a change.
--
-- The duties list (G3) reads the duties, their resolutions and conferences, and the
-- spokespersons (their grants and accounts). "Meine Ergebnisse" (K16, S1-S4) reads the
-- topics, target pictures, saved groups, impulses, pins, follows, contacts, profiles and
-- follow-up groups with their events and rooms. Of the events and rooms, only the
-- columns the lists show count: the live log moves an event's `last_seq` with every
-- entry and a room's speaker with every turn, and neither may move the counter.
--
-- In PostgreSQL the counter's row is locked by whoever bumps it until they commit. So the
-- triggers are deferred to the commit, when a transaction takes no other lock: a writer
-- holding the counter never waits for anything else, and two writers cannot deadlock on
-- it. A transaction bumps it once, however many rows it writes.
CREATE TABLE change_counters (
    kind       TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO change_counters (kind, generation) VALUES ('lists', 1);

CREATE FUNCTION change_touch() RETURNS trigger AS $$
BEGIN
    IF current_setting('konvent.lists_touched', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
        PERFORM set_config('konvent.lists_touched', txid_current()::text, true);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER change_duties AFTER INSERT OR UPDATE OR DELETE ON duties
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_conferences AFTER INSERT OR UPDATE OR DELETE ON conferences
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_grants AFTER INSERT OR UPDATE OR DELETE ON grants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_topics AFTER INSERT OR UPDATE OR DELETE ON topics
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_target_pictures AFTER INSERT OR UPDATE OR DELETE ON target_pictures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_impulse_groups AFTER INSERT OR UPDATE OR DELETE ON impulse_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_impulse_group_members AFTER INSERT OR UPDATE OR DELETE ON impulse_group_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_impulses AFTER INSERT OR UPDATE OR DELETE ON impulses
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_pins AFTER INSERT OR UPDATE OR DELETE ON pins
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_pin_votes AFTER INSERT OR UPDATE OR DELETE ON pin_votes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_connection_points AFTER INSERT OR UPDATE OR DELETE ON connection_points
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_contact_blocks AFTER INSERT OR UPDATE OR DELETE ON contact_blocks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_contact_requests AFTER INSERT OR UPDATE OR DELETE ON contact_requests
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_network_profiles AFTER INSERT OR UPDATE OR DELETE ON network_profiles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_event_pseudonyms AFTER INSERT OR UPDATE OR DELETE ON event_pseudonyms
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_mail_preferences AFTER INSERT OR UPDATE OR DELETE ON mail_preferences
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_follow_up_groups AFTER INSERT OR UPDATE OR DELETE ON follow_up_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_follow_up_group_members AFTER INSERT OR UPDATE OR DELETE ON follow_up_group_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_events AFTER INSERT OR UPDATE OF slug, title OR DELETE ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_rooms AFTER INSERT OR UPDATE OF event_id, kind, name, position OR DELETE ON rooms
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_event_people AFTER INSERT OR UPDATE OR DELETE ON event_people
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
CREATE CONSTRAINT TRIGGER change_event_removals AFTER INSERT OR UPDATE OR DELETE ON event_removals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_touch();
