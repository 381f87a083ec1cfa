#include "rebalancer.h"

#include <algorithm>
#include <array>
#include <set>

#include "split_proof.h"
#include "wallet_util.h"

namespace bucketpay {

namespace {

// The smallest unused donor worth more than `d` and the fee: an odd note first (no denomination:
// change the inventory should be rid of), then a surplus note (a denomination above its target),
// then any.
const StoredNote* pick_donor(const std::vector<const StoredNote*>& donors, const std::set<std::int64_t>& used, Cents d,
                             Cents min_fee, const NoteCounts& have, const InventoryPolicy& policy) {
  auto count = [&](Cents v) {
    auto it = have.find(v);
    return it == have.end() ? std::uint32_t{0} : it->second;
  };
  for (int level = 0; level < 3; ++level) {
    for (const StoredNote* n : donors) {
      if (used.count(n->id) != 0 || n->value <= min_fee || n->value - min_fee < d || n->value == d) continue;
      const bool odd = !policy.is_denomination(n->value);
      const bool surplus = !odd && count(n->value) > policy.target(n->value);
      if ((level == 0 && odd) || (level == 1 && surplus) || level == 2) return n;
    }
  }
  return nullptr;
}

std::string describe(const PlannedSplit& s) {
  std::string out = wallet_util::dollars(s.donor.value);
  out += " ->";
  for (std::size_t i = 0; i < s.outputs.size(); ++i) {
    out += i == 0 ? " " : " + ";
    out += wallet_util::dollars(s.outputs[i]);
  }
  out += " (fee ";
  out += wallet_util::dollars(s.fee);
  out += ")";
  return out;
}

}  // namespace

std::vector<PlannedSplit> plan_splits(const std::vector<StoredNote>& on_chain, const InventoryPolicy& policy,
                                      Cents min_fee, std::size_t max_splits) {
  NoteCounts have;
  for (const StoredNote& n : on_chain) {
    if (policy.is_denomination(n.value)) ++have[n.value];
  }
  std::vector<const StoredNote*> donors;  // smallest first
  donors.reserve(on_chain.size());
  for (const StoredNote& n : on_chain) donors.push_back(&n);
  std::stable_sort(donors.begin(), donors.end(), [](const auto* a, const auto* b) { return a->value < b->value; });
  std::set<std::int64_t> used;
  std::set<Cents> unfillable;
  std::vector<PlannedSplit> splits;
  while (splits.size() < max_splits) {
    const Shortage shortage = policy.shortage(have);
    auto wanted =
        std::find_if(shortage.begin(), shortage.end(), [&](const auto& kv) { return unfillable.count(kv.first) == 0; });
    if (wanted == shortage.end()) break;
    const Cents d = wanted->first;
    const StoredNote* donor = pick_donor(donors, used, d, min_fee, have, policy);
    if (donor == nullptr) {
      unfillable.insert(d);
      continue;
    }
    used.insert(donor->id);
    if (policy.is_denomination(donor->value)) --have[donor->value];
    const FanOut fan = plan_fan_out(donor->value, min_fee, d, policy, policy.shortage(have));
    for (Cents out : fan.outputs) {
      if (policy.is_denomination(out)) ++have[out];
    }
    splits.push_back(PlannedSplit{*donor, fan.fee, fan.outputs});
  }
  return splits;
}

Rebalancer::Rebalancer(NoteStore& notes, PaymentRelay& relay, FeeQuotes& quotes, ChainIndexer& indexer, Clock& clock,
                       ProverSource prover, RebalancerOptions options)
    : notes_(notes),
      relay_(relay),
      quotes_(quotes),
      indexer_(indexer),
      clock_(clock),
      prover_(std::move(prover)),
      options_(std::move(options)) {}

Result<RebalanceReport> Rebalancer::run(const std::string& url) {
  RebalanceReport report;
  if (url.empty()) {
    return Status::failed_precondition("no relayer: set one with `bucketpay init --relayer URL`");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes,
                             notes_.list_notes(options_.wallet, NoteState::kOnChain));
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayQuote quote, quotes_.get(url, eth::BundleKind::kSplit, 1));
  BUCKETPAY_ASSIGN_OR_RETURN(const Cents min_fee, quotes_.fee_cents(quote));
  std::vector<PlannedSplit> splits = plan_splits(notes, options_.policy, min_fee, options_.max_splits);
  if (splits.empty()) return report;
  BUCKETPAY_ASSIGN_OR_RETURN(ProverPool* const pool, prover_());
  BUCKETPAY_RETURN_IF_ERROR(indexer_.refresh_tree());
  BUCKETPAY_ASSIGN_OR_RETURN(const Prepared prepared, prepare(std::move(splits), quote, url));
  const auto t_prove = clock_.steady_now();
  BatchOptions bo;
  if (options_.on_progress) {
    bo.on_result = [&](const ProofResult&, std::size_t done, std::size_t total) { options_.on_progress(done, total); };
  }
  const std::vector<ProofResult> results = pool->prove_all(prepared.requests, bo);
  report.prove_ms = clock_.ms_since(t_prove);
  Status first_error = Status::ok();
  for (std::size_t i = 0; i < prepared.splits.size(); ++i) {
    BUCKETPAY_RETURN_IF_ERROR(hand_over_one(prepared, i, results[i], quote, url, report, first_error));
  }
  if (report.splits == 0 && !first_error.is_ok()) return first_error;
  return report;
}

