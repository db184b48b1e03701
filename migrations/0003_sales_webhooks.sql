-- Shops of the sales web service (SPEC §9). The key is shown once and kept
-- only as its SHA-256: keys are 256-bit random tokens, so a fast hash is enough.
CREATE TABLE shops (
    shop_id     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    key_sha256  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Server-wide secrets that every instance must share without extra
-- configuration (the invoice-link key). Created once, from Rust, with
-- INSERT … ON CONFLICT DO NOTHING.
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- An outbox event is fanned out to the endpoints configured when the
-- dispatcher first sees it; this marks the events already fanned out.
ALTER TABLE webhook_outbox ADD COLUMN fanned_out_at TIMESTAMPTZ;
CREATE INDEX webhook_outbox_pending ON webhook_outbox (id) WHERE fanned_out_at IS NULL;

-- The delivery of one event to one endpoint URL. `next_attempt_at` doubles as
-- a lease: a dispatcher claiming a delivery pushes it forward, so a dispatcher
-- that dies mid-attempt leaves it due again once the lease is over.
CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    event_id         BIGINT NOT NULL REFERENCES webhook_outbox (id),
    url              TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'gone', 'expired', 'endpoint_removed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    last_error       TEXT,
    CONSTRAINT webhook_deliveries_event_url_key UNIQUE (event_id, url)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- Every attempt, for the operators' page.
CREATE TABLE webhook_attempts (
    id                BIGSERIAL PRIMARY KEY,
    delivery_id       BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at      TIMESTAMPTZ NOT NULL,
    status_code       INTEGER,
    latency_ms        INTEGER NOT NULL,
    error             TEXT,
    response_snippet  TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
