-- Local profiles on a release build (issue 14): slowed-down sign-ins, "keep me signed in",
-- and deleting a profile with everything it owns.

-- Failed sign-ins per name typed, kept across restarts: after 5 in a row every further
-- attempt waits until locked_until_ms. A success removes the row.
CREATE TABLE sign_in_failures (
    username        TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL CHECK (failures > 0),
    last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL DEFAULT 0
);

-- "Keep me signed in on this computer": only the SHA-256 of the session secret is here;
-- the secret itself is in the OS keychain. Signing out or changing the password removes rows.
CREATE TABLE remembered_sessions (
    id            INTEGER PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX remembered_sessions_by_profile ON remembered_sessions(profile_id);

-- A profile being deleted, inside the deleting transaction only: its own ledger rows may
-- go with it. Nothing else may remove a ledger row, as before.
CREATE TABLE profile_deletions (
    profile_id INTEGER PRIMARY KEY NOT NULL
);
DROP TRIGGER credit_transactions_no_delete;
CREATE TRIGGER credit_transactions_no_delete
BEFORE DELETE ON credit_transactions
WHEN NOT EXISTS (SELECT 1 FROM profile_deletions WHERE profile_id = OLD.profile_id)
BEGIN
    SELECT RAISE(ABORT, 'ledger: rows are append-only');
END;
