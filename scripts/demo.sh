#!/usr/bin/env bash
# `make demo`: instant payments end to end on a local chain.
#
# Starts anvil (a block every second), deploys the test token, the two generated batch verifiers and
# the Pool, funds a fresh wallet, deposits $1,000 as denomination notes, builds the inventory of
# spend proofs (real proofs: noir_js witnesses, bb prove and verify), then pays a list of amounts
# to a card issuer's address from those proofs: for each, the notes used, the latency from command
# to signed transaction, the gas, and both balances before and after. Then a rebalance refills the
# inventory with split proofs. Everything it starts is stopped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bp="$PWD/$build/bin/bucketpay"
devnet="$PWD/$build/bin/bucketpay-devnet"
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
state=$(mktemp -d "${TMPDIR:-/tmp}/bucketpay-demo.XXXXXX")
cleanup() {
  scripts/anvil.sh stop "$state/chain" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export BUCKETPAY_DB="$state/wallet.db"
# A demo wallet: its passphrase is public, so its keys protect nothing. Real wallets are asked.
export BUCKETPAY_PASSPHRASE="demo passphrase (not secret)"
# The card issuer that the payer's proofs are made out to (any address works).
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

step "A wallet: spending key and account key sealed in the store; inventory proved for $payee"
"$bp" init --rpc "$rpc" --contracts "$state/contracts.json" --payee "$payee" --confirmations 2
account=$("$bp" key show --json | jq -r .account)

step "Fund the wallet's account: gas, and \$1,500 of test tokens"
"$devnet" fund --rpc "$rpc" --contracts "$state/contracts.json" --to "$account" --eth 10 --tokens 150000

step "Deposit \$1,000 as denomination notes (one depositMany), wait for 2 confirmations"
"$bp" deposit 1000.00
"$bp" balance

step "Build the inventory: one spend proof per note"
"$bp" inventory
"$bp" balance

step "Pay from the inventory (no proving at payment time)"
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
  gas=$(jq -r .gas <<<"$out")
  count=$(jq -r '.notes | length' <<<"$out")
  printf '%9s  %2d notes (%s)  signed in %s ms  gas %s\n' "$a" "$count" "$notes" "$latency" "$gas"
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
  "payments: \(length), mean latency \((map(.latency_ms) | add / length * 100 | round) / 100) ms, max \((map(.latency_ms) | max * 100 | round) / 100) ms, mean gas \(map(.gas) | add / length | round)"'

step "More than the balance is refused, saying why (exit status 1)"
"$bp" pay 200.00 --to "$payee" || true

step "Another recipient has no ready proofs: --on-missing split proves a split on demand"
"$bp" pay 1.23 --to 0x00000000000000000000000000000000000B0B00 --on-missing split

step "Rebalance: split larger notes into the denominations that ran low, and prove their spends"
"$bp" rebalance
"$bp" balance

step "History (the payments journal)"
"$bp" history

step "Done: anvil is stopped and the demo's files are removed"
