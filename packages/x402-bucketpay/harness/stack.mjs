// A whole bucketpay-exact stack on 127.0.0.1 for the end-to-end test and the demo: anvil with the
// real Pool (`bucketpay deploy`), a wallet with real spend proofs (`init`, `deposit`, `inventory`),
// the facilitator (`bucketpay relay serve --x402`) and the wallet service (`bucketpay serve`), each a
// real process of the build's binaries. Everything it starts is stopped by stop().
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HTTPFacilitatorClient } from "@x402/core/server";

const DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"; // anvil's public key 0

export class Stack {
  /**
   * @param {{binDir: string, root: string, policy?: string, deposit?: string, log?: (line: string) => void}} o
   *   binDir: the build's bin/ (bucketpay, bucketpay-devnet); root: the repository (scripts/anvil.sh);
   *   policy and deposit: the wallet's inventory (bucketpay init --policy, bucketpay deposit).
   */
  constructor({ binDir, root, policy = "1=10,2=10,4=10,8=10", deposit = "1.50", log = () => {} }) {
    this.binDir = binDir;
    this.root = root;
    this.policy = policy;
    this.deposit = deposit;
    this.log = log;
    this.dir = mkdtempSync(join(tmpdir(), "bucketpay-x402-"));
    this.env = {
      ...process.env,
      BUCKETPAY_DB: join(this.dir, "wallet.db"),
      BUCKETPAY_PASSPHRASE: "x402 stack passphrase (test only)",
      BUCKETPAY_DEPLOYER_KEY: DEPLOYER_KEY,
    };
    this.children = [];
  }

  cli(bin, args) {
    return execFileSync(join(this.binDir, bin), args, { env: this.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  // Starts a long-running command; resolves with the child and the first stdout match of `ready`.
  spawn(bin, args, ready, name) {
    const child = spawn(join(this.binDir, bin), args, { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.children.push(child);
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    return new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`${name} did not start in 120 s: ${err}`)), 120_000);
      child.stdout.on("data", (d) => {
        out += d;
        const m = ready.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ child, match: m });
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}): ${err}`));
      });
    });
  }

  async start() {
    const contracts = join(this.dir, "contracts.json");
    this.contracts = contracts;
    this.rpcUrl = execFileSync(join(this.root, "scripts/anvil.sh"), ["start", join(this.dir, "chain")], { encoding: "utf8" }).trim();
    this.env.ETH_RPC_URL = this.rpcUrl;
    this.log(`anvil on ${this.rpcUrl}`);
    this.cli("bucketpay", ["deploy", "--test-token", "--out", contracts]);
    this.pool = JSON.parse(readFileSync(contracts, "utf8")).pool;
    const relay = JSON.parse(
      this.cli("bucketpay", ["relay", "init", "--db", join(this.dir, "relay.db"), "--rpc-url", this.rpcUrl, "--pool", this.pool, "--eth-price", "3", "--json"]),
    );
    this.cli("bucketpay-devnet", ["fund", "--rpc", this.rpcUrl, "--contracts", contracts, "--to", relay.account, "--eth", "1"]);
    await this.startFacilitator();
    this.cli("bucketpay", ["init", "--contracts", contracts, "--relayer", `http://127.0.0.1:${this.relayPort}`, "--policy", this.policy]);
    const account = JSON.parse(this.cli("bucketpay", ["key", "show", "--json"])).account;
    this.cli("bucketpay-devnet", ["fund", "--rpc", this.rpcUrl, "--contracts", contracts, "--to", account, "--eth", "1", "--tokens", "500"]);
    this.cli("bucketpay", ["deposit", this.deposit]);
    this.log(`wallet: deposited $${this.deposit} as notes of ${this.policy}; proving their spends`);
    this.cli("bucketpay", ["inventory"]);
    this.facilitatorUrl = `http://127.0.0.1:${this.relayPort}/x402`;
    const supported = await new HTTPFacilitatorClient({ url: this.facilitatorUrl }).getSupported(); // zod-checked
    this.kind = supported.kinds[0];
    this.token = this.kind.extra.asset;
    this.unit = BigInt(this.kind.extra.unit);
    this.decimals = String(this.unit * 100n).length - 1; // UNIT is a cent: 10^(decimals - 2)
    this.walletToken = this.cli("bucketpay", ["token", "create", "--scope", "spend"]).trim(); // it pays
    await this.startService();
    this.log(`facilitator ${this.facilitatorUrl}, wallet service ${this.walletUrl}`);
  }

  // Another wallet in the same store (the running wallet service pays for it too): `bucketpay init
  // --wallet NAME --policy POLICY`, funded, DEPOSIT deposited, its spends proved; its API token.
  addWallet(name, { policy, deposit }) {
    const w = ["--wallet", name];
    this.cli("bucketpay", ["init", ...w, "--contracts", this.contracts, "--relayer", `http://127.0.0.1:${this.relayPort}`, "--policy", policy]);
    const account = JSON.parse(this.cli("bucketpay", ["key", "show", ...w, "--json"])).account;
    this.cli("bucketpay-devnet", ["fund", "--rpc", this.rpcUrl, "--contracts", this.contracts, "--to", account, "--eth", "1", "--tokens", "100"]);
    this.cli("bucketpay", ["deposit", ...w, deposit]);
    this.cli("bucketpay", ["inventory", ...w]);
    return this.cli("bucketpay", ["token", "create", ...w, "--scope", "spend"]).trim();
  }

  // `bucketpay balance --json` of a wallet.
  walletBalance(name = "default") {
    return JSON.parse(this.cli("bucketpay", ["balance", "--wallet", name, "--json"]));
  }

  async startService() {
    const { child, match } = await this.spawn("bucketpay", ["serve", "--port", "0", "--workers", "1", "--threads", "1"], /listening on (\S+)/, "the wallet service");
    this.service = child;
    this.walletUrl = match[1].trim();
  }

  // `bucketpay config set spend-limits TEXT`, then the wallet service again (it reads the wallet's
  // settings when it first pays); the new walletUrl.
  async setSpendLimits(text) {
    this.cli("bucketpay", ["config", "set", "spend-limits", text]);
    const exited = new Promise((r) => this.service.once("exit", r));
    this.service.kill("SIGTERM");
    await exited;
    await this.startService();
    return this.walletUrl;
  }

  // The first time on any free port; again (a restart) on the same one.
  async startFacilitator() {
    const { child, match } = await this.spawn(
      "bucketpay",
      ["relay", "serve", "--db", join(this.dir, "relay.db"), "--port", String(this.relayPort ?? 0), "--x402", "--quiet", "--poll-ms", "200"],
      /x402 facilitator on http:\/\/127\.0\.0\.1:(\d+)\//,
      "the facilitator",
    );
    this.relayPort = Number(match[1]);
    this.facilitator = child;
  }

  async rpc(method, params) {
    const r = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const j = await r.json();
    if (j.error) throw new Error(`${method}: ${j.error.message}`);
    return j.result;
  }

  async balanceOf(address) {
    const data = "0x70a08231" + address.slice(2).toLowerCase().padStart(64, "0");
    return BigInt(await this.rpc("eth_call", [{ to: this.token, data }, "latest"]));
  }

  async stop() {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    try {
      execFileSync(join(this.root, "scripts/anvil.sh"), ["stop", join(this.dir, "chain")], { stdio: "ignore" });
    } catch {}
    rmSync(this.dir, { recursive: true, force: true });
  }
}
