#!/usr/bin/env bash
# Drawer report latency with a large ledger (issue 5).
#
# Seeds 1,000,000 ledger rows across 100 drawers (10 stores x 10 drawers, 100
# closed business days per drawer, 100 movements per day) straight into a
# scratch database with generate_series, starts cashdesk against it, and times
# the drawer daily-reports and store-report endpoints with curl.
#
#   bench/drawer_reports.sh            # debug build (the default dev profile)
#   PROFILE=release bench/drawer_reports.sh
#
# KEEP_DB=1 keeps the scratch database afterwards for EXPLAIN ANALYZE.
# Needs Postgres and Redis (DATABASE_SERVER, REDIS_URL), curl, psql, python3.
# The seeded rows carry placeholder hashes: ledger/verify is not part of this
# benchmark (it would report the scratch drawers as tampered, correctly).
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_SERVER=${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
DB=${BENCH_DB:-cashdesk_bench_drawers}
PORT=${BENCH_PORT:-18089}
REQUESTS=${REQUESTS:-50}
PROFILE=${PROFILE:-debug}
ADMIN_TOKEN=bench-admin-token-$RANDOM$RANDOM
BASE=http://127.0.0.1:$PORT

if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
BIN=target/$PROFILE/cashdesk

psql -q "$DATABASE_SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=$DATABASE_SERVER/$DB REDIS_URL ADMIN_TOKEN BIND=127.0.0.1:$PORT REDIS_KEY_PREFIX="bench:$DB:" RUST_LOG=warn
"$BIN" migrate

echo "seeding 1,000,000 ledger rows ..."
seed_started=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<'SQL'
INSERT INTO store_cash_config (store_id, cash_drawer_type, cash_management_enabled)
SELECT format('store-%s', lpad(s::text, 2, '0')), 'integrated', true FROM generate_series(0, 9) s;

INSERT INTO cash_drawers (drawer_id, store_id, name, currency, float_amount, drawer_type, status, ledger_seq)
SELECT format('drawer-%s', lpad(d::text, 3, '0')), format('store-%s', lpad((d / 10)::text, 2, '0')),
       format('Till %s', d), 'USD', 200, 'integrated', 'inactive', 10000
FROM generate_series(0, 99) d;

-- day k of drawer d: opened 08:00 on 2026-01-01 + k, closed 20:00
CREATE TEMP TABLE days AS
SELECT d, k, md5(format('%s/%s', d, k))::uuid AS activation_id,
       timestamptz '2026-01-01 08:00:00+00' + k * interval '1 day' AS opened
FROM generate_series(0, 99) d, generate_series(0, 99) k;

INSERT INTO cash_drawer_activations (activation_id, drawer_id, activated_at, deactivated_at)
SELECT activation_id, format('drawer-%s', lpad(d::text, 3, '0')), opened, opened + interval '12 hours' FROM days;

-- position 0: float; 1..97: sales, some returns and petty cash; 98: variance; 99: deposit
INSERT INTO cash_drawer_ledger (drawer_id, seq, store_id, activation_id, entry_type, transaction_type, source_id,
    associate_id, order_id, reason_code, currency, amount, created_at, prev_hash, hash)
SELECT format('drawer-%s', lpad(d::text, 3, '0')), k * 100 + p + 1, format('store-%s', lpad((d / 10)::text, 2, '0')),
       activation_id, e.entry_type, e.transaction_type, NULL, 'bench', e.order_id, NULL, 'USD', e.amount,
       opened + p * interval '7 minutes', repeat('0', 64), repeat('0', 64)
FROM days, generate_series(0, 99) p,
LATERAL (SELECT CASE WHEN p = 0 THEN 'float' WHEN p = 98 THEN 'reconciliation' WHEN p = 99 THEN 'end_of_day_withdrawal'
                     WHEN p % 20 = 0 THEN 'return' WHEN p % 25 = 1 THEN 'non_sale_out' ELSE 'sale' END) AS k1(entry_type),
LATERAL (SELECT k1.entry_type,
                CASE k1.entry_type WHEN 'float' THEN 'float_adjustment' WHEN 'return' THEN 'sale'
                     WHEN 'non_sale_out' THEN 'remove_petty_cash' ELSE k1.entry_type END,
                CASE WHEN k1.entry_type IN ('sale', 'return') THEN format('o-%s-%s-%s', d, k, p) END,
                (CASE k1.entry_type WHEN 'float' THEN 200.00 WHEN 'reconciliation' THEN -0.50
                     WHEN 'end_of_day_withdrawal' THEN -1500.00 WHEN 'return' THEN -12.34 WHEN 'non_sale_out' THEN -5.00
                     ELSE 10.00 + (p % 7) END)::numeric(18, 2)) AS e(entry_type, transaction_type, order_id, amount);
VACUUM ANALYZE;
SQL
echo "seeded in $(( $(date +%s) - seed_started )) s: $(psql -tAq "$DATABASE_URL" -c 'SELECT count(*) FROM cash_drawer_ledger') ledger rows"

"$BIN" serve --no-worker >/tmp/cashdesk-bench-$PORT.log 2>&1 &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    # the scratch database holds ~1M rows: drop it unless asked to keep it
    [ -n "${KEEP_DB:-}" ] || psql -q "$DATABASE_SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.2; done

TOKEN=$(curl -fs -X POST "$BASE/admin/api/associates/" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' \
    -d '{"associate_id": "bench", "name": "Bench", "store_ids": ["store-00","store-01","store-02","store-03","store-04","store-05","store-06","store-07","store-08","store-09"]}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Times $REQUESTS GETs of $2 (after 3 warm-ups) and prints one table row.
measure() {
    local label=$1 path=$2 times
    for _ in 1 2 3; do curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE$path"; done
    times=$(for _ in $(seq 1 "$REQUESTS"); do
        curl -fs -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$BASE$path"
    done | sort -n)
    python3 - "$label" "$times" <<'PY'
import sys
label, times = sys.argv[1], [float(t) * 1000 for t in sys.argv[2].split()]
pick = lambda q: times[min(len(times) - 1, int(round(q * (len(times) - 1))))]
print(f"| {label:<58} | {len(times):>4} | {pick(0.5):>7.2f} | {pick(0.99):>7.2f} | {max(times):>7.2f} |")
PY
}

echo
printf '| %-58s | reqs |     p50 |     p99 |     max |\n' "endpoint ($PROFILE build, ms)"
echo "|------------------------------------------------------------|------|---------|---------|---------|"
measure "drawer daily reports, limit=10" "/v0/cash-drawers/drawer-042/reports?offset=0&limit=10"
measure "drawer daily reports, limit=100" "/v0/cash-drawers/drawer-042/reports?offset=0&limit=100"
measure "drawer daily reports, last page (offset=90)" "/v0/cash-drawers/drawer-042/reports?offset=90&limit=10"
measure "store report, 1 day (1,000 matches), limit=100" \
    "/v0/cash-transactions/report?store-id=store-04&start-time=2026-02-10T00:00:00Z&end-time=2026-02-10T23:59:59Z&offset=0&limit=100"
measure "store report, 1 day, type=sale, offset=500" \
    "/v0/cash-transactions/report?store-id=store-04&start-time=2026-02-10T00:00:00Z&end-time=2026-02-10T23:59:59Z&offset=500&limit=100&transaction-type=sale"
measure "store report, 100 days (100,000 matches), limit=100" \
    "/v0/cash-transactions/report?store-id=store-04&start-time=2026-01-01T00:00:00Z&end-time=2026-04-30T00:00:00Z&offset=0&limit=100"
