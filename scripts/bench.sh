#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other (they compete for the same cores otherwise):
# Poseidon2 against @zkpassport/poseidon2, the precompute engine against the seed's pipeline, and
# random payments on anvil. Results in build/bench/*.json; each script says what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export BUCKETPAY_BUILD="$PWD/$build"
echo "== Poseidon2: C++ against @zkpassport/poseidon2 (one core)"
scripts/bench_poseidon2.sh "$build"
echo "== precompute: the engine against the seed's spawn-per-proof pipeline"
scripts/bench_precompute.sh --repeat 1
echo "== payments: 100 random payments on anvil"
scripts/bench_payments.sh
