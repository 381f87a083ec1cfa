#!/usr/bin/env node
// Persistent witness server: computes Noir witnesses with noir_js so the engine never starts a Node
// process per proof. Protocol: docs/witness-protocol.md.
// Usage: node scripts/witness_server.mjs NAME=ARTIFACT.json [NAME=ARTIFACT.json ...]
//
// stdin/stdout carry frames: a 4-byte little-endian body length, then the body (UTF-8 JSON).
// Requests are handled one at a time, in order. stdout carries nothing but response frames; every
// log line goes to stderr. A clean EOF on stdin (at a frame boundary) exits 0.
import { Noir } from '@noir-lang/noir_js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

// Refuse bodies above this size (the frame is skipped and answered with an error).
const MAX_BODY = 64 * 1024 * 1024;

// stdout belongs to the protocol: route any console output (ours or a library's) to stderr.
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);

function fail(message) {
  console.error(`witness_server: ${message}`);
  process.exit(2);
}

const circuits = new Map();
const args = process.argv.slice(2);
if (args.length === 0) fail('usage: witness_server.mjs NAME=ARTIFACT.json [NAME=ARTIFACT.json ...]');
for (const arg of args) {
  const eq = arg.indexOf('=');
  if (eq <= 0 || eq === arg.length - 1) fail(`bad argument '${arg}', expected NAME=ARTIFACT.json`);
  const name = arg.slice(0, eq);
  if (name.startsWith('__')) fail(`circuit name '${name}' is reserved`);
  try {
    const artifact = JSON.parse(readFileSync(arg.slice(eq + 1), 'utf8'));
    circuits.set(name, new Noir(artifact));
  } catch (err) {
    fail(`cannot load ${arg.slice(eq + 1)}: ${err?.message ?? err}`);
  }
}

// noir_js returns fields and integers as hex strings of varying width; make them canonical
// (0x-prefixed, 64 lowercase hex digits), the same as scripts/noir_execute.mjs.
function canonical(value) {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    return '0x' + BigInt(value).toString(16).padStart(64, '0');
  }
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

function writeFrame(obj) {
  const body = Buffer.from(JSON.stringify(obj), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  return new Promise((resolve) => {
    if (process.stdout.write(frame)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

async function handle(body) {
  let req;
  try {
    req = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { id: null, ok: false, error: `malformed request: ${err.message}` };
  }
  if (!req || typeof req !== 'object' || Array.isArray(req)) {
    return { id: null, ok: false, error: 'malformed request: not a JSON object' };
  }
  const id = Number.isInteger(req.id) ? req.id : null;
  if (id === null) return { id, ok: false, error: 'malformed request: "id" must be an integer' };
  if (req.circuit === '__ping') return { id, ok: true };
  const noir = circuits.get(req.circuit);
  if (!noir) return { id, ok: false, error: `unknown circuit '${req.circuit}'` };
  if (!req.inputs || typeof req.inputs !== 'object' || Array.isArray(req.inputs)) {
    return { id, ok: false, error: 'malformed request: "inputs" must be an object' };
  }
  try {
    const { witness, returnValue } = await noir.execute(req.inputs);
    return {
      id,
      ok: true,
      witness: gunzipSync(witness).toString('base64'),
      return_value: canonical(returnValue ?? null),
    };
  } catch (err) {
    return { id, ok: false, error: String(err?.message ?? err) };
  }
}

// Frame reader: accumulates stdin chunks, cuts complete frames, handles them strictly in order.
let chunks = [];
let buffered = 0;
let skip = 0; // bytes of an oversized body still to discard
let busy = false;
let ended = false;

function take(n) {
  const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const out = all.subarray(0, n);
  const rest = all.subarray(n);
  chunks = rest.length ? [rest] : [];
  buffered = rest.length;
  return out;
}

async function pump() {
  if (busy) return;
  busy = true;
  try {
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buffered);
        if (n > 0) take(n);
        skip -= n;
        if (skip > 0) break;
        continue;
      }
      if (buffered < 4) break;
      const len = take(4).readUInt32LE(0);
      if (len > MAX_BODY) {
        skip = len;
        await writeFrame({ id: null, ok: false, error: `frame of ${len} bytes exceeds ${MAX_BODY}` });
        continue;
      }
      if (buffered < len) {
        // Put the header back and wait for the rest of the body.
        const head = Buffer.allocUnsafe(4);
        head.writeUInt32LE(len, 0);
        chunks.unshift(head);
        buffered += 4;
        break;
      }
      await writeFrame(await handle(take(len)));
    }
  } finally {
    busy = false;
  }
  if (ended) finish();
}

function finish() {
  if (busy) return;
  if (buffered > 0 || skip > 0) {
    console.error(`witness_server: stdin ended inside a frame (${buffered} bytes pending)`);
    process.exitCode = 1;
  }
  // Let stdout drain, then leave (noir_js keeps no handles open, but do not rely on that).
  process.stdout.write('', () => process.exit());
}

process.stdin.on('data', (chunk) => {
  chunks.push(chunk);
  buffered += chunk.length;
  pump().catch((err) => fail(`internal error: ${err?.stack ?? err}`));
});
process.stdin.on('end', () => {
  ended = true;
  finish();
});
process.stdout.on('error', (err) => {
  // The engine closed its end: nobody is left to answer.
  console.error(`witness_server: stdout: ${err.message}`);
  process.exit(1);
});
console.error(`witness_server: ready (${[...circuits.keys()].join(', ')})`);
