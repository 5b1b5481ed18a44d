-- The cached balance follows the ledger inside SQLite: appending a row moves the
-- profile's balance to the row's balance_after, and a row whose balance_after does
-- not follow from the balance before it is refused. A charge is then one
-- INSERT ... SELECT (check, record and move in a single statement), and no code
-- path can change a balance without the row that explains it.
CREATE TRIGGER credit_transactions_move_balance
AFTER INSERT ON credit_transactions
BEGIN
    SELECT RAISE(ABORT, 'ledger: balance_after does not follow from the balance')
    WHERE NEW.balance_after IS NOT
          (SELECT credits + NEW.delta FROM profiles WHERE id = NEW.profile_id);
    UPDATE profiles SET credits = NEW.balance_after WHERE id = NEW.profile_id;
END;

-- The ledger is append-only: rows are never rewritten or removed.
CREATE TRIGGER credit_transactions_no_update
BEFORE UPDATE ON credit_transactions
BEGIN
    SELECT RAISE(ABORT, 'ledger: rows are append-only');
END;
CREATE TRIGGER credit_transactions_no_delete
BEFORE DELETE ON credit_transactions
BEGIN
    SELECT RAISE(ABORT, 'ledger: rows are append-only');
END;
