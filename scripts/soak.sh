#!/usr/bin/env bash
# The soak tier (docs/RELIABILITY.md): the release binary under steady load at
# about half the benchmark throughput, checking every answer, sampling memory,
# then reconciling every payment against its one order. Not part of CI:
#   SOAK=1 bash scripts/soak.sh                         # 10 minutes
#   SOAK=1 SOAK_MINUTES=2 bash scripts/soak.sh          # shorter
# Rates: SOAK_PRE_ORDER_RPS (default 7500) and SOAK_COMPLETE_RPS (default 1700),
# a mixed load well inside what two cores carry with the service, two workers,
# Postgres and Redis side by side (docs/RELIABILITY.md has the runs; a
# 10-minute run at those rates makes
# a million payments and orders: about 1 GB in its private Redis and a few
# GB in the scratch database cashdesk_soak, dropped at the next run). Then the fault tests with more trials
# (SOAK_KILLS worker kills, default 100; SOAK_HOSTILE_CASES bodies per
# endpoint, default 5000) and scripts/fuzz-parsers.sh (FUZZ_RUNS), unless SOAK_FUZZ=0.
set -euo pipefail
[ "${SOAK:-0}" = "1" ] || { echo "the soak tier runs only with SOAK=1 (see docs/RELIABILITY.md)" >&2; exit 2; }
cd "$(dirname "$0")/.."
source scripts/deps.sh
source bench/lib.sh
ensure_cargo
ensure_postgres
ensure_redis
command -v wrk >/dev/null || { can_install && apt_install wrk; } || { echo "wrk is required" >&2; exit 1; }

