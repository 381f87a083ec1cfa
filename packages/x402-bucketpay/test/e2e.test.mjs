// End to end on 127.0.0.1: anvil with the real Pool (bucketpay deploy), a bucketpay wallet with real
// spend proofs (deposit + inventory), the facilitator `bucketpay relay serve --x402`, the wallet
// service `bucketpay serve`, a stock @x402/express server and a stock @x402/fetch client with only
// the bucketpay-exact glue registered. Payment flow: authorization (verify, handler, settle).
//
// Environment: BUCKETPAY_BIN_DIR (the build's bin/: bucketpay, bucketpay-devnet),
// BUCKETPAY_CRS (for the prover), BUCKETPAY_ROOT (the repository: scripts/anvil.sh).
// Skipped only when BUCKETPAY_BIN_DIR is unset (`make test` sets it through CTest: x402.e2e).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import express from "express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  decodePaymentSignatureHeader,
  encodePaymentSignatureHeader,
} from "@x402/core/http";
import { concat, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { BucketpayExactClient, BucketpayExactServer } from "../src/index.mjs";
import { Stack } from "../harness/stack.mjs";

const binDir = process.env.BUCKETPAY_BIN_DIR;
const root = process.env.BUCKETPAY_ROOT ?? new URL("../../..", import.meta.url).pathname;
const skip = binDir ? false : "BUCKETPAY_BIN_DIR is not set";
const NETWORK = "eip155:31337";
const PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"; // anvil account 1
const OTHER_PAY_TO = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"; // anvil account 2

const stack = binDir ? new Stack({ binDir, root }) : undefined;
const LIMITED_PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"; // anvil account 3
const ctx = {};
const balanceOf = (a) => stack.balanceOf(a);
const rpc = (m, p) => stack.rpc(m, p);

before(async () => {
  if (skip) return;
  await stack.start();
  ctx.facilitatorUrl = stack.facilitatorUrl;
  ctx.unit = stack.unit;

  // The merchant: stock @x402/express, only bucketpay-exact registered.
  const glue = new BucketpayExactServer({ asset: stack.token, decimals: stack.decimals, unit: stack.unit, facilitatorUrl: stack.facilitatorUrl });
  const rs = new x402ResourceServer(new HTTPFacilitatorClient({ url: stack.facilitatorUrl })).register(NETWORK, glue);
  const accepts = (payTo) => ({ scheme: "bucketpay-exact", network: NETWORK, payTo, price: "$0.05", maxTimeoutSeconds: 120 });
  ctx.handled = [];
  const app = express();
  app.use(
    paymentMiddleware(
      {
        "GET /paid": { accepts: accepts(PAY_TO), description: "paid JSON" },
        "GET /other": { accepts: accepts(OTHER_PAY_TO), description: "another merchant's" },
        "GET /fails": { accepts: accepts(PAY_TO), description: "a handler that fails" },
        "GET /dies": { accepts: accepts(PAY_TO), description: "the facilitator dies before settle" },
        "GET /big": { accepts: { ...accepts(PAY_TO), price: "$9.00" }, description: "more than the wallet has" },
        "GET /limited": { accepts: { ...accepts(LIMITED_PAY_TO), price: "$0.20" }, description: "a payee near the limit" },
      },
      rs,
    ),
  );
  app.get("/paid", (req, res) => {
    ctx.handled.push("paid");
    res.json({ ok: true });
  });
  app.get("/other", (req, res) => res.json({ ok: "other" }));
  app.get("/fails", (req, res) => {
    ctx.handled.push("fails");
    res.status(500).json({ error: "the handler failed" });
  });
  app.get("/dies", (req, res) => {
    ctx.handled.push("dies");
    stack.facilitator.kill("SIGKILL");
    stack.facilitator.once("exit", () => res.json({ ok: "too late" }));
  });
  app.get("/big", (req, res) => res.json({ ok: "big" }));
  app.get("/limited", (req, res) => res.json({ ok: "limited" }));
  await new Promise((r) => {
    ctx.server = app.listen(0, "127.0.0.1", r);
  });
  ctx.url = `http://127.0.0.1:${ctx.server.address().port}`;

  // The agent: stock @x402/fetch, only bucketpay-exact registered.
  ctx.glueClient = new BucketpayExactClient({ walletUrl: stack.walletUrl, token: stack.walletToken });
  ctx.client = new x402Client().register(NETWORK, ctx.glueClient);
  ctx.client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: stack.token, maxAmountPerPayment: (1000n * stack.unit).toString() }] });
  ctx.sent = [];
  const recording = async (input, init) => {
    const req = new Request(input, init);
    ctx.sent.push(req.headers.get("payment-signature"));
    return fetch(req);
  };
  ctx.pay = wrapFetchWithPayment(recording, ctx.client);
});

