#!/usr/bin/env bash
# The privacy check (issue 13) as a test, on a small chain made by the real commands: anvil, the
# Pool, a relayer (`bucketpay relay`), a wallet that deposits, proves its inventory, pays three
# merchants through the relayer and rebalances with a split. scripts/privacy_check.sh then reads
# the whole chain over JSON-RPC and must pass; and, so that it is seen to fail, it must fail when
# told the relayer's account is the wallet's (the relayer sent every payment) and when told a
# value the chain does carry (a note's commitment, in its Inserted event) is a secret.
#
# Usage: scripts/privacy_test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
cd "$root"
bp="$build/bin/bucketpay"
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bucketpay-privacy-test.XXXXXX")
cleanup() {
  [ -n "${relay_pid:-}" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null || true
  scripts/anvil.sh stop "$dir/chain" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
export BUCKETPAY_DB="$dir/wallet.db" BUCKETPAY_PASSPHRASE="privacy test (not secret)" BUCKETPAY_KDF=fast
unset ETH_RPC_URL
fail() {
  echo "privacy_test: $*" >&2
  exit 1
}

rpc=$(scripts/anvil.sh start "$dir/chain")
# Anvil's account 0, a public test key.
BUCKETPAY_DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 \
  "$bp" deploy --rpc-url "$rpc" --test-token --out "$dir/contracts.json" >/dev/null
pool=$(jq -r .pool "$dir/contracts.json")
"$bp" relay init --db "$dir/relay.db" --rpc-url "$rpc" --pool "$pool" --eth-price 3 --json >"$dir/relay.json"
relayer_account=$(jq -r .account "$dir/relay.json")
"$build/bin/bucketpay-devnet" fund --rpc "$rpc" --contracts "$dir/contracts.json" --to "$relayer_account" --eth 1 \
  --tokens 0 >/dev/null
"$bp" relay serve --db "$dir/relay.db" --port 0 >"$dir/relay.out" 2>"$dir/relay.log" &
relay_pid=$!
for _ in $(seq 1 100); do grep -q 'relaying for' "$dir/relay.out" 2>/dev/null && break; sleep 0.2; done
relayer=$(sed -n 's/.* on \(http:[^ ]*\).*/\1/p' "$dir/relay.out" | head -1)
[ -n "$relayer" ] || fail "the relayer did not start: $(cat "$dir/relay.log")"

"$bp" init --rpc "$rpc" --contracts "$dir/contracts.json" --relayer "$relayer" --policy 1=2,2=2 >/dev/null
account=$("$bp" key show --json | jq -r .account)
"$build/bin/bucketpay-devnet" fund --rpc "$rpc" --contracts "$dir/contracts.json" --to "$account" --eth 1 \
  --tokens 2000 >/dev/null
"$bp" deposit 2.56 >/dev/null
"$bp" inventory --workers 2 >/dev/null
for m in 0x00000000000000000000000000000000C0FFEE01 0x0000000000000000000000000000000000B00C02 \
  0x00000000000000000000000000000000000CAB03; do
  # From the inventory, or when its notes cannot make the amount and the fee, a split proved now.
  "$bp" pay 0.05 --to "$m" --on-missing split >/dev/null
done
# The payments took the small notes below their targets: rebalancing splits refill them.
"$bp" rebalance >/dev/null

# 3 payments (at least one of them, or the rebalance, a split); the wallet's account is absent, its secrets too.
scripts/privacy_check.sh "$bp" "$rpc" "$pool" 3 1 || fail "the privacy check failed"

# The check can fail: told that the relayer's account is the wallet's, it must see the payments it
# sent; told that a note's commitment (published by its deposit) is secret, it must find it.
secrets() {
  { "$bp" key show --reveal --json; "$bp" note list --reveal --json; } 2>/dev/null | jq -cs "$1"
}
if secrets "{accounts: [.[0].account, \"$relayer_account\"], secrets: {pk: .[0].pk}}" |
  node scripts/privacy_check.mjs --rpc "$rpc" --pool "$pool" >"$dir/relayer.out"; then
  fail "the check passed with the relayer's account given as the wallet's"
fi
grep -q "was sent from the wallet's account" "$dir/relayer.out" || fail "$(cat "$dir/relayer.out")"
if secrets '{accounts: [.[0].account], secrets: {"a commitment": .[1][0].commitment}}' |
  node scripts/privacy_check.mjs --rpc "$rpc" --pool "$pool" >"$dir/commitment.out"; then
  fail "the check passed with a published commitment given as a secret"
fi
grep -q "a commitment appears in an event" "$dir/commitment.out" || fail "$(cat "$dir/commitment.out")"
echo "privacy_test: passed (and the check failed when given the relayer's account or a published commitment)"
