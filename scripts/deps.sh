# Sourced by serve.sh and test.sh: makes sure local Postgres and Redis answer
# on 127.0.0.1, starting them when installed but stopped, and installing them
# from the OS packages when missing (as root, unless CASHDESK_NO_INSTALL=1).

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

can_install() {
  [ "${CASHDESK_NO_INSTALL:-0}" != "1" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1
}

apt_install() {
  log "installing $* from the OS packages"
  if [ -z "${CASHDESK_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    CASHDESK_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  postgres_up && return 0
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    can_install || { echo "Postgres is not running on 127.0.0.1:5432 and cannot be installed here; start it or set DATABASE_URL" >&2; return 1; }
    apt_install postgresql
    # A fresh developer cluster: let local TCP connections in without a password.
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting Postgres $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start
  for _ in $(seq 1 50); do postgres_up && return 0; sleep 0.2; done
  echo "Postgres did not come up on 127.0.0.1:5432" >&2
  return 1
}

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_redis() {
  redis_up && return 0
  if ! command -v redis-server >/dev/null 2>&1; then
    can_install || { echo "Redis is not running on 127.0.0.1:6379 and cannot be installed here; start it or set REDIS_URL" >&2; return 1; }
    apt_install redis-server
  fi
  log "starting Redis"
  mkdir -p /tmp/cashdesk-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/cashdesk-redis --logfile /tmp/cashdesk-redis/redis.log
  for _ in $(seq 1 50); do redis_up && return 0; sleep 0.2; done
  echo "Redis did not come up on 127.0.0.1:6379" >&2
  return 1
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || { echo "cargo (Rust) is required: https://rustup.rs" >&2; return 1; }
}

# Creates the database named in DATABASE_URL (default: cashdesk) when missing.
ensure_database() {
  local url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cashdesk}"
  local name="${url##*/}"
  name="${name%%\?*}"
  local server="${url%/*}"
  if ! psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    log "creating database $name"
    psql "$server/postgres" -qc "CREATE DATABASE \"$name\""
  fi
}

# The Postgres failover drills (tests/api/failover.rs through scripts/pg-ha.sh)
# need etcd, Patroni and HAProxy: Debian's packages (Patroni 3.0 on bookworm).
# Installing them starts no service (the topology runs on its own ports).
ensure_failover_tools() {
  local missing=()
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v patroni >/dev/null 2>&1 || missing+=(patroni)
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! can_install; then
    log "missing ${missing[*]}: the Postgres failover drills will fail"
    return 0
  fi
  apt_install "${missing[@]}"
}

# python_tools NAME PACKAGE==VERSION...: a venv under ~/.cache/cashdesk named
# NAME with the pinned PyPI packages, made once; prints its directory.
python_tools() {
  local venv="${CASHDESK_TOOLS_DIR:-$HOME/.cache/cashdesk}/$1"
  shift
  if [ ! -f "$venv/.installed" ]; then
    log "installing $* from PyPI into $venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      can_install && apt_install python3-venv
      rm -rf "$venv"
      python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    touch "$venv/.installed"
  fi
  echo "$venv"
}


# sqlx-cli, pinned: `cargo sqlx prepare` writes and checks the offline data
# of the checked SQL (scripts/sqlx-prepare.sh). Built from crates.io once (a
# few minutes), only when missing or another version.
SQLX_CLI_VERSION=0.8.6
ensure_sqlx_cli() {
  if ! cargo sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION\$"; then
    log "installing sqlx-cli $SQLX_CLI_VERSION from crates.io"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
  fi
}
