-- Desktop schema. Times are Unix milliseconds (UTC); money is integer credits or fen.

CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- A local account. `credits` is the cached balance: it changes only in the same
-- transaction as the credit_transactions row that explains it.
CREATE TABLE profiles (
    id                INTEGER PRIMARY KEY,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    is_admin          INTEGER NOT NULL DEFAULT 0,
    credits           INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    member_until_ms   INTEGER,
    server_account_id TEXT,
    created_at_ms     INTEGER NOT NULL
);

-- Append-only ledger.
CREATE TABLE credit_transactions (
    id            INTEGER PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    kind          TEXT NOT NULL CHECK (kind IN ('RECHARGE', 'CONSUME', 'REFUND', 'BONUS', 'EXPIRE')),
    delta         INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    description   TEXT NOT NULL,
    tool          TEXT,
    order_no      TEXT,
    generation_id INTEGER,
    refund_of     INTEGER REFERENCES credit_transactions(id),
    created_at_ms INTEGER NOT NULL,
    CHECK ((kind IN ('RECHARGE', 'REFUND', 'BONUS') AND delta > 0)
        OR (kind IN ('CONSUME', 'EXPIRE') AND delta <= 0)),
    CHECK ((kind = 'REFUND') = (refund_of IS NOT NULL))
);
-- A consumption is refunded at most once.
CREATE UNIQUE INDEX credit_transactions_one_refund ON credit_transactions(refund_of)
    WHERE refund_of IS NOT NULL;
CREATE INDEX credit_transactions_by_profile ON credit_transactions(profile_id, id DESC);
CREATE INDEX credit_transactions_by_profile_kind ON credit_transactions(profile_id, kind, id DESC);
CREATE INDEX credit_transactions_by_profile_time ON credit_transactions(profile_id, created_at_ms);

-- Bonus credits that expire: what is left of each grant. Spending drains these
-- first, earliest expiry first, so a writer never loses credits they could have used.
CREATE TABLE bonus_lots (
    transaction_id INTEGER PRIMARY KEY REFERENCES credit_transactions(id),
    profile_id     INTEGER NOT NULL REFERENCES profiles(id),
    remaining      INTEGER NOT NULL CHECK (remaining >= 0),
    expires_at_ms  INTEGER NOT NULL
);
CREATE INDEX bonus_lots_open ON bonus_lots(profile_id, expires_at_ms) WHERE remaining > 0;

-- Every purchase this desktop applied from a signed receipt; order_no makes it once-only.
CREATE TABLE purchases (
    order_no        TEXT PRIMARY KEY NOT NULL,
    profile_id      INTEGER NOT NULL REFERENCES profiles(id),
    account_id      TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('credits', 'membership')),
    sku             TEXT NOT NULL,
    credits         INTEGER NOT NULL DEFAULT 0,
    bonus_credits   INTEGER NOT NULL DEFAULT 0,
    plan            TEXT,
    days            INTEGER,
    member_from_ms  INTEGER,
    member_until_ms INTEGER,
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    provider        TEXT NOT NULL,
    provider_txn_id TEXT NOT NULL,
    paid_at_ms      INTEGER NOT NULL,
    applied_at_ms   INTEGER NOT NULL,
    receipt_json    TEXT NOT NULL
);
CREATE INDEX purchases_by_profile ON purchases(profile_id, paid_at_ms DESC);

-- The server's catalog as last fetched (one row), for offline display.
CREATE TABLE catalog_cache (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    body          TEXT NOT NULL,
    fetched_at_ms INTEGER NOT NULL
);
