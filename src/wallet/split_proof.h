// The split proofs the wallet makes itself (an on-demand payment, a rebalance): the proof request
// for a note of the wallet's tree, and the Pool call that carries the proof.
#pragma once

#include <string>

#include "bucketpay/amount.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"

namespace bucketpay {

struct SplitProofJob {
  ProofRequest request;
  SplitStatement statement;
};

// Splitting `donor` (the wallet's note at its leaf index in `tree`, under the tree's current root)
// into `amount` for `recipient` and `outputs`. kNotFound when the note is not in the tree.
Result<SplitProofJob> split_proof_job(const MerkleTree& tree, const Fr& sk, const StoredNote& donor, Cents amount,
                                      const Fr& recipient, const SplitOutputs& outputs, std::string key);

// Pool.split with the proof of `statement`.
eth::SplitCall split_call(const SplitStatement& statement, const bb::ProofData& proof, Cents amount,
                          const eth::Address& recipient);

}  // namespace bucketpay
