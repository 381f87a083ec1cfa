#!/usr/bin/env bash
# Runs `forge test` in contracts/ with the project's toolchain (forge from npm, solc = solcjs wrapper,
# offline) and exits with its status. Extra arguments go to forge, e.g.
#   scripts/forge_test.sh --match-contract Poseidon2 -vv
# Environment: BUCKETPAY_FIXTURES = directory of the C++ side's fixtures (default build/fixtures;
# a relative path is taken from the repository root; it must lie under build/ or contracts/cache/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
forge="$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
[[ -x "$forge" ]] || { echo "forge_test.sh: $forge not found (run npm ci)" >&2; exit 2; }
fixtures="${BUCKETPAY_FIXTURES:-$root/build/fixtures}"
[[ "$fixtures" = /* ]] || fixtures="$root/$fixtures"
export BUCKETPAY_FIXTURES="$fixtures"
# forge may read only below build/ and contracts/cache/ (fs_permissions in contracts/foundry.toml).
export FOUNDRY_OFFLINE=true
cd "$root/contracts"
exec "$forge" test "$@"
