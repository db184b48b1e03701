-- Store cash drawers (SPEC §8): configuration, associates, drawers, their
-- activations, transactions and counts, and the append-only ledger every
-- balance and report is derived from.

-- Associates' bearer tokens: only the SHA-256 is kept (tokens carry 256 random
-- bits, so no slow KDF is needed). Revoked rows stay so reports keep names.
CREATE TABLE associates (
    associate_id  TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    store_ids     TEXT[] NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ,
    CONSTRAINT associates_token_hash_key UNIQUE (token_hash)
);

CREATE TABLE store_cash_config (
    store_id                      TEXT PRIMARY KEY,
    cash_drawer_type              TEXT NOT NULL CHECK (cash_drawer_type IN ('integrated', 'non_integrated')),
    cash_management_enabled       BOOLEAN NOT NULL,
    expose_count_expected_amount  BOOLEAN NOT NULL DEFAULT true,
    updated_at                    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Non-sale transaction types: every type the API knows has a row, configured or not.
CREATE TABLE cash_transaction_types (
    transaction_type      TEXT PRIMARY KEY,
    status                TEXT NOT NULL CHECK (status IN ('configured', 'not_allowed')),
    balance_modification  TEXT CHECK (balance_modification IN ('cash_in', 'cash_out')),
    reasons               JSONB NOT NULL DEFAULT '[]',
    CHECK ((status = 'configured') = (balance_modification IS NOT NULL))
);
INSERT INTO cash_transaction_types (transaction_type, status)
SELECT t, 'not_allowed'
FROM unnest(ARRAY['add_to_float', 'add_petty_cash', 'transfer_in', 'adjustment_in', 'remove_petty_cash',
                  'cash_pull', 'transfer_out', 'adjustment_out', 'no_sale', 'gift_card_cash_out']) AS t;

-- A drawer's mutable state (status, current activation, ledger head) lives on
-- this row; locking it (SELECT … FOR UPDATE) serialises every write to the drawer.
CREATE TABLE cash_drawers (
    drawer_id              TEXT PRIMARY KEY,
    store_id               TEXT NOT NULL,
    name                   TEXT NOT NULL,
    currency               TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    float_amount           NUMERIC(18, 2) NOT NULL CHECK (float_amount >= 0),
    drawer_type            TEXT NOT NULL CHECK (drawer_type IN ('integrated', 'non_integrated')),
    status                 TEXT NOT NULL DEFAULT 'inactive' CHECK (status IN ('inactive', 'active', 'decommissioned')),
    current_activation_id  UUID,
    -- the chain head: seq and hash of the drawer's last ledger row, so a
    -- deleted tail is detected too
    ledger_seq             BIGINT NOT NULL DEFAULT 0,
    ledger_head            TEXT NOT NULL DEFAULT repeat('0', 64),
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cash_drawers_store ON cash_drawers (store_id, drawer_id);

-- One activation = one business day of a drawer: its report's unit.
CREATE TABLE cash_drawer_activations (
    activation_id     UUID PRIMARY KEY,
    drawer_id         TEXT NOT NULL REFERENCES cash_drawers (drawer_id),
    activated_at      TIMESTAMPTZ NOT NULL,
    activated_by      TEXT,
    deactivated_at    TIMESTAMPTZ,
    deactivated_by    TEXT,
    end_count_id      UUID
);
CREATE INDEX cash_drawer_activations_drawer ON cash_drawer_activations (drawer_id, activated_at DESC);

CREATE TABLE cash_transactions (
    transaction_id    UUID PRIMARY KEY,
    drawer_id         TEXT NOT NULL REFERENCES cash_drawers (drawer_id),
    activation_id     UUID NOT NULL REFERENCES cash_drawer_activations (activation_id),
    associate_id      TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('sale', 'return', 'non_sale')),
    transaction_type  TEXT NOT NULL,
    reason_code       TEXT,
    order_id          TEXT,
    currency          TEXT NOT NULL,
    amount_in         NUMERIC(18, 2) NOT NULL,
    amount_out        NUMERIC(18, 2) NOT NULL,
    status            TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'completed', 'canceled')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at       TIMESTAMPTZ
);
CREATE INDEX cash_transactions_drawer ON cash_transactions (drawer_id, created_at);

