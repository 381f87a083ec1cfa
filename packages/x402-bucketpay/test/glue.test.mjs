// The glue alone (no chain, no facilitator): price parsing, requirement enrichment, facilitator
// checks, and the client's call to the wallet service (a node:http server in this test plays the
// wallet's answers; the real wallet is in test/e2e.test.mjs).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { x402Client } from "@x402/core/client";
import { BucketpayExactClient, BucketpayExactServer, SCHEME } from "../src/index.mjs";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const UNIT = 10n ** 16n; // 18 decimals, cents
const server = () => new BucketpayExactServer({ asset: TOKEN, decimals: 18, unit: UNIT });

test("parsePrice turns dollars into whole cents of the Pool's token", async () => {
  const s = server();
  assert.deepEqual(await s.parsePrice("$0.05", "eip155:31337"), { amount: (5n * UNIT).toString(), asset: TOKEN, extra: {} });
  assert.equal((await s.parsePrice("1.20", "eip155:31337")).amount, (120n * UNIT).toString());
  assert.equal((await s.parsePrice(3, "eip155:31337")).amount, (300n * UNIT).toString());
  await assert.rejects(s.parsePrice("$0.001", "eip155:31337"), /whole number of cents/);
  await assert.rejects(s.parsePrice("$0", "eip155:31337"), /positive/);
  await assert.rejects(s.parsePrice("five", "eip155:31337"), /not a dollar amount/);
  const other = "0x0000000000000000000000000000000000000001";
  await assert.rejects(s.parsePrice({ amount: "100", asset: other }, "eip155:31337"), /only the Pool's token/);
  assert.equal((await s.parsePrice({ amount: (7n * UNIT).toString(), asset: TOKEN.toLowerCase() }, "n:1")).asset, TOKEN);
});

test("enhancePaymentRequirements copies the facilitator's static terms, nothing per request", async () => {
  const s = server();
  const kind = {
    x402Version: 2,
    scheme: SCHEME,
    network: "eip155:31337",
    extra: { pool: "0xPool", asset: TOKEN, unit: UNIT.toString(), feeRecipient: "0xFee", relayUrl: "http://127.0.0.1:1/x402" },
  };
  const base = { scheme: SCHEME, network: "eip155:31337", asset: TOKEN, amount: "5", payTo: "0xA", maxTimeoutSeconds: 120, extra: { mine: 1 } };
  const a = await s.enhancePaymentRequirements(base, kind, []);
  const b = await s.enhancePaymentRequirements(base, kind, []);
  assert.deepEqual(a, b);
  assert.deepEqual(a.extra, { mine: 1, pool: "0xPool", unit: UNIT.toString(), feeRecipient: "0xFee", relayUrl: "http://127.0.0.1:1/x402" });
  assert.equal(s.validateFacilitatorSupport("eip155:31337", kind), undefined);
  assert.match(s.validateFacilitatorSupport("eip155:31337", { ...kind, extra: { ...kind.extra, unit: "1" } }), /UNIT/);
  assert.match(s.validateFacilitatorSupport("eip155:31337", { ...kind, extra: { ...kind.extra, asset: "0x01" } }), /token/);
  assert.match(s.validateFacilitatorSupport("eip155:31337", { ...kind, extra: { asset: TOKEN } }), /no pool/);
  assert.deepEqual(s.paymentFlows.default.supported, ["authorization", "upfront"]);
  assert.equal(s.paymentFlows.default.default, "authorization");
});

// A wallet service answering POST /v1/x402/pay with `answer` (status, body); the requests it saw.
async function fakeWallet(answer) {
  const seen = [];
  const srv = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, seen, close: () => new Promise((r) => srv.close(r)) };
}

