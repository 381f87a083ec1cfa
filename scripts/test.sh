#!/usr/bin/env bash
# Runs every test: the C++ suites through CTest (GoogleTest), the circuit suites with node's test
# runner, and the contracts with forge. Exits non-zero if any suite fails.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
export BUCKETPAY_BUILD_DIR=$(cd "$build" && pwd)
status=0

echo "== C++ (ctest)"
ctest --test-dir "$build" --output-on-failure -j 2 || status=1

echo "== circuits (node --test)"
node --test --test-concurrency=1 circuits/tests/ || status=1

echo "== docs/first-payment.md, its commands run literally on anvil"
scripts/first_payment_test.sh "$build" || status=1

echo "== privacy: no payment from the wallet's account, no secret on chain (scripts/privacy_check.mjs)"
scripts/privacy_test.sh "$build" || status=1

echo "== generated files match a fresh regeneration"
scripts/check_generated.sh || status=1

if [ -x scripts/forge_test.sh ]; then
  echo "== contracts (forge), with real proofs made by the engine"
  "$build/bin/bucketpay-fixtures" --out "$build/fixtures" --proofs || status=1
  BUCKETPAY_FIXTURES="$BUCKETPAY_BUILD_DIR/fixtures" scripts/forge_test.sh || status=1
fi
exit $status
