#!/usr/bin/env bash
# Local PostgreSQL for tests and for trying the production store; never needed by `make run`.
# Usage: deploy/postgres.sh {install|start|stop|url} [DATA_DIR] ; env PG_PORT (5433).
# Installs Debian's postgresql when its binaries are missing; runs as the `postgres` user when root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-url}
data=${2:-${PG_DATA_DIR:-$root/var/postgres}}
port=${PG_PORT:-5433}
db=${PG_DB:-wirewatch}

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

install() {
  bindir >/dev/null && return 0
  echo "postgres: installing Debian's postgresql (first run only)…" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  bindir >/dev/null
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install
  local bin; bin=$(bindir)
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$data"; chmod 700 "$data"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust --no-sync >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    :
  else
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200" start >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" \
    | grep -q 1 || as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  echo "postgres: ready on 127.0.0.1:$port (data $data)" >&2
  url
}

stop() {
  local bin; bin=$(bindir) || return 0
  [ -f "$data/PG_VERSION" ] || return 0
  as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

url() { echo "postgresql+asyncpg://postgres@127.0.0.1:$port/$db"; }

case "$cmd" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 {install|start|stop|url} [DATA_DIR]" >&2; exit 2 ;;
esac
