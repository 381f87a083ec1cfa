// The inputs of the spend and split circuits (circuits/spend, circuits/split; protocol v2),
// computed natively, and their public inputs in the order the circuits (and the Pool) expect:
//
//   spend  public [root, nullifier, value, auth]
//   split  public [root, nullifier, amount, auth, out_cm[0..7]]
//
// auth is the address of the spent note's one-time spend authorization key (bucketpay/payment.h),
// derived from the owner's sk and the note's commitment, as a field element: the proof binds it,
// and the Pool pays only what that key signs (an EIP-712 Payment). No recipient is in the proofs.
//
// The JSON is the circuit's input map for noir_js (docs/witness-protocol.md): parameter names to
// 0x-hex strings, nested arrays for arrays. It contains secrets (sk, r): it is handed to a witness
// process over a pipe and never logged or stored.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/field.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"

namespace bucketpay {

// Outputs of a split (absent ones have value 0 and commitment 0).
inline constexpr std::size_t kSplitOutputs = 8;

// The note's spend authorization key and its address (docs/protocol.md, "Spend authorization").
// Never fail: sk and cm are canonical field elements.
eth::PrivateKey auth_key(const SpendingKey& sk, const Fr& cm);
eth::Address auth_address(const SpendingKey& sk, const Fr& cm);

// A note its owner can spend: the note, its key, and where it is in the tree.
struct OwnedNote {
  Note note;
  SpendingKey sk;
  std::uint64_t leaf_index = 0;

  [[nodiscard]] Fr commitment() const { return note.commitment(); }
  [[nodiscard]] Fr nullifier() const { return bucketpay::nullifier(sk, note.commitment()); }
  [[nodiscard]] eth::PrivateKey auth_key() const { return bucketpay::auth_key(sk, note.commitment()); }
  [[nodiscard]] eth::Address auth_address() const { return bucketpay::auth_address(sk, note.commitment()); }
};

// An Ethereum address (20 bytes) as the field element the circuits bind.
Result<Fr> address_to_field(std::string_view hex_address);
Fr address_to_field(const eth::Address& address);

// spend: public [root, nullifier, value, auth].
struct SpendStatement {
  static constexpr std::size_t kPublicInputs = 4;
  Fr root;
  Fr nullifier;
  std::uint64_t value = 0;
  Fr auth;
  [[nodiscard]] std::vector<Fr> public_inputs() const;
  // The statement a proof's public inputs state: kInvalidArgument unless there are exactly 4, the
  // value fits 64 bits and auth 160 bits.
  static Result<SpendStatement> from_public_inputs(std::span<const Fr> inputs);
  // auth as the address it is.
  [[nodiscard]] eth::Address auth_address() const;
  friend bool operator==(const SpendStatement&, const SpendStatement&) = default;
};

// split: public [root, nullifier, amount, auth, out_cm[0..7]].
struct SplitStatement {
  static constexpr std::size_t kPublicInputs = 4 + kSplitOutputs;
  Fr root;
  Fr nullifier;
  std::uint64_t amount = 0;
  Fr auth;
  std::array<Fr, kSplitOutputs> out_cm{};
  [[nodiscard]] std::vector<Fr> public_inputs() const;
  // As SpendStatement::from_public_inputs, for exactly 12 inputs.
  static Result<SplitStatement> from_public_inputs(std::span<const Fr> inputs);
  [[nodiscard]] eth::Address auth_address() const;
  friend bool operator==(const SplitStatement&, const SplitStatement&) = default;
};

// The statement and inputs for spending `owned` (whose leaf `path` proves under `root`); auth is
// owned.auth_address().
SpendStatement spend_statement(const OwnedNote& owned, const Fr& root);
std::string spend_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root);

// The output notes of a split, in order. A note of value 0 is absent: its commitment is 0 (its pk
// and r are still inputs, of no consequence).
using SplitOutputs = std::array<Note, kSplitOutputs>;
// Up to 8 notes, padded with absent outputs; kInvalidArgument for more than 8.
Result<SplitOutputs> make_split_outputs(std::span<const Note> notes);

// Requires amount + sum(outputs' values) == owned.note.value (the circuit checks it; the caller
// should, to get a clear error instead of a failed witness).
SplitStatement split_statement(const OwnedNote& owned, const Fr& root, std::uint64_t amount,
                               const SplitOutputs& outputs);
std::string split_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, std::uint64_t amount,
                              const SplitOutputs& outputs);

// The commitment an output contributes: 0 for a zero-value output, else H(H(pk, r), v).
Fr output_commitment(const Note& out);

}  // namespace bucketpay
