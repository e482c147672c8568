-- The impulses' search reads an event's slug only (for the link), but the trigger of
-- 0028 fired on every update of `events`, and the live log updates an event's `last_seq`
-- with every entry: each chat line, hand and step took search_dirty's 'impulse' row,
-- one writer after another across all events, and in the order opposite to an impulse's
-- writer (impulse row first, then the event's sequence), which can deadlock. Only the
-- columns the search shows count now, as for the lists' counter (0034).
DROP TRIGGER search_events ON events;
CREATE TRIGGER search_events AFTER INSERT OR UPDATE OF slug OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('impulse');
