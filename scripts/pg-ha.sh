#!/usr/bin/env bash
# The Postgres failover topology of SPEC §12, on loopback, for the drills in
# tests/api/failover.rs and for trying failover by hand: etcd, two Postgres
# nodes managed by Patroni with synchronous_mode (node2 the synchronous
# standby of node1), and HAProxy routing to whichever node Patroni's
# `GET /primary` check says is the primary. Everything lives under DIR, on
# free loopback ports; every process is started and stopped by its PID.
#
#   scripts/pg-ha.sh start DIR        start it all; returns once node1 leads,
#                                     node2 is its synchronous standby, the
#                                     database `cashdesk` exists and HAProxy
#                                     reaches it. Writes DIR/env (below).
#   scripts/pg-ha.sh leader DIR       prints the name of the node that is primary now
#   scripts/pg-ha.sh kill DIR NODE    SIGKILLs NODE (node1 or node2): Patroni,
#                                     its postmaster and every backend, as when
#                                     the machine dies
#   scripts/pg-ha.sh stop DIR         stops everything started in DIR
#
# DIR/env (shell syntax): PG_HA_HAPROXY_PORT, PG_HA_ETCD_PORT, and for N in
# 1 2: PG_HA_NODEN_PORT (Postgres), PG_HA_NODEN_API (Patroni REST).
# Connect with postgres://postgres@127.0.0.1:$PG_HA_HAPROXY_PORT/cashdesk
# (trust authentication on loopback only).
#
# Needs etcd (Debian etcd-server), patroni, haproxy, curl, python3 and the
# Postgres server binaries (PG_BIN, default: the newest /usr/lib/postgresql/*/bin);
# scripts/test.sh installs them (scripts/deps.sh ensure_failover_tools).
#
# PG_HA_SYNCHRONOUS=0 starts it with asynchronous replication instead (no
# synchronous_mode), to show what that loses: never for production.
#
# Timings are short so that a failover takes seconds: the leader key lives
# 8 s (ttl) and is renewed every second (loop_wait); HAProxy checks every
# 500 ms and cuts the sessions of a node it marks down.
set -euo pipefail

