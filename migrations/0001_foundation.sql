-- Dynamic settings: the current value of each key, and every value it ever had.
CREATE TABLE dynamic_settings (
    key         TEXT PRIMARY KEY,
    value       JSONB NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by  TEXT NOT NULL
);

CREATE TABLE dynamic_settings_history (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL,
    value       JSONB NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by  TEXT NOT NULL,
    UNIQUE (key, version)
);

-- Catalog.
CREATE TABLE departments (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE products (
    pk          BIGSERIAL PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    price       NUMERIC(18, 2) NOT NULL CHECK (price >= 0),
    currency    TEXT NOT NULL,
    tax_rate    NUMERIC(5, 2) NOT NULL CHECK (tax_rate >= 0),
    department  TEXT REFERENCES departments (code),
    base_code   TEXT,
    attributes  JSONB NOT NULL DEFAULT '{}',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    address     JSONB,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE payment_options (
    id           BIGSERIAL PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    payment_type TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE shipping_options (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    price       NUMERIC(18, 2) NOT NULL CHECK (price >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE cards (
    id                 BIGSERIAL PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    card_payment_type  TEXT NOT NULL,
    bank_name          TEXT NOT NULL,
    bank_slug          TEXT NOT NULL,
    installment_counts INTEGER[] NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Order numbers are unique forever: they come from this sequence, never from Redis.
CREATE SEQUENCE order_number_seq;

-- An accepted payment: the money record. Written (and committed) before the
-- till hears "0"; an order is created from it afterwards by a worker.
CREATE TABLE payments (
    id                BIGSERIAL PRIMARY KEY,
    order_number      TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('cash_register', 'ivr')),
    transaction_id    TEXT NOT NULL,
    amount            NUMERIC(18, 2) NOT NULL,
    paid_amount       NUMERIC(18, 2) NOT NULL,
    discounted_amount NUMERIC(18, 2),
    promotions        JSONB NOT NULL DEFAULT '[]',
    pre_order         JSONB NOT NULL,
    terminal_code     TEXT,
    staff_id          BIGINT,
    staff_email       TEXT,
    store_id          TEXT,
    response          JSONB NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    enqueued_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    order_created_at  TIMESTAMPTZ,
    CONSTRAINT payments_order_number_key UNIQUE (order_number),
    -- one checkout session is paid once, whatever order numbers it was given
    CONSTRAINT payments_session_id_key UNIQUE (session_id)
);
CREATE INDEX payments_without_order ON payments (id) WHERE order_created_at IS NULL;

CREATE TABLE orders (
    id                    BIGSERIAL PRIMARY KEY,
    order_number          TEXT NOT NULL,
    status                TEXT NOT NULL,
    source                TEXT NOT NULL,
    payment_id            BIGINT REFERENCES payments (id),
    shop_id               TEXT,
    customer_id           TEXT,
    customer              JSONB,
    currency              TEXT NOT NULL,
    total_quantity        INTEGER NOT NULL,
    total_product_amount  NUMERIC(18, 2) NOT NULL,
    total_discount_amount NUMERIC(18, 2) NOT NULL,
    shipping_amount       NUMERIC(18, 2) NOT NULL,
    total_amount          NUMERIC(18, 2) NOT NULL,
    paid_amount           NUMERIC(18, 2) NOT NULL,
    payment_option        JSONB,
    shipping_option       JSONB,
    shipping_address      JSONB,
    billing_address       JSONB,
    transaction_id        TEXT,
    terminal_code         TEXT,
    staff_id              BIGINT,
    staff_email           TEXT,
    store_id              TEXT,
    cash_box_id           TEXT,
    is_refund             BOOLEAN NOT NULL DEFAULT false,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT orders_order_number_key UNIQUE (order_number)
);
CREATE INDEX orders_shop_created ON orders (shop_id, created_at);
CREATE INDEX orders_created ON orders (created_at);

CREATE TABLE order_lines (
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    line_no         INTEGER NOT NULL,
    basket_item_id  INTEGER NOT NULL,
    sku             TEXT NOT NULL,
    name            TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_price      NUMERIC(18, 2) NOT NULL,
    price           NUMERIC(18, 2) NOT NULL,
    tax_rate        NUMERIC(5, 2) NOT NULL,
    discount_amount NUMERIC(18, 2) NOT NULL,
    total_amount    NUMERIC(18, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_discounts (
    order_id       BIGINT NOT NULL REFERENCES orders (id),
    position       INTEGER NOT NULL,
    source         TEXT NOT NULL,
    description    TEXT NOT NULL,
    amount         NUMERIC(18, 2) NOT NULL,
    affected_items JSONB NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Events for outside systems, written in the transaction that causes them
-- and delivered at least once by the webhook dispatcher.
CREATE TABLE webhook_outbox (
    id            BIGSERIAL PRIMARY KEY,
    event_type    TEXT NOT NULL,
    payload       JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
