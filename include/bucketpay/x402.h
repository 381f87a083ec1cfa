// The x402 facilitator of the `bucketpay-exact` scheme (docs/x402.md): a mode of the relayer
// (`bucketpay relay serve --x402`) that lets stock x402 v2 resource servers (@x402/express and its
// HTTPFacilitatorClient) take bucketpay payments. Under the server's base path (default "/x402"):
//
//   GET  {base}/supported  -> SupportedResponse {kinds:[{x402Version:2, scheme:"bucketpay-exact",
//                             network:"eip155:<chain>", extra:{pool, asset, unit, feeRecipient,
//                             relayUrl}}], extensions:[], signers:{"eip155:*":[relayer]}}
//   POST {base}/v1/relay   the stage: a relay bundle (bucketpay/relay_api.h) from the payer's wallet,
//                          kept (in the store's RelayJournal, X402Stage, until its deadline;
//                          durable before the answer) and NOT sent -> 202 (200: the same
//                          bundle again) with the relay API's status {digest, state "pending", ...}
//                          plus {payment_digest, bundle_hash, expires_at}; 4xx as POST /v1/relay
//                          refuses (no eth_call here), 409 for nullifiers staged for another payment
//   GET  {base}/v1/relay/quote, GET {base}/v1/relay/{digest}: the relay API's quote, and the
//                          payment's status (journaled: its entry; staged: pending; else 404)
//   POST {base}/verify     VerifyRequest -> 200 VerifyResponse (also when invalid; 400 when the
//                          body is not JSON of that shape)
//   POST {base}/settle     SettleRequest -> 200 SettleResponse (also when it failed)
//   POST {base}/release    {paymentDigest, bundleHash, signature} -> 200: drops a staged bundle
//                          nobody settled. Only the payer's: `signature` is the bundle's first
//                          note's auth key over eth::x402_release_message(digest, bundle hash)
//                          (the wallet makes it, the payload carries it as releaseSignature);
//                          401 without one, 403 anyone else's, 404 not staged
//
// So {base} is a relayer URL for the wallet (extra.relayUrl = public URL + base): a wallet's
// ordinary pay() through it stages the payment instead of sending it, and its recovery hands the
// bundle over again to the stage, never to the relayer's sending endpoint.
//
// The scheme. The PaymentPayload's payload is {paymentDigest, bundleHash}: the EIP-712 digest of
// the bundle's Payment and keccak256 of the Pool calldata the facilitator will send. The bundle
// itself (proofs of ~6.8 KB each) never travels in a header: the payer's wallet stages it here
// first. The asset is the Pool's token; `amount` (token base units, a multiple of UNIT) is exactly
// what payTo receives: for a bundle withdrawing V cents with fee F (token base units, to the
// relayer) the Pool pays payTo V * UNIT - F, so a payment is valid only when
// V * UNIT - F == amount; the payer's notes cover amount + F. The fee is not in the requirements
// (it depends on the number of notes and the gas price): the wallet takes the relayer's live quote
// (GET /v1/relay/quote) and the relayer refuses a fee below it, as for any relay bundle.
//
// Verify (read-only; the first failure is the invalidReason): x402Version 2 [invalid_x402_version];
// scheme [invalid_scheme]; network [invalid_network]; requirements equal to the payload's
// `accepted` on scheme, network, asset, amount, payTo and maxTimeoutSeconds, amount a positive
// multiple of UNIT, payTo an address [invalid_payment_requirements]; asset is the Pool's token
// [invalid_bucketpay_asset_mismatch]; extra.pool and extra.unit, when given, are ours
// [invalid_bucketpay_pool_mismatch]; payload shape [invalid_payload]; the digest not journaled
// already [invalid_bucketpay_payment_already_settled]; the pair staged
// [invalid_bucketpay_bundle_not_staged]; payment.recipient == payTo
// [invalid_bucketpay_recipient_mismatch]; V * UNIT - F == amount [invalid_bucketpay_amount_mismatch];
// deadline at most now + maxTimeoutSeconds + deadline_slack [invalid_bucketpay_deadline_too_late];
// no nullifier reserved by another staged payment or in another open relay entry
// [invalid_bucketpay_nullifier_pending]; then the relayer's own checks and an eth_call of the
// exact transaction (Relayer::preflight): fee recipient [invalid_bucketpay_fee_recipient_mismatch],
// fee below the quote [invalid_bucketpay_fee_below_quote], deadline too soon
// [invalid_bucketpay_deadline_too_soon], signatures [invalid_bucketpay_signature], and the Pool's
// revert: NullifierAlreadySpent [invalid_bucketpay_nullifier_spent], UnknownRoot
// [invalid_bucketpay_unknown_root], InvalidProof [invalid_bucketpay_invalid_proof], others
// [invalid_bucketpay_simulation_failed]; invalidMessage says what exactly.
//
// Settle: the same checks (the relayer's run inside Relayer::submit), then the bundle goes through
// the relayer's journal (one transaction per digest, ever, crash-safe) and the facilitator waits up
// to settle_wait for its receipt: mined -> success with the transaction; reverted ->
// invalid_bucketpay_transaction_failed; still pending -> "settlement_pending" with the transaction
// (the x402 SDK then asks exactly once more, and that second /settle waits on the same
// transaction). A settle for a digest the journal already holds answers
// invalid_bucketpay_payment_already_settled (success false): unlike POST /v1/relay, which is
// idempotent with 200, /settle reports success for a payment once, so a replayed header buys
// nothing. Durability: the stages and the settlement_pending record are in the relayer's store
// (RelayJournal's X402Stage), written before they are answered and loaded by create(), so a
// facilitator killed between stage/verify and settle settles after a restart, once (a payment
// already journaled is never sent again), and the SDK's one retry after settlement_pending is
// answered by a restarted process too.
//
// Errors: malformed requests are 400 with {"error": one line}; everything about a payment is a 200
// VerifyResponse/SettleResponse. Thread safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bucketpay/clock.h"
#include "bucketpay/relay.h"
#include "bucketpay/status.h"

