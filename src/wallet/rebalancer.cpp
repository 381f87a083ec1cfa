#include "wallet/rebalancer.h"

#include <algorithm>
#include <array>
#include <set>

#include "wallet/split_proof.h"
#include "wallet/wallet_util.h"

namespace bucketpay {

namespace {

using wallet_util::bucket_of;
using wallet_util::is_denomination;

constexpr std::uint64_t kSplitGas = 1'500'000;

// The smallest unused note above `d`: by preference a surplus note whose rest is a wanted
// denomination, then any surplus note, then any larger note.
const StoredNote* pick_donor(const std::vector<const StoredNote*>& donors, const std::set<std::int64_t>& used, Cents d,
                             const std::array<std::uint32_t, kBucketCount>& have, const InventoryPolicy& policy) {
  auto surplus = [&](const StoredNote& n) {
    return !is_denomination(n.value) || have[bucket_of(n.value)] > policy.targets[bucket_of(n.value)];
  };
  auto useful_rest = [&](Cents rest) {
    return is_denomination(rest) && have[bucket_of(rest)] + (rest == d ? 2 : 1) <= policy.targets[bucket_of(rest)];
  };
  for (int level = 0; level < 3; ++level) {
    for (const StoredNote* n : donors) {
      if (used.count(n->id) != 0 || n->value <= d) continue;
      const bool ok = level == 0 ? surplus(*n) && useful_rest(n->value - d) : level == 1 ? surplus(*n) : true;
      if (ok) return n;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<PlannedSplit> plan_splits(const std::vector<StoredNote>& on_chain, const InventoryPolicy& policy,
                                      std::size_t max_splits) {
  std::array<std::uint32_t, kBucketCount> have{};
  for (const StoredNote& n : on_chain) {
    if (is_denomination(n.value)) ++have[bucket_of(n.value)];
  }
  std::vector<const StoredNote*> donors;  // smallest first
  for (const StoredNote& n : on_chain) donors.push_back(&n);
  std::stable_sort(donors.begin(), donors.end(), [](const auto* a, const auto* b) { return a->value < b->value; });
  std::set<std::int64_t> used;
  std::vector<PlannedSplit> splits;
  for (std::size_t i = 0; i < kBucketCount && splits.size() < max_splits; ++i) {
    while (have[i] < policy.targets[i] && splits.size() < max_splits) {
      const Cents d = kBuckets[i];
      const StoredNote* donor = pick_donor(donors, used, d, have, policy);
      if (donor == nullptr) break;
      used.insert(donor->id);
      if (is_denomination(donor->value)) --have[bucket_of(donor->value)];
      const Cents rest = donor->value - d;
      ++have[i];
      if (is_denomination(rest)) ++have[bucket_of(rest)];
      splits.push_back(PlannedSplit{*donor, d, rest});
    }
  }
  return splits;
}

Rebalancer::Rebalancer(NoteStore& notes, eth::PoolChain& chain, PaymentSender& sender, ChainIndexer& indexer,
                       Clock& clock, ProverSource prover, RebalancerOptions options)
    : notes_(notes),
      chain_(chain),
      sender_(sender),
      indexer_(indexer),
      clock_(clock),
      prover_(std::move(prover)),
      options_(std::move(options)) {}

Result<RebalanceRound> Rebalancer::run() {
  RebalanceRound round;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes,
                             notes_.list_notes(options_.wallet, NoteState::kOnChain));
  std::vector<PlannedSplit> splits = plan_splits(notes, options_.policy, options_.max_splits);
  if (splits.empty()) return round;
  BUCKETPAY_ASSIGN_OR_RETURN(ProverPool* const pool, prover_());
  BUCKETPAY_RETURN_IF_ERROR(indexer_.refresh_tree());
  BUCKETPAY_ASSIGN_OR_RETURN(const Prepared prepared, prepare(std::move(splits)));
  const auto t_prove = clock_.steady_now();
  BatchOptions bo;
  if (options_.on_progress) {
    bo.on_result = [&](const ProofResult&, std::size_t done, std::size_t total) { options_.on_progress(done, total); };
  }
  const std::vector<ProofResult> results = pool->prove_all(prepared.requests, bo);
  const Result<eth::Fees> fees = chain_.fees();
  round.report.prove_ms = clock_.ms_since(t_prove);
  Status first_error = Status::ok();
  for (std::size_t i = 0; i < prepared.splits.size(); ++i) {
    BUCKETPAY_RETURN_IF_ERROR(send_one(prepared, i, results[i], fees, round, first_error));
  }
  if (round.report.splits == 0 && !first_error.is_ok()) return first_error;
  return round;
}

Result<Rebalancer::Prepared> Rebalancer::prepare(std::vector<PlannedSplit> splits) {
  Prepared prepared;
  for (const PlannedSplit& split : splits) {
    if (Status st = prepare_one(split, prepared); !st.is_ok()) return abandon_all(prepared, st);
  }
  prepared.splits = std::move(splits);
  return prepared;
}

Status Rebalancer::prepare_one(const PlannedSplit& split, Prepared& prepared) {
  const SplitOutputs outputs{Note::create(options_.pk, split.wanted), Note::create(options_.pk, split.rest)};
  Payment p;
  p.kind = "rebalance";
  p.amount = 0;
  p.note_ids = {split.donor.id};
  for (const Note* out : {&outputs.out1, &outputs.out2}) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, wallet_util::insert_pending_note(notes_, options_.wallet, *out));
    p.new_note_ids.push_back(id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, sender_.record(p));
  prepared.payment_ids.push_back(id);
  // Nothing is withdrawn; the recipient is bound anyway, and the Pool refuses the zero address.
  BUCKETPAY_ASSIGN_OR_RETURN(SplitProofJob job, split_proof_job(indexer_.tree(), options_.sk, split.donor, 0,
                                                                wallet_util::address_fr(options_.account), outputs,
                                                                "rebalance-" + std::to_string(id)));
  prepared.requests.push_back(std::move(job.request));
  prepared.statements.push_back(job.statement);
  return Status::ok();
}

Status Rebalancer::abandon_all(const Prepared& prepared, const Status& why) {
  // A long-running keeper would otherwise hold their notes until the journal's grace runs out.
  for (std::int64_t id : prepared.payment_ids) BUCKETPAY_RETURN_IF_ERROR(sender_.abandon(id, why.message()));
  return why;
}

Status Rebalancer::send_one(const Prepared& prepared, std::size_t i, const ProofResult& proved,
                            const Result<eth::Fees>& fees, RebalanceRound& round, Status& first_error) {
  const std::int64_t id = prepared.payment_ids[i];
  Status why = !proved.proof.ok() ? proved.proof.status() : fees.status();
  Result<eth::Bytes> calldata = Status::internal("not encoded");  // a Result never holds an OK Status
  if (why.is_ok()) {
    calldata = eth::PoolClient::encode_split(split_call(prepared.statements[i], *proved.proof, 0, options_.account));
    why = calldata.status();
  }
  if (!why.is_ok()) {
    // Nothing of this split was signed: released now.
    BUCKETPAY_RETURN_IF_ERROR(sender_.abandon(id, why.message()));
    if (first_error.is_ok()) first_error = why;
    return Status::ok();
  }
  auto settled = sender_.send(SendRequest{id, *calldata, "split", kSplitGas, *fees, clock_.steady_now(), nullptr});
  if (!settled.ok()) {
    if (first_error.is_ok()) first_error = settled.status();
    return Status::ok();
  }
  const PlannedSplit& split = prepared.splits[i];
  ++round.report.splits;
  round.report.gas_used += settled->gas_used;
  round.last_block = std::max(round.last_block, settled->block);
  round.report.made.push_back(wallet_util::dollars(split.donor.value) + " -> " + wallet_util::dollars(split.wanted) +
                              " + " + wallet_util::dollars(split.rest));
  return Status::ok();
}

}  // namespace bucketpay
