-- The desktop's own row for every order it started, so that after a crash, a
-- restart or a night offline it can resume waiting and apply late receipts.
-- Money never moves here: only a verified receipt (purchases) does.
CREATE TABLE orders (
    order_no      TEXT PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    kind          TEXT NOT NULL CHECK (kind IN ('credits', 'membership')),
    sku           TEXT NOT NULL,
    provider      TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
    qr_payload    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'closed')),
    expires_at_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX orders_by_profile ON orders(profile_id, created_at_ms DESC);
CREATE INDEX orders_pending ON orders(status) WHERE status = 'pending';
