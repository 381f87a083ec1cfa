// The relayer's wire format (docs/protocol.md and docs/relay.md, "Relayer HTTP API"): a bundle, what
// a wallet hands to a relayer (the proofs with their public inputs, the EIP-712 payment and one
// signature per spent note), and a quote, what a relayer charges to send one. One codec for both
// sides: the relayer (bucketpay/relay.h) parses bundles and writes quotes, a wallet writes bundles
// and parses quotes.
//
// JSON conventions: token base units are decimal strings ("5000000000000000"); values in cents and
// Unix times are JSON integers; field elements and hashes are "0x" + 64 hex digits (either case,
// canonical: < p); addresses "0x" + 40 hex digits (all-lowercase, all-uppercase or EIP-55); proofs
// and signatures "0x" + hex.
//
//   {"kind":"spend_batch"|"split","chain_id":N,"pool":"0x..",
//    "payment":{"nullifiers":["0x.."],"recipient":"0x..","fee":"<base units>","fee_recipient":"0x..",
//               "deadline":<unix s>},
//    "spends":[{"proof":"0x..","root":"0x..","nullifier":"0x..","value":<cents>,"auth":"0x.."}],  (spend_batch)
//    "split":{"proof":"0x..","root":"0x..","nullifier":"0x..","amount":<cents>,"auth":"0x..",
//             "out_cms":["0x..", x8]},                                                         (split)
//    "signatures":["0x<65 bytes>"]}
//
// Parsing checks the shape only: types, sizes and canonical values, every failure a
// kInvalidArgument naming the field ("spends[2].root: not a field element (>= p)"). Whether the
// bundle is one a relayer will send (its chain, fee, deadline, signatures) is the relayer's to decide.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/payment.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

enum class BundleKind : std::uint8_t { kSpendBatch, kSplit };
std::string_view bundle_kind_name(BundleKind kind);  // "spend_batch", "split"
// kInvalidArgument for any other name.
Result<BundleKind> parse_bundle_kind(std::string_view name);

// The BN254 scalar field's modulus p: field elements are below it.
const U256& field_modulus();

struct RelayBundle {
  BundleKind kind = BundleKind::kSpendBatch;
  std::uint64_t chain_id = 0;
  Address pool;
  Payment payment;
  std::vector<SpendCall> spends;         // spend_batch: one per note, in the order of payment.nullifiers
  SplitCall split;                       // split
  std::vector<RsvSignature> signatures;  // one per note: its auth key's signature of the digest

  // Spent notes: spends.size(), or 1 for a split.
  [[nodiscard]] std::size_t notes() const;
  // The nullifiers and auth addresses the proofs carry, in order.
  [[nodiscard]] std::vector<U256> proof_nullifiers() const;
  [[nodiscard]] std::vector<Address> proof_auths() const;
  // What the bundle withdraws from the Pool, in value units (cents): the sum of the spends' values,
  // or the split's amount.
  [[nodiscard]] U256 value_units() const;
  [[nodiscard]] PaymentDomain domain() const { return {U256(chain_id), pool}; }
  // The payment digest the signatures sign (in the bundle's own domain).
  [[nodiscard]] Hash32 digest() const { return payment_digest(domain(), payment); }
  // The Pool function that pays it, "spendBatch" or "split", and its calldata.
  [[nodiscard]] std::string_view function() const;
  [[nodiscard]] Result<Bytes> calldata() const;
};

struct BundleLimits {
  std::size_t max_notes = 30;               // spends per spend_batch
  std::size_t max_proof_bytes = 16 * 1024;  // a v2 spend proof is 6,848 bytes, a split proof 7,232
};

// Parses and checks the shape of a bundle (see above).
Result<RelayBundle> parse_relay_bundle(std::string_view json, const BundleLimits& limits = {});
// The bundle as JSON: field elements and hashes lowercase, addresses EIP-55. parse_relay_bundle
// gives it back exactly.
std::string relay_bundle_json(const RelayBundle& bundle);

// A relayer's quote for sending a bundle of `kind` spending `notes` notes.
struct RelayQuote {
  BundleKind kind = BundleKind::kSpendBatch;
  std::size_t notes = 0;
  U256 fee;               // token base units: the least fee the relayer accepts now
  Address fee_recipient;  // the relayer's account: the payment's fee_recipient
  std::uint64_t chain_id = 0;
  Address pool;
  std::uint64_t gas = 0;         // the relayer's gas estimate for such a transaction
  U256 gas_price;                // wei per gas the fee was computed with
  std::int64_t valid_until = 0;  // Unix seconds: a bundle with this fee is accepted until then

  friend bool operator==(const RelayQuote&, const RelayQuote&) = default;
};

// {"kind","notes","fee","fee_recipient","chain_id","pool","gas","gas_price","valid_until"}
std::string relay_quote_json(const RelayQuote& quote);
// kInvalidArgument naming the field that is missing or malformed.
Result<RelayQuote> parse_relay_quote(std::string_view json);

}  // namespace bucketpay::eth
