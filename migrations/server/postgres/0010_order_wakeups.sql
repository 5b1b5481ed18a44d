-- Issue 13 (postgres; keep in step with the other backend).
-- Every change of an order's status notifies channel `inkstone_order` with the order
-- number. NOTIFY is delivered when the transaction commits, so an instance's waiters
-- (crates/server/src/notify.rs) wake only once the PAID row and its receipt are visible,
-- whichever instance or command made the change.
CREATE FUNCTION inkstone_order_changed() RETURNS trigger AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM pg_notify('inkstone_order', NEW.order_no);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER orders_status_notify
    AFTER UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION inkstone_order_changed();
