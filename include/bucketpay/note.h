// Spending keys, owner keys, notes, commitments and nullifiers (docs/protocol.md v2, "Keys and notes").
//
//   pk = H(TAG_PK, sk)     owner = H(pk, r)     cm = H(owner, v)     nf = H(TAG_NF, sk, cm)
//
// with H the protocol's Poseidon2 hash (bucketpay/poseidon2.h), TAG_PK = 1, TAG_NF = 2, v the note's
// value as a field element (0 <= v < 2^64; notes on chain have v > 0) and r a uniformly random
// blinding factor. owner is the note's hidden owner: deposits publish owner and v, never pk or r.
// These are the exact formulas of the spend and split circuits; circuits/crosscheck checks them
// against Noir execution (src/tree/crosscheck_test.cpp).
//
// Secrecy: a SpendingKey is never printed or logged. It has no operator<< and no to_string; the
// only way to the raw field element is reveal(), so every use of the secret is easy to find.
// The blinding factor r of a Note is secret too (it hides pk); Note has no operator<< either.
//
// Thread safety: plain value types and pure functions. Cost: owner_key, owner and nullifier are one
// Poseidon2 permutation each, commitment two (owner, then cm).
#pragma once

#include <cstdint>

#include "bucketpay/field.h"

namespace bucketpay {

// Domain-separation tags (field constants) for the owner key and the nullifier.
inline constexpr std::uint64_t kTagPk = 1;
inline constexpr std::uint64_t kTagNf = 2;

class SpendingKey {
 public:
  // A fresh key: a uniformly random element of F from the OS's secure random source.
  static SpendingKey generate();
  // Wraps an existing secret (e.g. loaded from a wallet file). Any element of F is a valid key.
  static SpendingKey from_fr(const Fr& sk) { return SpendingKey(sk); }

  // The secret itself. Name kept loud on purpose: grep for reveal() to audit every use.
  [[nodiscard]] const Fr& reveal() const { return sk_; }

  friend bool operator==(const SpendingKey& a, const SpendingKey& b) = default;

 private:
  explicit SpendingKey(const Fr& sk) : sk_(sk) {}
  Fr sk_;
};

// pk = H(TAG_PK, sk): the public key notes are addressed to.
[[nodiscard]] Fr owner_key(const SpendingKey& sk);

struct Note {
  Fr pk;                  // owner key
  std::uint64_t value{};  // in the pool's unit (cents by default)
  Fr r;                   // blinding factor, secret

  // A note to `pk` of `value` with a fresh uniformly random r.
  static Note create(const Fr& pk, std::uint64_t value);

  // owner = H(pk, r): what a deposit of this note publishes.
  [[nodiscard]] Fr owner() const;
  // cm = H(owner, v): the leaf this note becomes in the tree.
  [[nodiscard]] Fr commitment() const;

  friend bool operator==(const Note& a, const Note& b) = default;
};

// owner = H(pk, r) and cm = H(owner, v), for callers holding only some of a note's parts (the Pool
// computes cm from a deposit's owner and value).
[[nodiscard]] Fr note_owner(const Fr& pk, const Fr& r);
[[nodiscard]] Fr note_commitment(const Fr& owner, std::uint64_t value);

// nf = H(TAG_NF, sk, cm): revealed when the note with commitment cm is spent.
[[nodiscard]] Fr nullifier(const SpendingKey& sk, const Fr& cm);

}  // namespace bucketpay