MINUTES=${SOAK_MINUTES:-10}
# Its own Redis: the fresh pre-orders of a long run (about 1 KB each) stay out of a shared server.
RPORT=${SOAK_REDIS_PORT:-16399}
PRE_RPS=${SOAK_PRE_ORDER_RPS:-7500}
COMPLETE_RPS=${SOAK_COMPLETE_RPS:-1700}
CONNS=32
PORT=${SOAK_PORT:-18282}
DB=cashdesk_soak
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_KEY_PREFIX="soak:" BIND="127.0.0.1:$PORT"
export REDIS_URL="redis://127.0.0.1:$RPORT/0"
rcli() { redis-cli -p "$RPORT" "$@"; }
export ADMIN_TOKEN="soak-admin-token-0123456789" RUST_LOG=warn
B="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
SERVER_PID=""
REDIS_PID=""
WORKER_PID=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "soak stopped with status $status; last lines of its logs:" >&2
    tail -n 15 "$WORK"/*.log "$WORK"/wrk.* 2>/dev/null >&2 || true
  fi
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2>/dev/null || true
  psql -q "postgres://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "building the release binary"
cargo build --release --locked --quiet
BIN=./target/release/cashdesk
psql -q "postgres://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
until [ "$(rcli ping 2>/dev/null)" = "PONG" ]; do sleep 0.1; done
$BIN seed-demo >/dev/null
$BIN settings set CASH_REGISTER_AUTH_CONF '{"credentials": [{"username": "soak", "password": "soak-secret"}], "shipping_sku": "SHIP-01"}' >/dev/null
$BIN serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
until curl -sf "$B/health/ready" >/dev/null; do sleep 0.1; kill -0 "$SERVER_PID" || { cat "$WORK/serve.log"; exit 1; }; done
# A second worker process beside the one in serve, as the benchmark's worker figure assumes.
$BIN worker >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!

# Order numbers: a few hundred real pre-orders to look up, and one 2-line
# pre-order cloned into enough fresh numbers for every complete of the run.
S=$(curl -sf -X POST "$B/api/v1/checkout/" | jq -r .session_id)
TOTAL=$(curl -sf -X PATCH "$B/api/v1/checkout/" -H "X-Checkout-Session: $S" -H 'Content-Type: application/json' \
  -d '{"basket": {"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}]}, "payment_option": "cash-register", "shipping_option": "pickup"}' | jq -r .pre_order.unpaid_amount)
: >"$WORK/lookups"
for _ in $(seq 1 300); do curl -sf "$B/hooks/cash_register/get_order_number/" -H "X-Checkout-Session: $S" | jq -r .order_number >>"$WORK/lookups"; done
FRESH=$(( COMPLETE_RPS * MINUTES * 60 * 12 / 10 ))
SESSION_KEY=$(printf '%s{s%03d}:checkout:%s' "$REDIS_KEY_PREFIX" $(( 16#${S:0:8} % 1000 )) "$S")
clone_pre_orders "redis-cli -p $RPORT" "$SESSION_KEY" "$REDIS_KEY_PREFIX" "$FRESH" 900000000 0 50 >"$WORK/fresh"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# delay per request so that CONNS connections make the wanted rate
pace() { echo $(( CONNS * 1000 / $1 )); }
log "soaking for $MINUTES min: pre_order at ~$PRE_RPS/s, complete at ~$COMPLETE_RPS/s"
( while kill -0 "$SERVER_PID" 2>/dev/null; do echo "$(date +%s) $(rss_kb "$SERVER_PID")"; sleep 10; done ) >"$WORK/rss" &
SAMPLER=$!
BENCH_ORDERS="$WORK/lookups" BENCH_PATH=/hooks/cash_register/pre_order/ SOAK_EXPECT='"pre_order"' SOAK_DELAY_MS=$(pace "$PRE_RPS") \
  BENCH_BODY='{"order_number":"{N}","username":"soak","password":"soak-secret"}' \
  wrk -t1 -c$CONNS -d"${MINUTES}m" --timeout 10s -s bench/lua/paced.lua "$B" >"$WORK/wrk.pre" 2>&1 &
W1=$!
BENCH_ORDERS="$WORK/fresh" BENCH_PATH=/hooks/cash_register/complete/ SOAK_EXPECT='"result":"0"' SOAK_DELAY_MS=$(pace "$COMPLETE_RPS") \
  BENCH_BODY="{\"order_number\":\"{N}\",\"transaction_id\":\"T-{N}\",\"username\":\"soak\",\"password\":\"soak-secret\",\"amount\":\"$TOTAL\"}" \
  wrk -t1 -c$CONNS -d"${MINUTES}m" --timeout 10s -s bench/lua/paced.lua "$B" >"$WORK/wrk.complete" 2>&1 &
W2=$!
wait "$W1" "$W2"
kill "$SAMPLER" 2>/dev/null || true

log "waiting for the workers to drain, then reconciling"
DRAIN_START=$(date +%s)
for _ in $(seq 1 1800); do
  [ "$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM pending_orders")" = "0" ] && break
  sleep 1
done
DRAIN_SECONDS=$(( $(date +%s) - DRAIN_START ))
PAYMENTS=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM payments")
ORDERS=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM orders")
UNMATCHED=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM payments p LEFT JOIN orders o USING (order_number) WHERE o.id IS NULL OR o.total_amount <> p.paid_amount")
req() { awk '/requests in/ {print $1}' "$1"; }
rate() { awk '/Requests\/sec/ {printf "%d", $2}' "$1"; }
wrong() { awk '/WRONG_ANSWERS/ {print $2}' "$1"; }
errors() { awk '/Socket errors|Non-2xx/ {print}' "$1" | tr '\n' ' '; }
FIRST=$(awk 'NR==4 {print $2}' "$WORK/rss")     # after ~30 s of warm-up
LAST=$(tail -n 1 "$WORK/rss" | awk '{print $2}')
MAX=$(awk '{print $2}' "$WORK/rss" | sort -n | tail -n 1)
cat <<REPORT
SOAK $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo ?) ${MINUTES} min
  pre_order: $(req "$WORK/wrk.pre") requests, $(rate "$WORK/wrk.pre")/s, wrong answers $(wrong "$WORK/wrk.pre") $(errors "$WORK/wrk.pre")
  complete:  $(req "$WORK/wrk.complete") requests, $(rate "$WORK/wrk.complete")/s, wrong answers $(wrong "$WORK/wrk.complete") $(errors "$WORK/wrk.complete")
  payments $PAYMENTS, orders $ORDERS, payments without their order or with another amount $UNMATCHED (drained ${DRAIN_SECONDS} s after the load)
  server log lines at warn or above: $(grep -c . "$WORK/serve.log" || true), of them errors: $(grep -c "ERROR" "$WORK/serve.log" || true)
  RSS after warm-up ${FIRST:-?} kB, at the end ${LAST:-?} kB, peak ${MAX:-?} kB (samples every 10 s: $(awk '{printf "%d ", $2/1024}' "$WORK/rss")MB)
REPORT
[ "$UNMATCHED" = "0" ] && [ "$PAYMENTS" = "$ORDERS" ] && [ "$(wrong "$WORK/wrk.pre")" = "0" ] && [ "$(wrong "$WORK/wrk.complete")" = "0" ] \
  && ! grep -q "Socket errors" "$WORK/wrk.pre" "$WORK/wrk.complete" && ! grep -q "ERROR" "$WORK/serve.log" \
  || { echo "soak FAILED"; grep ERROR "$WORK/serve.log" | head -5; exit 1; } >&2
log "fault tests with more trials"
FAULT_TRIALS=${SOAK_KILLS:-100} HOSTILE_CASES=${SOAK_HOSTILE_CASES:-5000} \
  cargo test --locked --test api -- faults hostile_input --test-threads 2 --nocapture 2>&1 | grep -E "RELIABILITY|test result|panicked"
if [ "${SOAK_FUZZ:-1}" = "1" ]; then bash scripts/fuzz-parsers.sh; fi
