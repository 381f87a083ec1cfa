// The resource server's side of bucketpay-exact for a stock @x402/express (or any
// x402ResourceServer): a SchemeNetworkServer. Prices become whole cents of the Pool's token; the
// facilitator's terms (pool, asset, unit, feeRecipient, relayUrl: static, from its /supported) are
// copied into every requirement's extra, so the requirements of the 402 and of the paid retry match.
//
// Flows: "authorization" (the default: verify, run the handler, settle only when it succeeded, so
// a failed handler keeps no money) and "upfront" (route extra.paymentFlow: "upfront": settle, then
// run the handler).

import { SCHEME } from "./client.mjs";

export class BucketpayExactServer {
  scheme = SCHEME;
  defaultAssetTransferMethod = "default";
  paymentFlows = { default: { supported: ["authorization", "upfront"], default: "authorization" } };

  /**
   * @param {{asset: string, decimals: number, unit: string|bigint, facilitatorUrl?: string,
   *          fetch?: typeof fetch}} options
   *   asset: the Pool's token; decimals: its decimals; unit: the Pool's UNIT (token base units per
   *   cent); facilitatorUrl: where a canceled payment's staged bundle is released (optional).
   */
  constructor({ asset, decimals, unit, facilitatorUrl, fetch: fetchImpl = globalThis.fetch } = {}) {
    if (typeof asset !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(asset)) {
      throw new TypeError("BucketpayExactServer: asset must be the Pool token's address");
    }
    if (!Number.isInteger(decimals) || decimals < 2 || decimals > 36) {
      throw new TypeError("BucketpayExactServer: decimals must be an integer 2..36");
    }
    this.asset = asset;
    this.decimals = decimals;
    this.unit = BigInt(unit);
    if (this.unit <= 0n) throw new TypeError("BucketpayExactServer: unit must be positive");
    this.facilitatorUrl = facilitatorUrl?.replace(/\/+$/, "");
    this.fetch = fetchImpl;
    if (this.facilitatorUrl) {
      this.schemeHooks = {
        // A courtesy: the bundle stays valid until its deadline whatever the facilitator does.
        onVerifiedPaymentCanceled: async (ctx) => {
          // The facilitator releases only with the payer's signature, which the client glue put
          // in the payload.
          const p = ctx?.paymentPayload?.payload;
          if (!p?.paymentDigest || !p?.bundleHash || !p?.releaseSignature) return;
          try {
            await this.fetch(`${this.facilitatorUrl}/release`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ paymentDigest: p.paymentDigest, bundleHash: p.bundleHash, signature: p.releaseSignature }),
            });
          } catch {
            // the facilitator drops it at the deadline anyway
          }
        },
      };
    }
  }

  /** "$0.05", "0.05", 0.05 -> whole cents of the token; {amount, asset} passes through (checked). */
  async parsePrice(price, network) {
    if (price !== null && typeof price === "object") {
      if (price.asset.toLowerCase() !== this.asset.toLowerCase()) {
        throw new Error(`bucketpay-exact on ${network} pays only the Pool's token ${this.asset}`);
      }
      this.#checkWholeCents(BigInt(price.amount));
      return { amount: String(price.amount), asset: this.asset, extra: price.extra ?? {} };
    }
    const text = String(price).trim().replace(/^\$/, "");
    const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m) throw new Error(`bucketpay-exact: price ${price} is not a dollar amount`);
    const frac = (m[2] ?? "").padEnd(this.decimals, "0");
    if (frac.length > this.decimals) throw new Error(`bucketpay-exact: price ${price} has too many decimals`);
    const amount = BigInt(m[1]) * 10n ** BigInt(this.decimals) + BigInt(frac || "0");
    this.#checkWholeCents(amount);
    return { amount: amount.toString(), asset: this.asset, extra: {} };
  }

  #checkWholeCents(amount) {
    if (amount <= 0n || amount % this.unit !== 0n) {
      throw new Error(`bucketpay-exact: ${amount} is not a positive whole number of cents (unit ${this.unit})`);
    }
  }

  getAssetDecimals() {
    return this.decimals;
  }

  async enhancePaymentRequirements(requirements, supportedKind) {
    const k = supportedKind?.extra ?? {};
    const extra = { ...requirements.extra };
    for (const key of ["pool", "unit", "feeRecipient", "relayUrl"]) {
      if (k[key] !== undefined) extra[key] = k[key];
    }
    return { ...requirements, extra };
  }

  validateFacilitatorSupport(network, supportedKind) {
    const k = supportedKind?.extra ?? {};
    if (typeof k.asset === "string" && k.asset.toLowerCase() !== this.asset.toLowerCase()) {
      return `the facilitator's Pool token on ${network} is ${k.asset}, not ${this.asset}`;
    }
    if (k.unit !== undefined && BigInt(k.unit) !== this.unit) {
      return `the facilitator's Pool UNIT on ${network} is ${k.unit}, not ${this.unit}`;
    }
    for (const key of ["pool", "relayUrl", "feeRecipient"]) {
      if (typeof k[key] !== "string") return `the facilitator's /supported names no ${key} for ${network}`;
    }
    return undefined;
  }
}
