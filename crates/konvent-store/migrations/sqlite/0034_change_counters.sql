-- Change counters (issue 17): lists that many read and few change are kept in memory by
-- each node and read again only when the counter of the tables they read has moved.
-- Triggers bump the counter on every write to those tables, whoever writes (any node,
-- a command-line tool), so a kept list is never trusted past a change.
CREATE TABLE change_counters (
    kind       TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
);
-- `duties`: the duties list (G3) reads the duties, their resolutions and conferences,
-- and the spokespersons (their grants and accounts).
INSERT INTO change_counters (kind, generation) VALUES ('duties', 1);
CREATE TRIGGER change_duties_insert AFTER INSERT ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_duties_update AFTER UPDATE ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_duties_delete AFTER DELETE ON duties BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_resolutions_insert AFTER INSERT ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_resolutions_update AFTER UPDATE ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_resolutions_delete AFTER DELETE ON resolutions BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_conferences_insert AFTER INSERT ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_conferences_update AFTER UPDATE ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_conferences_delete AFTER DELETE ON conferences BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_grants_insert AFTER INSERT ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_grants_update AFTER UPDATE ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_grants_delete AFTER DELETE ON grants BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_accounts_insert AFTER INSERT ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_accounts_update AFTER UPDATE ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
CREATE TRIGGER change_accounts_delete AFTER DELETE ON accounts BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE kind = 'duties';
END;
