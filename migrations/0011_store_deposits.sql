-- Store deposits (SPEC §13): cash taken from the drawers to the bank in a
-- numbered bag, `prepared` → `in_transit` → `banked`, and the store ledger:
-- one append-only, hash-chained row per step, per store.

-- The chain head of each store's ledger. Locking this row (SELECT … FOR
-- UPDATE) serialises every deposit write of one store, so its chain stays linear.
CREATE TABLE store_ledger_heads (
    store_id     TEXT PRIMARY KEY,
    ledger_seq   BIGINT NOT NULL DEFAULT 0,
    ledger_head  TEXT NOT NULL DEFAULT repeat('0', 64)
);

-- A deposit's current state: a projection of its ledger rows, kept for
-- listing and filtering (every value here is also in the ledger).
CREATE TABLE store_deposits (
    deposit_id     UUID PRIMARY KEY,
    store_id       TEXT NOT NULL,
    bag_number     TEXT NOT NULL,
    currency       TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount         NUMERIC(18, 2) NOT NULL CHECK (amount > 0),
    count_ids      UUID[] NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('prepared', 'in_transit', 'banked')),
    banked_amount  NUMERIC(18, 2) CHECK (banked_amount >= 0),
    created_by     TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    in_transit_at  TIMESTAMPTZ,
    banked_at      TIMESTAMPTZ,
    CHECK ((status = 'banked') = (banked_amount IS NOT NULL))
);
CREATE INDEX store_deposits_store ON store_deposits (store_id, created_at DESC, deposit_id);
-- The admin page lists the deposits not yet banked.
CREATE INDEX store_deposits_not_banked ON store_deposits (created_at DESC) WHERE status <> 'banked';

-- A count's cash goes to the bank once.
CREATE TABLE store_deposit_counts (
    count_id    UUID NOT NULL,
    deposit_id  UUID NOT NULL REFERENCES store_deposits (deposit_id),
    CONSTRAINT store_deposit_counts_count_key PRIMARY KEY (count_id)
);

-- The store ledger: one row per deposit step, never updated or deleted.
-- `hash` = sha256(prev_hash ‖ canonical row), chained per store by `seq`.
-- `amount` is the deposit's amount on `prepared`, the banked amount on
-- `banked`, null on `in_transit`; `bag_number` and `count_ids` come with `prepared`.
CREATE TABLE store_ledger (
    id            BIGSERIAL PRIMARY KEY,
    store_id      TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    entry_type    TEXT NOT NULL,
    deposit_id    UUID NOT NULL,
    bag_number    TEXT,
    count_ids     UUID[] NOT NULL,
    currency      TEXT NOT NULL,
    amount        NUMERIC(18, 2),
    associate_id  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    CONSTRAINT store_ledger_store_seq_key UNIQUE (store_id, seq)
);
CREATE INDEX store_ledger_deposit ON store_ledger (deposit_id, seq);

CREATE FUNCTION store_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'store_ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER store_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON store_ledger
    FOR EACH ROW EXECUTE FUNCTION store_ledger_append_only();
CREATE TRIGGER store_ledger_no_truncate
    BEFORE TRUNCATE ON store_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION store_ledger_append_only();
