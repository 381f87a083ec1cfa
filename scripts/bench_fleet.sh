#!/usr/bin/env bash
# Fleet and service load test, loopback only (127.0.0.1), bounded in count and time.
#
#   scripts/bench_fleet.sh            (env: NOTES=48 KS="1 2 3" DURATION=15 BUILD=build)
#
# 1. Proof throughput as `bucketpay worker` processes are added: a throwaway PostgreSQL cluster
#    (scripts/postgres.sh), a wallet, and for each K in $KS: $NOTES fresh notes (nothing cached),
#    their spend precomputes enqueued (--enqueue-only), K workers (--workers 1 --threads 1
#    --idle-exit 3) started at once; the wall time runs from their start until the store's jobs
#    table has every job of that round done (polled every 0.2 s), so worker start-up (bb process,
#    circuit load) is included and the idle-exit wait is not.
# 2. GET /v1/payments/plan latency and requests/s: a SQLite wallet with 2 notes per bucket
#    denomination (34 notes) with ready spend precomputes (protocol v2: no recipient), `bucketpay serve
#    --port 0`, a token, then wrk for $DURATION s at concurrency 1 and 4 with random amounts
#    0.01..200.00 (bench/fleet/plan.lua). Every answer must be 200 or 409 (no exact plan).
#
# Writes build/bench/fleet.json. Everything it starts is stopped on exit (trap).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
bin=$build/bin/bucketpay-fastkdf  # the CLI built for tests: BUCKETPAY_KDF=fast below
notes=${NOTES:-48}
ks=${KS:-1 2 3}
duration=${DURATION:-15}
out_json=$build/bench/fleet.json

[ -x "$bin" ] || { echo "bench_fleet: $bin missing (cmake --build build --target bucketpay)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench_fleet: wrk missing (apt-get install -y wrk)" >&2; exit 1; }
for t in jq bc curl; do command -v "$t" >/dev/null || { echo "bench_fleet: $t missing (apt-get install -y $t)" >&2; exit 1; }; done
command -v psql >/dev/null || { echo "bench_fleet: psql missing" >&2; exit 1; }

work=$(mktemp -d /tmp/bucketpay-bench-fleet.XXXXXX)
chmod 755 "$work"  # postgres.sh hands $work/pg to the cluster's owner when run as root
mkdir -p "$work/tmp" "$work/local" "$work/sqlite"
pids=()
pg_started=0
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$pg_started" = 1 ]; then "$root/scripts/postgres.sh" stop "$work/pg" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export BUCKETPAY_PASSPHRASE="bench fleet passphrase"
export BUCKETPAY_KDF=fast
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd "$root/.." && pwd)/shared/crs}
export BUCKETPAY_DB=$work/local/store.db  # only its directory is used by workers (vk cache)
export TMPDIR=$work/tmp

