#!/usr/bin/env node
// Compiles one nargo package with noir_wasm (no nargo binary needed) and writes its artifact JSON.
// Usage: node scripts/compile_circuit.mjs CIRCUIT_DIR OUT.json
// The artifact is what nargo writes to target/<name>.json: {noir_version, hash, abi, bytecode, ...};
// `bytecode` is base64(gzip(msgpack ACIR)). The file is written atomically (temp file + rename).
import { compile, createFileManager } from '@noir-lang/noir_wasm';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const [dirArg, outArg] = process.argv.slice(2);
if (!dirArg || !outArg) {
  console.error('usage: compile_circuit.mjs CIRCUIT_DIR OUT.json');
  process.exit(2);
}
// noir_wasm resolves the package only from absolute paths.
const dir = resolve(dirArg);
const out = resolve(outArg);
try {
  const result = await compile(createFileManager(dir), dir, undefined, undefined);
  const program = result.program;
  if (!program || !program.bytecode) throw new Error('compiler returned no program');
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(program));
  renameSync(tmp, out);
} catch (err) {
  console.error(`compile_circuit: ${dir}: ${err?.message ?? err}`);
  if (Array.isArray(err?.diagnostics)) for (const d of err.diagnostics) console.error(JSON.stringify(d));
  process.exit(1);
}
