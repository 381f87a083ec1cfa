#!/usr/bin/env node
// Executes a compiled Noir program with noir_js and prints its return value as JSON.
// Usage: node scripts/noir_execute.mjs ARTIFACT.json INPUTS.json
// INPUTS.json maps each ABI parameter name to its value (fields as 0x-hex or decimal strings).
// Output (stdout, one line): {"return_value": ...} with every field element as a 0x-prefixed,
// 64-digit lowercase hex string, arrays as arrays and structs as objects. Errors go to stderr, exit 1.
// Used by the C++ tests to check the engine against Noir; not on any production path.
import { Noir } from '@noir-lang/noir_js';
import { readFileSync } from 'node:fs';

const [artifactPath, inputsPath] = process.argv.slice(2);
if (!artifactPath || !inputsPath) {
  console.error('usage: noir_execute.mjs ARTIFACT.json INPUTS.json');
  process.exit(2);
}

// noir_js returns fields (and integers) as hex strings of varying width; make them canonical.
function canonical(value) {
  if (typeof value === 'string') {
    const n = BigInt(value);
    return '0x' + n.toString(16).padStart(64, '0');
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    return '0x' + BigInt(value).toString(16).padStart(64, '0');
  }
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

try {
  const artifact = JSON.parse(readFileSync(artifactPath, 'utf8'));
  const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
  const { returnValue } = await new Noir(artifact).execute(inputs);
  process.stdout.write(JSON.stringify({ return_value: canonical(returnValue ?? null) }) + '\n');
  process.exit(0);
} catch (err) {
  console.error(`noir_execute: ${err?.message ?? err}`);
  process.exit(1);
}
