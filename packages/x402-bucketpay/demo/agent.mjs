// `make demo-x402`: an agent pays 20 calls of an HTTP API at $0.05 each, privately. A stock
// @x402/express API and a stock @x402/fetch agent with only bucketpay-exact registered, over the
// whole stack on 127.0.0.1 (harness/stack.mjs: anvil, the real Pool, a wallet with real spend
// proofs, the facilitator, the wallet service). Prints each call and what everyone learned.
//
// Environment: BUCKETPAY_BIN_DIR (the build's bin/), BUCKETPAY_CRS, BUCKETPAY_ROOT; CALLS (20).
import express from "express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { BucketpayExactClient, BucketpayExactServer } from "../src/index.mjs";
import { Stack } from "../harness/stack.mjs";

const NETWORK = "eip155:31337";
const MERCHANT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"; // anvil account 1
const CALLS = Number(process.env.CALLS ?? 20);
const binDir = process.env.BUCKETPAY_BIN_DIR;
const root = process.env.BUCKETPAY_ROOT ?? new URL("../../..", import.meta.url).pathname;
if (!binDir) {
  console.error("demo-x402: set BUCKETPAY_BIN_DIR to the build's bin/ (make demo-x402 does)");
  process.exit(2);
}

const say = (line) => console.log(`demo-x402: ${line}`);
// Notes of 2 and 4 cents make $0.05 + a 1-cent fee: 20 calls need 20 of each.
const stack = new Stack({ binDir, root, policy: `1=5,2=${CALLS + 5},4=${CALLS + 5}`, deposit: ((5 + 6 * (CALLS + 5)) / 100).toFixed(2), log: say });
let server;
try {
  await stack.start();
  const glue = new BucketpayExactServer({ asset: stack.token, decimals: stack.decimals, unit: stack.unit, facilitatorUrl: stack.facilitatorUrl });
  // The stock facilitator client, timed: where a paid request's time goes.
  const timing = { verify: [], settle: [], wallet: [] };
  class TimedFacilitatorClient extends HTTPFacilitatorClient {
    async verify(...a) {
      const t0 = performance.now();
      try {
        return await super.verify(...a);
      } finally {
        timing.verify.push(performance.now() - t0);
      }
    }
    async settle(...a) {
      const t0 = performance.now();
      try {
        return await super.settle(...a);
      } finally {
        timing.settle.push(performance.now() - t0);
      }
    }
  }
  const rs = new x402ResourceServer(new TimedFacilitatorClient({ url: stack.facilitatorUrl })).register(NETWORK, glue);
  const app = express();
  let served = 0;
  app.use(paymentMiddleware({ "GET /v1/answer": { accepts: { scheme: "bucketpay-exact", network: NETWORK, payTo: MERCHANT, price: "$0.05", maxTimeoutSeconds: 120 }, description: "one answer" } }, rs));
  app.get("/v1/answer", (req, res) => res.json({ answer: ++served }));
  await new Promise((r) => (server = app.listen(0, "127.0.0.1", r)));
  const api = `http://127.0.0.1:${server.address().port}/v1/answer`;

  const timedFetch = async (input, init) => {
    const t0 = performance.now();
    try {
      return await fetch(input, init);
    } finally {
      timing.wallet.push(performance.now() - t0);
    }
  };
  const agent = new BucketpayExactClient({ walletUrl: stack.walletUrl, token: stack.walletToken, fetch: timedFetch });
  const client = new x402Client().register(NETWORK, agent);
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: stack.token, maxAmountPerPayment: (10n * stack.unit).toString() }] });
  let header = 0;
  const fetchWithPayment = wrapFetchWithPayment(async (input, init) => {
    const req = new Request(input, init);
    const sig = req.headers.get("payment-signature");
    if (sig) header = sig.length;
    return fetch(req);
  }, client);

  const before = await stack.balanceOf(MERCHANT);
  const latencies = [];
  const gas = [];
  let fees = 0n;
  say(`the agent calls ${api} ${CALLS} times at $0.05`);
  for (let i = 1; i <= CALLS; i++) {
    const t0 = performance.now();
    const r = await fetchWithPayment(api);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`call ${i}: ${r.status} ${await r.text()}`);
    const body = await r.json();
    const settle = decodePaymentResponseHeader(r.headers.get("payment-response"));
    const receipt = await stack.rpc("eth_getTransactionReceipt", [settle.transaction]);
    latencies.push(ms);
    gas.push(Number(BigInt(receipt.gasUsed)));
    fees += BigInt(agent.lastPayment.fee);
    say(`call ${String(i).padStart(2)}: 200 answer ${body.answer}, ${ms.toFixed(0)} ms, notes [${agent.lastPayment.notes.join(", ")}] cents, tx ${settle.transaction.slice(0, 10)}.., payer in PAYMENT-RESPONSE: ${settle.payer ?? "none"}`);
  }
  const received = (await stack.balanceOf(MERCHANT)) - before;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const cents = (v) => `$${(Number(v / stack.unit) / 100).toFixed(2)}`;
  say(`merchant received ${cents(received)} (${CALLS} x $0.05 = $${(CALLS * 0.05).toFixed(2)}); the agent paid ${cents(fees)} in relayer fees`);
  say(`paid-request latency on the agent: p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms (first ${latencies[0].toFixed(0)} ms: opens the wallet)`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(0);
  say(`of which (medians): the wallet's /v1/x402/pay ${median(timing.wallet)} ms (sync, plan, sign, stage), /verify ${median(timing.verify)} ms (checks + eth_call), /settle ${median(timing.settle)} ms (checks, eth_call, gas estimate, send, receipt)`);
  say(`PAYMENT-SIGNATURE ${header} bytes; gas per payment ${Math.min(...gas)}..${Math.max(...gas)} (sent by the facilitator, paid from the fee)`);
  say("the merchant learned: the amount, its payTo, a payment digest and a transaction; no payer address");
  say("the chain shows: spendBatch from the relayer's account paying the merchant; nullifiers, one-time auth keys, no payer");
} finally {
  server?.close();
  await stack.stop();
}
