// scripts/witness_server.mjs: framing, ordering, error responses, ping, clean exit on EOF, and a
// returned witness that (gzipped again) proves with bb.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  artifactPath, hex, loadCircuit, noteInTree, pathInputs, prove, readPublicInputs, removeDir, repoRoot, verify,
} from './helpers.mjs';

const frame = (obj) => {
  const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
};

// Splits a byte stream into frame bodies; throws on trailing bytes (stdout must hold only frames).
function parseFrames(buf) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    assert.ok(at + 4 <= buf.length, 'truncated frame header on stdout');
    const len = buf.readUInt32LE(at);
    assert.ok(at + 4 + len <= buf.length, 'truncated frame body on stdout');
    out.push(JSON.parse(buf.subarray(at + 4, at + 4 + len).toString('utf8')));
    at += 4 + len;
  }
  return out;
}

// Runs the server over the given stdin chunks (written with small pauses, so frames also arrive
// split across reads); resolves with the exit code, the parsed responses and stderr.
function runServer(args, chunks) {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [join(repoRoot, 'scripts/witness_server.mjs'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout = [];
    let stderr = '';
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, responses: parseFrames(Buffer.concat(stdout)), stderr });
      } catch (err) {
        reject(err);
      }
    });
    (async () => {
      for (const c of chunks) {
        child.stdin.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.stdin.end();
    })();
  });
}

let spendPath;
let splitPath;
let note;
let validInputs;
before(async () => {
  spendPath = await artifactPath('spend');
  splitPath = await artifactPath('split');
  await loadCircuit('spend');
  note = noteInTree(1n << 8n);
  validInputs = {
    root: hex(note.root), nullifier: hex(note.nf), value: hex(note.value), auth: hex(0xabcn),
    sk: hex(note.sk), r: hex(note.r), ...pathInputs(note.siblings, note.positions),
  };
});

let proved;
after(() => proved && removeDir(proved));

test('answers in order: ping, valid, invalid, unknown circuit, malformed; exits 0 on EOF', async () => {
  const valid = frame({ id: 2, circuit: 'spend', inputs: validInputs });
  const chunks = [
    frame({ id: 1, circuit: '__ping' }),
    valid.subarray(0, 3), valid.subarray(3, 1000), valid.subarray(1000), // one frame over three reads
    Buffer.concat([
      frame({ id: 3, circuit: 'spend', inputs: { ...validInputs, nullifier: hex(note.nf + 1n) } }),
      frame({ id: 4, circuit: 'nope', inputs: validInputs }),
    ]), // two frames in one read
    frame('{"id": 5, "circuit": '),
    frame({ circuit: 'spend', inputs: validInputs }),
    frame({ id: 7, circuit: 'spend', inputs: { root: '0x1' } }),
    frame({ id: 8, circuit: 'spend' }),
    frame({ id: 9, circuit: 'spend', inputs: validInputs }),
  ];
  const { code, responses, stderr } = await runServer([`spend=${spendPath}`, `split=${splitPath}`], chunks);
  assert.equal(code, 0, stderr);
  assert.deepEqual(responses.map((r) => [r.id, r.ok]), [
    [1, true], [2, true], [3, false], [4, false], [null, false], [null, false], [7, false], [8, false], [9, true],
  ]);
  assert.deepEqual(Object.keys(responses[0]).sort(), ['id', 'ok']);
  assert.match(responses[2].error, /wrong nullifier/);
  assert.match(responses[3].error, /unknown circuit/);
  assert.match(responses[4].error, /malformed/);
  assert.equal(responses[1].return_value, null);
  // Witness generation is deterministic: the same inputs give the same witness.
  assert.equal(responses[8].witness, responses[1].witness);

  // The witness is gunzipped; gzipped again it proves, and the proof verifies.
  const witness = Buffer.from(responses[1].witness, 'base64');
  assert.notEqual(witness.readUInt16BE(0), 0x1f8b, 'witness must not be gzipped');
  proved = await prove(spendPath, gzipSync(witness));
  assert.equal(await verify(proved), true);
  assert.deepEqual(readPublicInputs(proved), [note.root, note.nf, note.value, 0xabcn]);
});

test('no input at all: exits 0 with nothing on stdout', async () => {
  const { code, responses } = await runServer([`spend=${spendPath}`], []);
  assert.equal(code, 0);
  assert.equal(responses.length, 0);
});

test('EOF inside a frame: exits non-zero, earlier requests answered', async () => {
  const { code, responses } = await runServer([`spend=${spendPath}`], [frame({ id: 1, circuit: '__ping' }), frame({ id: 2, circuit: '__ping' }).subarray(0, 6)]);
  assert.notEqual(code, 0);
  assert.deepEqual(responses, [{ id: 1, ok: true }]);
});

test('bad arguments: exits 2 without reading stdin', async () => {
  for (const args of [[], ['spend'], ['spend=/nonexistent.json'], [`__ping=${spendPath}`]]) {
    const { code, responses } = await runServer(args, []);
    assert.equal(code, 2, `args ${args}`);
    assert.equal(responses.length, 0);
  }
});
