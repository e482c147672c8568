-- A follow-up group's room (K16+, issue 22): one of an event's rooms, or a small room
-- created for the group (room_created = 1; these count against the event's limit of
-- group rooms). Gone with the room.
ALTER TABLE follow_up_groups ADD COLUMN room_id INTEGER REFERENCES rooms (id) ON DELETE SET NULL;
ALTER TABLE follow_up_groups ADD COLUMN room_created INTEGER NOT NULL DEFAULT 0;
CREATE INDEX follow_up_groups_room ON follow_up_groups (room_id);