now() { date +%s.%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "bench_fleet: $(nproc) cores, load average at start: $(loadavg)"

# ---------------------------------------------------------------- 1. workers against PostgreSQL
pg_started=1
url=$("$root/scripts/postgres.sh" start "$work/pg" | tail -n 1)
q() { psql -X -q -tA "$url" -c "$1"; }
"$bin" init --db "$url" >/dev/null

rows=()
base_rate=""
total_done=0
for k in $ks; do
  ids=$("$bin" note add --db "$url" --value 0.07 --count "$notes" --json | jq -r '.[].id' | tr '\n' ' ')
  # shellcheck disable=SC2086
  jobs=$("$bin" precompute inventory --db "$url" --note $ids --enqueue-only --json | jq .jobs)
  [ "$jobs" = "$notes" ] || { echo "bench_fleet: enqueued $jobs jobs, expected $notes" >&2; exit 1; }
  target=$((total_done + notes))
  wpids=()
  t0=$(now)
  for i in $(seq 1 "$k"); do
    "$bin" worker --db "$url" --workers 1 --threads 1 --idle-exit 3 >"$work/worker-$k-$i.log" 2>&1 &
    wpids+=($!)
    pids+=($!)
  done
  deadline=$(( $(date +%s) + 900 ))
  while :; do
    done_now=$(q "SELECT count(*) FROM jobs WHERE state = 'done'")
    [ "$done_now" -ge "$target" ] && break
    failed=$(q "SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'pending', 'running')")
    if [ "$failed" != 0 ] || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "bench_fleet: K=$k: $done_now/$target done, $failed failed" >&2
      tail -n 20 "$work"/worker-"$k"-*.log >&2
      exit 1
    fi
    sleep 0.2
  done
  t1=$(now)
  for p in "${wpids[@]}"; do wait "$p" || { echo "bench_fleet: a worker exited non-zero" >&2; exit 1; }; done
  total_done=$target
  secs=$(echo "$t1 - $t0" | bc -l)
  rate=$(echo "$notes / $secs" | bc -l)
  [ -z "$base_rate" ] && base_rate=$rate
  speedup=$(echo "$rate / $base_rate" | bc -l)
  la=$(loadavg)
  rows+=("$(printf '%d %d %.2f %.3f %.2f %s' "$k" "$notes" "$secs" "$rate" "$speedup" "$la")")
done
precomputes=$(q "SELECT count(*) FROM precomputes")
[ "$precomputes" = "$total_done" ] || { echo "bench_fleet: $precomputes precomputes, expected $total_done" >&2; exit 1; }
"$root/scripts/postgres.sh" stop "$work/pg"
pg_started=0

echo
echo "Proof throughput, K worker processes (--workers 1 --threads 1) on one PostgreSQL queue, $notes fresh notes each:"
printf '| %s | %s | %s | %s | %s | %s |\n' K proofs seconds proofs/s "speed-up vs K=1" "load avg (1/5/15 min) after"
echo "| --- | --- | --- | --- | --- | --- |"
workers_json="[]"
for r in "${rows[@]}"; do
  read -r k n s p u l1 l5 l15 <<<"$r"
  printf '| %s | %s | %s | %s | %sx | %s %s %s |\n' "$k" "$n" "$s" "$p" "$u" "$l1" "$l5" "$l15"
  workers_json=$(jq -c --argjson k "$k" --argjson n "$n" --argjson s "$s" --argjson p "$p" --argjson u "$u" \
    --arg la "$l1 $l5 $l15" '. + [{workers: $k, proofs: $n, seconds: $s, proofs_per_s: $p, speedup: $u, loadavg: $la}]' \
    <<<"$workers_json")
done

# ---------------------------------------------------------------- 2. payment plan over HTTP
sq=$work/sqlite/store.db
"$bin" init --db "$sq" >/dev/null
cents=1
for _ in $(seq 1 17); do
  "$bin" note add --db "$sq" --value "$(printf '%d.%02d' $((cents / 100)) $((cents % 100)))" --count 2 >/dev/null
  cents=$((cents * 2))
done
t0=$(now)
"$bin" precompute inventory --db "$sq" --all --json >"$work/inventory.json"
t1=$(now)
ready=$(jq '.proved + .cached' "$work/inventory.json")
[ "$ready" = 34 ] || { echo "bench_fleet: $ready ready precomputes, expected 34" >&2; exit 1; }
printf '\nSQLite wallet: 34 notes (2 per denomination), 34 spend precomputes in %.1f s\n' "$(echo "$t1 - $t0" | bc -l)"
token=$("$bin" token create --db "$sq" --json | jq -r .token)

"$bin" serve --db "$sq" --port 0 --workers 1 --threads 1 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.out")
  [ -n "$port" ] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "bench_fleet: serve printed no port" >&2; exit 1; }
# One plan by hand: a 200 with notes.
code=$(curl -s -o "$work/plan.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/v1/payments/plan?amount=3.33")
[ "$code" = 200 ] || { echo "bench_fleet: plan answered $code: $(cat "$work/plan.json")" >&2; exit 1; }

service_json="[]"
srows=()
bad=0
for c in 1 4; do
  t=$(( c < 2 ? 1 : 2 ))
  wrk -t "$t" -c "$c" -d "${duration}s" --timeout 5s -s "$root/bench/fleet/plan.lua" \
    -H "Authorization: Bearer $token" "http://127.0.0.1:$port" >"$work/wrk-$c.out" 2>&1
  j=$(sed -n 's/^BENCH_JSON //p' "$work/wrk-$c.out")
  [ -n "$j" ] || { cat "$work/wrk-$c.out" >&2; exit 1; }
  la=$(loadavg)
  service_json=$(jq -c --argjson c "$c" --argjson j "$j" --arg la "$la" '. + [$j + {concurrency: $c, loadavg: $la}]' \
    <<<"$service_json")
  srows+=("$(jq -r --arg la "$la" --argjson c "$c" \
    '"| \($c) | \(.requests) | \(.rps) | \(.p50_ms) | \(.p99_ms) | \(.status_200) | \(.status_409) | \(.status_4xx_other + .status_5xx + .status_other + .socket_errors) | \($la) |"' <<<"$j")")
  if [ "$(jq '.status_5xx + .status_4xx_other + .status_other + .socket_errors' <<<"$j")" != 0 ]; then bad=1; fi
done
kill "$serve_pid"
wait "$serve_pid" || true

echo
echo "GET /v1/payments/plan, random amounts 0.01..200.00, ${duration} s per row (wrk, keep-alive):"
echo "| concurrency | requests | requests/s | p50 ms | p99 ms | 200 | 409 | other/errors | load avg after |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${srows[@]}"

mkdir -p "$(dirname "$out_json")"
jq -n --argjson w "$workers_json" --argjson s "$service_json" --arg cores "$(nproc)" --arg la "$(loadavg)" \
  '{cores: ($cores | tonumber), loadavg_end: $la, workers: $w, plan_service: $s}' >"$out_json"
echo
echo "wrote $out_json; load average at end: $(loadavg)"
[ "$bad" = 0 ] || { echo "bench_fleet: answers other than 200/409 (see above)" >&2; exit 1; }
