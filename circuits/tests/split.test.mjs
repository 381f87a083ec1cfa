// split circuit (1 note in, up to 8 out): the protocol's uses prove and verify (EVM target); every
// constraint has inputs that break only it and yield no valid proof; changing any public input of
// a valid proof makes it fail verification.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import {
  P, TWO_64, assertNoProof, commitment, executeProveVerify, hex, loadCircuit, noteCommitment, noteInTree,
  nullifier, owner, pathInputs, publicKey, randomAuth, randomField, readPublicInputs, removeDir, verify,
  writePublicInputs,
} from './helpers.mjs';

const OUTPUTS = 8;
const AUTH = 0xcafe00000000000000000000000000000000beefn;

// An output note of `v` to key pk with a fresh r: its private owner hash and public commitment
// (0 for v = 0, an absent output).
function output(pk, v) {
  const value = BigInt(v);
  const own = owner(pk, randomField());
  return { owner: own, v: value, cm: value === 0n ? 0n : commitment(own, value) };
}
const absent = () => output(randomField(), 0n);

// Up to 8 outputs, the rest absent.
function outputs(...os) {
  const all = os.slice();
  while (all.length < OUTPUTS) all.push(absent());
  return all;
}

// Inputs by ABI name (docs/witness-protocol.md) for spending note n into amount and outs (8).
function splitInputs(n, amount, outs, over = {}) {
  assert.equal(outs.length, OUTPUTS);
  return {
    root: hex(n.root), nullifier: hex(n.nf), amount: hex(amount), auth: hex(AUTH),
    out_cm: outs.map((o) => hex(o.cm)),
    sk: hex(n.sk), v: hex(n.value), r: hex(n.r), ...pathInputs(n.siblings, n.positions),
    out_owner: outs.map((o) => hex(o.owner)),
    out_value: outs.map((o) => hex(o.v)),
    ...over,
  };
}

// A copy of `arr` (hex strings) with element i replaced.
const withAt = (arr, i, x) => arr.map((y, j) => (j === i ? x : y));

before(async () => {
  await loadCircuit('split');
});

