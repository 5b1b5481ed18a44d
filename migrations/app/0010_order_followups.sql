-- An order that expired or was closed can still be paid (the writer scanned the code
-- a moment before): the desktop keeps asking about it for 48 hours, backing off.
-- `followup_attempts` counts the scheduled asks; `next_followup_at_ms` is the next one.
ALTER TABLE orders ADD COLUMN followup_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN next_followup_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX orders_followup ON orders(status, next_followup_at_ms) WHERE status IN ('expired', 'closed');
