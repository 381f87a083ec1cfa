// spend circuit: valid inputs prove and verify (EVM target); each kind of invalid input yields no
// valid proof; changing any public input of a valid proof makes it fail verification.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import {
  H, P, assertNoProof, executeProveVerify, hex, loadCircuit, noteCommitment, noteInTree, nullifier,
  pathInputs, publicKey, randomAuth, randomField, readPublicInputs, removeDir, verify, writePublicInputs,
} from './helpers.mjs';

// The note's spend authorization address as a field (public input `auth`, in no constraint).
const AUTH = 0x00112233445566778899aabbccddeeff00112233n;

// Inputs by ABI name (docs/witness-protocol.md); `over` replaces any of them.
function spendInputs(n, over = {}) {
  const { siblings, positions } = pathInputs(over.siblingsRaw ?? n.siblings, over.positionsRaw ?? n.positions);
  delete over.siblingsRaw;
  delete over.positionsRaw;
  return {
    root: hex(n.root), nullifier: hex(n.nf), value: hex(n.value), auth: hex(AUTH),
    sk: hex(n.sk), r: hex(n.r), siblings, positions, ...over,
  };
}

before(async () => {
  await loadCircuit('spend');
});

describe('spend: valid', () => {
  let out;
  after(() => out && removeDir(out));

  test('a note of value 2^16 proves and verifies, public inputs in ABI order', async () => {
    const n = noteInTree(1n << 16n);
    const res = await executeProveVerify('spend', spendInputs(n));
    out = res.out;
    assert.equal(res.ok, true);
    assert.deepEqual(readPublicInputs(out), [n.root, n.nf, n.value, AUTH]);
  });

  test('auth is free: the same note proves with any other address, bound as given', async () => {
    const n = noteInTree(3n);
    for (const auth of [randomAuth(), (1n << 160n) - 1n]) {
      const res = await executeProveVerify('spend', spendInputs(n, { auth: hex(auth) }));
      const pub = readPublicInputs(res.out);
      removeDir(res.out);
      assert.equal(res.ok, true);
      assert.equal(pub[3], auth);
    }
  });

  test('changing any one public input breaks verification', async () => {
    const pub = readPublicInputs(out);
    for (let i = 0; i < pub.length; i++) {
      for (const delta of [1n, P - 1n]) {
        const changed = pub.slice();
        changed[i] = (changed[i] + delta) % P;
        const file = join(out, `public_inputs_${i}_${delta === 1n ? 'plus' : 'minus'}`);
        writePublicInputs(file, changed);
        assert.equal(await verify(out, file), false, `public input ${i} changed by ${delta} still verifies`);
      }
    }
    // And the untouched file, rewritten the same way, still verifies (the writer is faithful).
    const same = join(out, 'public_inputs_same');
    writePublicInputs(same, pub);
    assert.equal(await verify(out, same), true);
  });

  test('a note at leaf 0 (all positions 0) and at the last leaf (all positions 2)', async () => {
    for (const index of [0, 3 ** 16 - 1]) {
      const n = noteInTree(7n, index);
      const res = await executeProveVerify('spend', spendInputs(n));
      removeDir(res.out);
      assert.equal(res.ok, true, `leaf ${index}`);
    }
  });
});

describe('spend: soundness (no valid proof)', () => {
  const n = noteInTree(1000n);
  const cases = {
    'wrong sibling': () => {
      const s = n.siblings.map((x) => x.slice());
      s[5][1] = s[5][1] + 1n;
      return spendInputs(n, { siblingsRaw: s });
    },
    'wrong position (valid digit, other slot)': () => {
      const p = n.positions.slice();
      p[1] = (p[1] + 1) % 3;
      return spendInputs(n, { positionsRaw: p });
    },
    'position 3': () => {
      const p = n.positions.slice();
      p[0] = 3;
      return spendInputs(n, { positionsRaw: p });
    },
    'position 3 at a level where the sibling order would otherwise fit': () => {
      // 3 = 0 (mod 3): a position taken mod 3 would accept it; the circuit must not.
      const p = n.positions.slice();
      const level = p.indexOf(0);
      p[level] = 3;
      return spendInputs(n, { positionsRaw: p });
    },
    'position 1/2 (a field element between 0 and 1)': () => {
      const p = n.positions.slice();
      p[2] = (P + 1n) / 2n;
      return spendInputs(n, { positionsRaw: p });
    },
    'wrong sk (nullifier recomputed for it)': () => {
      const sk = randomField();
      return spendInputs(n, { sk: hex(sk), nullifier: hex(nullifier(sk, n.cm)) });
    },
    'wrong nullifier': () => spendInputs(n, { nullifier: hex(n.nf + 1n) }),
    'nullifier of another note of the same key': () => spendInputs(n, { nullifier: hex(nullifier(n.sk, noteCommitment(publicKey(n.sk), 999n, n.r))) }),
    'value mismatch': () => spendInputs(n, { value: hex(n.value + 1n) }),
    'wrong r (hidden owner)': () => spendInputs(n, { r: hex(n.r + 1n) }),
    'wrong r, nullifier recomputed for the commitment it gives': () => {
      const r = randomField();
      return spendInputs(n, { r: hex(r), nullifier: hex(nullifier(n.sk, noteCommitment(n.pk, n.value, r))) });
    },
    'wrong root': () => spendInputs(n, { root: hex(n.root + 1n) }),
    'root of the empty tree': () => spendInputs(n, { root: hex(H(0n, 0n, 0n)) }),
  };
  for (const [name, make] of Object.entries(cases)) {
    test(name, async (t) => {
      const why = await assertNoProof(assert, 'spend', make());
      t.diagnostic(why);
    });
  }
  test('the baseline of these cases is valid', async () => {
    const { out, ok } = await executeProveVerify('spend', spendInputs(n));
    removeDir(out);
    assert.equal(ok, true);
  });
});
