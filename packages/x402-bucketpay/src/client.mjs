// The payer's side of bucketpay-exact for a stock @x402/fetch (or any x402Client): a
// SchemeNetworkClient whose createPaymentPayload asks the bucketpay wallet service to pay the
// requirements (POST {walletUrl}/v1/x402/pay, docs/x402.md). The wallet checks them, plans exact
// notes, reserves them until now + maxTimeoutSeconds, signs the Payment for payTo and stages the
// bundle (its proofs) at the facilitator named by extra.relayUrl; the header then carries only
// {paymentDigest, bundleHash, releaseSignature} (the last: the payer's signed release of the stage,
// which the resource server may use when it does not settle). No key, note or proof is ever in
// this process.

export const SCHEME = "bucketpay-exact";

export class BucketpayExactClient {
  scheme = SCHEME;

  /**
   * @param {{walletUrl: string, token: string, fetch?: typeof fetch, timeoutMs?: number}} options
   *   walletUrl: the wallet service (`bucketpay serve`), e.g. http://127.0.0.1:8080;
   *   token: its API token of scope spend (`bucketpay token create --scope spend`), sent as a Bearer token.
   */
  constructor({ walletUrl, token, fetch: fetchImpl = globalThis.fetch, timeoutMs = 120_000 } = {}) {
    if (typeof walletUrl !== "string" || !/^https?:\/\//.test(walletUrl)) {
      throw new TypeError("BucketpayExactClient: walletUrl must be an http(s) URL");
    }
    if (typeof token !== "string" || token.length === 0) {
      throw new TypeError("BucketpayExactClient: token is required");
    }
    this.walletUrl = walletUrl.replace(/\/+$/, "");
    this.token = token;
    this.fetch = fetchImpl;
    this.timeoutMs = timeoutMs;
    /** The wallet's last answer (payment id, fee, notes, deadline), for callers that report it. */
    this.lastPayment = undefined;
  }

  async createPaymentPayload(x402Version, requirements, context) {
    if (requirements.scheme !== SCHEME) {
      throw new Error(`bucketpay-exact cannot pay scheme ${requirements.scheme}`);
    }
    const body = { requirements };
    if (context?.maxAmountPerPayment !== undefined) body.max_amount = String(context.maxAmountPerPayment);
    const res = await this.fetch(`${this.walletUrl}/v1/x402/pay`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = { error: text.slice(0, 200) };
    }
    if (res.status !== 201) {
      throw new Error(`bucketpay wallet refused to pay (${res.status}): ${answer.error ?? "no reason given"}`);
    }
    if (!/^0x[0-9a-f]{64}$/.test(answer.payment_digest) || !/^0x[0-9a-f]{64}$/.test(answer.bundle_hash)) {
      throw new Error("bucketpay wallet answered without a payment digest and bundle hash");
    }
    this.lastPayment = answer;
    const payload = { paymentDigest: answer.payment_digest, bundleHash: answer.bundle_hash };
    // The payer's release of the stage, for the resource server to hand back to the facilitator
    // when it will not settle (the digest and bundle hash alone release nothing).
    if (/^0x[0-9a-f]{130}$/.test(answer.release_signature ?? "")) payload.releaseSignature = answer.release_signature;
    return { x402Version, payload };
  }
}
