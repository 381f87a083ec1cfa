#include "payer.h"

#include <algorithm>

#include "split_proof.h"
#include "wallet_util.h"

namespace bucketpay {

namespace {

// Re-plans when the number of notes changes the fee; a plan settles in one or two rounds.
constexpr int kFeeRounds = 4;

std::string no_relayer() { return "no relayer: set one with `bucketpay init --relayer URL` or give `--relayer URL`"; }

}  // namespace

Payer::Payer(NoteStore& notes, ProofStore& proofs, PaymentRelay& relay, FeeQuotes& quotes, ChainIndexer& indexer,
             Clock& clock, ProverSource prover, PayerOptions options)
    : notes_(notes),
      proofs_(proofs),
      relay_(relay),
      quotes_(quotes),
      indexer_(indexer),
      clock_(clock),
      prover_(std::move(prover)),
      options_(std::move(options)) {}

std::uint64_t Payer::deadline() {
  return static_cast<std::uint64_t>(clock_.unix_ms() / 1000) + (deadline_s_ != 0 ? deadline_s_ : options_.deadline_s);
}

Result<PaymentReport> Payer::pay(Cents amount, const eth::Address& to, MissingPolicy policy, const std::string& url,
                                 std::uint64_t deadline_s) {
  deadline_s_ = deadline_s;
  if (amount == 0) return Status::invalid_argument("the amount must be positive");
  if (to.is_zero()) return Status::invalid_argument("cannot pay the zero address");
  if (url.empty()) return Status::failed_precondition(no_relayer());
  // Relayer time is not payment latency: the quotes the plan may need are fetched (or found in the
  // cache) before the clock starts. A plan of the amount alone says how many notes to quote for: up
  // to two more (the fee may need more notes), and any fewer (the fee may need fewer: 60 cents are 4
  // notes, 60 and a fee of 7 are 64 + 2 + 1). A quote fetched inside the clock was a payment's
  // slowest step (a request to the relayer, 100 ms and more under load).
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> before, ready_notes(notes_, proofs_, options_.wallet));
  std::uint32_t guess = 1;
  if (auto p = plan(before, amount, 0); p.ok()) guess = static_cast<std::uint32_t>(p->size());
  for (std::uint32_t n = 1; n <= std::min<std::uint32_t>(guess + 2, eth::kMaxBundleSpends); ++n) {
    BUCKETPAY_RETURN_IF_ERROR(quotes_.get(url, eth::BundleKind::kSpendBatch, n).status());
  }
  if (policy != MissingPolicy::kRefuse)
    BUCKETPAY_RETURN_IF_ERROR(quotes_.get(url, eth::BundleKind::kSplit, 1).status());

  const auto started = clock_.steady_now();
  PaymentReport report;
  report.amount = amount;
  report.recipient = to;
  report.relayer = url;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes,
                             notes_.list_notes(options_.wallet, NoteState::kOnChain));
  Cents on_chain = 0;
  for (const StoredNote& n : notes) on_chain += n.value;
  if (on_chain <= amount) {
    return Status::not_found("the balance on chain is " + wallet_util::dollars(on_chain) + ", not more than " +
                             wallet_util::dollars(amount) + " and the relayer's fee");
  }
  if (policy == MissingPolicy::kAlwaysSplit) return pay_by_split(notes, started, report);
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready, ready_notes(notes_, proofs_, options_.wallet));
  eth::RelayQuote quote;
  auto chosen = plan_with_fee(ready, url, report, quote);
  if (chosen.ok()) return pay_from_precomputes(*chosen, quote, started, report);
  if (chosen.status().code() != StatusCode::kNotFound || policy == MissingPolicy::kRefuse) {
    return chosen.status().with_context("no ready proofs make " + wallet_util::dollars(amount) +
                                        " and the relayer's fee; `bucketpay rebalance` refills the inventory, and "
                                        "--on-missing split proves a split now");
  }
  return pay_by_split(notes, started, report);
}

Result<std::vector<ReadyNote>> Payer::plan(const std::vector<ReadyNote>& ready, Cents amount, Cents min_fee,
                                           Cents* fee) const {
  std::vector<PlanNote> available;
  available.reserve(ready.size());
  for (const ReadyNote& r : ready) {
    available.push_back(PlanNote{r.note.id, r.note.value, !options_.policy.is_denomination(r.note.value)});
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const FeePlan planned, plan_payment_with_fee(available, amount, min_fee));
  const Plan& plan = planned.plan;
  if (plan.notes.size() > eth::kMaxBundleSpends) {
    return Status::not_found(wallet_util::dollars(amount + planned.fee) + " needs " +
                             std::to_string(plan.notes.size()) + " notes, more than one payment carries (" +
                             std::to_string(eth::kMaxBundleSpends) + ")");
  }
  if (fee != nullptr) *fee = planned.fee;
  std::vector<ReadyNote> chosen;
  for (const PlanNote& n : plan.notes) {
    auto it = std::find_if(ready.begin(), ready.end(), [&](const ReadyNote& r) { return r.note.id == n.note_id; });
    chosen.push_back(*it);
  }
  return chosen;
}

