#include "wallet/split_proof.h"

#include "wallet/wallet_util.h"

namespace bucketpay {

Result<SplitProofJob> split_proof_job(const MerkleTree& tree, const Fr& sk, const StoredNote& donor, Cents amount,
                                      const Fr& recipient, const SplitOutputs& outputs, std::string key) {
  if (!donor.leaf_index) return Status::failed_precondition("note " + std::to_string(donor.id) + " is not on chain");
  const OwnedNote owned{Note{donor.pk, donor.value, donor.r}, SpendingKey::from_fr(sk), *donor.leaf_index};
  BUCKETPAY_ASSIGN_OR_RETURN(const MerklePath path, tree.path(*donor.leaf_index));
  SplitProofJob job;
  job.request.key = std::move(key);
  job.request.circuit = "split";
  job.request.inputs_json = split_inputs_json(owned, path, tree.root(), amount, recipient, outputs);
  job.statement = split_statement(owned, tree.root(), amount, recipient, outputs);
  job.request.expected_public_inputs = job.statement.public_inputs();
  return job;
}

eth::SplitCall split_call(const SplitStatement& statement, const bb::ProofData& proof, Cents amount,
                          const eth::Address& recipient) {
  using wallet_util::to_u256;
  return eth::SplitCall{eth::Bytes(proof.proof.begin(), proof.proof.end()),
                        to_u256(statement.root),
                        to_u256(statement.nullifier),
                        amount,
                        recipient,
                        to_u256(statement.out_cm1),
                        to_u256(statement.out_cm2)};
}

}  // namespace bucketpay
