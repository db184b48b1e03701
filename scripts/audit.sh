#!/usr/bin/env bash
# Audits Cargo.lock against the RustSec advisory database with cargo-audit
# (installed from crates.io on first use, then cached in ~/.cargo/bin).
#
# Which database: $CARGO_AUDIT_DB if set (a directory of advisories, e.g. a
# checkout of the advisory-db repository); otherwise the full database
# fetched from its repository when the network allows; otherwise the
# snapshot in audit/advisory-db (the advisories of crates this service
# depends on; see docs/RELIABILITY.md for how to refresh it).
# Before trusting a pass it checks that the same database fails a lock file
# with a known-vulnerable crate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_cargo
if ! cargo audit --version >/dev/null 2>&1; then
  log "installing cargo-audit from crates.io"
  cargo install --locked cargo-audit
fi

audit() { cargo audit --color never --no-yanked "$@"; }
fetched_db="$HOME/.cargo/advisory-db"
if [ -n "${CARGO_AUDIT_DB:-}" ]; then
  db=(--no-fetch --db "$CARGO_AUDIT_DB")
else
  if [ "${CASHDESK_AUDIT_FETCH:-1}" = "1" ]; then
    # Fetches the full database into ~/.cargo/advisory-db when its repository is reachable.
    timeout 120 cargo audit --color never --no-yanked --file audit/fixtures/vulnerable/Cargo.lock >/dev/null 2>&1 || true
  fi
  if [ -d "$fetched_db/crates" ]; then
    db=(--no-fetch --db "$fetched_db")
  else
    log "advisory database not reachable: using the snapshot in audit/advisory-db"
    db=(--no-fetch --db audit/advisory-db)
  fi
fi

if audit "${db[@]}" --file audit/fixtures/vulnerable/Cargo.lock >/dev/null 2>&1; then
  echo "audit self-test failed: a known-vulnerable lock file passed" >&2
  exit 1
fi
# rsa (RUSTSEC-2023-0071, no fixed release) is in Cargo.lock only because sqlx
# lists its MySQL driver there; this service builds sqlx for Postgres alone.
# Ignored only while it is truly not built:
ignore=()
if [ -z "$(cargo tree --locked -i rsa --target all 2>/dev/null)" ]; then ignore+=(--ignore RUSTSEC-2023-0071); fi
log "auditing Cargo.lock"
audit "${db[@]}" "${ignore[@]}" --file Cargo.lock