Result<Rebalancer::Prepared> Rebalancer::prepare(std::vector<PlannedSplit> splits, const eth::RelayQuote& quote,
                                                 const std::string& url) {
  Prepared prepared;
  for (const PlannedSplit& split : splits) {
    if (Status st = prepare_one(split, quote, url, prepared); !st.is_ok()) return abandon_all(prepared, st);
  }
  prepared.splits = std::move(splits);
  return prepared;
}

Status Rebalancer::prepare_one(const PlannedSplit& split, const eth::RelayQuote& quote, const std::string& url,
                               Prepared& prepared) {
  const std::vector<Note> outputs = output_notes(options_.pk, split.outputs);
  Payment p;
  p.kind = PaymentKind::kRebalance;
  p.amount = split.fee;
  p.recipient = quote.fee_recipient.to_hex();
  p.note_ids = {split.donor.id};
  p.deadline = static_cast<std::uint64_t>(clock_.unix_ms() / 1000) + options_.deadline_s;
  p.fee = (eth::U256(split.fee) * quotes_.unit()).to_decimal();
  p.relayer = url;
  for (const Note& out : outputs) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, wallet_util::insert_pending_note(notes_, options_.wallet, out));
    p.new_note_ids.push_back(id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, relay_.reserve(p));
  prepared.payment_ids.push_back(id);
  BUCKETPAY_ASSIGN_OR_RETURN(const SplitOutputs padded, make_split_outputs(outputs));
  BUCKETPAY_ASSIGN_OR_RETURN(SplitProofJob job, split_proof_job(indexer_.tree(), options_.sk, split.donor, split.fee,
                                                                padded, "rebalance-" + std::to_string(id)));
  prepared.requests.push_back(std::move(job.request));
  prepared.statements.push_back(job.statement);
  return Status::ok();
}

Status Rebalancer::abandon_all(const Prepared& prepared, const Status& why) {
  // A long-running keeper would otherwise hold their notes until the journal's grace runs out.
  for (std::int64_t id : prepared.payment_ids) BUCKETPAY_RETURN_IF_ERROR(relay_.abandon(id, why.message()));
  return why;
}

Status Rebalancer::hand_over_one(const Prepared& prepared, std::size_t i, const ProofResult& proved,
                                 const eth::RelayQuote& quote, const std::string& url, RebalanceReport& report,
                                 Status& first_error) {
  const std::int64_t id = prepared.payment_ids[i];
  const PlannedSplit& split = prepared.splits[i];
  if (!proved.proof.ok()) {
    // Nothing of this split was signed: released now.
    BUCKETPAY_RETURN_IF_ERROR(relay_.abandon(id, proved.proof.status().message()));
    if (first_error.is_ok()) first_error = proved.proof.status();
    return Status::ok();
  }
  // The deadline runs from the signature, after the proofs.
  const std::uint64_t deadline = static_cast<std::uint64_t>(clock_.unix_ms() / 1000) + options_.deadline_s;
  const eth::U256 fee = eth::U256(split.fee) * quotes_.unit();
  const eth::RelayBundle bundle = split_bundle(options_.domain, options_.sk, split.donor, prepared.statements[i],
                                               *proved.proof, quote.fee_recipient, fee, quote.fee_recipient, deadline);
  auto handed = relay_.hand_over(id, url, bundle, clock_.steady_now());
  if (!handed.ok()) {
    if (first_error.is_ok()) first_error = handed.status();
    return Status::ok();
  }
  ++report.splits;
  report.fees += split.fee;
  report.payment_ids.push_back(id);
  report.made.push_back(describe(split));
  return Status::ok();
}

}  // namespace bucketpay
