-- Every order number issued to a checkout session (SPEC §14), recorded by
-- the one statement that draws it from order_number_seq, with its expiry and
-- the basket it was issued for, so the notice of a number that ends unpaid
-- is sent even when Redis lost the number's key. Owned by src/order_numbers/.
--
-- The row decides every race on the number: a payment, a cancel and the
-- expiry sweep each change status only while it is 'issued', under the row
-- lock, so exactly one of them wins.
--   issued      live (mapped in Redis until expires_at)
--   paid        a payment was accepted for it
--   cancelled   the customer cancelled it (notice queued)
--   expired     it ended unpaid at expires_at (notice queued)
--   superseded  its session was paid under another number (no notice: the basket was sold)
--   void        drawn but never mapped (payment option not cash register, or the mapping refused)
CREATE TABLE issued_order_numbers (
    -- The value of order_number_seq; the number is this, the bucket and a Luhn digit (src/order_number.rs).
    sequence      BIGINT PRIMARY KEY,
    bucket        SMALLINT NOT NULL CHECK (bucket BETWEEN 0 AND 999),
    session_id    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'issued'
                  CHECK (status IN ('issued', 'paid', 'cancelled', 'expired', 'superseded', 'void')),
    issued_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    -- When it was cancelled or expired.
    ended_at      TIMESTAMPTZ,
    -- The pre-order's total_amount and basket lines (sku, quantity, price) when issued.
    total_amount  NUMERIC NOT NULL,
    currency      TEXT NOT NULL,
    items         JSONB NOT NULL,
    CHECK ((status IN ('cancelled', 'expired')) = (ended_at IS NOT NULL))
);

-- The expiry sweep reads only live numbers, oldest first.
CREATE INDEX issued_order_numbers_live ON issued_order_numbers (expires_at) WHERE status = 'issued';
-- A payment settles the other live numbers of its session.
CREATE INDEX issued_order_numbers_session ON issued_order_numbers (session_id) WHERE status = 'issued';
