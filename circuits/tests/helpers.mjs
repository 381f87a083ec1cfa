// Shared helpers of the circuit tests: compiled artifacts, an independent model of the protocol's
// hash and tree (@zkpassport/poseidon2, not the circuits' own code), and bb prove/verify/gates.
import { Noir } from '@noir-lang/noir_js';
import { permute } from '@zkpassport/poseidon2';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CRS = process.env.BUCKETPAY_CRS ?? resolve(repoRoot, '../shared/crs');
export const BB = process.env.BUCKETPAY_BB ?? join(repoRoot, 'node_modules/@aztec/bb.js/build/amd64-linux/bb');

// ---------------------------------------------------------------------------------------------
// Field, hash, keys, hidden owners, notes (docs/protocol.md, v2), computed independently of the
// circuits.
export const P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
export const TWO_64 = 1n << 64n;
export const TAG_PK = 1n;
export const TAG_NF = 2n;
export const DEPTH = 16;

const mod = (x) => ((x % P) + P) % P;
// H(x1..xn), n <= 3: permutation of [x1, x2, x3, n * 2^64], element 0.
export function H(...xs) {
  if (xs.length < 1 || xs.length > 3) throw new Error('H takes 1..3 inputs');
  const s = [0n, 0n, 0n, BigInt(xs.length) * TWO_64];
  xs.forEach((x, i) => (s[i] = mod(BigInt(x))));
  return permute(s)[0];
}
export const publicKey = (sk) => H(TAG_PK, sk);
// owner = H(pk, r): what a deposit publishes instead of pk and r.
export const owner = (pk, r) => H(pk, r);
// cm = H(owner, v).
export const commitment = (ownerHash, v) => H(ownerHash, v);
export const noteCommitment = (pk, v, r) => commitment(owner(pk, r), v);
export const nullifier = (sk, cm) => H(TAG_NF, sk, cm);
// An address-sized public input (the spend authorization key's address as a field).
export const randomAuth = () => BigInt('0x' + randomBytes(20).toString('hex'));
export const randomField = () => BigInt('0x' + randomBytes(32).toString('hex')) % P;
export const hex = (x) => '0x' + mod(BigInt(x)).toString(16).padStart(64, '0');
// Raw hex without reduction mod p (for inputs outside the field's canonical range).
export const rawHex = (x) => '0x' + BigInt(x).toString(16);

// The empty subtrees Z_0 = 0, Z_{k+1} = H(Z_k, Z_k, Z_k).
export const ZEROS = (() => {
  const z = [0n];
  for (let k = 0; k < DEPTH; k++) z.push(H(z[k], z[k], z[k]));
  return z;
})();

// A sparse 3-ary depth-16 tree: leaves set by index, every other leaf 0.
export class SparseTree {
  constructor() {
    this.levels = Array.from({ length: DEPTH + 1 }, () => new Map());
  }
  node(level, index) {
    return this.levels[level].get(index) ?? ZEROS[level];
  }
  set(index, leaf) {
    let idx = index;
    this.levels[0].set(idx, BigInt(leaf));
    for (let level = 0; level < DEPTH; level++) {
      const base = idx - (idx % 3);
      const parent = H(this.node(level, base), this.node(level, base + 1), this.node(level, base + 2));
      idx = (idx - (idx % 3)) / 3;
      this.levels[level + 1].set(idx, parent);
    }
  }
  root() {
    return this.node(DEPTH, 0);
  }
  // siblings[level] = the other two children in order, positions[level] = the base-3 digit.
  path(index) {
    const siblings = [];
    const positions = [];
    let idx = index;
    for (let level = 0; level < DEPTH; level++) {
      const pos = idx % 3;
      const base = idx - pos;
      siblings.push([0, 1, 2].filter((j) => j !== pos).map((j) => this.node(level, base + j)));
      positions.push(pos);
      idx = base / 3;
    }
    return { siblings, positions };
  }
}

// A tree holding a note of value `value` owned by a fresh key at a leaf index whose base-3 digits
// use all three positions, among other leaves (so siblings are not all empty subtrees).
export function noteInTree(value, index = 1 + 2 * 3 + 0 * 9 + 1 * 27 + 2 * 81 + 3 ** 15) {
  const sk = randomField();
  const r = randomField();
  const pk = publicKey(sk);
  const cm = noteCommitment(pk, value, r);
  const tree = new SparseTree();
  for (const i of [0, index - 1, index + 1, index + 3, index + 9 * 3, 5 * 3 ** 10 + 7]) {
    if (i !== index && i >= 0) tree.set(i, randomField());
  }
  tree.set(index, cm);
  const { siblings, positions } = tree.path(index);
  return { sk, r, pk, value: BigInt(value), cm, nf: nullifier(sk, cm), root: tree.root(), siblings, positions, index };
}

