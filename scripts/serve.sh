#!/usr/bin/env bash
# Runs cashdesk on this machine: Postgres and Redis up (started or installed),
# the database created, demo data loaded, then `cashdesk serve` on $BIND
# (default 127.0.0.1:8080). Configuration: see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_cargo
ensure_postgres
ensure_redis
ensure_database
log "building cashdesk (release)"
cargo build --release --locked --quiet
export ADMIN_TOKEN="${ADMIN_TOKEN:-dev-admin-token-change-me}"
# Demo IVR credentials, so the phone-payment walk-through works out of the box.
export IVR_USERNAME="${IVR_USERNAME:-ivr_demo}" IVR_PASSWORD="${IVR_PASSWORD:-ivr-demo-secret}"
./target/release/cashdesk seed-demo
log "serving on ${BIND:-127.0.0.1:8080} (admin token: the ADMIN_TOKEN variable; demo value dev-admin-token-change-me; IVR user $IVR_USERNAME)"
exec ./target/release/cashdesk serve "$@"
