#!/usr/bin/env bash
# Runs the privacy check (scripts/privacy_check.mjs) over the chain at RPC for the wallet of the
# current environment (BUCKETPAY_DB, BUCKETPAY_PASSPHRASE, --wallet's default): its account and
# secrets (pk, sk, every note's r, through `bucketpay key show --reveal` and `note list --reveal`)
# go to the check on a pipe, never to a file or the screen. Prints the check's verdict; its exit
# status.
#
# Usage: scripts/privacy_check.sh BUCKETPAY RPC POOL [MIN_PAYMENTS [MIN_SPLITS]]
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BUCKETPAY RPC POOL [MIN_PAYMENTS [MIN_SPLITS]]" >&2; exit 2; }
bp=$1 rpc=$2 pool=$3
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Their warnings that the output holds secrets are expected here; any other error is shown.
{
  "$bp" key show --reveal --json
  "$bp" note list --reveal --json
} 2> >(grep -v '^bucketpay: warning:' >&2) | jq -cs '{accounts: [.[0].account],
             secrets: ({"the owner key pk": .[0].pk, "the spending key sk": .[0].spending_key}
                       + ([.[1][] | {("the r of note \(.id)"): .r}] | add))}' |
  node "$root/scripts/privacy_check.mjs" --rpc "$rpc" --pool "$pool" --min-payments "${4:-1}" --min-splits "${5:-0}"
