// The inputs of the spend and split circuits (circuits/spend, circuits/split), computed natively,
// and their public inputs in the order the circuits (and the Pool contract) expect.
//
// The JSON is the circuit's input map for noir_js (docs/witness-protocol.md): parameter names to
// 0x-hex strings, nested arrays for arrays. It contains secrets (sk, r): it is handed to a witness
// process over a pipe and never logged or stored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bucketpay/field.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"

namespace bucketpay {

// A note its owner can spend: the note, its key, and where it is in the tree.
struct OwnedNote {
  Note note;
  SpendingKey sk;
  std::uint64_t leaf_index = 0;

  [[nodiscard]] Fr commitment() const { return note.commitment(); }
  [[nodiscard]] Fr nullifier() const { return bucketpay::nullifier(sk, note.commitment()); }
};

// An Ethereum address (20 bytes) as the field element the circuits bind.
Result<Fr> address_to_field(std::string_view hex_address);

// spend: public [root, nullifier, value, recipient].
struct SpendStatement {
  Fr root;
  Fr nullifier;
  std::uint64_t value = 0;
  Fr recipient;
  [[nodiscard]] std::vector<Fr> public_inputs() const;
};

// split: public [root, nullifier, amount, recipient, out_cm1, out_cm2].
struct SplitStatement {
  Fr root;
  Fr nullifier;
  std::uint64_t amount = 0;
  Fr recipient;
  Fr out_cm1;
  Fr out_cm2;
  [[nodiscard]] std::vector<Fr> public_inputs() const;
};

// The statement and inputs for spending `owned` (whose leaf `path` proves under `root`) to recipient.
SpendStatement spend_statement(const OwnedNote& owned, const Fr& root, const Fr& recipient);
std::string spend_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, const Fr& recipient);

// Output notes of a split. A zero-value output has out_cm = 0 (its pk and r are still inputs).
struct SplitOutputs {
  Note out1;
  Note out2;
};

// Requires amount + out1.value + out2.value == owned.note.value (checked by the caller).
SplitStatement split_statement(const OwnedNote& owned, const Fr& root, std::uint64_t amount, const Fr& recipient,
                               const SplitOutputs& outputs);
std::string split_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, std::uint64_t amount,
                              const Fr& recipient, const SplitOutputs& outputs);

// The commitment an output contributes: 0 for a zero-value output, else H(pk, v, r).
Fr output_commitment(const Note& out);

}  // namespace bucketpay
