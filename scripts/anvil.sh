#!/usr/bin/env bash
# A local anvil (Foundry's dev chain, pinned in package.json) with its state in a directory.
#
# Usage:
#   scripts/anvil.sh start DIR [PORT]   start anvil on 127.0.0.1:PORT (default: a free port), chain
#                                       state in DIR/state.json (loaded if present, saved on stop),
#                                       log in DIR/anvil.log; writes DIR/anvil.pid and DIR/rpc_url
#                                       and returns once anvil answers eth_chainId. Prints the URL.
#   scripts/anvil.sh stop DIR           stop the anvil started for DIR (SIGTERM, so it saves its
#                                       state; SIGKILL after 10 s) and nothing else.
#   scripts/anvil.sh status DIR         print the URL and exit 0 if it runs, else exit 1.
#
# $BUCKETPAY_ANVIL_ARGS adds options (e.g. "--block-time 1" for a block every second instead of one
# per transaction).
#
# Always binds to 127.0.0.1. Accounts are anvil's defaults (the public "test test ... junk"
# mnemonic): never send anything of value to them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
anvil="${BUCKETPAY_ANVIL:-$root/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}"

usage() {
  sed -n '4,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "anvil.sh: $*" >&2
  exit 1
}

# Prints the pid in DIR/anvil.pid if that process is alive and is the anvil started for DIR.
running_pid() {
  local dir=$1 pid
  [[ -f "$dir/anvil.pid" ]] || return 1
  pid=$(cat "$dir/anvil.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # The pid may have been reused: check it is anvil and that it holds this directory's state file.
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ "$cmdline" == *anvil* && "$cmdline" == *"$dir/state.json"* ]] || return 1
  echo "$pid"
}

# POSTs eth_chainId to 127.0.0.1:PORT with bash's /dev/tcp (no curl needed); succeeds on a result.
answers_chain_id() {
  local port=$1 body='{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' reply
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$port" "${#body}" "$body" >&3
  reply=$(timeout 2 cat <&3 || true)
  exec 3<&- 3>&-
  [[ "$reply" == *'"result":"0x'* ]]
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

cmd_start() {
  local dir=$1 port=${2:-}
  [[ -x "$anvil" ]] || die "anvil not found at $anvil (run scripts/setup.sh)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if pid=$(running_pid "$dir"); then
    echo "anvil.sh: already running (pid $pid)" >&2
    cat "$dir/rpc_url"
    return 0
  fi
  if [[ -z "$port" ]]; then port=$(free_port); fi
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port == 0 || port > 65535)); then die "bad port '$port'"; fi
  if answers_chain_id "$port"; then die "something already answers on 127.0.0.1:$port"; fi

  rm -f "$dir/anvil.pid" "$dir/rpc_url"
  # setsid: anvil outlives this shell and its terminal; stdin from /dev/null.
  setsid "$anvil" --host 127.0.0.1 --port "$port" --state "$dir/state.json" \
    --cache-path "$dir/cache" ${BUCKETPAY_ANVIL_ARGS:-} </dev/null >>"$dir/anvil.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/anvil.pid"

  local i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/anvil.pid"
      tail -n 20 "$dir/anvil.log" >&2 || true
      die "anvil exited during start-up (log: $dir/anvil.log)"
    fi
    if answers_chain_id "$port"; then
      echo "http://127.0.0.1:$port" >"$dir/rpc_url"
      cat "$dir/rpc_url"
      return 0
    fi
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  rm -f "$dir/anvil.pid"
  die "anvil did not answer eth_chainId within 30 s (log: $dir/anvil.log)"
}

cmd_stop() {
  local dir=$1 pid i
  [[ -d "$dir" ]] || die "no such directory: $dir"
  dir=$(cd "$dir" && pwd)
  if ! pid=$(running_pid "$dir"); then
    rm -f "$dir/anvil.pid" "$dir/rpc_url"
    echo "anvil.sh: not running" >&2
    return 0
  fi
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "anvil.sh: anvil (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/anvil.pid" "$dir/rpc_url"
}

cmd_status() {
  local dir=$1
  [[ -d "$dir" ]] || return 1
  dir=$(cd "$dir" && pwd)
  running_pid "$dir" >/dev/null || return 1
  cat "$dir/rpc_url"
}

[[ $# -ge 2 ]] || usage
case "$1" in
  start) [[ $# -le 3 ]] || usage; cmd_start "$2" "${3:-}" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  status) [[ $# -eq 2 ]] || usage; cmd_status "$2" ;;
  *) usage ;;
esac
