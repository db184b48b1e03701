-- Payments waiting for their order move to a small side table, so that
-- `payments` is append-only: the worker used to mark each payment with an
-- UPDATE that could never be HOT (the partial index named its column) and
-- so wrote a new row version plus an entry in every payments index. Now the
-- payment and its pending row are inserted in one statement, and the worker
-- deletes the pending row in the transaction that creates the order.
-- No foreign key: both rows are only ever written together, and the check
-- would cost an index probe on every accepted payment.
CREATE TABLE pending_orders (
    payment_id  BIGINT PRIMARY KEY,
    -- When the completion job was last queued; the sweeper queues it again
    -- when that is long ago.
    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO pending_orders (payment_id, enqueued_at)
SELECT id, enqueued_at FROM payments WHERE order_created_at IS NULL;

DROP INDEX payments_without_order;
ALTER TABLE payments DROP COLUMN order_created_at, DROP COLUMN enqueued_at;
