// The benchmark's wallet: one spending key, a $1,000 note for seed mode, 17 notes (one per bucket
// value) for inventory mode, and other people's leaves around them. Every run (baseline, engine,
// limits) proves statements about this same tree, computed by bucketpay's own C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay::bench {

inline constexpr Cents kSeedNoteValue = 100'000;  // $1,000.00: every one of the 17 buckets fits
inline constexpr char kWallet[] = "bench";

// One proof's circuit and inputs (the circuit's input map, JSON) with the public inputs it must have.
struct ProofInputs {
  std::string circuit;
  std::string inputs_json;
  std::vector<Fr> public_inputs;
};

class Fixture {
 public:
  // Random key, notes and filler leaves (`filler` other leaves before each of our notes).
  static Fixture make(int filler = 3);

  // Seed mode: a split per bucket withdrawing b, change back to the owner as the first output.
  // The change blinding is random (as the engine's is), fixed per Fixture.
  [[nodiscard]] const std::vector<ProofInputs>& split_proofs() const { return split_; }
  // Inventory mode: a spend per inventory note.
  [[nodiscard]] const std::vector<ProofInputs>& spend_proofs() const { return spend_; }

  // Fills an empty store with the tree's leaves, the key and the notes. Returns the note ids:
  // [0] the seed note, then the 17 inventory notes.
  Result<std::vector<std::int64_t>> populate(NoteStore& notes, SecretStore& secrets) const;

  [[nodiscard]] const Fr& root() const { return tree_.root(); }

 private:
  Fixture() : sk_(SpendingKey::from_fr(Fr::zero())) {}

  SpendingKey sk_;
  Fr pk_;
  MerkleTree tree_;
  std::vector<Fr> leaves_;
  std::vector<OwnedNote> notes_;  // [0]: the seed note; then the inventory notes
  std::vector<ProofInputs> split_;
  std::vector<ProofInputs> spend_;
};

}  // namespace bucketpay::bench
