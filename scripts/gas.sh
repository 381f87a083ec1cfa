#!/usr/bin/env bash
# `make gas`: measures the contracts' gas and writes docs/gas.md (or the file given as $1).
# Self-contained: builds what it needs (cmake --build build --target bucketpay-fixtures verifiers:
# the fixtures tool and bb's Solidity verifiers), writes the fixtures with real proofs
# (bucketpay-fixtures --out build/fixtures --proofs), runs the forge gas tests and formats their
# "GAS <name> <n>" lines. Needs the configured build directory (make configure), the CRS
# (BUCKETPAY_CRS, default ../shared/crs next to the repository, else ~/.bb-crs) and python3.
# Environment: BUILD_DIR (default build), GAS_SKIP_BUILD=1 to reuse existing fixtures/verifiers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/docs/gas.md}"
build="${BUILD_DIR:-$root/build}"
[[ "$build" = /* ]] || build="$root/$build"
command -v python3 >/dev/null || { echo "gas.sh: python3 not found" >&2; exit 2; }
crs="${BUCKETPAY_CRS:-}"
if [[ -z "$crs" ]]; then
  if [[ -d "$root/../shared/crs" ]]; then crs="$root/../shared/crs"; else crs="$HOME/.bb-crs"; fi
fi
fixtures="$build/fixtures"
if [[ "${GAS_SKIP_BUILD:-0}" != 1 ]]; then
  [[ -f "$build/CMakeCache.txt" ]] || { echo "gas.sh: $build is not configured (make configure)" >&2; exit 2; }
  cmake --build "$build" --target bucketpay-fixtures verifiers -j2
  BUCKETPAY_CRS="$crs" "$build/bin/bucketpay-fixtures" --out "$fixtures" --proofs
fi
[[ -f "$fixtures/proofs.json" ]] || { echo "gas.sh: $fixtures/proofs.json missing" >&2; exit 1; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
BUCKETPAY_FIXTURES="$fixtures" "$root/scripts/forge_test.sh" --match-test '^test_gas' -vv >"$log" 2>&1 \
  || { cat "$log" >&2; echo "gas.sh: forge test failed" >&2; exit 1; }
for need in pool_spendBatch1_tx batch_verify_k1 split_batch_verify_k1 pool_deposit_tx poseidon2_hash3_optimized; do
  grep -q "GAS $need " "$log" || { cat "$log" >&2; echo "gas.sh: no $need figure (fixture or verifiers missing?)" >&2; exit 1; }
done
forge_version="$("$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge" --version | head -1)"
python3 - "$log" "$out" "$forge_version" <<'PY'
import sys

log, out, forge = sys.argv[1:4]
g = {}
for line in open(log):
    f = line.split()
    if len(f) == 3 and f[0] == "GAS":
        g[f[1]] = int(f[2])


def n(x):
    return f"{round(x):,}"


def pct(a, b):
    return f"{100 * a / b:.0f}%"


# The Pool before issue 15 (protocol v2, bb's SpendVerifier/SplitVerifier called once per proof),
# measured with this script's method (utils/TxGas.sol as of commit 88f0f9d, isolated transactions)
# on the same kind of fixture: spendBatch totals at k proofs, and the two splits.
BB_POOL = {1: 822_278, 4: 3_061_880, 8: 6_048_355, 17: 12_767_879}
BB_SPLIT8, BB_SPLIT1 = 1_243_964, 1_156_880
V1_PER_NOTE_17 = 744_197  # protocol v1 (no signatures), docs/gas.md before v2
GOAL_NOTE_8, GOAL_VERIFY_8, GOAL_VERIFY_17 = 500_000, 350_000, 330_000

bb = g["bb_verify_per_proof"]
vk = [k for k in (1, 2, 4, 8, 17) if f"batch_verify_k{k}" in g]
verify_rows = []
for k in vk:
    per = g[f"batch_verify_k{k}"] / k
    goal = {8: GOAL_VERIFY_8, 17: GOAL_VERIFY_17}.get(k)
    mark = f" (goal ≤ {n(goal)}{': met' if per <= goal else ': MISSED'})" if goal else ""
    verify_rows.append(f"| {k} | {n(g[f'batch_verify_k{k}'])} | **{n(per)}**{mark} | {n(bb)} | {pct(bb - per, bb)} "
                       f"| {n(g[f'batch_verify_k{k}_calldata_per_proof'])} |")
verify_rows = "\n".join(verify_rows)

sizes = [k for k in (1, 4, 8, 17) if f"pool_spendBatch{k}_tx" in g]
if 1 not in sizes:
    sys.exit("gas.sh: no spendBatch figures (fixture or verifiers missing?)")
batch_rows = []
for k in sizes:
    tx, cd, ex, ver = (g[f"pool_spendBatch{k}_{x}"] for x in ("tx", "calldata", "execution", "verify"))
    per = tx / k
    goal = f" (goal ≤ {n(GOAL_NOTE_8)}{': met' if per <= GOAL_NOTE_8 else ': MISSED'})" if k == 8 else ""
    before = BB_POOL[k] / k
    batch_rows.append(f"| {k} | {n(tx)} | **{n(per)}**{goal} | {n(21_000 / k)} | {n(cd / k)} | {n(ver / k)} "
                      f"| {n((ex - ver) / k)} | {n(before)} | {pct(before - per, before)} |")
batch_rows = "\n".join(batch_rows)
largest = max(sizes)


def tx_row(label, key, per=1, before=None):
    b = f" | {n(before)} | {pct(before - g[key + '_tx'] / per, before)}" if before else " | |"
    return (f"| {label} | {n(g[key + '_tx'] / per)} | {n(g[key + '_calldata'] / per)} "
            f"| {n(g[key + '_execution'] / per)}{b} |")


one_tx = g["pool_spendBatch1_tx"]
one_cd = g["pool_spendBatch1_calldata"]
one_ver = g["pool_spendBatch1_verify"]
one_own = g["pool_spendBatch1_execution"] - one_ver
big = largest
big_tx = g[f"pool_spendBatch{big}_tx"]
big_cd = g[f"pool_spendBatch{big}_calldata"]
big_ver = g[f"pool_spendBatch{big}_verify"]
big_own = g[f"pool_spendBatch{big}_execution"] - big_ver

doc = f"""# Gas

Written by `scripts/gas.sh` (`make gas`); do not edit by hand. {forge}, solc 0.8.30 (solcjs),
optimizer on (10,000 runs), EVM cancun. Protocol v2 (docs/protocol.md). Proofs: the engine's real
proofs (build/fixtures/proofs.json: {g['pool_spend_proof_bytes']:,}-byte spend proofs, {g['split_proof_bytes']:,}-byte split
proofs, UltraHonk ZK). The Pool verifies them with the batch verifiers generated from the circuits'
keys (docs/batch-verifier.md): a `spendBatch` of k notes makes one `BatchSpendVerifier.verifyBatch`
call, a `split` one `BatchSplitVerifier.verifyBatch` call with its one proof. bb's own optimized
verifiers (`SpendVerifier`, `SplitVerifier`) are measured beside them on the same proofs.

## Method

- **Transactions** (contracts/test/utils/TxGas.sol): the gas tests run in forge's isolation mode,
  where each call the test makes is executed as a transaction of its own (fresh EIP-2929 access
  list: every account and storage slot other than the sender's and the target's starts cold;
  storage's original values as committed before the call), and `vm.lastCallGas()` reports what
  that transaction used. total = 21,000 + calldata (EIP-2028: 16 gas per non-zero byte, 4 per zero
  byte, of the exact `abi.encodeCall(...)` bytes) + execution. Refunds: none in these calls.
  contracts/test/TxGas.t.sol checks the method to the gas against callees of known cost.
- **Verification** is the verifier's own frame: `verifyBatch` (or bb's `verify`) called as a
  transaction of its own, minus 21,000 and its calldata; inside `spendBatch` the same frame runs
  with the same calldata copied into the call by the Pool (the Pool's copy and the cold call are in
  "the Pool's own" below).
- **Payments** are sent by a third party (a relayer): every note carries its 65-byte EIP-712
  signature (one `ecrecover` each) and the payment's nullifier list; the recipient held no tokens
  before (the token creates its balance slot: 20,000 gas more than for a recipient that holds
  some) and a fee goes to a relayer that already holds tokens.
- **bb's verifier beside ours**: "before" is the Pool of commit 88f0f9d (the same v2 Pool calling
  bb's `verify()` once per proof), measured with this method on the same kind of fixture. v1 is
  protocol v1's figure (no signatures), measured then with the earlier in-transaction method.
- **Poseidon2**: gasleft() around `Poseidon2.hash3(hasher, ...)` as the Pool calls it (warm hasher,
  staticcall included); the Yul library and the reference around internal calls.

## Proof verification, per proof

Spend proofs (4 public inputs, log n = 11), k proofs in one `verifyBatch`:

| proofs k | `verifyBatch` gas | per proof | bb `verify()` per proof | saved | calldata per proof (paid by the transaction) |
| ---: | ---: | ---: | ---: | ---: | ---: |
{verify_rows}

Split proofs (12 public inputs, log n = 12), as `split` uses them:

| verifier | gas |
| --- | ---: |
| `BatchSplitVerifier.verifyBatch`, 1 proof (what `split` calls) | {n(g['split_batch_verify_k1'])} |
| `BatchSplitVerifier.verifyBatch`, 2 proofs: per proof | {n(g['split_batch_verify_k2'] / 2)} |
| bb's `SplitVerifier.verify()` | {n(g['split_bb_verify'])} |

## `spendBatch`, all in, per note

Everything a relayer pays for a payment of k notes (one recipient, one fee): 21,000, calldata,
signatures, nullifiers, verification, events, token transfers.

| notes k | whole transaction | per note | of which: base | calldata | verification | the Pool's own | before: bb's verifier, per note | saved |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{batch_rows}

v1 (protocol v1, bb's verifier, no signatures): {n(V1_PER_NOTE_17)} per note at 17.

"The Pool's own" per note: the EIP-712 digest (once), one `ecrecover`, the nullifier stored (22,100),
the root lookup, the note's public inputs built, its proof copied into the verifier call, the
`Spent` event; once per batch the cold verifier call, `Paid` and two token transfers.

## Pool transactions

| transaction | total gas | calldata | execution | before: bb's verifier | saved |
| --- | ---: | ---: | ---: | ---: | ---: |
{tx_row("`deposit(owner, value)` (1 note: 17 hashes, tree insert, root recorded, token pulled)", "pool_deposit")}
| `depositMany`, 16 notes: per note | {n(g['pool_depositMany16_per_note_tx'])} | {n(g['pool_depositMany16_calldata'] / 16)} | {n(g['pool_depositMany16_execution'] / 16)} | | |
{tx_row("`spendBatch`, 1 note", "pool_spendBatch1", 1, BB_POOL[1])}
{tx_row(f"`spendBatch`, {largest} notes: per note", f"pool_spendBatch{largest}", largest, BB_POOL[largest] / largest)}
{tx_row("`split`, 1 note into {0} outputs (a rebalancing split: the relayer's fee withdrawn)".format(g['pool_split8_outputs']), "pool_split8", 1, BB_SPLIT8)}
{tx_row("`split`, withdrawal to a new recipient + {0} change note".format(g['pool_split1_outputs']), "pool_split1", 1, BB_SPLIT1)}

A split's verification is {n(g['pool_split8_verify'])} of it (`BatchSplitVerifier` with one proof).

## Where a payment's gas goes

| part | `spendBatch` of 1 | share | `spendBatch` of {big}, per note | share |
| --- | ---: | ---: | ---: | ---: |
| transaction base (21,000) | 21,000 | {pct(21_000, one_tx)} | {n(21_000 / big)} | {pct(21_000, big_tx)} |
| calldata ({n(g['pool_spendBatch1_calldata_bytes'])} and {n(g[f'pool_spendBatch{big}_calldata_bytes'] / big)} bytes per note, of which the proof {g['pool_spend_proof_bytes']:,}) | {n(one_cd)} | {pct(one_cd, one_tx)} | {n(big_cd / big)} | {pct(big_cd, big_tx)} |
| verification (`verifyBatch`'s frame) | {n(one_ver)} | {pct(one_ver, one_tx)} | {n(big_ver / big)} | {pct(big_ver, big_tx)} |
| the Pool's own work | {n(one_own)} | {pct(one_own, one_tx)} | {n(big_own / big)} | {pct(big_own, big_tx)} |
| **total** | **{n(one_tx)}** | | **{n(big_tx / big)}** | |

At {big} notes the proof's calldata ({n(big_cd / big)} per note) is {pct(big_cd, big_tx)} of the cost: bb's proof
format (UltraHonk ZK, {g['pool_spend_proof_bytes']:,} bytes) is now the largest part after verification.

## Poseidon2 (BN254, t = 4, Barretenberg's parameters), one hash of 3 inputs

| implementation | gas |
| --- | ---: |
| `Poseidon2.hash3`: raw-bytecode hasher (contracts/src/Poseidon2.sol), per call incl. STATICCALL | {n(g['poseidon2_hash3_optimized'])} |
| the same, first call of a transaction: + 2,500 for the cold hasher account (EIP-2929; computed, not measured) | {n(g['poseidon2_hash3_optimized'] + 2500)} |
| `Poseidon2Yul.hash3`: inline straight-line Yul (contracts/src/Poseidon2Yul.sol, the previous optimized version) | {n(g['poseidon2_hash3_yul'])} |
| `Poseidon2Ref.hash3`: readable reference (contracts/src/Poseidon2Ref.sol) | {n(g['poseidon2_hash3_reference'])} |

## Anchors (other implementations; figures as published, not measured here)

| what | gas |
| --- | ---: |
| the seed's claim: Poseidon2 in Huff | 18,100 |
| the seed's claim: Poseidon2 in Solidity | 35,000 |
| the seed's claim: proof verification | ~350,000 |
| the seed's claim: one withdrawal | ~418,000 |
| zemse/poseidon2-evm, Huff | 14,845 |
| zemse/poseidon2-evm, Yul | 20,304 |
| Tornado Cash `withdraw` (Groth16, MiMC tree) | 301,233 |
"""
open(out, "w").write(doc)
PY
echo "gas.sh: wrote $out"
