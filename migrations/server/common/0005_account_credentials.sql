-- A purchase account that can be signed back in to (issue 14). Keep in step with the other backend.

-- The name and password the writer gave the account: an argon2id hash, never the password;
-- the one-time recovery code only as SHA-256 (it is 128 random bits, not a guessable word).
CREATE TABLE account_credentials (
    account_id       TEXT PRIMARY KEY REFERENCES accounts(id),
    login_name       TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    recovery_sha256  TEXT UNIQUE,
    updated_at_ms    BIGINT NOT NULL
);

-- Tokens handed out by POST /v1/sessions (the token made at registration stays in accounts).
-- "Sign out everywhere" deletes them all and replaces the registration token.
CREATE TABLE account_sessions (
    token_sha256  TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX account_sessions_by_account ON account_sessions(account_id);

-- Failed sign-ins per account name and per client address, shared by every instance: after
-- 5 in a row each further attempt waits until locked_until_ms.
CREATE TABLE sign_in_failures (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
