-- The impulses' search reads an event's slug only (for the link), but the trigger of
-- 0028 fired on every update of `events`, and the live log updates an event's `last_seq`
-- with every entry: each chat line, hand and step wrote search_dirty. Only the columns
-- the search shows count now, as for the lists' counter (0034).
DROP TRIGGER search_events_update;
CREATE TRIGGER search_events_update AFTER UPDATE OF slug ON events BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('impulse');
END;
