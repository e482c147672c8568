-- Deletion of an account (Art. 17 DSGVO, issue 21): a person asks, an admin confirms.
-- A deleted account stays as a row that carries only its pseudonym ("Gelöschte Person
-- N", N = pseudonym_no, stable per person), so that what must or may stay (chat lines,
-- impulses, pins, questions as content; reports, ballots, audit entries as records of
-- the council's governance) keeps one author; its address becomes unusable and free
-- for a new account. Timestamps are Unix microseconds.
ALTER TABLE accounts ADD COLUMN deleted_at INTEGER;
ALTER TABLE accounts ADD COLUMN pseudonym_no INTEGER;
CREATE UNIQUE INDEX accounts_by_pseudonym ON accounts (pseudonym_no)
    WHERE pseudonym_no IS NOT NULL;

-- Open requests; a confirmed request goes with the deletion it led to.
CREATE TABLE deletion_requests (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_at INTEGER NOT NULL
);