after(async () => {
  if (skip) return;
  ctx.server?.close();
  await stack.stop();
});

const AMOUNT = () => 5n * ctx.unit;

test("a paid request gets 200 and PAYMENT-RESPONSE; payTo receives exactly the amount", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  const t0 = performance.now();
  const r = await ctx.pay(`${ctx.url}/paid`);
  const ms = performance.now() - t0;
  assert.equal(r.status, 200, await r.clone().text());
  assert.deepEqual(await r.json(), { ok: true });
  const settle = decodePaymentResponseHeader(r.headers.get("payment-response"));
  assert.equal(settle.success, true);
  assert.equal(settle.network, NETWORK);
  assert.match(settle.transaction, /^0x[0-9a-f]{64}$/);
  assert.equal(settle.payer, undefined, "nobody learns a payer");
  assert.equal(await balanceOf(PAY_TO), before + AMOUNT());
  const receipt = await rpc("eth_getTransactionReceipt", [settle.transaction]);
  assert.equal(receipt.status, "0x1");
  const header = ctx.sent.at(-1);
  assert.ok(header.length < 8192, `PAYMENT-SIGNATURE is ${header.length} bytes`);
  ctx.paidHeader = header;
  console.log(`# paid request ${ms.toFixed(0)} ms, PAYMENT-SIGNATURE ${header.length} bytes, gas ${BigInt(receipt.gasUsed)}, fee ${ctx.glueClient.lastPayment.fee}`);
});

test("the same payment header replayed is refused and pays nothing", { skip }, async () => {
  assert.ok(ctx.paidHeader);
  const before = await balanceOf(PAY_TO);
  const handled = ctx.handled.length;
  const r = await fetch(`${ctx.url}/paid`, { headers: { "PAYMENT-SIGNATURE": ctx.paidHeader } });
  assert.equal(r.status, 402);
  const pr = decodePaymentRequiredHeader(r.headers.get("payment-required"));
  assert.equal(pr.error, "invalid_bucketpay_payment_already_settled");
  assert.equal(ctx.handled.length, handled, "the handler did not run");
  assert.equal(await balanceOf(PAY_TO), before);
});

test("a payment for another payTo is refused (by the SDK, and by the facilitator)", { skip }, async () => {
  const unpaid = await fetch(`${ctx.url}/paid`);
  const required = decodePaymentRequiredHeader(unpaid.headers.get("payment-required"));
  const payload = await ctx.client.createPaymentPayload(required); // pays PAY_TO, staged
  const beforeOther = await balanceOf(OTHER_PAY_TO);
  const r = await fetch(`${ctx.url}/other`, { headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(payload) } });
  assert.equal(r.status, 402);
  assert.equal(decodePaymentRequiredHeader(r.headers.get("payment-required")).error, "No matching payment requirements");
  // A client that lies about what it accepted: the facilitator compares the bundle with payTo.
  const facilitator = new HTTPFacilitatorClient({ url: ctx.facilitatorUrl });
  const forged = { ...payload, accepted: { ...payload.accepted, payTo: OTHER_PAY_TO } };
  const v = await facilitator.verify(forged, forged.accepted); // zod-checked
  assert.equal(v.isValid, false);
  assert.equal(v.invalidReason, "invalid_bucketpay_recipient_mismatch");
  const s = await facilitator.settle(forged, forged.accepted);
  assert.equal(s.success, false);
  assert.equal(s.errorReason, "invalid_bucketpay_recipient_mismatch");
  assert.equal(s.transaction, "");
  assert.equal(await balanceOf(OTHER_PAY_TO), beforeOther);
  // The honest one still verifies (it was staged, nothing was sent).
  assert.equal((await facilitator.verify(payload, payload.accepted)).isValid, true);
  ctx.unsettled = payload;
});

