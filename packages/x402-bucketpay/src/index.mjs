// bucketpay-exact for x402 v2 (docs/x402.md).
export { BucketpayExactClient, SCHEME } from "./client.mjs";
export { BucketpayExactServer } from "./server.mjs";
