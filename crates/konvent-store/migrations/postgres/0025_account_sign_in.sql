-- Admin controls over an account's sign-in (issue 19).
-- disabled_at: an admin disabled the account: it cannot sign in by password, link or
-- provider, its sessions end, its records stay. NULL: enabled; otherwise when
-- (Unix microseconds, UTC).
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
-- link_provider: an admin allowed the account to be linked to this provider: the next
-- sign-in there whose verified e-mail address is the account's links it (once).
ALTER TABLE accounts ADD COLUMN link_provider TEXT;
