#!/usr/bin/env bash
# `make demo`: instant private payments end to end on a local chain (protocol v2).
#
# Starts anvil (a block every second), deploys the test token, the two generated batch verifiers and
# the Pool, starts a relayer (`bucketpay relay`, its own account), funds a fresh wallet, deposits
# $1,000 as denomination notes (by hidden owner), builds the inventory of spend proofs (real proofs:
# noir_js witnesses, bb prove and verify), then pays three merchants through the relayer (EIP-712
# payments signed by each note's auth key; the relayer sends them and earns its fee: its balance
# before and after): for each, the notes used, the fee, the time to the signed and journaled bundle
# (the wallet's part) and to the relayer's answer, who sent the transaction and its gas. Then a
# third party replays a pending payment from the mempool with a higher tip (the merchant is paid
# once, the wallet shows it settled by the copy), a split proved on demand, a rebalance with fan-out
# splits (handed over; their outputs' proofs left to the keeper), and the privacy check over the
# whole chain (scripts/privacy_check.sh: no payment sent from the wallet's account, none of its
# secrets in any calldata or event, no auth address used twice). Everything it starts is stopped
# at the end, whatever happens.
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
# A JSON-RPC call to anvil; prints its result (JSON).
rpc_call() {
  curl -s -X POST -H 'Content-Type: application/json' "$rpc" \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" | jq -c .result
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
# Its own store: its account key is made and sealed there. Its fee: the gas a payment costs at the
# node's gas price, at --eth-price tokens per ETH, plus 20 %. Anvil's gas costs what Ethereum's
# does; ETH at 3 test dollars makes a fee about a cent, as on a rollup with a thousandth of that gas price.
"$bp" relay init --db "$state/relay.db" --rpc-url "$rpc" --pool "$pool" --eth-price 3 --json >"$state/relay.json"
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

step "Pay three merchants from the inventory through the relayer (no proving at payment time)"
# Any addresses: a proof names no recipient, the Payment each note's auth key signs at payment time does.
merchants=(0x00000000000000000000000000000000C0FFEE01 0x0000000000000000000000000000000000B00C02 0x00000000000000000000000000000000000CAB03)
names=("coffee shop" "bookshop" "taxi")
amounts=(3.50 12.34 25.00 0.99 42.42 7.77)
relayer_before=$(token_cents "$relayer_account")
rows=()
for i in "${!amounts[@]}"; do
  a=${amounts[$i]}
  m=$((i % 3))
  payee=${merchants[$m]}
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
  ready=$(jq -r '.bundle_ready_ms * 100 | round / 100' <<<"$out")
  answered=$(jq -r '.latency_ms | round' <<<"$out")
  fee=$(jq -r .fee_cents <<<"$out")
  tx=$(jq -r .tx <<<"$out")
  receipt=$(rpc_call eth_getTransactionReceipt "[\"$tx\"]")
  gas=$(jq -r .gasUsed <<<"$receipt" | xargs printf '%d')
  from=$(jq -r .from <<<"$receipt")
  count=$(jq -r '.notes | length' <<<"$out")
  sender=$([ "${from,,}" = "${relayer_account,,}" ] && echo "the relayer" || echo "$from")
  printf '%9s to the %-11s %d notes (%s), fee %s: signed and journaled in %s ms, the relayer answered at %s ms; sent by %s, gas %s\n' \
    "$a" "${names[$m]}" "$count" "$notes" "$(dollars "$fee")" "$ready" "$answered" "$sender" "$gas"
  printf '           payer %s -> %s   %s %s -> %s\n' "$(dollars "$payer_before")" "$(dollars "$payer_after")" \
    "${names[$m]}" "$(dollars "$payee_before")" "$(dollars "$payee_after")"
  rows+=("$a|${names[$m]}|$count|$ready|$answered|$gas|$(dollars "$fee")")
done
relayer_after=$(token_cents "$relayer_account")

step "Summary: the wallet's part (signed and journaled) beside the relayer's answer (its simulation and its send)"
printf '| %8s | %-11s | %5s | %20s | %20s | %9s | %5s |\n' amount merchant notes "signed+journaled ms" "relayer answered ms" gas fee
printf '|%s|\n' "----------|-------------|-------|----------------------|----------------------|-----------|-------"
for r in "${rows[@]}"; do
  IFS='|' read -r a n c l h g f <<<"$r"
  printf '| %8s | %-11s | %5s | %20s | %20s | %9s | %5s |\n' "$a" "$n" "$c" "$l" "$h" "$g" "$f"
done
echo "the relayer's token balance: $(dollars "$relayer_before") -> $(dollars "$relayer_after") (its fees; it paid the gas in ETH)"

step "More than the balance is refused, saying why (exit status 1)"
"$bp" pay 1200.00 --to "${merchants[0]}" || true

step "A third party replays a pending payment: the merchant is paid once, the wallet shows it settled"
# Mining paused, so the relayer's transaction waits in the mempool where anyone can read it.
rpc_call evm_setIntervalMining '[0]' >/dev/null
coffee_before=$(token_cents "${merchants[0]}")
# (From the inventory, or a split proved now when its notes cannot make the amount and the fee.)
out=$("$bp" pay 4.20 --to "${merchants[0]}" --on-missing split --no-wait --json)
own=$(jq -r .relayer_tx <<<"$out")
payment=$(jq -r .payment <<<"$out")
echo "payment $payment handed over; the relayer's transaction $own is pending"
# Anvil's account 3 (unlocked by anvil) copies the pending calldata and sends it with a higher tip.
third=0x90F79bf6EB2c4f870365E785982E1f101E93b906
input=$(rpc_call eth_getTransactionByHash "[\"$own\"]" | jq -r .input)
copy=$(rpc_call eth_sendTransaction "[{\"from\":\"$third\",\"to\":\"$pool\",\"data\":\"$input\",\"gas\":\"0x2dc6c0\",\"maxFeePerGas\":\"0x2e90edd000\",\"maxPriorityFeePerGas\":\"0xba43b7400\"}]" | jq -r .)
echo "the third party $third sent a copy: $copy"
rpc_call evm_mine '[]' >/dev/null
rpc_call evm_setIntervalMining '[1]' >/dev/null
for t in "$copy" "$own"; do
  r=$(rpc_call eth_getTransactionReceipt "[\"$t\"]")
  printf '  %s from %s: %s in block %d\n' "$t" "$(jq -r .from <<<"$r")" \
    "$([ "$(jq -r .status <<<"$r")" = 0x1 ] && echo mined || echo reverted)" "$(jq -r .blockNumber <<<"$r")"
done
# The wallet settles by what the chain says (2 confirmations here), whoever sent the transaction.
for _ in $(seq 1 30); do
  "$bp" sync >/dev/null
  settled=$("$bp" history --json | jq -r --argjson id "$payment" '.[] | select(.id == $id) | .state')
  [ "$settled" = confirmed ] && break
  sleep 0.5
done
"$bp" history --json | jq -r --argjson id "$payment" '.[] | select(.id == $id) |
  "the wallet: payment \(.id) \(.state), paid by \(.tx)"'
coffee_after=$(token_cents "${merchants[0]}")
echo "the coffee shop: $(dollars "$coffee_before") -> $(dollars "$coffee_after") (paid \$4.20 once)"
[ "$settled" = confirmed ] && [ $((coffee_after - coffee_before)) -eq 420 ] ||
  { echo "the replay changed what was paid" >&2; exit 1; }

step "An amount the ready notes cannot make: --on-missing split proves a split on demand"
"$bp" pay 1.23 --to "${merchants[1]}" --on-missing split || true

step "Rebalance: fan-out splits of larger notes into the denominations that ran low (each withdraws the relayer's fee)"
# Handed over without waiting: proving the new notes' spends (8 a split) is the keeper's background
# work (`bucketpay keeper`), not the demo's. The chain settles them within a few blocks.
"$bp" rebalance --no-wait
for _ in $(seq 1 60); do
  "$bp" sync >/dev/null
  [ "$("$bp" history --json | jq '[.[] | select(.state == "signed" or .state == "submitted")] | length')" = 0 ] && break
  sleep 0.5
done
"$bp" balance

step "History (the payments journal)"
"$bp" history

step "Privacy: every transaction and event of the chain, read over JSON-RPC by an independent script"
scripts/privacy_check.sh "$bp" "$rpc" "$pool" 8 1

step "Done: anvil is stopped and the demo's files are removed"
