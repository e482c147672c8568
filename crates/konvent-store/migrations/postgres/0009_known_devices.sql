-- Browsers in which an address has signed in before (issue 14): a sign-in from such a
-- device is not held back by failures that others caused for the same address. Only
-- the hash of the device cookie is kept; entries not seen for a year are swept.
CREATE TABLE known_devices (
    token_hash TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (token_hash, email)
);
