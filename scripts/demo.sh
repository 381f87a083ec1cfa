#!/usr/bin/env bash
# `make demo`: instant payments end to end on a local chain.
#
# Starts anvil (a block every second), deploys the test token, the two generated batch verifiers and
# the Pool, starts a relayer (`bucketpay relay`, from anvil's second account), funds a fresh wallet,
# deposits $1,000 as denomination notes (by hidden owner), builds the inventory of spend proofs
# (real proofs: noir_js witnesses, bb prove and verify), then pays a list of amounts to a card
# issuer's address through the relayer (protocol v2: EIP-712 payments signed by each note's auth
# key; the relayer sends them and takes its fee): for each, the notes used, the fee, the latency
# from command to bundle handed over, the gas of the transaction that paid it, and both balances
# before and after. Then a rebalance refills the inventory with fan-out splits. Everything it starts
# is stopped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bp="$PWD/$build/bin/bucketpay"
devnet="$PWD/$build/bin/bucketpay-devnet"
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
state=$(mktemp -d "${TMPDIR:-/tmp}/bucketpay-demo.XXXXXX")
cleanup() {
  [ -n "${relay_pid:-}" ] && kill "$relay_pid" 2>/dev/null || true
  scripts/anvil.sh stop "$state/chain" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export BUCKETPAY_DB="$state/wallet.db"
# A demo wallet: its passphrase is public, so its keys protect nothing. Real wallets are asked.
export BUCKETPAY_PASSPHRASE="demo passphrase (not secret)"
# The card issuer paid (any address works: the proofs name no recipient).
payee=0x00000000000000000000000000000000C0FFEE01

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The token balance of an address, in cents (eth_call balanceOf, divided by the Pool's unit).
token_cents() {
  local data reply hex
  data="0x70a08231000000000000000000000000${1#0x}"
  reply=$(curl -s -X POST -H 'Content-Type: application/json' "$rpc" \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"$token\",\"data\":\"$data\"},\"latest\"]}")
  hex=$(jq -r .result <<<"$reply")
  hex=${hex#0x}
  hex=$(sed 's/^0*//' <<<"${hex^^}")
  echo "ibase=16; ${hex:-0} / $(echo "obase=16; $unit" | bc)" | BC_LINE_LENGTH=0 bc
}
wallet_cents() { "$bp" balance --json | jq -r .on_chain_cents; }
dollars() { printf '$%d.%02d' $(($1 / 100)) $(($1 % 100)); }

step "A local chain: anvil on 127.0.0.1, a block every second"
rpc=$(BUCKETPAY_ANVIL_ARGS="--block-time 1" scripts/anvil.sh start "$state/chain")
echo "$rpc"

step "Deploy TestToken, BatchSpendVerifier, BatchSplitVerifier (generated from the circuits' keys) and the Pool"
"$devnet" deploy --rpc "$rpc" --out "$state/contracts.json"
jq 'del(.pool_abi)' "$state/contracts.json"
token=$(jq -r .token "$state/contracts.json")
unit=$(jq -r .unit "$state/contracts.json")

step "A relayer: bucketpay relay on 127.0.0.1, sending payments from its own account"
pool=$(jq -r .pool "$state/contracts.json")
# Its own store: its account key is made and sealed there; its fees follow gas at \$3,000 per ETH.
"$bp" relay init --db "$state/relay.db" --rpc-url "$rpc" --pool "$pool" --eth-price 3000 --json >"$state/relay.json"
relayer_account=$(jq -r .account "$state/relay.json")
echo "relayer account $relayer_account"
"$devnet" fund --rpc "$rpc" --contracts "$state/contracts.json" --to "$relayer_account" --eth 10 --tokens 0
"$bp" relay serve --db "$state/relay.db" --port 0 >"$state/relay.out" 2>"$state/relay.log" &
relay_pid=$!
for _ in $(seq 1 100); do grep -q 'relaying for' "$state/relay.out" 2>/dev/null && break; sleep 0.2; done
relayer=$(sed -n 's/.* on \(http:[^ ]*\).*/\1/p' "$state/relay.out" | head -1)
[ -n "$relayer" ] && curl -sf "$relayer/v1/health" >/dev/null || { cat "$state/relay.out" "$state/relay.log" >&2; exit 1; }
echo "$relayer"

step "A wallet: spending key and account key sealed in the store; payments through $relayer"
"$bp" init --rpc "$rpc" --contracts "$state/contracts.json" --relayer "$relayer" --confirmations 2
account=$("$bp" key show --json | jq -r .account)

step "Fund the wallet's account: gas, and \$1,500 of test tokens"
"$devnet" fund --rpc "$rpc" --contracts "$state/contracts.json" --to "$account" --eth 10 --tokens 150000

step "Deposit \$1,000 as denomination notes (one depositMany), wait for 2 confirmations"
"$bp" deposit 1000.00
"$bp" balance

step "Build the inventory: one spend proof per note"
"$bp" inventory
"$bp" balance

step "Pay from the inventory through the relayer (no proving at payment time)"
amounts=(0.01 12.34 99.99 655.36 0.50 25.00 3.17 42.42 7.77)
rows=()
for a in "${amounts[@]}"; do
  payer_before=$(wallet_cents)
  payee_before=$(token_cents "$payee")
  if ! out=$("$bp" pay "$a" --to "$payee" --json 2>"$state/refusal"); then
    # The inventory ran short of a denomination: refill it, as a background rebalancer would.
    printf '%9s  refused: %s\n           -> bucketpay rebalance\n' "$a" "$(cat "$state/refusal")"
    "$bp" rebalance 2>&1 | sed 's/^/           /'
    out=$("$bp" pay "$a" --to "$payee" --json)
  fi
  payer_after=$(wallet_cents)
  payee_after=$(token_cents "$payee")
  notes=$(jq -r '[.notes[] | "\(. / 100 | floor).\(. % 100 | tostring | if length < 2 then "0" + . else . end)"] | join("+")' <<<"$out")
  latency=$(jq -r '.latency_ms * 100 | round / 100' <<<"$out")
  fee=$(jq -r .fee_cents <<<"$out")
  tx=$(jq -r .tx <<<"$out")
  gas=$(curl -s -X POST -H 'Content-Type: application/json' "$rpc" \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getTransactionReceipt\",\"params\":[\"$tx\"]}" |
    jq -r '.result.gasUsed' | xargs printf '%d')
  count=$(jq -r '.notes | length' <<<"$out")
  printf '%9s  %2d notes (%s)  fee %s  handed over in %s ms  gas %s\n' "$a" "$count" "$notes" "$(dollars "$fee")" \
    "$latency" "$gas"
  printf '           payer %s -> %s   payee %s -> %s\n' "$(dollars "$payer_before")" "$(dollars "$payer_after")" \
    "$(dollars "$payee_before")" "$(dollars "$payee_after")"
  rows+=("$a|$count|$latency|$gas|$(dollars "$payer_before")|$(dollars "$payer_after")|$(dollars "$payee_before")|$(dollars "$payee_after")")
done

step "Summary"
printf '| %8s | %5s | %10s | %9s | %11s | %11s | %10s | %10s |\n' amount notes "latency ms" gas "payer before" "payer after" "payee before" "payee after"
printf '|%s|\n' "----------|-------|------------|-----------|--------------|-------------|--------------|-------------"
for r in "${rows[@]}"; do
  IFS='|' read -r a c l g pb pa rb ra <<<"$r"
  printf '| %8s | %5s | %10s | %9s | %12s | %11s | %12s | %11s |\n' "$a" "$c" "$l" "$g" "$pb" "$pa" "$rb" "$ra"
done
"$bp" history --json | jq -r '[.[] | select(.kind == "pay" and .state == "confirmed")] |
  "payments: \(length), mean latency \((map(.latency_ms) | add / length * 100 | round) / 100) ms, max \((map(.latency_ms) | max * 100 | round) / 100) ms"'

step "More than the balance is refused, saying why (exit status 1)"
"$bp" pay 200.00 --to "$payee" || true

step "An amount the ready notes cannot make: --on-missing split proves a split on demand"
"$bp" pay 1.23 --to 0x00000000000000000000000000000000000B0B00 --on-missing split || true

step "Rebalance: fan-out splits of larger notes into the denominations that ran low (each withdraws the relayer's fee), and prove their spends"
"$bp" rebalance
"$bp" balance

step "History (the payments journal)"
"$bp" history

step "Done: anvil is stopped and the demo's files are removed"
