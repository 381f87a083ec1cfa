// bucketpay-exact beside x402's own `exact` EVM scheme (@x402/evm, EIP-3009) on the same anvil, both
// with a stock @x402/express server and a stock @x402/fetch client: paid-request latency p50/p99 on
// the client, PAYMENT-SIGNATURE bytes, gas per payment, and what the server and the chain learn about
// the payer. `exact` runs with @x402/core's own x402Facilitator behind express (its reference
// setup) and an ERC-3009 token (OpenZeppelin 5.7.0's draft ERC3009, compiled here with solcjs).
//
// Environment: BUCKETPAY_BIN_DIR, BUCKETPAY_CRS, BUCKETPAY_ROOT; N (paid requests each, 20).
// Usage: node bench/compare.mjs   (from packages/x402-bucketpay; make bench-x402)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import express from "express";
import solc from "solc";
import { createPublicClient, createWalletClient, defineChain, http, publicActions } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { toClientEvmSigner, toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme as ExactClient } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactFacilitator } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactServer } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { BucketpayExactClient, BucketpayExactServer } from "../src/index.mjs";
import { Stack } from "../harness/stack.mjs";

const NETWORK = "eip155:31337";
const N = Number(process.env.N ?? 20);
const MNEMONIC = "test test test test test test test test test test test junk"; // anvil's public dev accounts
const account = (i) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
const MERCHANT = account(1).address;
const binDir = process.env.BUCKETPAY_BIN_DIR;
const root = process.env.BUCKETPAY_ROOT ?? new URL("../../..", import.meta.url).pathname;
if (!binDir) {
  console.error("bench-x402: set BUCKETPAY_BIN_DIR to the build's bin/");
  process.exit(2);
}
const say = (line) => console.log(`bench-x402: ${line}`);

// N paid requests of `url` through `payingFetch`; latencies, gas, header bytes, the PAYMENT-RESPONSEs.
async function run(name, url, client, rpc) {
  let header = 0;
  const pay = wrapFetchWithPayment(async (input, init) => {
    const req = new Request(input, init);
    const sig = req.headers.get("payment-signature");
    if (sig) header = sig.length;
    return fetch(req);
  }, client);
  const ms = [];
  const gas = [];
  let settle;
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = await pay(url);
    ms.push(performance.now() - t0);
    assert.equal(r.status, 200, `${name} call ${i}: ${r.status}`);
    settle = decodePaymentResponseHeader(r.headers.get("payment-response"));
    assert.equal(settle.success, true);
    gas.push(Number(BigInt((await rpc("eth_getTransactionReceipt", [settle.transaction])).gasUsed)));
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(N - 1, Math.ceil((p / 100) * N) - 1)];
  return { name, p50: pct(50), p99: pct(99), header, gasMin: Math.min(...gas), gasMax: Math.max(...gas), payer: settle.payer };
}

