#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis (pinned, installed from PyPI into
# a venv under ~/.cache when missing) generates requests from /openapi.json
# and sends them to a freshly built cashdesk with the demo data, in a scratch
# database and Redis key prefix removed afterwards. No answer may be a 5xx,
# and every answer must conform to the document: its status, content type
# and body (SPEC §15).
#
# The server runs with --no-worker: the fuzzer may configure webhook
# endpoints pointing anywhere, and no dispatcher must ever send to them.
#
# FUZZ_MAX_EXAMPLES (default 50) bounds the cases per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

SCHEMATHESIS_VERSION=4.32.5
VENV=$(python_tools "schemathesis-$SCHEMATHESIS_VERSION" "schemathesis==$SCHEMATHESIS_VERSION")

# test.sh has just built target/debug/cashdesk with the tests; a rebuild here
# would only change dependency features and cost minutes.
[ "${CASHDESK_PREBUILT:-0}" = "1" ] || cargo build --locked --quiet
id=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
server="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export DATABASE_URL="$server/cashdesk_fuzz_$id"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export REDIS_KEY_PREFIX="fuzz:$id:"
export ADMIN_TOKEN="fuzz-admin-token-$id"
export IVR_USERNAME=ivr_user IVR_PASSWORD=ivr_password
export RUST_LOG="${FUZZ_RUST_LOG:-info}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BIND="127.0.0.1:$port"
report_dir=target/fuzz
mkdir -p "$report_dir"

pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS cashdesk_fuzz_$id WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS_URL" --scan --pattern "fuzz:$id:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql "$server/postgres" -qc "CREATE DATABASE cashdesk_fuzz_$id"
./target/debug/cashdesk seed-demo
./target/debug/cashdesk serve --no-worker >"$report_dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://$BIND/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://$BIND/health/ready" >/dev/null || { cat "$report_dir/server.log" >&2; echo "cashdesk did not start for fuzzing" >&2; exit 1; }

# The sales operations need a shop and its key: the fuzzer sends them with
# every sales request (scripts/schemathesis.toml); everything else takes the
# admin token (the drawer API accepts it for every store).
export FUZZ_ADMIN_TOKEN="$ADMIN_TOKEN" FUZZ_SHOP_ID="fuzz-shop"
FUZZ_SHOP_KEY=$(curl -fs -X POST "http://$BIND/admin/api/shops/" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"shop_id": "fuzz-shop", "name": "Fuzz shop"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
export FUZZ_SHOP_KEY

# One worker: CPython 3.11's ast module is not safe to use from two threads
# at once, and hypothesis parses its lambdas' sources while generating
# ("AST constructor recursion depth mismatch", seen in CI).
log "fuzzing every operation of /openapi.json (schemathesis $SCHEMATHESIS_VERSION): no 5xx, every status, content type and body as documented"
set +e
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://$BIND/openapi.json" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-50}" \
  --workers 1 \
  --request-timeout 30 \
  --generation-database none \
  --report junit --report-junit-path "$report_dir/junit.xml" \
  --no-color 2>&1 | tee "$report_dir/schemathesis.log"
status=${PIPESTATUS[0]}
set -e

cases=$(grep -oE '[0-9]+ generated' "$report_dir/schemathesis.log" | grep -oE '[0-9]+' | tail -n 1 || true)
operations=$(grep -c '<testcase' "$report_dir/junit.xml" 2>/dev/null || true)
log "schemathesis ran ${cases:-0} test cases over $operations operations: exit status $status (server log: $report_dir/server.log)"
[ "${cases:-0}" -gt 0 ] || { echo "schemathesis ran no test case" >&2; status=1; }
if grep -qE ' 5[0-9]{2} [0-9.]+ms' "$report_dir/server.log"; then
  echo "the server answered 5xx while fuzzed:" >&2
  grep -E ' 5[0-9]{2} [0-9.]+ms' "$report_dir/server.log" | head -20 >&2
  status=1
fi
[ "$status" = 0 ] && echo "schemathesis: ${cases} passed, 0 failed"
exit "$status"
