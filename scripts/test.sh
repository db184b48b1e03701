#!/usr/bin/env bash
# Runs the whole test suite against local Postgres and Redis (started or
# installed when missing). Every test makes its own database and Redis key
# prefix, so tests run in parallel and leave nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_cargo
ensure_postgres
ensure_redis
# The fault and cluster tests start private Redis servers and Redis Clusters
# (tests/api/faults.rs, cluster.rs): they need the binaries even when the
# shared Redis runs elsewhere.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  can_install && apt_install redis-server
fi
# xmllint validates the sales report XML against its published schema.
command -v xmllint >/dev/null 2>&1 || { can_install && apt_install libxml2-utils; } || log "xmllint missing: the XML schema check is skipped"
# The admin page is tested in headless Chromium driven by chromedriver; the
# browser test fails (it does not skip) when they are missing.
if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
  can_install && apt_install chromium chromium-driver
fi
command -v curl >/dev/null 2>&1 || { can_install && apt_install curl; }
# nginx balances two instances in the fault tests (tests/api/faults.rs); that test fails without it.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { can_install && { apt_install nginx-light || apt_install nginx; }; } \
  || log "nginx missing: the load-balancer fault test will fail"
# etcd, Patroni and HAProxy for the Postgres failover drills (tests/api/failover.rs, scripts/pg-ha.sh).
ensure_failover_tools
# The gates that keep main readable: rustfmt (rustfmt.toml) and clippy with
# every warning an error.
log "checking the layout (cargo fmt --check) and the lints (cargo clippy -D warnings)"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# The offline data of the checked SQL (.sqlx/) matches the statements and
# the migrations: the build reads it instead of a database.
bash scripts/sqlx-prepare.sh --check
# Dependencies against the RustSec advisories (scripts/audit.sh says which database).
bash scripts/audit.sh
log "running the tests"
rm -f target/tmp/reliability-figures.txt
cargo test --locked --all-targets -- --test-threads "${TEST_THREADS:-6}"
log "reliability figures of this run (docs/RELIABILITY.md)"
cat target/tmp/reliability-figures.txt 2>/dev/null || true
# The API description from outside: validated, and a generated client runs the till walk-through.
CASHDESK_PREBUILT=1 bash scripts/api-contract.sh
# Property-based fuzzing of the whole API against its OpenAPI description.
CASHDESK_PREBUILT=1 bash scripts/fuzz-api.sh
