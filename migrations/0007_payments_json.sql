-- A payment's documents (the pre-order snapshot, the promotions, the success
-- answer) are written once, on the hot path of complete, and only ever read
-- back whole: nothing queries inside them. As jsonb, Postgres parsed each
-- snapshot into a tree and sorted its keys on every insert, over a third of
-- its time on that path. `json` keeps the text as rendered, checked to be
-- JSON, and reads back byte for byte.
ALTER TABLE payments
    ALTER COLUMN pre_order TYPE json,
    ALTER COLUMN promotions TYPE json,
    ALTER COLUMN promotions SET DEFAULT '[]',
    ALTER COLUMN response TYPE json;

DO $$
BEGIN
    ALTER TABLE payments ALTER COLUMN pre_order SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server; payments.pre_order stays pglz';
END $$;
