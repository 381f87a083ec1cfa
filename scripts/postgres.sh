#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local runs (Debian's postgresql package).
#
#   scripts/postgres.sh start DIR [PORT]   initialise (first time) and start a cluster in DIR
#   scripts/postgres.sh stop DIR           stop the cluster in DIR (pg_ctl stop -m fast)
#
# The cluster lives in DIR/data, listens on 127.0.0.1 only (port PORT, else a free one), keeps its
# Unix socket in DIR, trusts every local connection (this cluster only, never for real data) and has
# a database `bucketpay`. `start` waits until it accepts connections and writes its URL to DIR/url
# (postgresql://USER@127.0.0.1:PORT/bucketpay); stdout gets the URL too. Both commands are
# idempotent: starting a running cluster or stopping a stopped one changes nothing.
#
# initdb refuses to run as root: as root the cluster belongs to the `postgres` system user (made
# by the package), or to a dedicated unprivileged user `bucketpay-pg` when that does not exist.
# DIR is then handed to that user, so its parent directories must be searchable by it.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
port=${3:-}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres.sh: no PostgreSQL server found under /usr/lib/postgresql (install: postgresql)" >&2
  exit 1
fi

# Who owns and runs the cluster.
run_as=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then
    owner=postgres
  else
    owner=bucketpay-pg
    if ! id "$owner" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    fi
  fi
  run_as=(runuser -u "$owner" --)
fi
as_owner() { "${run_as[@]}" "$@"; }

data=$dir/data
is_running() { [ -f "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  echo "postgres.sh: no free port found" >&2
  return 1
}

configured_port() { sed -n "s/^port = \([0-9]*\).*/\1/p" "$data/postgresql.conf" | tail -n 1; }

set_port() {
  # The last setting in postgresql.conf wins: append ours.
  echo "port = $1" >>"$data/postgresql.conf"
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  data=$dir/data
  if [ "$(id -u)" -eq 0 ]; then
    chown "$owner" "$dir"
    chmod 700 "$dir"
    if ! as_owner test -w "$dir"; then
      echo "postgres.sh: $dir is not reachable by user $owner (check its parents' permissions)" >&2
      exit 1
    fi
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$data" -U "$owner" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$data/postgresql.conf" <<EOF
# bucketpay throwaway cluster (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
EOF
    # Only this cluster's own connections, all trusted: 127.0.0.1 and its socket.
    cat >"$data/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF
    set_port "${port:-$(free_port)}"
  elif [ -n "$port" ] && [ "$(configured_port)" != "$port" ] && ! is_running; then
    set_port "$port"
  fi

  if ! is_running; then
    local tries=0
    until as_owner "$bindir/pg_ctl" start -D "$data" -l "$dir/server.log" -w -t 60 -s >/dev/null; do
      # Most likely someone took the port meanwhile: pick another (unless it was asked for).
      tries=$((tries + 1))
      if [ -n "$port" ] || [ "$tries" -ge 5 ]; then
        tail -n 20 "$dir/server.log" >&2 || true
        echo "postgres.sh: the server in $data did not start" >&2
        exit 1
      fi
      set_port "$(free_port)"
    done
  fi

  local p
  p=$(configured_port)
  for _ in $(seq 1 100); do
    if as_owner "$bindir/pg_isready" -q -h 127.0.0.1 -p "$p" -d postgres; then break; fi
    sleep 0.1
  done
  as_owner "$bindir/pg_isready" -q -h 127.0.0.1 -p "$p" -d postgres ||
    { echo "postgres.sh: the server on port $p does not accept connections" >&2; exit 1; }
  local psql=("$bindir/psql" -X -q -h "$dir" -p "$p" -U "$owner" -d postgres -v ON_ERROR_STOP=1)
  if [ "$(as_owner "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'bucketpay'")" != 1 ]; then
    as_owner "${psql[@]}" -c "CREATE DATABASE bucketpay" ||
      [ "$(as_owner "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'bucketpay'")" = 1 ]
  fi
  local url="postgresql://$owner@127.0.0.1:$p/bucketpay"
  echo "$url" >"$dir/url.tmp"
  mv "$dir/url.tmp" "$dir/url"
  echo "$url"
}

stop() {
  if [ -d "$dir" ] && is_running; then
    as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w -s >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
