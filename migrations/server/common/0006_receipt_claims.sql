-- A credit package is a consumable (issue 14): the first installation that claims its receipt
-- credits it; the claim is idempotent for that installation, and every other installation is
-- told where and when it was credited. Memberships follow the account and are never claimed.
CREATE TABLE receipt_claims (
    order_no        TEXT PRIMARY KEY REFERENCES receipts(order_no),
    account_id      TEXT NOT NULL,
    installation_id TEXT NOT NULL,
    claimed_at_ms   BIGINT NOT NULL
);
CREATE INDEX receipt_claims_by_account ON receipt_claims(account_id);
