#!/usr/bin/env bash
# `make demo`: the main job end to end, as far as the project goes today: the native crypto core
# (Poseidon2, notes, the tree, buckets) and the precompute engine proving real proofs with bb.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bp="$build/bin/bucketpay"
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
state=$(mktemp -d "${TMPDIR:-/tmp}/bucketpay-demo.XXXXXX")
trap 'rm -rf "$state"' EXIT
export BUCKETPAY_DB="$state/bucketpay.db"
# A demo wallet: its passphrase is public, so its keys protect nothing. Real wallets are asked.
export BUCKETPAY_PASSPHRASE="demo passphrase (not secret)"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Poseidon2 permutation of [0, 0, 0, 0] (bb: 0x18dfb8dc...6732e)"
"$bp" permute 0 0 0 0
step "H(1, 2, 3) = P([1, 2, 3, 3 * 2^64])[0]"
"$bp" hash 1 2 3

step "A fresh note: random spending key and blinding (never printed), its commitment and nullifier"
"$bp" new-note --value 12.34

step "A 3-ary depth-16 tree after 7 appends, and the membership path of leaf 5"
leaves=$(for i in 1 2 3 4 5 6 7; do "$bp" hash "$i" 99; done | paste -sd, -)
"$bp" tree --leaves "$leaves" --path 5

step "Amounts and their buckets (cents)"
for a in 0.01 12.34 99.99 655.36 1000.00 1310.71; do
  printf '%9s -> %s\n' "$a" "$("$bp" decompose "$a")"
done
printf '%9s -> ' "12.345"; "$bp" decompose 12.345 || true

step "A wallet, and notes in the local tree"
"$bp" init
"$bp" note add --value 1000.00 >/dev/null
for cents in 1 2 4 8 16 32 64 128; do
  "$bp" note add --value "$(printf '%d.%02d' $((cents / 100)) $((cents % 100)))" >/dev/null
done
"$bp" note list

step "Inventory mode: a spend proof per note (real proofs: noir_js witness, bb prove, bb verify)"
"$bp" precompute inventory --all --stats

step "The proof cache: asking again proves nothing"
"$bp" precompute inventory --all

step "Seed mode: a split proof per bucket of the \$1,000 note (17 proofs)"
"$bp" precompute seed --note 1 --stats

step "Store status"
"$bp" precompute status
