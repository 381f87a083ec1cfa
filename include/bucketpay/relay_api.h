// The relayer HTTP API's messages (docs/protocol.md, "Relayers"; `bucketpay relay` serves them, the
// wallet's RelayerClient speaks them): the fee quote, the signed payment bundle and the relayer's
// status of a payment digest, with their one JSON codec each.
//
//   GET  /v1/relay/quote?kind=spend_batch|split&notes=N  -> RelayQuote
//   POST /v1/relay  (a RelayBundle)                       -> 202/200 RelayStatus
//   GET  /v1/relay/{digest}                               -> 200 RelayStatus, 404 unknown
//
// Encodings: token base units (fees, gas prices) are decimal strings; values in cents are JSON
// integers; field elements and hashes are 0x + 64 hex digits (canonical: below p for field
// elements); addresses 0x + 40 hex digits (EIP-55 mixed case must be exact); signatures 0x + 130
// hex digits (65 bytes r || s || v); Unix times are integers of seconds.
//
// Decoding is strict: every member present with its type (and, in a bundle, no others), sizes as the
// Pool takes them; a message that breaks a rule is kInvalidArgument naming the member and what is
// wrong. Answers (quote, status) may carry members this build does not know: they are ignored.
// Nothing throws. A bundle carries only public data: proofs, public inputs, the payment and signatures.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/payment.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

// The two Pool calls a relayer sends.
enum class BundleKind : std::uint8_t {
  kSpendBatch,  // Pool.spendBatch: notes spent with their spend proofs
  kSplit,       // Pool.split: one note split, an amount paid
};
std::string_view bundle_kind_name(BundleKind kind);  // "spend_batch", "split"
Result<BundleKind> parse_bundle_kind(std::string_view name);

// Spends per spendBatch a relayer takes at most (the wallet plans no more).
inline constexpr std::size_t kMaxBundleSpends = 32;
// Bytes per proof a bundle may carry (a v2 spend proof is 6,848 bytes, a split proof 7,232).
inline constexpr std::size_t kMaxBundleProofBytes = std::size_t{16} * 1024;

// p, the BN254 scalar field's modulus: field elements in a bundle are below it.
const U256& field_modulus();

// GET /v1/relay/quote: what the relayer charges for a bundle of `kind` spending `notes` notes now.
struct RelayQuote {
  BundleKind kind = BundleKind::kSpendBatch;
  std::uint32_t notes = 0;
  U256 fee;               // token base units
  Address fee_recipient;  // the relayer's; non-zero
  std::uint64_t chain_id = 0;
  Address pool;
  std::uint64_t gas = 0;         // the relayer's gas estimate
  U256 gas_price;                // wei
  std::int64_t valid_until = 0;  // Unix s

  friend bool operator==(const RelayQuote&, const RelayQuote&) = default;
};
std::string encode_quote(const RelayQuote& quote);
Result<RelayQuote> decode_quote(std::string_view json);

// POST /v1/relay: a signed payment and the proofs it spends.
struct RelayBundle {
  BundleKind kind = BundleKind::kSpendBatch;
  std::uint64_t chain_id = 0;
  Address pool;
  Payment payment;                       // deadline: Unix s (fits 64 bits)
  std::vector<SpendCall> spends;         // spend_batch: 1..kMaxBundleSpends, in the payment's order
  std::optional<SplitCall> split;        // split
  std::vector<RsvSignature> signatures;  // one per spent note, in order

  // The domain the payment is signed in, and its digest there.
  [[nodiscard]] PaymentDomain domain() const { return PaymentDomain{U256(chain_id), pool}; }
  [[nodiscard]] Hash32 digest() const { return payment_digest(domain(), payment); }

  // Spent notes: spends.size(), or 1 for a split.
  [[nodiscard]] std::size_t notes() const;
  // The nullifiers and auth addresses the proofs carry, in order.
  [[nodiscard]] std::vector<U256> proof_nullifiers() const;
  [[nodiscard]] std::vector<Address> proof_auths() const;
  // What the bundle withdraws from the Pool, in value units (cents): the sum of the spends' values,
  // or the split's amount.
  [[nodiscard]] U256 value_units() const;
  // The Pool function that pays it, "spendBatch" or "split", and its calldata (kInvalidArgument for
  // a bundle that is not self-consistent: a split without its call or not one signature).
  [[nodiscard]] std::string_view function() const;
  [[nodiscard]] Result<Bytes> calldata() const;

  friend bool operator==(const RelayBundle&, const RelayBundle&) = default;
};
std::string encode_bundle(const RelayBundle& bundle);
// Strict (see above): spends xor split as the kind says, as many signatures as spent notes, proofs
// of whole 32-byte words up to kMaxBundleProofBytes, spend values in 1..2^64-1 (a split's amount may
// be 0), the deadline below 2^63, non-zero recipient, fee recipient and auths. Whether
// payment.nullifiers are the proofs' in order and distinct, whether the signatures recover to the
// auths, the fee and the chain are the relayer's checks, each refused with its own reason
// (verify_bundle_signatures below checks the signatures).
Result<RelayBundle> decode_bundle(std::string_view json);
// OK when signature i recovers to the auth of spend i (or of the split); else kInvalidArgument
// naming the first one that does not.
Status verify_bundle_signatures(const RelayBundle& bundle);

// x402 (bucketpay/x402.h): what a payer signs so that the facilitator drops its staged bundle,
// keccak256("bucketpay-x402-release" || payment_digest || bundle_hash) (a plain hash, never an
// EIP-712 Payment digest, which starts 0x1901), signed in the Pool's form (sign_digest) by
// x402_release_signer's key.
Hash32 x402_release_message(const Hash32& payment_digest, const Hash32& bundle_hash);
// Whose signature releases a staged bundle: the auth address of its first note (the split's note).
Address x402_release_signer(const RelayBundle& bundle);

// A relayer's state of a payment it was handed.
enum class RelayState : std::uint8_t { kPending, kSubmitted, kMined, kFailed };
std::string_view relay_state_name(RelayState state);  // "pending", "submitted", "mined", "failed"
Result<RelayState> parse_relay_state(std::string_view name);

// The answer to POST /v1/relay (202 new, 200 known) and to GET /v1/relay/{digest}.
struct RelayStatus {
  Hash32 digest{};
  RelayState state = RelayState::kPending;
  std::optional<Hash32> tx_hash;  // its transaction, once sent
  std::optional<std::uint64_t> block;
  std::optional<std::uint64_t> gas_used;
  std::string reason;  // why it failed, when it did

  friend bool operator==(const RelayStatus&, const RelayStatus&) = default;
};
// tx_hash, block and gas_used are null when unknown; reason "" when none.
std::string encode_status(const RelayStatus& status);
// The POST answer has only digest, state and tx_hash; GET's has them all. Members that are absent
// or null are unknown.
Result<RelayStatus> decode_status(std::string_view json);

}  // namespace bucketpay::eth
