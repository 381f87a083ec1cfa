#!/usr/bin/env bash
# Builds and runs the payments benchmark (bench/payments): 100 random payments between $0.01 and
# $200 from one wallet on a local anvil (started and stopped by the benchmark), with real proofs.
# Reports payment latency p50/p99 in two parts (the call to the signed, journaled bundle: the
# wallet's part, `latency_ms`; and to the relayer's answer, `relayer_answer_ms`), proofs made per
# payment in inventory mode and in the seed's mode, gas per payment, and all in per payment
# (payment, rebalancing and amortised deposit gas, transactions, calldata bytes, proofs) beside the
# prediction of `bucketpay inventory plan` for the same amounts.
# Writes build/bench/payments.json. Extra arguments go to payments_bench (e.g. --payments 20).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUCKETPAY_BUILD:-$root/build}"
crs="${BUCKETPAY_CRS:-$root/../shared/crs}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target payments_bench
mkdir -p "$build/bench"
cd "$root"
BUCKETPAY_ROOT="$root" BUCKETPAY_BUILD_DIR="$build" \
  "$build/bin/payments_bench" --crs "$crs" --json "$build/bench/payments.json" "$@"
echo "wrote $build/bench/payments.json"
