#!/usr/bin/env node
// The privacy check of protocol v2 (issue 13, "Privacy, checked"), over a chain as any observer
// sees it: raw JSON-RPC (eth_getBlockByNumber with transactions, eth_getLogs), nothing of
// bucketpay's C++ code. It checks that
//   1. no payment or split transaction (a call of the Pool's spendBatch or split, found by its
//      selector) was sent from an account of the paying wallet;
//   2. no transaction's calldata and no event (topics and data) of the whole chain carries one of
//      the wallet's secrets: its owner key pk, its spending key sk, the blinding factor r of any of
//      its notes (hidden owners: deposits publish H(pk, r), never pk or r);
//   3. the auth address of every spend and split (read from the calldata of the calls that did not
//      revert) is used once.
//
// The wallet's accounts and secrets come as JSON on standard input (never as arguments, which
// other users of the machine can read):
//   {"accounts": ["0x..."], "secrets": {"pk": "0x...", "sk": "0x...", "r of note 3": "0x...", ...}}
// What it prints names a secret by its label only, never its value.
//
// Usage: node scripts/privacy_check.mjs --rpc URL --pool ADDRESS [--min-payments N] [--min-splits N] < secrets.json
// Exit status: 0 when every check passes (and at least the minimum numbers of payments and splits
// were seen, so that it did not pass on an empty chain), 1 when one fails, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sha3 from 'js-sha3';

const usage = (why) => {
  process.stderr.write(`privacy_check: ${why}\n`);
  process.exit(2);
};

