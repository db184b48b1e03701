#!/usr/bin/env bash
# The login flood (SPEC §11, issue 13): can an attacker starve the tills?
#
# Starts cashdesk as it runs behind a load balancer (TRUSTED_PROXIES=127.0.0.1,
# every request carrying X-Forwarded-For), then in one run measures one till
# sending pre_order with the right password over one connection:
#   1. alone, for BENCH_DURATION seconds;
#   2. while wrk floods pre_order with wrong passwords for the same username,
#      each from a random address (so none is ever locked out and every one
#      costs a password hashing), on BENCH_CONNECTIONS connections as fast as
#      they are answered.
# Prints a markdown table: the till's p50/p99 both ways, how many of its
# answers were not the pre-order (target 0), the flood's rate and the
# hashings done. Target: till p99 under flood < 100 ms.
#
#   bash bench/flood.sh                     # builds the release binary
#   BIN=./target/release/cashdesk bash bench/flood.sh   # as bench/run.sh calls it
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_postgres
ensure_redis
command -v wrk >/dev/null || { can_install && apt_install wrk; } || { echo "wrk is required" >&2; exit 1; }

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-18191}
DB=cashdesk_bench_flood
if [ -z "${BIN:-}" ]; then
  ensure_cargo
  cargo build --release --locked --quiet
  BIN=./target/release/cashdesk
fi
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_KEY_PREFIX="bench-flood:"
export BIND="127.0.0.1:$PORT"
export ADMIN_TOKEN="bench-admin-token-0123456789"
export TRUSTED_PROXIES="127.0.0.1/32"
export RUST_LOG=error
B="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
SERVER_PID="" FLOOD_PID=""
cleanup() {
  for pid in $FLOOD_PID $SERVER_PID; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

psql -q "postgres://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
redis-cli --scan --pattern "${REDIS_KEY_PREFIX}*" | xargs -r -n 500 redis-cli del >/dev/null
$BIN seed-demo >/dev/null
$BIN settings set CASH_REGISTER_AUTH_CONF '{"credentials": [{"username": "bench", "password": "bench-secret"}]}' >/dev/null
$BIN serve --no-worker >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
until curl -sf "$B/health/ready" >/dev/null; do
  sleep 0.05
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
done

S=$(curl -sf -X POST "$B/api/v1/checkout/" | jq -r .session_id)
curl -sf -X PATCH "$B/api/v1/checkout/" -H "X-Checkout-Session: $S" -H 'Content-Type: application/json' \
  -d '{"basket": {"items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]}, "payment_option": "cash-register", "shipping_option": "pickup"}' >/dev/null
export FLOOD_ORDER
FLOOD_ORDER=$(curl -sf "$B/hooks/cash_register/get_order_number/" -H "X-Checkout-Session: $S" | jq -r .order_number)
curl -sf -X POST "$B/hooks/cash_register/pre_order/" -H 'X-Forwarded-For: 10.250.0.1' -H 'Content-Type: application/json' \
  -d "{\"order_number\":\"$FLOOD_ORDER\",\"username\":\"bench\",\"password\":\"bench-secret\"}" | grep -q '"pre_order"' \
  || { echo "flood: the till's pre_order sanity check failed" >&2; exit 1; }

metric() { curl -sf "$B/metrics" | awk -v name="$1" '$1 == name {print $2}'; }
till() { # $1 = label: one connection, the right password, latency distribution
  FLOOD_MODE=till wrk -t1 -c1 -d"${DURATION}s" --latency -s bench/lua/flood.lua "$B" >"$WORK/till.$1" 2>&1
}
field() { awk -v k="$2" '$1 == k {print $2}' "$WORK/till.$1"; }

till alone
HASHED_BEFORE=$(metric cashdesk_password_verifications_total)
FLOOD_MODE=attack wrk -t1 -c"$CONNECTIONS" -d"$((DURATION + 4))s" -s bench/lua/flood.lua "$B" >"$WORK/flood" 2>&1 &
FLOOD_PID=$!
sleep 2 # the flood is at full strength before the till is measured
till flood
wait "$FLOOD_PID" || true
FLOOD_PID=""
HASHED=$(( $(metric cashdesk_password_verifications_total) - HASHED_BEFORE ))
FLOOD_RPS=$(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/flood")
FAILURES=$(metric 'cashdesk_hook_login_failures_total{protocol="cash_register"}')

cat <<TABLE
| till pre_order (1 connection, right password) | requests/s | p50 | p99 | answers not the pre-order |
|---|---|---|---|---|
| alone | $(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/till.alone") | $(field alone 50%) | $(field alone 99%) | $(field alone refused) |
| during the flood | $(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/till.flood") | $(field flood 50%) | $(field flood 99%) | $(field flood refused) |

Flood: $CONNECTIONS connections of wrong passwords for the till's username, each from a random address, answered at $FLOOD_RPS requests/s; $HASHED password hashings ($(nproc) cores, at most one at a time per core), ${FAILURES:-0} failed logins counted. Target: till p99 during the flood < 100 ms, every till answer the pre-order.
TABLE
