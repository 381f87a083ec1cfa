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
grep -q "GAS pool_spendBatch1_tx" "$log" || { cat "$log" >&2; echo "gas.sh: no spend figures (fixture or verifiers missing?)" >&2; exit 1; }
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


def tx_row(label, k, per=1):
    return (f"| {label} | {n(g[k + '_tx'] / per)} | {n(g[k + '_calldata'] / per)} "
            f"| {n(g[k + '_execution'] / per)} |")


# spendBatch at k proofs: measured when the fixture has k spend proofs (bucketpay-fixtures writes 17).
sizes = [k for k in (1, 4, 8, 17) if f"pool_spendBatch{k}_tx" in g]
if 1 not in sizes:
    sys.exit("gas.sh: no spendBatch figures (fixture or verifiers missing?)")
verify = g["pool_spend_verify"]
one_exec = g["pool_spendBatch1_execution"]
one_tx = g["pool_spendBatch1_tx"]
fixed = 21_000 + g["pool_spendBatch1_calldata"] + verify
ours = one_exec - verify
batch_rows = "\n".join(
    tx_row(f"`spendBatch`, {k} proof{'s' if k > 1 else ''}{': per proof' if k > 1 else ''}", f"pool_spendBatch{k}", k)
    for k in sizes)
whole = ", ".join(f"{k} proofs {n(g[f'pool_spendBatch{k}_tx'])}" for k in sizes if k > 1)
largest = max(sizes)
doc = f"""# Gas

Written by `scripts/gas.sh` (`make gas`); do not edit by hand. {forge}, solc 0.8.30 (solcjs),
optimizer on (10,000 runs), EVM cancun. Protocol v2 (docs/protocol.md). Proofs: the engine's real
proofs (build/fixtures/proofs.json, {g['pool_spend_proof_bytes']:,}-byte UltraHonk ZK proofs) against bb's
optimized Solidity verifiers, one `verify()` per proof.

## Method

- **Transactions** (utils/TxGas.sol): total = 21,000 + calldata + execution. Calldata is priced per
  EIP-2028 (16 gas per non-zero byte, 4 per zero byte) over the exact bytes of the call,
  `abi.encodeCall(...)` in the test. Execution is the gas of the Pool's call frame as in a fresh
  transaction: the Pool, the token, the verifier and the hasher accounts and their storage are marked
  cold first (`vm.cool`, EIP-2929 prices), and the cost of the test's own CALL instruction is
  removed by calibrating against the same call to a contract whose code is STOP. Refunds are not
  subtracted (the Pool's calls have none).
- **Payments** are sent by a third party (a relayer): every spend carries its note's 65-byte EIP-712
  signature (one `ecrecover` each) and the payment's nullifier list; the recipient held no tokens
  before (the token creates its balance slot: 20,000 gas more than for a recipient that holds
  some) and the fee goes to a relayer that already holds tokens.
- **Poseidon2**: gasleft() around `Poseidon2.hash3(hasher, ...)` as the Pool calls it (warm hasher,
  staticcall included); the Yul library and the reference around internal calls.

## Poseidon2 (BN254, t = 4, Barretenberg's parameters), one hash of 3 inputs

| implementation | gas |
| --- | ---: |
| `Poseidon2.hash3`: raw-bytecode hasher (contracts/src/Poseidon2.sol), per call incl. STATICCALL | {n(g['poseidon2_hash3_optimized'])} |
| the same, first call of a transaction: + 2,500 for the cold hasher account (EIP-2929; computed, not measured) | {n(g['poseidon2_hash3_optimized'] + 2500)} |
| `Poseidon2Yul.hash3`: inline straight-line Yul (contracts/src/Poseidon2Yul.sol, the previous optimized version) | {n(g['poseidon2_hash3_yul'])} |
| `Poseidon2Ref.hash3`: readable reference (contracts/src/Poseidon2Ref.sol) | {n(g['poseidon2_hash3_reference'])} |

## Pool transactions

| transaction | total gas | calldata | execution |
| --- | ---: | ---: | ---: |
{tx_row("`deposit(owner, value)` (1 note: 17 hashes, tree insert, root recorded, token pulled)", "pool_deposit")}
| `depositMany`, 16 notes: per note | {n(g['pool_depositMany16_per_note_tx'])} | {n(g['pool_depositMany16_calldata'] / 16)} | {n(g['pool_depositMany16_execution'] / 16)} |
{batch_rows}
{tx_row("`split`, 1 note into {0} outputs (a rebalancing split: the relayer's fee withdrawn)".format(g['pool_split8_outputs']), "pool_split8")}
{tx_row("`split`, withdrawal to a new recipient + {0} change note".format(g['pool_split1_outputs']), "pool_split1")}

Whole batches: {whole}. All proofs of a batch pay one payment (one recipient, one fee), so a
batch makes at most two token transfers.

## Where a spend's gas goes (`spendBatch` of 1)

| part | gas | share |
| --- | ---: | ---: |
| transaction base (21,000) | 21,000 | {pct(21_000, one_tx)} |
| calldata: {g['pool_spendBatch1_calldata_bytes']:,} bytes, of which the proof {g['pool_spend_proof_bytes']:,} | {n(g['pool_spendBatch1_calldata'])} | {pct(g['pool_spendBatch1_calldata'], one_tx)} |
| `verify()` of bb's verifier (its call frame) | {n(verify)} | {pct(verify, one_tx)} |
| the Pool's own work: EIP-712 digest, signature recovery (ecrecover 3,000), nullifier stored (22,100), root lookup, verifier call (cold account, proof copied to memory), events, token transfers (new recipient balance 22,100) | {n(ours)} | {pct(ours, one_tx)} |
| **total** | **{n(one_tx)}** | |

The parts the Pool does not control (base, calldata of bb's proof format, bb's verifier) sum to
{n(fixed)} gas for one spend; the Pool's own part is {n(ours)}. A batch shares the 21,000, the
digest and the transfers: {n(g[f'pool_spendBatch{largest}_tx'] / largest)} per proof at {largest} proofs (v1, without
signatures: 744,197). The remaining per-proof cost is bb's `verify()` and the proof's calldata;
one batched verification of all the proofs (PROTOCOL_V2, decision 7) is what shrinks it.

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