Result<std::vector<ReadyNote>> Payer::plan_with_fee(const std::vector<ReadyNote>& ready, const std::string& url,
                                                    PaymentReport& report, eth::RelayQuote& quote) {
  // The fee depends on the number of notes, which depends on the fee: start from the number the
  // amount alone takes, and accept a plan whose own quote the fee covers.
  std::uint32_t n = 1;
  if (auto p = plan(ready, report.amount, 0); p.ok()) n = static_cast<std::uint32_t>(p->size());
  Status last = Status::not_found("no plan");
  for (int round = 0; round < kFeeRounds && n <= eth::kMaxBundleSpends; ++round) {
    BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayQuote q, quotes_.get(url, eth::BundleKind::kSpendBatch, n));
    BUCKETPAY_ASSIGN_OR_RETURN(const Cents quoted, quotes_.fee_cents(q));
    Cents fee = quoted;
    auto chosen = plan(ready, report.amount, quoted, &fee);
    if (!chosen.ok()) {
      if (chosen.status().code() != StatusCode::kNotFound) return chosen.status();
      // The fee for more notes may make an amount the notes can (a larger fee, a different sum).
      last = chosen.status();
      ++n;
      continue;
    }
    const auto m = static_cast<std::uint32_t>(chosen->size());
    BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayQuote qm, quotes_.get(url, eth::BundleKind::kSpendBatch, m));
    BUCKETPAY_ASSIGN_OR_RETURN(const Cents fee_m, quotes_.fee_cents(qm));
    if (fee_m <= fee) {
      // The fee paid is the one planned for: at least the quote for the notes it spends.
      report.fee = fee;
      quote = qm;
      return chosen;
    }
    n = m;
    last = Status::not_found("the relayer's fee kept growing with the notes it pays for");
  }
  return last;
}

Result<PaymentReport> Payer::pay_from_precomputes(const std::vector<ReadyNote>& chosen, const eth::RelayQuote& quote,
                                                  Clock::Steady::time_point started, PaymentReport report) {
  const eth::U256 fee = eth::U256(report.fee) * quotes_.unit();
  report.deadline = deadline();
  Payment p;
  p.kind = PaymentKind::kPay;
  p.amount = report.amount;
  p.recipient = report.recipient.to_hex();
  p.deadline = report.deadline;
  p.fee = fee.to_decimal();
  p.relayer = report.relayer;
  eth::RelayBundle bundle;
  bundle.kind = eth::BundleKind::kSpendBatch;
  bundle.chain_id = options_.domain.chain_id.low_u64();
  bundle.pool = options_.domain.pool;
  bundle.payment.recipient = report.recipient;
  bundle.payment.fee = fee;
  bundle.payment.fee_recipient = quote.fee_recipient;
  bundle.payment.deadline = eth::U256(report.deadline);
  for (const ReadyNote& r : chosen) {
    p.note_ids.push_back(r.note.id);
    report.notes.push_back(r.note.value);
    const SpendStatement& st = r.statement;
    bundle.spends.push_back(eth::SpendCall{eth::Bytes(r.proof.proof.begin(), r.proof.proof.end()),
                                           wallet_util::to_u256(st.root), wallet_util::to_u256(st.nullifier), st.value,
                                           st.auth_address()});
    bundle.payment.nullifiers.push_back(wallet_util::to_u256(st.nullifier));
  }
  // Each note's auth key signs the digest; it must be the key its proof binds. Signed before the
  // notes are reserved, so that reserving and journaling are one durable commit.
  const eth::Hash32 digest = bundle.digest();
  for (const ReadyNote& r : chosen) {
    const eth::PrivateKey key = auth_key(SpendingKey::from_fr(options_.sk), r.note.commitment);
    if (key.address() != r.statement.auth_address()) {
      return Status::corruption("the spend proof of note " + std::to_string(r.note.id) +
                                " binds an auth address that is not its note's");
    }
    bundle.signatures.push_back(eth::sign_digest(key, digest));
  }
  report.digest = eth::to_hex(digest);
  if (Result<eth::Bytes> calldata = bundle.calldata(); calldata.ok()) {
    const eth::Hash32 hash = eth::keccak256(*calldata);
    report.bundle_hash = eth::to_hex(hash);
    const eth::PrivateKey first = auth_key(SpendingKey::from_fr(options_.sk), chosen.front().note.commitment);
    report.release_signature = eth::to_hex(eth::sign_digest(first, eth::x402_release_message(digest, hash)));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const Handover h,
                             relay_.reserve_signed_and_hand_over(std::move(p), report.relayer, bundle, started));
  report.payment_id = h.payment_id;
  report.bundle_ready_ms = h.ready_ms;
  report.latency_ms = h.latency_ms;
  if (h.relayer_tx) report.relayer_tx = eth::to_hex(*h.relayer_tx);
  report.state = PaymentState::kSubmitted;
  return report;
}

