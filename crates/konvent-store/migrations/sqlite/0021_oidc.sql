-- Single sign-on with OpenID Connect (issue 19). An account is found by the provider's
-- subject (never by e-mail alone); a sign-in in progress keeps its state, nonce and PKCE
-- verifier here, keyed by the hash of a random cookie, and is taken (deleted) when the
-- provider sends the browser back, so a code or state is used once. Grants that came
-- from a provider's claims name the provider (NULL: given in konvent) and follow the
-- claims at each sign-in. A session started through a provider keeps the provider's
-- session id and ID token for logout. Timestamps are Unix microseconds (UTC).

CREATE TABLE oidc_identities (
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oidc_identities_by_account ON oidc_identities (account_id);

CREATE TABLE oidc_flows (
    key_hash      TEXT    PRIMARY KEY,
    provider      TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    pkce_verifier TEXT    NOT NULL,
    next_path     TEXT    NOT NULL,
    -- Signed in with a konvent password when the sign-in started: the provider's
    -- subject is linked to this account (the person confirmed by signing in locally).
    link_account  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

ALTER TABLE grants ADD COLUMN provider TEXT;

ALTER TABLE sessions ADD COLUMN oidc_provider TEXT;
ALTER TABLE sessions ADD COLUMN oidc_subject TEXT;
ALTER TABLE sessions ADD COLUMN oidc_sid TEXT;
ALTER TABLE sessions ADD COLUMN oidc_id_token TEXT;
CREATE INDEX sessions_by_oidc_subject ON sessions (oidc_provider, oidc_subject);

-- Switches an admin turns at run time: 'local_passwords' = 'off' lets only admins sign
-- in with a password.
CREATE TABLE site_switches (
    name        TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    modified_at INTEGER NOT NULL
);
