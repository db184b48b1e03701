-- /health/ready proves that a write commits within 2 s (SPEC §12) by
-- updating this one row: a standby refuses the write, and a primary whose
-- commits wait for a synchronous standby that is gone never answers it.
-- Owned by src/health.rs.
CREATE TABLE readiness_probe (
    id smallint PRIMARY KEY CHECK (id = 1),
    written_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO readiness_probe (id) VALUES (1);
