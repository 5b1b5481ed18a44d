-- A ledger row says why it exists with a stable code (`reason`) that the UI renders in the
-- writer's language, next to the tool, the generation id and the order number it already
-- keeps. It no longer keeps text of the writer's prompt: deleting a generation must delete
-- its words everywhere, and a CONSUME's description was "tool · first 40 characters".
ALTER TABLE credit_transactions ADD COLUMN reason TEXT;

-- Existing rows get their reason and lose their free text. The ledger is append-only
-- (0005), so the append-only trigger is swapped, for this one statement, for one that
-- refuses any change but `description` and `reason`: amounts, balances, kinds, links and
-- times stay exactly as they were, checked by the database, not by this file's care.
DROP TRIGGER credit_transactions_no_update;
CREATE TRIGGER credit_transactions_0007_text_only
BEFORE UPDATE ON credit_transactions
WHEN NEW.id IS NOT OLD.id
  OR NEW.profile_id IS NOT OLD.profile_id
  OR NEW.kind IS NOT OLD.kind
  OR NEW.delta IS NOT OLD.delta
  OR NEW.balance_after IS NOT OLD.balance_after
  OR NEW.tool IS NOT OLD.tool
  OR NEW.order_no IS NOT OLD.order_no
  OR NEW.generation_id IS NOT OLD.generation_id
  OR NEW.refund_of IS NOT OLD.refund_of
  OR NEW.created_at_ms IS NOT OLD.created_at_ms
  OR OLD.reason IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'ledger: migration 0007 may only rewrite descriptions');
END;

UPDATE credit_transactions SET
    reason = CASE
        WHEN kind = 'CONSUME' THEN 'generation'
        WHEN kind = 'REFUND' AND description LIKE '生成失败退款%' THEN 'refund_failed'
        WHEN kind = 'REFUND' AND description LIKE '生成中断退款%' THEN 'refund_interrupted'
        WHEN kind = 'REFUND' AND description LIKE '停止生成退款%' THEN 'refund_stopped'
        WHEN kind = 'REFUND' THEN 'refund'
        WHEN kind = 'RECHARGE' AND order_no IS NOT NULL THEN 'purchase'
        WHEN kind = 'BONUS' AND order_no IS NOT NULL THEN 'purchase_bonus'
        WHEN kind = 'BONUS' AND description LIKE '演示账户初始积分%' THEN 'demo_start'
        WHEN kind = 'EXPIRE' THEN 'bonus_expired'
    END,
    -- A row whose reason is known is rendered from it; only unknown rows (none written by
    -- this app) keep their text, and no CONSUME keeps any.
    description = CASE
        WHEN kind = 'CONSUME' THEN ''
        WHEN kind IN ('REFUND', 'EXPIRE') THEN ''
        WHEN kind = 'RECHARGE' AND order_no IS NOT NULL THEN ''
        WHEN kind = 'BONUS' AND order_no IS NOT NULL THEN ''
        WHEN kind = 'BONUS' AND description LIKE '演示账户初始积分%' THEN ''
        ELSE description
    END;

DROP TRIGGER credit_transactions_0007_text_only;
CREATE TRIGGER credit_transactions_no_update
BEFORE UPDATE ON credit_transactions
BEGIN
    SELECT RAISE(ABORT, 'ledger: rows are append-only');
END;