let args;
try {
  args = parseArgs({
    options: {
      rpc: { type: 'string' },
      pool: { type: 'string' },
      'min-payments': { type: 'string', default: '1' },
      'min-splits': { type: 'string', default: '0' },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
if (!args.rpc || !args.pool) usage('--rpc URL and --pool ADDRESS are required');
if (!/^0x[0-9a-fA-F]{40}$/.test(args.pool)) usage(`--pool ${args.pool} is not an address`);
const pool = args.pool.toLowerCase();
const minPayments = Number(args['min-payments']);
const minSplits = Number(args['min-splits']);

let input;
try {
  input = JSON.parse(readFileSync(0, 'utf8'));
} catch (e) {
  usage(`standard input is not the secrets' JSON: ${e.message}`);
}
const hex64 = /^0x[0-9a-fA-F]{1,64}$/;
const accounts = (input.accounts ?? []).map((a) => a.toLowerCase());
if (accounts.length === 0 || accounts.some((a) => !/^0x[0-9a-f]{40}$/.test(a))) usage('"accounts" must list addresses');
// Each secret as the 64 hex digits of its 32-byte big-endian word (how calldata and events carry it).
const secrets = Object.entries(input.secrets ?? {}).map(([label, value]) => {
  if (typeof value !== 'string' || !hex64.test(value)) usage(`secret "${label}" is not a 0x-hex field element`);
  return { label, word: value.slice(2).toLowerCase().padStart(64, '0') };
});
if (secrets.length === 0) usage('"secrets" is empty');

let id = 0;
async function rpc(method, params) {
  let body;
  try {
    const res = await fetch(args.rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    body = await res.json();
  } catch (e) {
    process.stderr.write(`privacy_check: ${method} at ${args.rpc}: ${e.cause?.message ?? e.message}\n`);
    process.exit(2);
  }
  if (body.error) {
    process.stderr.write(`privacy_check: ${method}: ${body.error.message}\n`);
    process.exit(2);
  }
  return body.result;
}

const selector = (signature) => sha3.keccak256(signature).slice(0, 8);
const PAYMENT = '(uint256[],address,uint256,address,uint256)';
const SPEND_BATCH = selector(`spendBatch(bytes[],(uint256,uint256,uint256,address)[],${PAYMENT},bytes[])`);
const SPLIT = selector(`split((bytes,uint256,uint256,uint256,address,uint256[8]),${PAYMENT},bytes)`);

// Word i (32 bytes) of ABI-encoded arguments `args` (hex, no selector), as a BigInt.
const word = (args, i) => BigInt('0x' + args.slice(i * 64, i * 64 + 64));
const address = (w) => '0x' + w.toString(16).padStart(40, '0');
// The auth addresses a call carries. spendBatch(proofs, spends, payment, signatures): spends is a
// dynamic array of static 4-word tuples (root, nullifier, value, auth) at the offset in head word 1.
// split(s, payment, signature): s is a dynamic tuple at the offset in head word 0, whose word 4 is auth.
function authsOf(kind, data) {
  const a = data.slice(8);
  if (kind === 'spendBatch') {
    const at = Number(word(a, 1)) / 32;
    const n = Number(word(a, at));
    return Array.from({ length: n }, (_, i) => address(word(a, at + 1 + i * 4 + 3)));
  }
  return [address(word(a, Number(word(a, 0)) / 32 + 4))];
}

const failures = [];
const leak = (where, hexData) => {
  for (const s of secrets) if (hexData.includes(s.word)) failures.push(`${s.label} appears in ${where}`);
};

const latest = Number(await rpc('eth_blockNumber', []));
const calls = { spendBatch: 0, split: 0 };
const authSeen = new Map(); // auth -> transaction
let transactions = 0;
let reverted = 0;
for (let b = 0; b <= latest; ++b) {
  const block = await rpc('eth_getBlockByNumber', ['0x' + b.toString(16), true]);
  for (const tx of block.transactions) {
    ++transactions;
    const data = (tx.input ?? tx.data ?? '0x').slice(2).toLowerCase();
    leak(`the calldata of ${tx.hash}`, data);
    if (!tx.to || tx.to.toLowerCase() !== pool) continue;
    const kind = data.startsWith(SPEND_BATCH) ? 'spendBatch' : data.startsWith(SPLIT) ? 'split' : null;
    if (!kind) continue;
    ++calls[kind];
    if (accounts.includes(tx.from.toLowerCase())) failures.push(`${kind} ${tx.hash} was sent from the wallet's account ${tx.from}`);
    // A reverted call changed nothing: a copy of a bundle that another copy paid first (a replay)
    // repeats that payment's auth addresses and is not a second use of them.
    const receipt = await rpc('eth_getTransactionReceipt', [tx.hash]);
    if (receipt.status !== '0x1') {
      ++reverted;
      continue;
    }
    for (const auth of authsOf(kind, data)) {
      if (accounts.includes(auth)) failures.push(`${kind} ${tx.hash} names the wallet's account ${auth} as auth`);
      if (authSeen.has(auth)) failures.push(`auth ${auth} of ${tx.hash} was used before, by ${authSeen.get(auth)}`);
      else authSeen.set(auth, tx.hash);
    }
  }
}
const logs = await rpc('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x' + latest.toString(16) }]);
for (const log of logs) {
  leak(`an event of ${log.address} in ${log.transactionHash}`, [...log.topics, log.data].join('').toLowerCase());
}
if (calls.spendBatch + calls.split < minPayments) {
  failures.push(`only ${calls.spendBatch + calls.split} payment and split transactions on the chain, fewer than ${minPayments}`);
}
if (calls.split < minSplits) failures.push(`only ${calls.split} split transactions on the chain, fewer than ${minSplits}`);

const summary =
  `${calls.spendBatch} spendBatch and ${calls.split} split transactions (${reverted} reverted) in blocks ` +
  `0-${latest} (${transactions} transactions, ${logs.length} events scanned)`;
if (failures.length > 0) {
  process.stdout.write(`privacy: FAILED over ${summary}:\n`);
  for (const f of failures) process.stdout.write(`  - ${f}\n`);
  process.exit(1);
}
process.stdout.write(
  `privacy: passed over ${summary}: none sent from the wallet's account${accounts.length > 1 ? 's' : ''} ` +
    `${accounts.join(', ')}; none of its ${secrets.length} secrets (pk, sk, the r of every note) in any calldata ` +
    `or event; ${authSeen.size} auth addresses, none used twice\n`,
);
