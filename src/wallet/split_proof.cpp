#include "split_proof.h"

#include "wallet_util.h"

namespace bucketpay {

Result<SplitProofJob> split_proof_job(const MerkleTree& tree, const Fr& sk, const StoredNote& donor, Cents amount,
                                      const SplitOutputs& outputs, std::string key) {
  if (!donor.leaf_index) return Status::failed_precondition("note " + std::to_string(donor.id) + " is not on chain");
  Cents sum = amount;
  for (const Note& out : outputs) sum += out.value;
  if (sum != donor.value) {
    return Status::invalid_argument("a split of note " + std::to_string(donor.id) + " must use its value exactly");
  }
  const OwnedNote owned{Note{donor.pk, donor.value, donor.r}, SpendingKey::from_fr(sk), *donor.leaf_index};
  BUCKETPAY_ASSIGN_OR_RETURN(const MerklePath path, tree.path(*donor.leaf_index));
  SplitProofJob job;
  job.request.key = std::move(key);
  job.request.circuit = std::string(circuit_name(CircuitKind::kSplit));
  job.request.inputs_json = split_inputs_json(owned, path, tree.root(), amount, outputs);
  job.statement = split_statement(owned, tree.root(), amount, outputs);
  job.request.expected_public_inputs = job.statement.public_inputs();
  return job;
}

eth::RelayBundle split_bundle(const eth::PaymentDomain& domain, const Fr& sk, const StoredNote& donor,
                              const SplitStatement& statement, const bb::ProofData& proof,
                              const eth::Address& recipient, const eth::U256& fee, const eth::Address& fee_recipient,
                              std::uint64_t deadline) {
  using wallet_util::to_u256;
  eth::SplitCall call{eth::Bytes(proof.proof.begin(), proof.proof.end()),
                      to_u256(statement.root),
                      to_u256(statement.nullifier),
                      statement.amount,
                      statement.auth_address(),
                      {}};
  for (std::size_t i = 0; i < kSplitOutputs; ++i) call.out_cms[i] = to_u256(statement.out_cm[i]);
  eth::RelayBundle b;
  b.kind = eth::BundleKind::kSplit;
  b.chain_id = domain.chain_id.low_u64();
  b.pool = domain.pool;
  b.payment = eth::Payment{{call.nullifier}, recipient, fee, fee_recipient, eth::U256(deadline)};
  b.split = std::move(call);
  const eth::PrivateKey key = auth_key(SpendingKey::from_fr(sk), donor.commitment);
  b.signatures = {eth::sign_digest(key, b.digest())};
  return b;
}

std::vector<Note> output_notes(const Fr& pk, const std::vector<Cents>& values) {
  std::vector<Note> out;
  out.reserve(values.size());
  for (Cents v : values) out.push_back(Note::create(pk, v));
  return out;
}

}  // namespace bucketpay
