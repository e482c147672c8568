-- The mail outbox (issue 18, DESIGN A1): a mail is written here in the transaction of
-- the change that causes it, and a worker on one of the nodes sends it. Status:
-- queued (waiting for next_attempt_at) → sending (claimed by one worker until
-- lease_until) → sent, or back to queued with a later next_attempt_at, or failed (the
-- server refused it for good; an admin may queue it again). A lease that ran out (the
-- node died while sending) is taken again by the next worker. Once sent, the bodies are
-- erased (they may carry sign-in links): recipient, subject, status and times remain.
-- Timestamps are Unix microseconds (UTC).

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT,
    body_html       TEXT,
    status          TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    updated_at      INTEGER NOT NULL
);
-- The worker's question: what is due (queued and due, or sending with a lapsed lease).
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
