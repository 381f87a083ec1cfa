// POST /v1/x402/pay: the payer's side of the x402 scheme `bucketpay-exact` (docs/x402.md). The
// client glue (packages/x402-bucketpay, BucketpayExactClient) hands the server's
// PaymentRequirements to the wallet, which checks them, pays `amount` to `payTo` through the
// facilitator named by extra.relayUrl (its stage: nothing is sent on chain until the resource
// server settles), reserving the notes until now + maxTimeoutSeconds, and answers the digest and
// bundle hash the PaymentPayload carries.
//
//   request  {"requirements": PaymentRequirements, "max_amount"?: "<token base units>"}
//   201      {"payment_digest","bundle_hash","release_signature","payment_id","amount","fee","notes":[cents...],
//            "deadline"}: release_signature releases the stage at the facilitator (POST {base}/release;
//            only the payer can make it), the client puts it in the payload for the resource server
//   400      requirements this wallet cannot pay (scheme, network, asset, pool, amount not whole cents,
//            payTo, maxTimeoutSeconds outside 61..3600, relayUrl) or above max_amount
//   403      a spending limit (WalletConfig::limits) would be passed
//   409      the ready spend proofs cannot make the amount and the fee exactly (nothing reserved)
//   502/503  the facilitator refused or could not be reached (the notes stay reserved until the
//            deadline: the bundle may be in its hands)
//
// The wallet is opened from the store the first time a token of it pays, and synced before each
// payment (so notes that landed are spendable and payments that settled or expired are settled).
// Thread safety: one payment at a time per service (a mutex): a Wallet is single-threaded.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "bucketpay/status.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"

namespace bucketpay::service {

struct X402PayAnswer {
  int status = 201;
  std::string body;  // JSON
};

class X402Payer {
 public:
  explicit X402Payer(Store& store) : store_(store) {}
  X402PayAnswer pay(const std::string& wallet, std::string_view body);

 private:
  Store& store_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Wallet>> wallets_;
};

}  // namespace bucketpay::service