// POST {facilitator}/release with `body`: [status, answer].
async function release(body) {
  const r = await fetch(`${ctx.facilitatorUrl}/release`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return [r.status, await r.json()];
}

test("/release needs the payer's signature: none or a stranger's is refused, the payer's releases", { skip }, async () => {
  const payload = ctx.unsettled;
  assert.ok(payload);
  const { paymentDigest, bundleHash, releaseSignature } = payload.payload;
  assert.match(releaseSignature, /^0x[0-9a-f]{130}$/, "the wallet signs a release into the payload");
  const facilitator = new HTTPFacilitatorClient({ url: ctx.facilitatorUrl });
  // Knowing the digest and the bundle hash is not enough.
  const [unsigned, unsignedAnswer] = await release({ paymentDigest, bundleHash });
  assert.equal(unsigned, 401);
  assert.match(unsignedAnswer.error, /payer's signature/);
  // The release message made independently (viem), signed by a key that is not the payer's.
  const message = keccak256(concat([toHex("bucketpay-x402-release"), paymentDigest, bundleHash]));
  const stranger = await privateKeyToAccount(generatePrivateKey()).sign({ hash: message });
  const [wrong] = await release({ paymentDigest, bundleHash, signature: stranger });
  assert.equal(wrong, 403);
  // The payer's signature for another bundle hash releases nothing there.
  const [elsewhere] = await release({ paymentDigest, bundleHash: "0x" + "00".repeat(32), signature: releaseSignature });
  assert.equal(elsewhere, 404);
  assert.equal((await facilitator.verify(payload, payload.accepted)).isValid, true, "still staged");
  // The payer's: released, and the header verifies no more.
  const [right, rightAnswer] = await release({ paymentDigest, bundleHash, signature: releaseSignature });
  assert.equal(right, 200);
  assert.deepEqual(rightAnswer, { released: true });
  const v = await facilitator.verify(payload, payload.accepted);
  assert.equal(v.isValid, false);
  assert.equal(v.invalidReason, "invalid_bucketpay_bundle_not_staged");
});

test("an amount the ready notes cannot make exactly is refused with a clear 409; nothing moves or stays reserved", { skip }, async () => {
  // Policy (docs/x402.md): the wallet pays x402 only from ready spend proofs; it does not prove an
  // on-demand split inside a request. A wallet of two 50-cent notes cannot make $0.05 + the fee.
  const token = stack.addWallet("sparse", { policy: "50=2", deposit: "1.00" });
  const client = new x402Client().register(NETWORK, new BucketpayExactClient({ walletUrl: stack.walletUrl, token }));
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: stack.token }] });
  const pay = wrapFetchWithPayment(fetch, client);
  const wallet = stack.walletBalance("sparse");
  assert.equal(wallet.on_chain_cents, 100);
  assert.equal(wallet.ready_cents, 100);
  const before = await balanceOf(PAY_TO);
  const handled = ctx.handled.length;
  await assert.rejects(pay(`${ctx.url}/paid`), (e) => {
    assert.match(
      `${e.message} ${e.cause?.message ?? ""}`,
      /bucketpay wallet refused to pay \(409\): no ready proofs make \$0\.05 and the relayer's fee/,
    );
    return true;
  });
  assert.equal(ctx.handled.length, handled, "the handler did not run");
  assert.equal(await balanceOf(PAY_TO), before);
  const after = stack.walletBalance("sparse");
  assert.equal(after.on_chain_cents, 100);
  assert.equal(after.ready_cents, 100);
  assert.equal(after.reserved_cents, 0, "no note stays reserved");
});

test("an amount above the wallet's balance gets a clear 409 and no payment", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  await assert.rejects(ctx.pay(`${ctx.url}/big`), (e) => {
    const text = `${e.message} ${e.cause?.message ?? ""}`;
    assert.match(text, /bucketpay wallet refused to pay \(409\)/);
    return true;
  });
  assert.equal(await balanceOf(PAY_TO), before);
});