Result<PaymentReport> Payer::pay_by_split(const std::vector<StoredNote>& notes, Clock::Steady::time_point started,
                                          PaymentReport report) {
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayQuote quote, quotes_.get(report.relayer, eth::BundleKind::kSplit, 1));
  BUCKETPAY_ASSIGN_OR_RETURN(report.fee, quotes_.fee_cents(quote));
  const Cents total = report.amount + report.fee;
  // On demand: the smallest odd note that covers the amount and the fee (its change comes back as
  // denominations), else the smallest note that does.
  const StoredNote* donor = nullptr;
  for (const bool odd_only : {true, false}) {
    for (const StoredNote& n : notes) {
      if (odd_only && options_.policy.is_denomination(n.value)) continue;
      if (n.value >= total && (donor == nullptr || n.value < donor->value)) donor = &n;
    }
    if (donor != nullptr) break;
  }
  if (donor == nullptr) {
    return Status::not_found("no single note covers " + wallet_util::dollars(report.amount) +
                             " and the relayer's fee " + wallet_util::dollars(report.fee) + " for an on-demand split");
  }
  // The change back to the wallet, as the denominations the inventory lacks where it can.
  NoteCounts have;
  for (const StoredNote& n : notes) {
    if (options_.policy.is_denomination(n.value) && n.id != donor->id) ++have[n.value];
  }
  const Shortage shortage = options_.policy.shortage(have);
  const std::vector<Note> change =
      output_notes(options_.pk, split_outputs(donor->value - total, options_.policy, shortage));
  const eth::U256 fee = eth::U256(report.fee) * quotes_.unit();
  Payment p;
  p.kind = PaymentKind::kSplit;
  p.amount = report.amount;
  p.recipient = report.recipient.to_hex();
  p.note_ids = {donor->id};
  p.deadline = deadline();
  p.fee = fee.to_decimal();
  p.relayer = report.relayer;
  for (const Note& c : change) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, wallet_util::insert_pending_note(notes_, options_.wallet, c));
    p.new_note_ids.push_back(id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(report.payment_id, relay_.reserve(p));
  report.notes = {donor->value};
  report.proved_on_demand = true;
  auto prover = prover_();
  if (!prover.ok()) return relay_.give_up(report.payment_id, prover.status());
  if (Status st = indexer_.refresh_tree(); !st.is_ok()) return relay_.give_up(report.payment_id, st);
  auto outputs = make_split_outputs(change);
  if (!outputs.ok()) return relay_.give_up(report.payment_id, outputs.status());
  auto job = split_proof_job(indexer_.tree(), options_.sk, *donor, total, *outputs,
                             "pay-split-" + std::to_string(report.payment_id));
  if (!job.ok()) return relay_.give_up(report.payment_id, job.status());
  const auto t_prove = clock_.steady_now();
  ProofResult proved = (*prover)->prove_now(job->request);
  report.prove_ms = clock_.ms_since(t_prove);
  if (!proved.proof.ok())
    return relay_.give_up(report.payment_id, proved.proof.status().with_context("proving the split"));
  // The deadline runs from the signature, after the proof.
  report.deadline = deadline();
  const eth::RelayBundle bundle = split_bundle(options_.domain, options_.sk, *donor, job->statement, *proved.proof,
                                               report.recipient, fee, quote.fee_recipient, report.deadline);
  report.digest = eth::to_hex(bundle.digest());
  if (Result<eth::Bytes> calldata = bundle.calldata(); calldata.ok()) {
    const eth::Hash32 hash = eth::keccak256(*calldata);
    report.bundle_hash = eth::to_hex(hash);
    const eth::PrivateKey key = auth_key(SpendingKey::from_fr(options_.sk), donor->commitment);
    report.release_signature = eth::to_hex(eth::sign_digest(key, eth::x402_release_message(bundle.digest(), hash)));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const Handover h, relay_.hand_over(report.payment_id, report.relayer, bundle, started));
  report.bundle_ready_ms = h.ready_ms;
  report.latency_ms = h.latency_ms;
  if (h.relayer_tx) report.relayer_tx = eth::to_hex(*h.relayer_tx);
  report.state = PaymentState::kSubmitted;
  return report;
}

}  // namespace bucketpay
