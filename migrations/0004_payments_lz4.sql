-- The pre-order snapshot of a payment (2-10 KB of JSON) is compressed on
-- every accepted payment; lz4 costs a fraction of the default pglz on that
-- hot insert. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE payments ALTER COLUMN pre_order SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server; payments.pre_order stays pglz';
END $$;