CREATE TABLE cash_counts (
    count_id            UUID PRIMARY KEY,
    drawer_id           TEXT NOT NULL REFERENCES cash_drawers (drawer_id),
    activation_id       UUID NOT NULL REFERENCES cash_drawer_activations (activation_id),
    associate_id        TEXT,
    reason              TEXT NOT NULL CHECK (reason IN ('intra_day_balance', 'end_of_day_balance')),
    status              TEXT NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'recorded', 'recount', 'submitted', 'canceled')),
    counted_amount      NUMERIC(18, 2),
    expected_amount     NUMERIC(18, 2),
    discrepancy_amount  NUMERIC(18, 2),
    -- the ledger position the count was compared against: a drawer that moved
    -- since cannot be closed with this count
    ledger_seq          BIGINT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_at         TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ
);
CREATE INDEX cash_counts_drawer ON cash_counts (drawer_id, created_at);

CREATE TABLE cash_drawer_events (
    event_id        UUID PRIMARY KEY,
    drawer_id       TEXT NOT NULL REFERENCES cash_drawers (drawer_id),
    event           TEXT NOT NULL CHECK (event IN ('open', 'close')),
    correlation     TEXT NOT NULL CHECK (correlation IN ('transaction', 'count')),
    correlation_id  UUID NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    associate_id    TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cash_drawer_events_drawer ON cash_drawer_events (drawer_id, occurred_at);

-- The ledger: one row per money movement, never updated or deleted. `hash` =
-- sha256(prev_hash ‖ canonical row), chained per drawer by `seq`.
CREATE TABLE cash_drawer_ledger (
    id                BIGSERIAL PRIMARY KEY,
    drawer_id         TEXT NOT NULL REFERENCES cash_drawers (drawer_id),
    seq               BIGINT NOT NULL,
    store_id          TEXT NOT NULL,
    activation_id     UUID NOT NULL REFERENCES cash_drawer_activations (activation_id),
    entry_type        TEXT NOT NULL CHECK (entry_type IN ('float', 'sale', 'return', 'non_sale_in', 'non_sale_out',
                                                          'reconciliation', 'end_of_day_withdrawal')),
    transaction_type  TEXT NOT NULL,
    source_id         UUID,
    associate_id      TEXT,
    order_id          TEXT,
    reason_code       TEXT,
    currency          TEXT NOT NULL,
    amount            NUMERIC(18, 2) NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL,
    CONSTRAINT cash_drawer_ledger_drawer_seq_key UNIQUE (drawer_id, seq)
);
-- Daily reports and balances: per-activation sums by entry type, index-only.
CREATE INDEX cash_drawer_ledger_activation ON cash_drawer_ledger (activation_id, entry_type) INCLUDE (amount);
-- The store report: a time window of one store, optionally one type.
CREATE INDEX cash_drawer_ledger_store_time ON cash_drawer_ledger (store_id, created_at, id);
CREATE INDEX cash_drawer_ledger_store_type_time ON cash_drawer_ledger (store_id, transaction_type, created_at, id);

CREATE FUNCTION cash_drawer_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cash_drawer_ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cash_drawer_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON cash_drawer_ledger
    FOR EACH ROW EXECUTE FUNCTION cash_drawer_ledger_append_only();
CREATE TRIGGER cash_drawer_ledger_no_truncate
    BEFORE TRUNCATE ON cash_drawer_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION cash_drawer_ledger_append_only();

-- Idempotency-Key answers, kept 24 h. The row is written in the same
-- transaction as the effect it answers for, so a retry either sees the
-- committed answer or nothing happened.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER,
    response      JSONB,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
