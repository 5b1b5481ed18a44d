-- Credit packages this profile's purchase account bought that another installation claimed
-- (issue 14): never credited here, kept so the purchases page can say "credited on another
-- computer on DATE", offline too. Memberships follow the account and never land here.
CREATE TABLE purchases_elsewhere (
    order_no       TEXT PRIMARY KEY,
    profile_id     INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL,
    sku            TEXT NOT NULL,
    credits        INTEGER NOT NULL,
    bonus_credits  INTEGER NOT NULL,
    amount_fen     INTEGER NOT NULL,
    provider       TEXT NOT NULL,
    paid_at_ms     INTEGER NOT NULL,
    claimed_at_ms  INTEGER NOT NULL,
    recorded_at_ms INTEGER NOT NULL
);
CREATE INDEX purchases_elsewhere_by_profile ON purchases_elsewhere(profile_id, paid_at_ms DESC);