test("a handler that fails keeps no money (authorization flow: no settle) and the server releases the stage", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  const r = await ctx.pay(`${ctx.url}/fails`);
  assert.equal(r.status, 500);
  assert.equal(r.headers.get("payment-response"), null);
  assert.equal(await balanceOf(PAY_TO), before);
  // The bundle stays unsent; the header can buy nothing else at another route with another payTo.
  const header = ctx.sent.at(-1);
  const again = await fetch(`${ctx.url}/other`, { headers: { "PAYMENT-SIGNATURE": header } });
  assert.equal(again.status, 402);
  // The server glue released the stage with the payer's signature from the payload (the SDK's
  // onVerifiedPaymentCanceled): the header verifies no more.
  const payload = decodePaymentSignatureHeader(header);
  const facilitator = new HTTPFacilitatorClient({ url: ctx.facilitatorUrl });
  let v;
  for (let i = 0; i < 50; i++) {
    v = await facilitator.verify(payload, payload.accepted);
    if (!v.isValid) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(v.invalidReason, "invalid_bucketpay_bundle_not_staged");
  assert.equal(await balanceOf(PAY_TO), before);
});

test("the facilitator killed (kill -9) between verify and settle settles after a restart, once", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  const r = await ctx.pay(`${ctx.url}/dies`);
  assert.notEqual(r.status, 200);
  assert.deepEqual(ctx.handled.slice(-1), ["dies"]);
  const header = ctx.sent.at(-1);
  assert.equal(await balanceOf(PAY_TO), before, "nothing was sent before the kill");
  await stack.startFacilitator(); // same store: the stage is in its journal
  // The same header again after the restart: still staged, verified, settled.
  const retry = await fetch(`${ctx.url}/paid`, { headers: { "PAYMENT-SIGNATURE": header } });
  assert.equal(retry.status, 200, await retry.clone().text());
  const settle = decodePaymentResponseHeader(retry.headers.get("payment-response"));
  assert.equal(settle.success, true);
  assert.equal(await balanceOf(PAY_TO), before + AMOUNT());
  // Once: the header again buys nothing, after another kill -9 and restart too.
  stack.facilitator.kill("SIGKILL");
  await new Promise((res) => stack.facilitator.once("exit", res));
  await stack.startFacilitator();
  const third = await fetch(`${ctx.url}/paid`, { headers: { "PAYMENT-SIGNATURE": header } });
  assert.equal(third.status, 402);
  assert.equal(decodePaymentRequiredHeader(third.headers.get("payment-required")).error, "invalid_bucketpay_payment_already_settled");
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(await balanceOf(PAY_TO), before + AMOUNT(), "paid exactly once");
  // And a new payment after the restart goes through.
  const ok = await ctx.pay(`${ctx.url}/paid`);
  assert.equal(ok.status, 200);
  assert.equal(await balanceOf(PAY_TO), before + 2n * AMOUNT());
});

test("the wallet's spending limit per payee refuses a payment that would pass it", { skip }, async () => {
  // At most $0.30 to one payee a day (set with the CLI; the service reads it when it opens the wallet).
  const walletUrl = await stack.setSpendLimits("payee=30");
  const client = new x402Client().register(NETWORK, new BucketpayExactClient({ walletUrl, token: stack.walletToken }));
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: stack.token }] });
  const pay = wrapFetchWithPayment(fetch, client);
  const before = await balanceOf(LIMITED_PAY_TO);
  const first = await pay(`${ctx.url}/limited`);
  assert.equal(first.status, 200);
  assert.equal(await balanceOf(LIMITED_PAY_TO), before + 20n * ctx.unit);
  await assert.rejects(pay(`${ctx.url}/limited`), (e) => {
    assert.match(`${e.message} ${e.cause?.message ?? ""}`, /refused to pay \(403\): spending limit: \$0\.20 paid to 0x90F79bf6EB2c4f870365E785982E1f101E93b906 in 86400 s; \$0\.10 left of its \$0\.30/);
    return true;
  });
  assert.equal(await balanceOf(LIMITED_PAY_TO), before + 20n * ctx.unit);
});
