#!/usr/bin/env bash
# Builds and runs the precompute benchmark (bench/precompute): the seed's spawn-per-proof pipeline
# vs bucketpay's engine, 17 precomputes of one note, side by side on this machine.
# Writes build/bench/precompute.json. Extra arguments go to precompute_bench (e.g. --repeat 5).
# Usage: scripts/bench_precompute.sh [precompute_bench options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUCKETPAY_BUILD:-$root/build}"
crs="${BUCKETPAY_CRS:-$root/../shared/crs}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja
fi
cmake --build "$build" --target precompute_bench
mkdir -p "$build/bench"
cd "$root"
BUCKETPAY_ROOT="$root" BUCKETPAY_BUILD_DIR="$build" \
  "$build/bin/precompute_bench" --crs "$crs" --repeat 3 --json "$build/bench/precompute.json" "$@"
echo "wrote $build/bench/precompute.json"
