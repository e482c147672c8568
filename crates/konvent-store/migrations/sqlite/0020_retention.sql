-- Retention (issue 21): every run of the daily job that deletes what is past its
-- period, with what it removed, for the admin page. Timestamps are Unix microseconds.
CREATE TABLE retention_runs (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    chat_lines      INTEGER NOT NULL,
    feedback        INTEGER NOT NULL,
    sign_in_records INTEGER NOT NULL,
    mails           INTEGER NOT NULL
);
