-- Issue 13: refunds reach the desktop as signed revocations of a receipt
-- (GET /v1/revocations of the payment endpoint). Each is applied at most once, by its
-- refund number: membership days are removed and credits taken back by a ledger row of
-- kind EXPIRE with reason `purchase_refunded` (its order_no is the refunded order), never
-- below zero. What could not be taken back (already spent) is recorded here, not owed.
CREATE TABLE revocations (
    refund_no          TEXT PRIMARY KEY NOT NULL,
    order_no           TEXT NOT NULL REFERENCES purchases(order_no),
    profile_id         INTEGER NOT NULL REFERENCES profiles(id),
    refund_fen         INTEGER NOT NULL CHECK (refund_fen > 0),
    credits            INTEGER NOT NULL CHECK (credits >= 0),
    credits_taken      INTEGER NOT NULL CHECK (credits_taken >= 0 AND credits_taken <= credits),
    days               INTEGER NOT NULL CHECK (days >= 0),
    member_until_before_ms INTEGER,
    member_until_after_ms  INTEGER,
    transaction_id     INTEGER REFERENCES credit_transactions(id),
    reason             TEXT NOT NULL,
    revoked_at_ms      INTEGER NOT NULL,
    applied_at_ms      INTEGER NOT NULL,
    revocation_json    TEXT NOT NULL
);
CREATE INDEX revocations_by_profile ON revocations(profile_id, applied_at_ms DESC);

-- Where each profile's account stands in the endpoint's revocation list (its cursor).
CREATE TABLE revocation_cursors (
    profile_id INTEGER PRIMARY KEY NOT NULL REFERENCES profiles(id),
    cursor     INTEGER NOT NULL CHECK (cursor >= 0)
);
