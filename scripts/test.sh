#!/usr/bin/env bash
# Runs every test: the C++ suites through CTest (GoogleTest), then the JavaScript/Noir suites and forge.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
