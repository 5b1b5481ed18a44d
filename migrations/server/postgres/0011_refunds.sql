-- Issue 13 (postgres; keep in step with the other backend).
-- Money back to the payer. One row per refund we asked for, keyed by our stable refund
-- number (WeChat Pay out_refund_no, Alipay out_request_no): created before the provider
-- is called, so a retry after a timeout asks again under the same number and the
-- provider refunds at most once. `seq` numbers an order's refunds (1, 2, …).
-- status: REQUESTED (not yet accepted by the provider), PROCESSING, SUCCESS, CLOSED,
-- ABNORMAL (WeChat: the payer's account cannot take it; needs an operator).
CREATE TABLE refunds (
    refund_no          TEXT PRIMARY KEY,
    order_no           TEXT NOT NULL REFERENCES orders(order_no),
    seq                BIGINT NOT NULL,
    provider           TEXT NOT NULL,
    amount_fen         BIGINT NOT NULL CHECK (amount_fen > 0),
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('REQUESTED', 'PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL')),
    provider_refund_id TEXT,
    claim_ms           BIGINT NOT NULL DEFAULT 0,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    UNIQUE (order_no, seq)
);
CREATE INDEX refunds_open ON refunds(status, claim_ms);

-- A signed revocation of a receipt per successful refund, published to the account
-- (GET /v1/revocations?after=CURSOR, the id is the cursor). One per refund, ever.
CREATE TABLE revocations (
    id            BIGSERIAL PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    order_no      TEXT NOT NULL REFERENCES orders(order_no),
    refund_no     TEXT NOT NULL UNIQUE REFERENCES refunds(refund_no),
    signed_json   TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX revocations_by_account ON revocations(account_id, id);
