// split circuit: the protocol's uses prove and verify (EVM target); each kind of invalid input
// yields no valid proof; changing any public input of a valid proof makes it fail verification.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import {
  P, TWO_64, assertNoProof, commitment, executeProveVerify, hex, loadCircuit, noteInTree, nullifier,
  pathInputs, randomField, rawHex, readPublicInputs, removeDir, verify, writePublicInputs, ownerKey,
} from './helpers.mjs';

const RECIPIENT = 0xcafe00000000000000000000000000000000beefn;

// An output note (pk, v, r) and its public commitment (0 for v = 0).
function output(pk, v) {
  const r = randomField();
  const value = BigInt(v);
  return { pk, v: value, r, cm: value === 0n ? 0n : commitment(pk, value, r) };
}

// Inputs by ABI name (docs/witness-protocol.md) for spending note n into amount, o1, o2.
function splitInputs(n, amount, o1, o2, over = {}) {
  return {
    root: hex(n.root), nullifier: hex(n.nf), amount: hex(amount), recipient: hex(RECIPIENT),
    out_cm1: hex(o1.cm), out_cm2: hex(o2.cm),
    sk: hex(n.sk), v: hex(n.value), r: hex(n.r), ...pathInputs(n.siblings, n.positions),
    pk1: hex(o1.pk), v1: hex(o1.v), r1: hex(o1.r), pk2: hex(o2.pk), v2: hex(o2.v), r2: hex(o2.r),
    ...over,
  };
}

before(async () => {
  await loadCircuit('split');
});

describe('split: valid', () => {
  let kept;
  after(() => kept && removeDir(kept));

  const uses = {
    'bucket withdrawal with change to self (v2 = 0, out_cm2 = 0)': () => {
      const n = noteInTree(100_000n);
      return [n, 1n << 10n, output(n.pk, 100_000n - 1024n), output(0n, 0n)];
    },
    'pure split into two notes (amount = 0)': () => {
      const n = noteInTree(3n << 12n);
      return [n, 0n, output(n.pk, 1n << 13n), output(ownerKey(randomField()), 1n << 12n)];
    },
    'full withdrawal (both outputs absent)': () => {
      const n = noteInTree(5n);
      return [n, 5n, output(randomField(), 0n), output(randomField(), 0n)];
    },
    'largest values (amount = v1 = v2 = 2^64 - 1)': () => {
      const max = TWO_64 - 1n;
      const n = noteInTree(3n * max);
      return [n, max, output(n.pk, max), output(n.pk, max)];
    },
  };
  for (const [name, make] of Object.entries(uses)) {
    test(name, async () => {
      const [n, amount, o1, o2] = make();
      const { out, ok } = await executeProveVerify('split', splitInputs(n, amount, o1, o2));
      assert.equal(ok, true);
      assert.deepEqual(readPublicInputs(out), [n.root, n.nf, amount, RECIPIENT, o1.cm, o2.cm]);
      if (kept) removeDir(out);
      else kept = out;
    });
  }

  test('changing any one public input breaks verification', async () => {
    const pub = readPublicInputs(kept);
    assert.equal(pub.length, 6);
    for (let i = 0; i < pub.length; i++) {
      const changed = pub.slice();
      changed[i] = (changed[i] + 1n) % P;
      const file = join(kept, `public_inputs_${i}`);
      writePublicInputs(file, changed);
      assert.equal(await verify(kept, file), false, `public input ${i} changed still verifies`);
    }
  });
});

