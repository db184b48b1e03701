#!/usr/bin/env bash
# The API description is the code (SPEC §15), checked from outside:
#   1. /openapi.json of a freshly started cashdesk passes openapi-spec-validator;
#   2. openapi-python-client generates a client from it, and that client alone
#      runs the README's till walk-through (scripts/client_walkthrough.py).
# Both tools are pinned and installed from PyPI into a venv under
# ~/.cache/cashdesk when missing. The server runs on a scratch database and
# Redis prefix, removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

VALIDATOR_VERSION=0.9.0
GENERATOR_VERSION=0.29.1
VENV=$(python_tools "api-contract-$VALIDATOR_VERSION-$GENERATOR_VERSION" \
  "openapi-spec-validator==$VALIDATOR_VERSION" "openapi-python-client==$GENERATOR_VERSION")

[ "${CASHDESK_PREBUILT:-0}" = "1" ] || cargo build --locked --quiet
id=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
server="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export DATABASE_URL="$server/cashdesk_contract_$id"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export REDIS_KEY_PREFIX="contract:$id:"
export ADMIN_TOKEN="contract-admin-token-$id"
export RUST_LOG=warn
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BIND="127.0.0.1:$port"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS cashdesk_contract_$id WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS_URL" --scan --pattern "contract:$id:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$server/postgres" -qc "CREATE DATABASE cashdesk_contract_$id"
./target/debug/cashdesk seed-demo >/dev/null
# With its worker: the walk-through ends with the order the worker makes.
./target/debug/cashdesk serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://$BIND/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://$BIND/openapi.json" -o "$work/openapi.json" || { cat "$work/server.log" >&2; echo "cashdesk did not start" >&2; exit 1; }

log "validating /openapi.json (openapi-spec-validator $VALIDATOR_VERSION)"
"$VENV/bin/openapi-spec-validator" "$work/openapi.json"

log "generating a Python client (openapi-python-client $GENERATOR_VERSION) and running the till walk-through with it"
"$VENV/bin/openapi-python-client" generate --path "$work/openapi.json" --output-path "$work/cashdesk_client" --meta none \
  >"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
PYTHONPATH="$work" "$VENV/bin/python" scripts/client_walkthrough.py "http://$BIND" cashier01 demo-secret
