// Row budgets (docs/protocol.md): spend <= 2,048 rows, split <= 4,096 rows, counted by `bb gates`.
// The exact counts are asserted too (Noir and bb are pinned): a change to a circuit that moves them
// must update docs/protocol.md, which states them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifactPath, gates } from './helpers.mjs';

const BUDGETS = { spend: 2048, split: 4096 };
const MEASURED = { spend: 1664, split: 3057 };

for (const [name, budget] of Object.entries(BUDGETS)) {
  test(`${name} fits in ${budget} rows`, async (t) => {
    const rows = await gates(await artifactPath(name));
    t.diagnostic(`${name}: ${rows} rows (budget ${budget})`);
    assert.ok(rows <= budget, `${name} has ${rows} rows, budget ${budget}`);
    assert.equal(rows, MEASURED[name], `${name}: ${rows} rows, docs/protocol.md says ${MEASURED[name]}`);
  });
}