describe('split: valid', () => {
  let kept;
  after(() => kept && removeDir(kept));

  const uses = {
    'fan-out: 2^10 into 8 denominations, no withdrawal': () => {
      const n = noteInTree(1n << 10n);
      const pk = n.pk;
      const vs = [512n, 256n, 128n, 64n, 32n, 16n, 8n, 8n];
      return [n, 0n, vs.map((v) => output(pk, v))];
    },
    'rebalancing: the relayer fee withdrawn, 7 outputs': () => {
      const n = noteInTree(1000n);
      const vs = [500n, 250n, 125n, 62n, 31n, 16n, 8n];
      return [n, 8n, outputs(...vs.map((v) => output(n.pk, v)))];
    },
    'bucket withdrawal with change to self (one output)': () => {
      const n = noteInTree(100_000n);
      return [n, 1n << 10n, outputs(output(n.pk, 100_000n - 1024n))];
    },
    'absent outputs anywhere (outputs 1, 4 and 7 present)': () => {
      const n = noteInTree(700n);
      const outs = outputs();
      outs[1] = output(n.pk, 100n);
      outs[4] = output(publicKey(randomField()), 200n);
      outs[7] = output(n.pk, 300n);
      return [n, 100n, outs];
    },
    'full withdrawal (every output absent)': () => {
      const n = noteInTree(5n);
      return [n, 5n, outputs()];
    },
    'largest values (amount and all 8 outputs 2^64 - 1)': () => {
      const max = TWO_64 - 1n;
      const n = noteInTree(9n * max);
      return [n, max, Array.from({ length: OUTPUTS }, () => output(n.pk, max))];
    },
  };
  for (const [name, make] of Object.entries(uses)) {
    test(name, async () => {
      const [n, amount, outs] = make();
      const { out, ok } = await executeProveVerify('split', splitInputs(n, amount, outs));
      assert.equal(ok, true);
      assert.deepEqual(readPublicInputs(out), [n.root, n.nf, amount, AUTH, ...outs.map((o) => o.cm)]);
      if (kept) removeDir(out);
      else kept = out;
    });
  }

  test('auth is free: any address proves, bound as given', async () => {
    const n = noteInTree(40n);
    const auth = randomAuth();
    const { out, ok } = await executeProveVerify('split', splitInputs(n, 10n, outputs(output(n.pk, 30n)), { auth: hex(auth) }));
    const pub = readPublicInputs(out);
    removeDir(out);
    assert.equal(ok, true);
    assert.equal(pub[3], auth);
  });

  test('changing any one public input breaks verification', async () => {
    const pub = readPublicInputs(kept);
    assert.equal(pub.length, 4 + OUTPUTS);
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
  // 8 present outputs summing to n.value - amount.
  const rest = n.value - amount;
  const vs = [1000n, 2000n, 3000n, 4000n, 500n, 250n, 17n];
  vs.push(rest - vs.reduce((a, b) => a + b, 0n));
  const outs = vs.map((v, i) => output(i % 2 === 0 ? n.pk : publicKey(randomField()), v));
  const base = splitInputs(n, amount, outs);

  // A note whose committed value leaves room for one 2^64 part, so only the range check can object:
  // v = amount + 2^64 + 100 (with conservation over the integers).
  const big = noteInTree(amount + TWO_64 + 100n);

  const cases = {
    // membership
    'wrong sibling': () => {
      const m = { ...n, siblings: n.siblings.map((s) => s.slice()) };
      m.siblings[15][0] += 1n;
      return splitInputs(m, amount, outs);
    },
    'wrong position (valid digit, other slot)': () =>
      splitInputs({ ...n, positions: n.positions.map((p, i) => (i === 4 ? (p + 2) % 3 : p)) }, amount, outs),
    'position 3': () => splitInputs({ ...n, positions: n.positions.map((p, i) => (i === 2 ? 3 : p)) }, amount, outs),
    'wrong root': () => ({ ...base, root: hex(n.root + 1n) }),
    // nullifier and key
    'wrong sk (nullifier recomputed for it)': () => {
      const sk = randomField();
      return { ...base, sk: hex(sk), nullifier: hex(nullifier(sk, n.cm)) };
    },
    'wrong nullifier': () => ({ ...base, nullifier: hex(n.nf + 1n) }),
    // hidden owner
    'wrong r (hidden owner)': () => ({ ...base, r: hex(n.r + 1n) }),
    'wrong r, nullifier recomputed for the commitment it gives': () => {
      const r = randomField();
      return { ...base, r: hex(r), nullifier: hex(nullifier(n.sk, noteCommitment(n.pk, n.value, r))) };
    },
    // value conservation
    'input value not the committed one (sum kept)': () => {
      const o = outs.slice();
      o[0] = output(n.pk, outs[0].v + 1n);
      return splitInputs(n, amount, o, { v: hex(n.value + 1n) });
    },
    'more out than in (amount + 1)': () => splitInputs(n, amount + 1n, outs),
    'more out than in (one output + 1)': () => {
      const o = outs.slice();
      o[5] = output(n.pk, outs[5].v + 1n);
      return splitInputs(n, amount, o);
    },
    'less out than in (one output - 1)': () => {
      const o = outs.slice();
      o[7] = output(n.pk, outs[7].v - 1n);
      return splitInputs(n, amount, o);
    },
    'less out than in (an output dropped)': () => {
      const o = outs.slice();
      o[3] = absent();
      return splitInputs(n, amount, o);
    },
    // 64-bit range of the amount
    'amount 2^64 (sum kept over the integers)': () => splitInputs(big, TWO_64, outputs(output(big.pk, amount), output(big.pk, 100n))),
    'amount p - 1 (wraps: amount + v1 = v mod p)': () => splitInputs(n, P - 1n, outputs(output(n.pk, n.value + 1n))),
  };
  // 64-bit range and absence of every output.
  for (let i = 0; i < OUTPUTS; i++) {
    cases[`output ${i}: value 2^64 (sum kept over the integers)`] = () => {
      const o = outputs();
      o[i] = output(big.pk, TWO_64);
      o[(i + 1) % OUTPUTS] = output(big.pk, 100n);
      return splitInputs(big, amount, o);
    };
    cases[`output ${i}: value p - 1, another v - amount + 1 (balances mod p)`] = () => {
      const o = outputs();
      o[i] = output(n.pk, P - 1n);
      o[(i + 3) % OUTPUTS] = output(n.pk, rest + 1n);
      return splitInputs(n, amount, o);
    };
    cases[`output ${i}: value p - (2^64 - 1) + (v - amount), another 2^64 - 1 (balances mod p)`] = () => {
      // Two outputs that each look small mod 2^64 in their low bits but sum to rest + p.
      const o = outputs();
      const a = TWO_64 - 1n;
      o[i] = output(n.pk, rest + P - a);
      o[(i + 5) % OUTPUTS] = output(n.pk, a);
      return splitInputs(n, amount, o);
    };
    cases[`output ${i}: non-zero commitment for value 0`] = () => {
      const o = outs.slice();
      const own = randomField();
      o[i] = { owner: own, v: 0n, cm: commitment(own, 0n) };
      // Keep the sum: the value moves to the amount.
      return splitInputs(n, amount + outs[i].v, o);
    };
    cases[`output ${i}: zero commitment for a non-zero value`] = () => ({ ...base, out_cm: withAt(base.out_cm, i, hex(0n)) });
    cases[`output ${i}: commitment with the wrong owner`] = () => ({ ...base, out_owner: withAt(base.out_owner, i, hex(outs[i].owner + 1n)) });
    cases[`output ${i}: commitment of another value`] = () => ({ ...base, out_cm: withAt(base.out_cm, i, hex(commitment(outs[i].owner, outs[i].v + 1n))) });
  }
  for (const [name, make] of Object.entries(cases)) {
    test(name, async (t) => {
      const why = await assertNoProof(assert, 'split', make());
      t.diagnostic(why);
    });
  }
  test('the baselines of these cases are valid', async () => {
    for (const inputs of [base, splitInputs(big, amount, outputs(output(big.pk, TWO_64 - 1n), output(big.pk, 101n)))]) {
      const { out, ok } = await executeProveVerify('split', inputs);
      removeDir(out);
      assert.equal(ok, true);
    }
  });
});
