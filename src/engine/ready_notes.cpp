#include <map>

#include "bucketpay/engine.h"

namespace bucketpay {

Result<std::vector<ReadyNote>> ready_notes(NoteStore& note_store, ProofStore& proof_store, std::string_view wallet) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<StoredNote> notes, note_store.list_notes(wallet, NoteState::kOnChain));
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Precompute> spends, proof_store.list_precomputes_by_circuit("spend"));
  std::map<std::int64_t, std::vector<Precompute>> proofs;
  for (Precompute& p : spends) {
    if (p.public_inputs.size() != 4) continue;  // not a spend statement: never sent
    proofs[p.note_id].push_back(std::move(p));
  }
  std::vector<ReadyNote> ready;
  for (StoredNote& n : notes) {
    auto it = proofs.find(n.id);
    if (it == proofs.end()) continue;
    ready.push_back(ReadyNote{std::move(n), std::move(it->second)});
  }
  return ready;
}

}  // namespace bucketpay
