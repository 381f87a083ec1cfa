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
  encodePaymentSignatureHeader,
} from "@x402/core/http";
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

test("an amount the inventory cannot make gets a clear error and no payment", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  await assert.rejects(ctx.pay(`${ctx.url}/big`), (e) => {
    const text = `${e.message} ${e.cause?.message ?? ""}`;
    assert.match(text, /bucketpay wallet refused to pay \(409\)/);
    return true;
  });
  assert.equal(await balanceOf(PAY_TO), before);
});

test("a handler that fails keeps no money (authorization flow: no settle)", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  const r = await ctx.pay(`${ctx.url}/fails`);
  assert.equal(r.status, 500);
  assert.equal(r.headers.get("payment-response"), null);
  assert.equal(await balanceOf(PAY_TO), before);
  // The bundle stays unsent; the header can buy nothing else at another route with another payTo.
  const header = ctx.sent.at(-1);
  const again = await fetch(`${ctx.url}/other`, { headers: { "PAYMENT-SIGNATURE": header } });
  assert.equal(again.status, 402);
  assert.equal(await balanceOf(PAY_TO), before);
});

test("the facilitator killed between verify and settle pays at most once", { skip }, async () => {
  const before = await balanceOf(PAY_TO);
  const r = await ctx.pay(`${ctx.url}/dies`);
  assert.notEqual(r.status, 200);
  assert.deepEqual(ctx.handled.slice(-1), ["dies"]);
  const header = ctx.sent.at(-1);
  await stack.startFacilitator(); // same store: the journal is what survives
  // The same header again after the restart: the stage was lost with the process, so nothing is sent.
  const retry = await fetch(`${ctx.url}/paid`, { headers: { "PAYMENT-SIGNATURE": header } });
  assert.equal(retry.status, 402);
  assert.equal(decodePaymentRequiredHeader(retry.headers.get("payment-required")).error, "invalid_bucketpay_bundle_not_staged");
  await new Promise((res) => setTimeout(res, 1000));
  const paid = (await balanceOf(PAY_TO)) - before;
  assert.ok(paid === 0n || paid === AMOUNT(), `payTo received ${paid}`);
  assert.equal(paid, 0n, "never settled: nothing was sent");
  // And a new payment after the restart goes through.
  const ok = await ctx.pay(`${ctx.url}/paid`);
  assert.equal(ok.status, 200);
  assert.equal(await balanceOf(PAY_TO), before + AMOUNT());
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