log() { printf '==> pg-ha: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() { sed -n '2,30p' "$0" >&2; exit 2; }

[ $# -ge 2 ] || usage
action=$1
DIR=$2

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$newest" ] || die "no Postgres server binaries under /usr/lib/postgresql (set PG_BIN)"
  echo "$newest"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# The prefix that runs a command as the postgres user when we are root
# (Postgres refuses root). setpriv execs in place, so the PID recorded for
# the command is its own.
as_postgres=()
[ "$(id -u)" = "0" ] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)

wait_for() { # seconds description command...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "not within ${seconds} s: $what (logs in $DIR)"
    sleep 0.2
  done
}

free_ports() { # N: prints N distinct free loopback ports
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

patroni_config() { # node pg_port api_port
  local node=$1 port=$2 api=$3
  cat <<EOF
scope: cashdesk
namespace: /pg-ha/
name: $node
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 8
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    synchronous_mode: $SYNCHRONOUS
    postgresql:
      use_pg_rewind: false
      use_slots: true
      parameters:
        max_connections: 100
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 64MB
        synchronous_commit: "on"
  initdb:
    - encoding: UTF8
    - auth-local: trust
    - auth-host: trust
postgresql:
  listen: 127.0.0.1:$port
  connect_address: 127.0.0.1:$port
  data_dir: $DIR/$node/data
  bin_dir: $PG_BIN
  pgpass: $DIR/$node/pgpass
  basebackup:
    checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
  parameters:
    unix_socket_directories: $DIR/$node
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
EOF
}

start_node() { # node pg_port api_port
  local node=$1
  mkdir -p "$DIR/$node"
  patroni_config "$@" > "$DIR/$node/patroni.yml"
  [ "$(id -u)" = "0" ] && chown -R postgres:postgres "$DIR/$node"
  chmod 700 "$DIR/$node"
  # In a session of its own (setsid execs in place here: a background job is
  # no process-group leader), so that `kill` can take the node down whole.
  HOME="$DIR/$node" setsid "${as_postgres[@]}" patroni "$DIR/$node/patroni.yml" > "$DIR/$node.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$node.pid"
}

api() { curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1$2"; }

start() {
  command -v etcd >/dev/null || die "etcd is missing (Debian etcd-server)"
  command -v patroni >/dev/null || die "patroni is missing"
  command -v haproxy >/dev/null || die "haproxy is missing"
  command -v curl >/dev/null || die "curl is missing"
  PG_BIN=$(pg_bin)
  SYNCHRONOUS=true
  [ "${PG_HA_SYNCHRONOUS:-1}" = "0" ] && SYNCHRONOUS=false
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  read -r ETCD_PORT ETCD_PEER HAPROXY_PORT NODE1_PORT NODE1_API NODE2_PORT NODE2_API < <(free_ports 7)
  cat > "$DIR/env" <<EOF
PG_HA_ETCD_PORT=$ETCD_PORT
PG_HA_HAPROXY_PORT=$HAPROXY_PORT
PG_HA_NODE1_PORT=$NODE1_PORT
PG_HA_NODE1_API=$NODE1_API
PG_HA_NODE2_PORT=$NODE2_PORT
PG_HA_NODE2_API=$NODE2_API
EOF

  etcd --name etcd1 --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "etcd1=http://127.0.0.1:$ETCD_PEER" --initial-cluster-state new \
    > "$DIR/etcd.log" 2>&1 < /dev/null &
  echo $! > "$DIR/etcd.pid"
  wait_for 20 "etcd answers" curl -sf --max-time 1 "http://127.0.0.1:$ETCD_PORT/health"

  # node1 first, so it bootstraps the cluster and leads; node2 then clones it.
  start_node node1 "$NODE1_PORT" "$NODE1_API"
  wait_for 60 "node1 is the primary" api "$NODE1_API" /primary
  wait_for 20 "node1 accepts connections" "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$NODE1_PORT" -U postgres -d postgres -c "SELECT 1"
  "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$NODE1_PORT" -U postgres -d postgres -c "CREATE DATABASE cashdesk" >/dev/null
  start_node node2 "$NODE2_PORT" "$NODE2_API"
  if [ "$SYNCHRONOUS" = true ]; then
    wait_for 60 "node2 is the synchronous standby" api "$NODE2_API" /sync
  else
    wait_for 60 "node2 streams from node1" api "$NODE2_API" "/replica?lag=0"
  fi

  cat > "$DIR/haproxy.cfg" <<EOF
global
    maxconn 512
defaults
    mode tcp
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
listen postgres_primary
    bind 127.0.0.1:$HAPROXY_PORT
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
    server node1 127.0.0.1:$NODE1_PORT check port $NODE1_API
    server node2 127.0.0.1:$NODE2_PORT check port $NODE2_API
EOF
  haproxy -db -f "$DIR/haproxy.cfg" > "$DIR/haproxy.log" 2>&1 < /dev/null &
  echo $! > "$DIR/haproxy.pid"
  wait_for 20 "HAProxy reaches the primary" "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$HAPROXY_PORT" -U postgres -d cashdesk -c "SELECT 1"
  log "up in $DIR: HAProxy on 127.0.0.1:$HAPROXY_PORT, node1 (primary) on $NODE1_PORT, node2 (standby, synchronous: $SYNCHRONOUS) on $NODE2_PORT"
}

load_env() {
  [ -f "$DIR/env" ] || die "no topology in $DIR"
  # shellcheck disable=SC1091
  source "$DIR/env"
}

leader() {
  load_env
  if api "$PG_HA_NODE1_API" /primary; then echo node1; return; fi
  if api "$PG_HA_NODE2_API" /primary; then echo node2; return; fi
  return 1
}

postmaster_pid() { # node
  local file="$DIR/$1/data/postmaster.pid"
  [ -f "$file" ] && head -n 1 "$file"
}

# SIGKILL of a node's Patroni (its session: Patroni and the postmaster) and
# of the postmaster's children (backends and workers run in sessions of
# their own). The children are listed before anything dies, while they are
# still the postmaster's.
kill_node() {
  local node=$1 pid pm children=""
  pid=$(cat "$DIR/$node.pid" 2>/dev/null || true)
  pm=$(postmaster_pid "$node" || true)
  if alive "$pm"; then children=$(ps -o pid= --ppid "$pm" || true); fi
  alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null || true
  alive "$pm" && kill -KILL "$pm" 2>/dev/null || true
  for child in $children; do kill -KILL "$child" 2>/dev/null || true; done
}

stop_pid() { # pidfile seconds
  local pid
  pid=$(cat "$1" 2>/dev/null || true)
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $(($2 * 5))); do alive "$pid" || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  [ -d "$DIR" ] || return 0
  for node in node1 node2; do
    [ -f "$DIR/$node.pid" ] || continue
    # Patroni stops its Postgres on SIGTERM; whatever is left then is killed.
    stop_pid "$DIR/$node.pid" 20
    kill_node "$node"
  done
  stop_pid "$DIR/haproxy.pid" 5
  stop_pid "$DIR/etcd.pid" 5
}

case "$action" in
  start) start ;;
  leader) leader ;;
  kill) [ $# -ge 3 ] || usage; kill_node "$3" ;;
  stop) stop ;;
  *) usage ;;
esac
