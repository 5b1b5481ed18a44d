-- Issue 12 (sqlite; keep in step with the other backend).
-- One provider transaction pays one order: a replayed or misrouted transaction id
-- for another order is refused (NULLs, unpaid orders, do not collide).
CREATE UNIQUE INDEX orders_provider_txn ON orders(provider, provider_txn_id);

-- An ended order (expired or cancelled) is asked about once more and closed at the
-- provider: 'pending' until that succeeded ('done'); 'none' for orders still open.
ALTER TABLE orders ADD COLUMN close_state TEXT NOT NULL DEFAULT 'none';
-- The sweeper's claim: the instance whose conditional update moved this into the
-- future owns the order until then; others leave it alone.
ALTER TABLE orders ADD COLUMN sweep_claim_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_close_state ON orders(close_state);

-- Every notification refused (bad signature, stale, mismatch), with its reason.
CREATE TABLE refused_notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    body_sha256    TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);