describe('split: soundness (no valid proof)', () => {
  const n = noteInTree(50_000n);
  const amount = 1n << 15n;
  const o1 = output(n.pk, 50_000n - amount - 100n);
  const o2 = output(ownerKey(randomField()), 100n);
  const zero = output(randomField(), 0n);
  // A note whose committed value is v = amount + 2^64 + v2, so only the range check can object.
  const big = noteInTree(amount + TWO_64 + 100n);

  const cases = {
    'wrong sibling': () => {
      const m = { ...n, siblings: n.siblings.map((s) => s.slice()) };
      m.siblings[15][0] += 1n;
      return splitInputs(m, amount, o1, o2);
    },
    'wrong position (valid digit, other slot)': () => splitInputs({ ...n, positions: n.positions.map((p, i) => (i === 4 ? (p + 2) % 3 : p)) }, amount, o1, o2),
    'position 3': () => splitInputs({ ...n, positions: n.positions.map((p, i) => (i === 2 ? 3 : p)) }, amount, o1, o2),
    'wrong sk (nullifier recomputed for it)': () => {
      const sk = randomField();
      return splitInputs(n, amount, o1, o2, { sk: hex(sk), nullifier: hex(nullifier(sk, n.cm)) });
    },
    'wrong nullifier': () => splitInputs(n, amount, o1, o2, { nullifier: hex(n.nf + 1n) }),
    'wrong root': () => splitInputs(n, amount, o1, o2, { root: hex(n.root + 1n) }),
    'input value mismatch (v not the committed value, sum kept)': () => {
      const o1b = output(n.pk, o1.v + 1n);
      return splitInputs(n, amount, o1b, o2, { v: hex(n.value + 1n) });
    },
    'amount + v1 + v2 > v': () => splitInputs(n, amount + 1n, o1, o2),
    'amount + v1 + v2 < v': () => {
      const o1b = output(n.pk, o1.v - 1n);
      return splitInputs(n, amount, o1b, o2);
    },
    'output value 2^64 (v1)': () => splitInputs(big, amount, output(big.pk, TWO_64), output(big.pk, 100n)),
    'output value 2^64 (v2)': () => splitInputs(big, amount, output(big.pk, 100n), output(big.pk, TWO_64)),
    'amount 2^64': () => splitInputs(big, TWO_64, output(big.pk, amount), output(big.pk, 100n)),
    'wrap-around: v1 = p - 1, v2 = v - amount + 1': () =>
      splitInputs(n, amount, output(n.pk, P - 1n), output(n.pk, n.value - amount + 1n)),
    'wrap-around: amount = p - 1, v1 = v + 1, v2 = 0': () => {
      // amount + v1 + v2 = v (mod p) with amount = p - 1 and v1 = v + 1, v2 = 0.
      return splitInputs(n, P - 1n, output(n.pk, n.value + 1n), zero);
    },
    'wrap-around: v2 = p - 5, v1 = v - amount + 5': () =>
      splitInputs(n, amount, output(n.pk, n.value - amount + 5n), output(n.pk, P - 5n)),
    'out_cm1 != 0 with v1 = 0': () => {
      const o = output(n.pk, 0n);
      return splitInputs(n, amount, o, output(n.pk, n.value - amount), { out_cm1: hex(commitment(o.pk, 0n, o.r)) });
    },
    'out_cm2 != 0 with v2 = 0': () => {
      const o = output(n.pk, 0n);
      return splitInputs(n, amount, output(n.pk, n.value - amount), o, { out_cm2: hex(commitment(o.pk, 0n, o.r)) });
    },
    'out_cm1 = 0 with v1 != 0': () => splitInputs(n, amount, o1, o2, { out_cm1: hex(0n) }),
    'out_cm2 = 0 with v2 != 0': () => splitInputs(n, amount, o1, o2, { out_cm2: hex(0n) }),
    'out_cm1 with the wrong blinding': () => splitInputs(n, amount, o1, o2, { r1: hex(o1.r + 1n) }),
    'out_cm2 for another owner': () => splitInputs(n, amount, o1, o2, { pk2: hex(o2.pk + 1n) }),
  };
  for (const [name, make] of Object.entries(cases)) {
    test(name, async (t) => {
      const why = await assertNoProof(assert, 'split', make());
      t.diagnostic(why);
    });
  }
  test('the baseline of these cases is valid', async () => {
    const { out, ok } = await executeProveVerify('split', splitInputs(n, amount, o1, o2));
    removeDir(out);
    assert.equal(ok, true);
  });
});