function compileToken() {
  const require = createRequire(import.meta.url);
  const source = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
contract BenchUSD is ERC3009 {
    constructor(uint256 supply) ERC20("Bench USD", "BUSD") EIP712("Bench USD", "1") { _mint(msg.sender, supply); }
    function decimals() public pure override returns (uint8) { return 6; }
    function version() external pure returns (string memory) { return "1"; }
}`;
  const input = {
    language: "Solidity",
    sources: { "BenchUSD.sol": { content: source } },
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const imports = (p) => {
    try {
      return { contents: readFileSync(require.resolve(p), "utf8") };
    } catch (e) {
      return { error: String(e) };
    }
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: imports }));
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["BenchUSD.sol"].BenchUSD;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

const stack = new Stack({ binDir, root, policy: `1=5,2=${N + 5},4=${N + 5}`, deposit: ((5 + 6 * (N + 5)) / 100).toFixed(2), log: say });
const servers = [];
const listen = (app) => new Promise((ok) => { const s = app.listen(0, "127.0.0.1", () => ok(s)); servers.push(s); });
try {
  await stack.start();
  const rpc = (m, p) => stack.rpc(m, p);
  const results = [];

  // ---- bucketpay-exact: the facilitator is `bucketpay relay serve --x402`
  {
    const glue = new BucketpayExactServer({ asset: stack.token, decimals: stack.decimals, unit: stack.unit, facilitatorUrl: stack.facilitatorUrl });
    const rs = new x402ResourceServer(new HTTPFacilitatorClient({ url: stack.facilitatorUrl })).register(NETWORK, glue);
    const app = express();
    app.use(paymentMiddleware({ "GET /r": { accepts: { scheme: "bucketpay-exact", network: NETWORK, payTo: MERCHANT, price: "$0.05", maxTimeoutSeconds: 120 } } }, rs));
    app.get("/r", (q, r) => r.json({ ok: true }));
    const s = await listen(app);
    const client = new x402Client().register(NETWORK, new BucketpayExactClient({ walletUrl: stack.walletUrl, token: stack.walletToken }));
    client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: stack.token }] });
    say(`bucketpay-exact: ${N} paid requests`);
    results.push(await run("bucketpay-exact", `http://127.0.0.1:${s.address().port}/r`, client, rpc));
  }

  // ---- exact (EIP-3009) on the same anvil: account 0 deploys and pays the facilitator's gas, 2 pays
  {
    const chain = defineChain({ id: 31337, name: "anvil", nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [stack.rpcUrl] } } });
    const pub = createPublicClient({ chain, transport: http(stack.rpcUrl) });
    const facAccount = account(0);
    const payer = account(2);
    const wallet = createWalletClient({ account: facAccount, chain, transport: http(stack.rpcUrl) }).extend(publicActions);
    const { abi, bytecode } = compileToken();
    const deployed = await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, args: [10n ** 12n] }) });
    const token = deployed.contractAddress;
    await wallet.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: token, abi, functionName: "transfer", args: [payer.address, 10n ** 9n] }) });
    const signer = toFacilitatorEvmSigner({
      address: facAccount.address,
      getCode: (a) => wallet.getCode(a),
      readContract: (a) => wallet.readContract({ ...a, args: a.args || [] }),
      verifyTypedData: (a) => wallet.verifyTypedData(a),
      writeContract: (a) => wallet.writeContract({ ...a, args: a.args || [] }),
      sendTransaction: (a) => wallet.sendTransaction(a),
      waitForTransactionReceipt: (a) => wallet.waitForTransactionReceipt(a),
    });
    const facilitator = new x402Facilitator().register(NETWORK, new ExactFacilitator(signer));
    const fapp = express().use(express.json());
    fapp.get("/supported", (q, r) => r.json(facilitator.getSupported()));
    fapp.post("/verify", async (q, r) => r.json(await facilitator.verify(q.body.paymentPayload, q.body.paymentRequirements)));
    fapp.post("/settle", async (q, r) => r.json(await facilitator.settle(q.body.paymentPayload, q.body.paymentRequirements)));
    const fs = await listen(fapp);
    const rs = new x402ResourceServer(new HTTPFacilitatorClient({ url: `http://127.0.0.1:${fs.address().port}` })).register(NETWORK, new ExactServer());
    const app = express();
    app.use(paymentMiddleware({ "GET /r": { accepts: { scheme: "exact", network: NETWORK, payTo: MERCHANT, maxTimeoutSeconds: 120, price: { amount: "50000", asset: token, extra: { name: "Bench USD", version: "1" } } } } }, rs));
    app.get("/r", (q, r) => r.json({ ok: true }));
    const s = await listen(app);
    const client = new x402Client().register(NETWORK, new ExactClient(toClientEvmSigner(payer, pub)));
    client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: token }] });
    say(`exact (EIP-3009): ${N} paid requests`);
    const r = await run("exact (EIP-3009)", `http://127.0.0.1:${s.address().port}/r`, client, rpc);
    assert.equal(r.payer.toLowerCase(), payer.address.toLowerCase());
    results.push(r);
  }

  say(`${N} paid requests of $0.05 each, sequential, one client, anvil automining, this machine's load`);
  say("scheme            | p50 ms | p99 ms | PAYMENT-SIGNATURE | gas per payment     | payer in PAYMENT-RESPONSE");
  for (const r of results) {
    say(`${r.name.padEnd(17)} | ${r.p50.toFixed(0).padStart(6)} | ${r.p99.toFixed(0).padStart(6)} | ${String(r.header).padStart(11)} bytes | ${`${r.gasMin}..${r.gasMax}`.padEnd(19)} | ${r.payer ?? "none"}`);
  }
  say("exact: the server, the facilitator and the chain see the payer's address (the token's Transfer from it)");
  say("bucketpay-exact: nobody but the wallet sees a payer; the chain shows the relayer paying the merchant from the Pool");
} finally {
  for (const s of servers) s.close();
  await stack.stop();
}