export const pathInputs = (siblings, positions) => ({
  siblings: siblings.map((s) => s.map(hex)),
  positions: positions.map(hex),
});

// ---------------------------------------------------------------------------------------------
// Artifacts: build/circuits/<name>.json if newer than every source, else compiled once into a
// cache directory keyed by the sources' hash (shared by the test files running in parallel).
function sourceFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.nr') || e.name === 'Nargo.toml') out.push(p);
  }
  return out.sort();
}

export async function artifactPath(name) {
  const sources = [...sourceFiles(join(repoRoot, 'circuits', name)), ...sourceFiles(join(repoRoot, 'circuits/lib'))];
  const built = join(repoRoot, 'build/circuits', `${name}.json`);
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs > newest) return built;
  const h = createHash('sha256');
  for (const f of sources) h.update(f).update(readFileSync(f));
  h.update(readFileSync(join(repoRoot, 'scripts/compile_circuit.mjs')));
  const out = join(tmpdir(), `bucketpay-circuits-${h.digest('hex').slice(0, 16)}`, `${name}.json`);
  if (!existsSync(out)) {
    await run('node', [join(repoRoot, 'scripts/compile_circuit.mjs'), join(repoRoot, 'circuits', name), out]);
  }
  return out;
}

const noirs = new Map();
export async function loadCircuit(name) {
  if (!noirs.has(name)) {
    const path = await artifactPath(name);
    noirs.set(name, { path, noir: new Noir(JSON.parse(readFileSync(path, 'utf8'))) });
  }
  return noirs.get(name);
}

// ---------------------------------------------------------------------------------------------
// bb
const bbEnv = { ...process.env, HARDWARE_CONCURRENCY: process.env.HARDWARE_CONCURRENCY ?? '1' };

export async function gates(artifact) {
  const { stdout } = await run(BB, ['gates', '-b', artifact], { env: bbEnv });
  return JSON.parse(stdout).functions[0].circuit_size;
}

export function tempDir(prefix = 'bucketpay-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// Proves with `-t evm --write_vk`; returns the output directory (proof, public_inputs, vk).
export async function prove(artifact, witnessGz, dir = tempDir()) {
  const wit = join(dir, 'witness.gz');
  writeFileSync(wit, witnessGz);
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  await run(BB, ['prove', '-c', CRS, '-b', artifact, '-w', wit, '-o', out, '-t', 'evm', '--write_vk'], { env: bbEnv });
  return out;
}

// true iff `bb verify -t evm` accepts; publicInputs overrides the file written by prove.
export async function verify(out, publicInputs = join(out, 'public_inputs')) {
  try {
    await run(BB, ['verify', '-c', CRS, '-k', join(out, 'vk'), '-p', join(out, 'proof'), '-i', publicInputs, '-t', 'evm'], { env: bbEnv });
    return true;
  } catch {
    return false;
  }
}

// The public inputs file as 32-byte big-endian fields.
export function readPublicInputs(out) {
  const buf = readFileSync(join(out, 'public_inputs'));
  const fields = [];
  for (let i = 0; i < buf.length; i += 32) fields.push(BigInt('0x' + buf.subarray(i, i + 32).toString('hex')));
  return fields;
}

export function writePublicInputs(path, fields) {
  writeFileSync(path, Buffer.concat(fields.map((f) => Buffer.from(hex(f).slice(2), 'hex'))));
}

// Executes and proves; returns the prove output directory and whether it verifies.
export async function executeProveVerify(name, inputs) {
  const { path, noir } = await loadCircuit(name);
  const { witness } = await noir.execute(inputs);
  const out = await prove(path, witness);
  return { out, ok: await verify(out) };
}

export function removeDir(out) {
  rmSync(dirname(out), { recursive: true, force: true });
}

// Asserts that `inputs` yield no valid proof: execution throws, or (should it ever not) the proof
// does not verify. Returns the error message of the failed execution.
export async function assertNoProof(assert, name, inputs) {
  const { path, noir } = await loadCircuit(name);
  let witness;
  try {
    ({ witness } = await noir.execute(inputs));
  } catch (err) {
    return String(err?.message ?? err);
  }
  let out;
  try {
    out = await prove(path, witness);
  } catch {
    return 'bb prove failed';
  }
  const ok = await verify(out);
  removeDir(out);
  assert.equal(ok, false, 'invalid inputs produced a proof that verifies');
  return 'proof rejected';
}