const REQ = { scheme: SCHEME, network: "eip155:31337", asset: TOKEN, amount: (5n * UNIT).toString(), payTo: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", maxTimeoutSeconds: 120, extra: {} };

test("createPaymentPayload asks the wallet and carries only the digest, the bundle hash and the release", async () => {
  const digest = "0x" + "ab".repeat(32);
  const hash = "0x" + "cd".repeat(32);
  const release = "0x" + "ef".repeat(65);
  const w = await fakeWallet({
    status: 201,
    body: { payment_digest: digest, bundle_hash: hash, release_signature: release, fee: "10000000000000000", notes: [4, 2] },
  });
  try {
    const c = new BucketpayExactClient({ walletUrl: w.url + "/", token: "tok" });
    const p = await c.createPaymentPayload(2, REQ, { maxAmountPerPayment: "999" });
    assert.deepEqual(p, { x402Version: 2, payload: { paymentDigest: digest, bundleHash: hash, releaseSignature: release } });
    assert.deepEqual(w.seen, [{ method: "POST", url: "/v1/x402/pay", auth: "Bearer tok", body: { requirements: REQ, max_amount: "999" } }]);
    assert.deepEqual(c.lastPayment.notes, [4, 2]);
  } finally {
    await w.close();
  }
});

test("a wallet refusal becomes an error carrying the wallet's reason", async () => {
  const w = await fakeWallet({ status: 409, body: { error: "no ready notes make $0.05 and the fee exactly" } });
  try {
    const c = new BucketpayExactClient({ walletUrl: w.url, token: "tok" });
    await assert.rejects(c.createPaymentPayload(2, REQ), /refused to pay \(409\): no ready notes make \$0.05/);
  } finally {
    await w.close();
  }
  const bad = await fakeWallet({ status: 201, body: { payment_digest: "0x12" } });
  try {
    await assert.rejects(new BucketpayExactClient({ walletUrl: bad.url, token: "t" }).createPaymentPayload(2, REQ), /digest/);
  } finally {
    await bad.close();
  }
  assert.throws(() => new BucketpayExactClient({ walletUrl: "ftp://x", token: "t" }), /walletUrl/);
  assert.throws(() => new BucketpayExactClient({ walletUrl: "http://x" }), /token/);
});

test("a stock x402Client wraps the payload with the accepted requirements", async () => {
  const digest = "0x" + "11".repeat(32);
  const w = await fakeWallet({ status: 201, body: { payment_digest: digest, bundle_hash: "0x" + "22".repeat(32) } });
  try {
    const client = new x402Client().register("eip155:31337", new BucketpayExactClient({ walletUrl: w.url, token: "t" }));
    client.setSpendControls?.({ allowedAssets: [{ network: "eip155:31337", asset: TOKEN }] });
    const payload = await client.createPaymentPayload({ x402Version: 2, resource: { url: "http://127.0.0.1/r" }, accepts: [REQ] });
    assert.equal(payload.x402Version, 2);
    assert.deepEqual(payload.accepted, REQ);
    assert.equal(payload.payload.paymentDigest, digest);
    assert.ok(Buffer.from(JSON.stringify(payload)).toString("base64").length < 8192);
  } finally {
    await w.close();
  }
});

test("a canceled payment is released with the payer's signature from the payload, or not at all", async () => {
  const calls = [];
  const fetchSpy = async (url, init) => {
    calls.push({ url, body: JSON.parse(init.body) });
    return new Response("{}", { status: 200 });
  };
  const s = new BucketpayExactServer({ asset: TOKEN, decimals: 18, unit: UNIT, facilitatorUrl: "http://127.0.0.1:1/x402/", fetch: fetchSpy });
  const payload = { paymentDigest: "0x" + "11".repeat(32), bundleHash: "0x" + "22".repeat(32), releaseSignature: "0x" + "33".repeat(65) };
  await s.schemeHooks.onVerifiedPaymentCanceled({ paymentPayload: { payload } });
  assert.deepEqual(calls, [
    { url: "http://127.0.0.1:1/x402/release", body: { paymentDigest: payload.paymentDigest, bundleHash: payload.bundleHash, signature: payload.releaseSignature } },
  ]);
  // Without the payer's signature there is nothing to ask for.
  await s.schemeHooks.onVerifiedPaymentCanceled({ paymentPayload: { payload: { paymentDigest: payload.paymentDigest, bundleHash: payload.bundleHash } } });
  assert.equal(calls.length, 1);
});
