#include <map>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"

namespace bucketpay {

Result<std::vector<ReadyNote>> ready_notes(NoteStore& note_store, ProofStore& proof_store, std::string_view wallet) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<StoredNote> notes, note_store.list_notes(wallet, NoteState::kOnChain));
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Precompute> spends,
                             proof_store.list_precomputes_by_circuit(CircuitKind::kSpend));
  std::map<std::int64_t, std::pair<Precompute, SpendStatement>> proofs;  // the first ready one per note
  for (Precompute& p : spends) {
    auto statement = SpendStatement::from_public_inputs(p.public_inputs);
    if (!statement.ok() || statement->auth != p.auth) continue;  // not a spend statement: never sent
    const std::int64_t note_id = p.note_id;
    proofs.emplace(note_id, std::make_pair(std::move(p), *statement));
  }
  std::vector<ReadyNote> ready;
  for (StoredNote& n : notes) {
    auto it = proofs.find(n.id);
    if (it == proofs.end() || it->second.second.value != n.value) continue;
    ready.push_back(ReadyNote{std::move(n), std::move(it->second.first), it->second.second});
  }
  return ready;
}

}  // namespace bucketpay
