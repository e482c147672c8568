-- The live log's epoch (issue 16): a random name of this database's log, sent to every
-- live client in `hello`. A client resuming with another epoch (the database was
-- restored from a backup, or replaced) reloads instead of waiting for sequence numbers
-- that will not come. `konvent admin new-epoch` gives the log a new one after a restore.

CREATE TABLE live_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  TEXT    NOT NULL
);
INSERT INTO live_epoch (id, epoch) VALUES (1, md5(random()::text || clock_timestamp()::text));
