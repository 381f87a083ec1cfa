#!/usr/bin/env node
// The seed's witness step, rebuilt for the precompute benchmark (bench/precompute): one fresh Node
// process per witness, as the seed's `nargo execute` per proof was one fresh process per witness.
// Usage: node scripts/baseline_witness.mjs ARTIFACT.json INPUTS.json OUT_WITNESS.gz
// INPUTS.json is the circuit's input map (docs/witness-protocol.md). The witness is written as
// noir_js returns it: gzip of the msgpack witness stack, what `bb prove -w FILE` reads.
// Errors go to stderr, exit 1 (2 for bad arguments). Not on any production path.
import { Noir } from '@noir-lang/noir_js';
import { readFileSync, writeFileSync } from 'node:fs';

const [artifactPath, inputsPath, outPath] = process.argv.slice(2);
if (!artifactPath || !inputsPath || !outPath) {
  console.error('usage: baseline_witness.mjs ARTIFACT.json INPUTS.json OUT_WITNESS.gz');
  process.exit(2);
}

try {
  const artifact = JSON.parse(readFileSync(artifactPath, 'utf8'));
  const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
  const { witness } = await new Noir(artifact).execute(inputs);
  writeFileSync(outPath, witness);
  process.exit(0);
} catch (err) {
  console.error(`baseline_witness: ${err?.message ?? err}`);
  process.exit(1);
}
