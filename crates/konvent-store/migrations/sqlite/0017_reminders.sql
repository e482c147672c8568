-- Reminders and notifications (issue 18): the language a person's mails are written
-- in, the kinds of reminder and notification a person has turned off, and every
-- reminder queued. A reminder is keyed by what it is about (kind, subject, person, due
-- date, days before); its row is written in the transaction of its mail with INSERT …
-- ON CONFLICT DO NOTHING, so that it is queued once only, by one node, also after a
-- restart. Timestamps are Unix microseconds (UTC); dates are Europe/Berlin days.

CREATE TABLE mail_preferences (
    account_id  INTEGER NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    language    TEXT    NOT NULL CHECK (language IN ('de', 'en')),
    modified_at INTEGER NOT NULL
);

CREATE TABLE notification_opt_outs (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    PRIMARY KEY (account_id, kind)
);

CREATE TABLE reminders_sent (
    kind        TEXT    NOT NULL,
    subject_id  INTEGER NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    due_on      TEXT    NOT NULL,
    days_before INTEGER NOT NULL,
    mail_id     INTEGER REFERENCES mail_outbox (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, subject_id, account_id, due_on, days_before)
);
