// Row budgets (docs/protocol.md): spend <= 2,048 rows, split <= 8,192 rows, counted by `bb gates`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifactPath, gates } from './helpers.mjs';

const BUDGETS = { spend: 2048, split: 8192 };

for (const [name, budget] of Object.entries(BUDGETS)) {
  test(`${name} fits in ${budget} rows`, async (t) => {
    const rows = await gates(await artifactPath(name));
    t.diagnostic(`${name}: ${rows} rows (budget ${budget})`);
    assert.ok(rows <= budget, `${name} has ${rows} rows, budget ${budget}`);
  });
}