namespace bucketpay::relay {

inline constexpr std::string_view kX402Scheme = "bucketpay-exact";

struct X402Options {
  std::string base_path = "/x402";  // the facilitator URL is http://host:port + base_path
  // How payers reach this server, http://host:port: extra.relayUrl is it + base_path; empty: the
  // server fills in http://host:port.
  std::string public_url;
  std::chrono::milliseconds settle_wait{30'000};  // under @x402/core's 90 s client timeout
  std::chrono::milliseconds settle_poll{100};
  // A deadline may exceed now + maxTimeoutSeconds by this much (clocks of wallet and relayer).
  std::chrono::seconds deadline_slack{30};
  std::size_t max_staged = 4096;  // staged bundles at most (a full stage answers 503)
  Clock* clock = nullptr;         // null: Clock::system()
};

// An HTTP answer: status and JSON body.
struct X402Answer {
  int status = 200;
  std::string body;
};

class X402Facilitator {
 public:
  // Reads the Pool's token from the chain and the unexpired stages from the relayer's journal
  // (kCorruption for a stage whose bundle does not parse). The relayer outlives the facilitator.
  static Result<std::unique_ptr<X402Facilitator>> create(Relayer& relayer, X402Options options);
  ~X402Facilitator();
  X402Facilitator(const X402Facilitator&) = delete;
  X402Facilitator& operator=(const X402Facilitator&) = delete;

  [[nodiscard]] const X402Options& options() const;
  [[nodiscard]] std::string network() const;  // "eip155:<chain id>"
  [[nodiscard]] const eth::Address& asset() const;
  // The advertised relayUrl, when the options had none (the server knows its port once bound).
  void set_public_url(std::string url);

  X402Answer supported();
  X402Answer stage(std::string_view body);
  X402Answer verify(std::string_view body);
  X402Answer settle(std::string_view body);
  X402Answer release(std::string_view body);
  X402Answer stage_status(std::string_view digest);

  struct Impl;

 private:
  explicit X402Facilitator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bucketpay::relay
