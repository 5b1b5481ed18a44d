-- Payment endpoint schema (SQLite). Keep in step with ../postgres/.
-- Times are Unix milliseconds; money is integer fen.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    token_sha256  TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE catalog (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    body          TEXT NOT NULL,
    etag          TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE orders (
    order_no        TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    sku             TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('credits', 'membership')),
    purchase_json   TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL CHECK (amount_fen > 0),
    currency        TEXT NOT NULL,
    provider        TEXT NOT NULL,
    qr_payload      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'PAID', 'EXPIRED', 'CLOSED')),
    provider_txn_id TEXT,
    paid_at_ms      BIGINT,
    late_payment    BIGINT NOT NULL DEFAULT 0,
    expires_at_ms   BIGINT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    last_query_ms   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX orders_by_account ON orders(account_id, created_at_ms);
CREATE INDEX orders_pending ON orders(status, expires_at_ms);

-- One receipt per paid order: the primary key makes issuing it once-only.
CREATE TABLE receipts (
    order_no      TEXT PRIMARY KEY REFERENCES orders(order_no),
    account_id    TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    signed_json   TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX receipts_by_account ON receipts(account_id, created_at_ms);

-- Every notification that passed verification, for audit and de-duplication.
CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    order_no      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);

-- The sandbox provider's own books: payments confirmed on its pay page. The
-- active query reads these, as a real provider's order query would.
CREATE TABLE sandbox_payments (
    order_no      TEXT PRIMARY KEY,
    txn_id        TEXT NOT NULL,
    amount_fen    BIGINT NOT NULL,
    paid_at_ms    BIGINT NOT NULL
);
