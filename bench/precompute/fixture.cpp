#include "fixture.h"

#include <cstdlib>

namespace bucketpay::bench {

Fixture Fixture::make(int filler) {
  Fixture f;
  f.sk_ = SpendingKey::generate();
  f.pk_ = owner_key(f.sk_);
  std::vector<Cents> values{kSeedNoteValue};
  values.insert(values.end(), kBuckets.begin(), kBuckets.end());
  for (Cents v : values) {
    for (int i = 0; i < filler; ++i) f.leaves_.push_back(Fr::random());
    const Note note = Note::create(f.pk_, v);
    f.notes_.push_back(OwnedNote{note, f.sk_, f.leaves_.size()});
    f.leaves_.push_back(note.commitment());
  }
  if (!f.tree_.append_many(f.leaves_).ok()) std::abort();  // a few dozen leaves always fit

  const OwnedNote& seed = f.notes_[0];
  const MerklePath seed_path = *f.tree_.path(seed.leaf_index);
  for (Cents b : kBuckets) {
    const Note change{f.pk_, kSeedNoteValue - b, Fr::random()};
    const SplitOutputs outputs = *make_split_outputs(std::span(&change, 1));
    f.split_.push_back({std::string(circuit_name(CircuitKind::kSplit)),
                        split_inputs_json(seed, seed_path, f.root(), b, outputs),
                        split_statement(seed, f.root(), b, outputs).public_inputs()});
  }
  for (std::size_t i = 1; i < f.notes_.size(); ++i) {
    const OwnedNote& n = f.notes_[i];
    f.spend_.push_back({std::string(circuit_name(CircuitKind::kSpend)),
                        spend_inputs_json(n, *f.tree_.path(n.leaf_index), f.root()),
                        spend_statement(n, f.root()).public_inputs()});
  }
  return f;
}

Result<std::vector<std::int64_t>> Fixture::populate(NoteStore& notes, SecretStore& secrets) const {
  auto first = notes.append_leaves(leaves_);
  if (!first.ok()) return first.status();
  if (*first != 0) return Status::failed_precondition("the benchmark needs an empty store");
  BUCKETPAY_RETURN_IF_ERROR(secrets.put_spending_key(kWallet, sk_.reveal()));
  std::vector<std::int64_t> ids;
  for (const OwnedNote& n : notes_) {
    StoredNote sn;
    sn.wallet = kWallet;
    sn.pk = n.note.pk;
    sn.value = n.note.value;
    sn.r = n.note.r;
    sn.leaf_index = n.leaf_index;
    sn.state = NoteState::kOnChain;
    sn.commitment = n.commitment();
    auto id = notes.insert_note(sn);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }
  return ids;
}

}  // namespace bucketpay::bench
