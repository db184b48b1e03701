#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the body parsers: hook
# fields, strict JSON, decimal money, POS promotions and drawer Monetary
# amounts. Not part of the fast tier: run it by hand or with the soak tier
#   FUZZ_RUNS=200000 bash scripts/fuzz-parsers.sh        # default 20000 runs per target
#   FUZZ_TARGETS="money promotions" bash scripts/fuzz-parsers.sh
# Prints the runs per target; a crash stops it with the input under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_cargo
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz from crates.io"
  cargo install --locked cargo-fuzz
fi
# libFuzzer's instrumentation flags are unstable ones; stable rustc accepts them with this.
export RUSTC_BOOTSTRAP=1
runs="${FUZZ_RUNS:-20000}"
targets="${FUZZ_TARGETS:-hook_body strict_json money promotions drawer_amounts}"
summary=()
for target in $targets; do
  log "fuzzing $target for $runs runs"
  mkdir -p "fuzz/corpus/$target"
  out=$(cargo fuzz run --dev --sanitizer none "$target" "fuzz/corpus/$target" -- \
          -runs="$runs" -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1 2>&1) || { echo "$out" | tail -40; exit 1; }
  done_line=$(echo "$out" | grep -E '^Done [0-9]+ runs' | tail -n 1)
  summary+=("$target: ${done_line:-?}")
done
log "fuzz summary"
printf '  %s\n' "${summary[@]}"
