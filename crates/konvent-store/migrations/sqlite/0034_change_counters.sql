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
CREATE TABLE change_counters (
    kind       TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
);
INSERT INTO change_counters (kind, generation) VALUES ('lists', 1);
CREATE TRIGGER change_duties_insert AFTER INSERT ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_duties_update AFTER UPDATE ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_duties_delete AFTER DELETE ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_resolutions_insert AFTER INSERT ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_resolutions_update AFTER UPDATE ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_resolutions_delete AFTER DELETE ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_conferences_insert AFTER INSERT ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_conferences_update AFTER UPDATE ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_conferences_delete AFTER DELETE ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_grants_insert AFTER INSERT ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_grants_update AFTER UPDATE ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_grants_delete AFTER DELETE ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_accounts_insert AFTER INSERT ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_accounts_update AFTER UPDATE ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_accounts_delete AFTER DELETE ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_topics_insert AFTER INSERT ON topics BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_topics_update AFTER UPDATE ON topics BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_topics_delete AFTER DELETE ON topics BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_target_pictures_insert AFTER INSERT ON target_pictures BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_target_pictures_update AFTER UPDATE ON target_pictures BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_target_pictures_delete AFTER DELETE ON target_pictures BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_groups_insert AFTER INSERT ON impulse_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_groups_update AFTER UPDATE ON impulse_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_groups_delete AFTER DELETE ON impulse_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_group_members_insert AFTER INSERT ON impulse_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_group_members_update AFTER UPDATE ON impulse_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulse_group_members_delete AFTER DELETE ON impulse_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulses_insert AFTER INSERT ON impulses BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulses_update AFTER UPDATE ON impulses BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_impulses_delete AFTER DELETE ON impulses BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pins_insert AFTER INSERT ON pins BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pins_update AFTER UPDATE ON pins BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pins_delete AFTER DELETE ON pins BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pin_votes_insert AFTER INSERT ON pin_votes BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pin_votes_update AFTER UPDATE ON pin_votes BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_pin_votes_delete AFTER DELETE ON pin_votes BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_connection_points_insert AFTER INSERT ON connection_points BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_connection_points_update AFTER UPDATE ON connection_points BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_connection_points_delete AFTER DELETE ON connection_points BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_blocks_insert AFTER INSERT ON contact_blocks BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_blocks_update AFTER UPDATE ON contact_blocks BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_blocks_delete AFTER DELETE ON contact_blocks BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_requests_insert AFTER INSERT ON contact_requests BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_requests_update AFTER UPDATE ON contact_requests BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_contact_requests_delete AFTER DELETE ON contact_requests BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_network_profiles_insert AFTER INSERT ON network_profiles BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_network_profiles_update AFTER UPDATE ON network_profiles BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_network_profiles_delete AFTER DELETE ON network_profiles BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_pseudonyms_insert AFTER INSERT ON event_pseudonyms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_pseudonyms_update AFTER UPDATE ON event_pseudonyms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_pseudonyms_delete AFTER DELETE ON event_pseudonyms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_mail_preferences_insert AFTER INSERT ON mail_preferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_mail_preferences_update AFTER UPDATE ON mail_preferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_mail_preferences_delete AFTER DELETE ON mail_preferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_groups_insert AFTER INSERT ON follow_up_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_groups_update AFTER UPDATE ON follow_up_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_groups_delete AFTER DELETE ON follow_up_groups BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_group_members_insert AFTER INSERT ON follow_up_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_group_members_update AFTER UPDATE ON follow_up_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_follow_up_group_members_delete AFTER DELETE ON follow_up_group_members BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_events_insert AFTER INSERT ON events BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_events_update AFTER UPDATE OF slug, title ON events BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_events_delete AFTER DELETE ON events BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_rooms_insert AFTER INSERT ON rooms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_rooms_update AFTER UPDATE OF event_id, kind, name, position ON rooms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_rooms_delete AFTER DELETE ON rooms BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_people_insert AFTER INSERT ON event_people BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_people_update AFTER UPDATE ON event_people BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_people_delete AFTER DELETE ON event_people BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_removals_insert AFTER INSERT ON event_removals BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_removals_update AFTER UPDATE ON event_removals BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
CREATE TRIGGER change_event_removals_delete AFTER DELETE ON event_removals BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'lists';
END;
