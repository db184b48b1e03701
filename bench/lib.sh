# Sourced by bench/run.sh and scripts/soak.sh: a private Redis Cluster, and
# fresh order numbers cloned from one pre-order for load that pays a new
# order with every request.

# A loopback port nothing listens on now.
free_port() {
  local p
  while :; do
    # Below the kernel's ephemeral range (32768-60999 by default): a port
    # there may be the local end of an outbound connection, which a node
    # cannot bind although nothing listens on it.
    p=$(( 20000 + RANDOM % 12000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# start_redis_cluster DIR: 3 primaries and 3 replicas on free loopback
# ports, data under DIR. Sets CLUSTER_PIDS (stop them with
# stop_redis_cluster), CLUSTER_PORTS and CLUSTER_URLS (for REDIS_CLUSTER_URLS).
start_redis_cluster() {
  local dir=$1 attempt
  # A port picked free can be taken before its node binds it (another run,
  # an outbound connection): start over on fresh ports, up to three times.
  for attempt in 1 2 3; do
    start_redis_cluster_once "$dir/$attempt" && return 0
    echo "Redis Cluster not formed (attempt $attempt):" >&2
    tail -n 5 "$dir/$attempt/create.log" "$dir/$attempt"/*/redis.log >&2 2>/dev/null || true
    stop_redis_cluster
  done
  return 1
}

start_redis_cluster_once() {
  local dir=$1 port bus i
  CLUSTER_PIDS=() CLUSTER_PORTS=()
  mkdir -p "$dir"
  for i in 1 2 3 4 5 6; do
    port=$(free_port); bus=$(free_port)
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --repl-diskless-sync yes \
      --repl-diskless-sync-delay 0 --save "" --appendonly no --dir "$dir/$port" >"$dir/$port/redis.log" 2>&1 &
    CLUSTER_PIDS+=($!) CLUSTER_PORTS+=("$port")
  done
  for port in "${CLUSTER_PORTS[@]}"; do
    for _ in $(seq 1 100); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && break; sleep 0.05; done
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${CLUSTER_PORTS[@]}") --cluster-replicas 1 --cluster-yes \
    >"$dir/create.log" 2>&1 || return 1
  for port in "${CLUSTER_PORTS[@]}"; do
    for _ in $(seq 1 200); do redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.05; done
  done
  CLUSTER_URLS=$(printf 'redis://127.0.0.1:%s,' "${CLUSTER_PORTS[@]}")
  CLUSTER_URLS=${CLUSTER_URLS%,}
}

stop_redis_cluster() {
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CLUSTER_PIDS=()
}

# clone_pre_orders CLI SESSION_KEY PREFIX COUNT FIRST_SEQUENCE SID_OFFSET BUCKETS
# Copies the pre-order of the session hash SESSION_KEY into COUNT fresh order
# numbers (sequence values from FIRST_SEQUENCE + 1, spread over BUCKETS
# buckets, so over every primary of a cluster) and prints the numbers. CLI
# is the redis-cli to use (with -c for a cluster). Numbers are laid out as
# src/order_number.rs issues them, keys as src/keys.rs builds them; each
# script call touches one bucket, so one slot.
clone_pre_orders() {
  local cli=$1 session_key=$2 prefix=$3 count=$4 first=$5 sid_offset=$6 buckets=$7
  local fields b
  mapfile -t fields < <($cli --raw HMGET "$session_key" state doc ptype fp card ivr)
  local per_bucket=$(( (count + buckets - 1) / buckets ))
  awk -v count="$count" -v first="$first" -v buckets="$buckets" -v per="$per_bucket" '
    function check(d,   i, sum, n, dbl) {
      sum = 0; dbl = 1
      for (i = length(d); i >= 1; i--) { n = substr(d, i, 1) + 0; if (dbl) { n *= 2; if (n > 9) n -= 9 } sum += n; dbl = !dbl }
      return (10 - sum % 10) % 10
    }
    BEGIN {
      for (i = 0; i < count; i++) {
        b = int(i / per) * int(1000 / buckets)
        d = sprintf("%06d%03d", first + 1 + i, b)
        print b "\t" d check(d)
      }
    }' >"$WORK/clones.tsv"
  for b in $(cut -f1 "$WORK/clones.tsv" | uniq); do
    local keys=()
    mapfile -t keys < <(awk -F'\t' -v b="$b" -v p="$prefix" '$1 == b { printf "%s{s%03d}:order_number:%s\n", p, b, $2 }' "$WORK/clones.tsv")
    $cli --eval bench/lua/clone_pre_orders.lua "${keys[@]}" , "$(( sid_offset + b * per_bucket ))" "${fields[@]}" >/dev/null
  done
  cut -f2 "$WORK/clones.tsv"
}
