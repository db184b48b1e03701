-- Order lines and discounts are written only by `orders::insert_all`, in the
-- very statement that writes their order (they join the rows it returned),
-- and orders are never deleted. The foreign keys to `orders` could not fail,
-- yet each line paid for a check that locks its order row (FOR KEY SHARE: a
-- write and a WAL record per line): a fifth of the worker's database time.
ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey;
ALTER TABLE order_discounts DROP CONSTRAINT order_discounts_order_id_fkey;
