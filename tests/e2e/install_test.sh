#!/usr/bin/env bash
# The installed binary works with no checkout (docs/install.md): installs the build into a
# temporary prefix, moves the prefix elsewhere, and from an empty directory, with only the moved
# prefix's bin/ of bucketpay's programs on PATH, deploys the contracts, proves a note and pays it
# through a relayer on anvil. Also checks that no source or build path is compiled into the
# installed binaries and that the developers' devnet code is not linked into them.
#
# The chain's own set-up comes from the checkout, as a real chain would come from elsewhere:
# anvil (scripts/anvil.sh) and bucketpay-devnet, which funds the accounts there.
#
# Usage: tests/e2e/install_test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
fail() {
  echo "install_test: $*" >&2
  exit 1
}

work=$(mktemp -d)
relay_pid=""
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
  "$root/scripts/anvil.sh" stop "$work/chain" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$work/installed" >"$work/install.log" || {
  cat "$work/install.log"
  fail "cmake --install failed"
}
mv "$work/installed" "$work/moved"
prefix="$work/moved"
for program in bucketpay bucketpay-relay; do
  [ -x "$prefix/bin/$program" ] || fail "$program is not installed"
  for path in "$root" "$build"; do
    if grep -qaF "$path" "$prefix/bin/$program"; then fail "$program has $path compiled in"; fi
  done
  if nm -C "$prefix/bin/$program" | grep -q 'bucketpay::devnet::'; then fail "$program links the devnet module"; fi
done
[ ! -e "$prefix/bin/bucketpay-devnet" ] || fail "bucketpay-devnet (a developers' tool) is installed"

rpc=$("$root/scripts/anvil.sh" start "$work/chain")
devnet="$build/bin/bucketpay-devnet"
relay_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mkdir "$work/elsewhere"
cd "$work/elsewhere"
# Nothing of the checkout: not its programs, not the variables that point into it.
unset BUCKETPAY_ROOT BUCKETPAY_BUILD_DIR BUCKETPAY_BB BUCKETPAY_RUNTIME_DIR BUCKETPAY_BIN_DIR
export PATH="$prefix/bin:/usr/local/bin:/usr/bin:/bin"
export ETH_RPC_URL="$rpc" HOME="$work/home"
mkdir -m 0700 "$HOME"
export BUCKETPAY_CRS="${BUCKETPAY_CRS:-$(cd "$root/.." && pwd)/shared/crs}"
export BUCKETPAY_DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
export BUCKETPAY_DB="$PWD/wallet.db" BUCKETPAY_PASSPHRASE='correct horse battery staple'

[ "$(command -v bucketpay)" = "$prefix/bin/bucketpay" ] || fail "bucketpay on PATH is not the installed one"
bucketpay deploy --test-token --out contracts.json
bucketpay init --contracts contracts.json --relayer "http://127.0.0.1:$relay_port"
account=$(bucketpay key show --json | jq -r .account)
"$devnet" fund --rpc "$rpc" --contracts contracts.json --to "$account" --eth 1 --tokens 500
bucketpay deposit 0.40
bucketpay inventory
bucketpay relay init --db relay.db --rpc-url "$rpc" --pool "$(jq -r .pool contracts.json)" --eth-price 3 --json >relay.json
"$devnet" fund --rpc "$rpc" --contracts contracts.json --to "$(jq -r .account relay.json)" --eth 1
bucketpay relay serve --db relay.db --port "$relay_port" >relay.out 2>relay.log &
relay_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$relay_port/v1/health" >/dev/null && break
  sleep 0.2
done
payee=0x000000000000000000000000000000000000dEaD
bucketpay pay 0.32 --to "$payee"
history=$(bucketpay history --json)
echo "$history" | jq -e --arg payee "$payee" \
  '[.. | objects | select((.recipient // "" | ascii_downcase) == ($payee | ascii_downcase))] | length >= 1' >/dev/null ||
  fail "the payment is not in the history: $history"
# The chain says the payee was paid: the token's balanceOf(payee) is no longer zero.
token=$(jq -r .token contracts.json)
call=$(jq -cn --arg to "$token" --arg data "0x70a08231000000000000000000000000${payee#0x}" \
  '{jsonrpc: "2.0", id: 1, method: "eth_call", params: [{to: $to, data: $data}, "latest"]}')
balance=$(curl -sf -H 'Content-Type: application/json' -d "$call" "$rpc" | jq -r .result)
[[ "$balance" =~ ^0x0*[1-9a-fA-F] ]] || fail "the payee holds no tokens on chain ($balance)"
echo "install_test: installed to a prefix, moved it, deployed, proved and paid \$0.32 with $prefix/bin/bucketpay only"
