// The split proofs the wallet makes itself (an on-demand payment, a rebalance): the proof request
// for a note of the wallet's tree, the Pool call that carries the proof, and the signed bundle.
#pragma once

#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/prover.h"
#include "bucketpay/relay_api.h"
#include "bucketpay/store.h"

namespace bucketpay {

struct SplitProofJob {
  ProofRequest request;
  SplitStatement statement;
};

// Splitting `donor` (the wallet's note at its leaf index in `tree`, under the tree's current root)
// into `amount` and `outputs` (its auth: the donor's). kFailedPrecondition when the note is not on
// chain; kInvalidArgument unless amount + the outputs' values == the donor's value.
Result<SplitProofJob> split_proof_job(const MerkleTree& tree, const Fr& sk, const StoredNote& donor, Cents amount,
                                      const SplitOutputs& outputs, std::string key);

// The bundle of a split proved for `statement`: Payment{[nullifier], recipient, fee, fee_recipient,
// deadline} in `domain`, signed by the donor's auth key (derived from sk and its commitment).
eth::RelayBundle split_bundle(const eth::PaymentDomain& domain, const Fr& sk, const StoredNote& donor,
                              const SplitStatement& statement, const bb::ProofData& proof,
                              const eth::Address& recipient, const eth::U256& fee, const eth::Address& fee_recipient,
                              std::uint64_t deadline);

// The notes the wallet makes as a split's outputs (fresh blinding each), in order.
std::vector<Note> output_notes(const Fr& pk, const std::vector<Cents>& values);

}  // namespace bucketpay
