-- Store cash operations (SPEC §13, all but deposits): neutral transaction
-- types, counts by denomination, the opening check, variance approval by a
-- manager, per-drawer cash limits and cash rounding of change.

-- Neutral non-sale types (`no_sale`): the drawer opens, no money moves.
ALTER TABLE cash_transaction_types DROP CONSTRAINT cash_transaction_types_balance_modification_check;
ALTER TABLE cash_transaction_types ADD CONSTRAINT cash_transaction_types_balance_modification_check
    CHECK (balance_modification IN ('cash_in', 'cash_out', 'neutral'));

-- The type's balance_modification when the transaction was started (a later
-- re-configuration does not change which way a draft moves cash); NULL for
-- sales and for non-sales started before this migration. `rounding`: rounded
-- change − exact change of a cash sale in a store that rounds cash.
ALTER TABLE cash_transactions
    ADD COLUMN balance_modification TEXT CHECK (balance_modification IN ('cash_in', 'cash_out', 'neutral')),
    ADD COLUMN rounding NUMERIC(18, 2);

-- Store configuration: denominations per currency ({"USD": ["100.00", …]}),
-- the largest count variance one associate may submit alone, and the step
-- cash change is rounded to.
ALTER TABLE store_cash_config
    ADD COLUMN denominations JSONB,
    ADD COLUMN variance_tolerance NUMERIC(18, 2) CHECK (variance_tolerance >= 0),
    ADD COLUMN variance_tolerance_currency TEXT CHECK (variance_tolerance_currency ~ '^[A-Z]{3}$'),
    ADD COLUMN cash_rounding NUMERIC(18, 2) CHECK (cash_rounding > 0),
    ADD CONSTRAINT store_cash_config_tolerance_currency
        CHECK ((variance_tolerance IS NULL) = (variance_tolerance_currency IS NULL));

-- Associates are `associate` (default) or `manager` (may approve a count
-- whose variance exceeds the store's tolerance).
ALTER TABLE associates
    ADD COLUMN role TEXT NOT NULL DEFAULT 'associate' CHECK (role IN ('associate', 'manager'));

-- Cash limit: `over_limit` is set and cleared under the drawer row lock in
-- the transaction that appends the ledger row, so one crossing sends one
-- webhook however many sales complete at once.
ALTER TABLE cash_drawers
    ADD COLUMN cash_limit NUMERIC(18, 2) CHECK (cash_limit >= 0),
    ADD COLUMN over_limit BOOLEAN NOT NULL DEFAULT false;

-- Counts by denomination ([{"value": "20.00", "quantity": 12}, …]) and the
-- manager who approved a count over the tolerance.
ALTER TABLE cash_counts
    ADD COLUMN counted_denominations JSONB,
    ADD COLUMN approved_by TEXT;

-- The opening check: what was counted when the day opened, against what the
-- drawer was left with at its last close.
ALTER TABLE cash_drawer_activations
    ADD COLUMN opening_count NUMERIC(18, 2),
    ADD COLUMN expected_opening NUMERIC(18, 2);

-- Ledger: neutral movements (amount 0) and submitted counts (amount 0, their
-- denominations and approver in `details`; the float row's opening check).
-- `details` is a JSON document kept as the exact text that was hashed (jsonb
-- would reorder its keys); rows without it hash as they always did.
ALTER TABLE cash_drawer_ledger DROP CONSTRAINT cash_drawer_ledger_entry_type_check;
ALTER TABLE cash_drawer_ledger ADD CONSTRAINT cash_drawer_ledger_entry_type_check
    CHECK (entry_type IN ('float', 'sale', 'return', 'non_sale_in', 'non_sale_out', 'non_sale_neutral', 'count',
                          'reconciliation', 'end_of_day_withdrawal'));
ALTER TABLE cash_drawer_ledger ADD COLUMN details TEXT;
