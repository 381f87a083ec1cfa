#!/usr/bin/env bash
# Runs the ```sh blocks of docs/first-payment.md literally, in order, in one shell from the
# repository root (set -euo pipefail: the first failing command fails the test). Whatever the
# walkthrough started is stopped however it ends.
#
# Usage: scripts/first_payment_test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
doc="$root/docs/first-payment.md"
cd "$root"

# The blocks, in order, in one script.
script=$(mktemp)
trap 'rm -f "$script"' EXIT
{
  echo 'set -euo pipefail'
  # However the walkthrough ends: its relayer (a background job) and its anvil stop.
  echo 'cleanup() { kill $(jobs -p) 2>/dev/null || true; if [ -n "${fp:-}" ] && [ -d "$fp" ]; then scripts/anvil.sh stop "$fp/chain" >/dev/null 2>&1 || true; rm -rf "$fp"; fi; }'
  echo 'trap cleanup EXIT'
  awk '
    /^```sh$/ { inside = 1; block = ""; next }
    /^```$/ && inside {
      inside = 0
      printf "%s", block
      next
    }
    inside { block = block $0 "\n" }
  ' "$doc"
  echo 'echo "first-payment: every command of docs/first-payment.md ran"'
} >"$script"
# Nothing of the caller's environment decides where the walkthrough writes or which node it uses.
env -u BUCKETPAY_DB -u BUCKETPAY_PASSPHRASE -u ETH_RPC_URL -u BUCKETPAY_DEPLOYER_KEY \
  PATH="$build/bin:$PATH" bash "$script"
