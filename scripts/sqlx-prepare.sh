#!/usr/bin/env bash
# The offline data of the checked SQL (.sqlx/, committed): builds never talk
# to a database (SQLX_OFFLINE=true in .cargo/config.toml), so the data must
# match the statements and the migrations.
#   bash scripts/sqlx-prepare.sh          rewrites .sqlx/ after a statement or migration changed
#   bash scripts/sqlx-prepare.sh --check  fails when .sqlx/ is stale (scripts/test.sh runs this)
# Both describe every statement against a scratch database migrated from
# migrations/ (created here, dropped at the end) on the Postgres server of
# TEST_PG_URL (default: the local one), with sqlx-cli installed from
# crates.io, pinned, when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_cargo
ensure_sqlx_cli
server="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
db="cashdesk_sqlx_$(date +%s)_$$"
export DATABASE_URL="$server/$db"
trap 'cargo sqlx database drop -y -f >/dev/null 2>&1 || log "scratch database $db not dropped"' EXIT
cargo sqlx database create
cargo sqlx migrate run --source migrations >/dev/null
if [ "${1:-}" = "--check" ]; then
  log "checking the offline SQL data (.sqlx/) against the statements and the migrations"
  out=$(cargo sqlx prepare --check -- --all-targets --locked 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" >&2
  # A file no statement uses any more is only a warning to sqlx: fail on it
  # too, so .sqlx/ holds exactly the statements of the code.
  if grep -q "unused queries" <<<"$out"; then
    echo ".sqlx/ holds data of statements that are gone: run bash scripts/sqlx-prepare.sh" >&2
    exit 1
  fi
else
  cargo sqlx prepare -- --all-targets --locked
fi
