#include "wallet/payer.h"

#include <algorithm>

#include "wallet/split_proof.h"
#include "wallet/wallet_util.h"

namespace bucketpay {

namespace {

// spendBatch gas: the measured cost is ~745k-801k per proof (docs/gas.md); the limit leaves room.
constexpr std::uint64_t kSpendBatchBaseGas = 150'000;
constexpr std::uint64_t kSpendGasPerProof = 950'000;
constexpr std::uint64_t kSplitGas = 1'500'000;
// Notes per payment: what fits a 30M-gas block with kSpendGasPerProof each.
constexpr std::size_t kMaxNotesPerPayment = 30;

void fill(PaymentReport& report, const Settlement& s) {
  report.tx_hash = eth::to_hex(s.tx_hash);
  report.gas_used = s.gas_used;
  report.block = s.block;
}

}  // namespace

Payer::Payer(NoteStore& notes, ProofStore& proofs, eth::PoolChain& chain, AccountSigner& signer, PaymentSender& sender,
             ChainIndexer& indexer, Clock& clock, ProverSource prover, PayerOptions options)
    : notes_(notes),
      proofs_(proofs),
      chain_(chain),
      signer_(signer),
      sender_(sender),
      indexer_(indexer),
      clock_(clock),
      prover_(std::move(prover)),
      options_(std::move(options)) {}

Result<PaymentReport> Payer::pay(Cents amount, const eth::Address& to, MissingPolicy policy) {
  if (amount == 0) return Status::invalid_argument("the amount must be positive");
  if (to.is_zero()) return Status::invalid_argument("cannot pay the zero address");
  // Chain time is not payment latency: the fee data is read before the clock starts.
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Fees fees, chain_.fees());
  // The nonce is read afresh under the sender lock: another process (a keeper) may have sent since
  // this one last did, and none can send until this payment is with the node.
  BUCKETPAY_ASSIGN_OR_RETURN(PaymentSender::SenderLock sender, sender_.lock_sender());
  BUCKETPAY_RETURN_IF_ERROR(signer_.prefetch());
  const auto started = clock_.steady_now();
  PaymentReport report;
  report.amount = amount;
  report.recipient = to;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes,
                             notes_.list_notes(options_.wallet, NoteState::kOnChain));
  Cents on_chain = 0;
  for (const StoredNote& n : notes) on_chain += n.value;
  if (on_chain < amount) {
    return Status::not_found("the balance on chain is " + wallet_util::dollars(on_chain) + ", less than " +
                             wallet_util::dollars(amount));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready,
                             ready_notes(notes_, proofs_, options_.wallet, wallet_util::address_fr(to)));
  auto chosen = plan(ready, amount);
  if (chosen.ok()) return pay_from_precomputes(std::move(*chosen), fees, std::move(sender), started, report);
  if (chosen.status().code() != StatusCode::kNotFound || policy == MissingPolicy::kRefuse) {
    const bool other_payee = to != options_.payee;
    return chosen.status().with_context(
        "no ready proofs make " + wallet_util::dollars(amount) +
        (other_payee ? " for " + to.to_hex() + " (the inventory is proved for " + options_.payee.to_hex() + ")" : "") +
        "; `bucketpay rebalance` refills the inventory, and --on-missing split proves a split now");
  }
  // Proving takes a while: other processes may send meanwhile, and the split takes the lock again.
  sender.reset();
  return pay_by_split(notes, fees, started, report);
}

Result<std::vector<ReadyNote>> Payer::plan(const std::vector<ReadyNote>& ready, Cents amount) const {
  std::vector<PlanNote> available;
  available.reserve(ready.size());
  for (const ReadyNote& r : ready) available.push_back(PlanNote{r.note.id, r.note.value});
  BUCKETPAY_ASSIGN_OR_RETURN(const Plan plan, plan_payment(available, amount));
  if (plan.notes.size() > kMaxNotesPerPayment) {
    return Status::not_found(wallet_util::dollars(amount) + " needs " + std::to_string(plan.notes.size()) +
                             " notes, more than one transaction carries (" + std::to_string(kMaxNotesPerPayment) + ")");
  }
  std::vector<ReadyNote> chosen;
  for (const PlanNote& n : plan.notes) {
    auto it = std::find_if(ready.begin(), ready.end(), [&](const ReadyNote& r) { return r.note.id == n.note_id; });
    chosen.push_back(*it);
  }
  return chosen;
}

Result<PaymentReport> Payer::pay_from_precomputes(std::vector<ReadyNote> chosen, const eth::Fees& fees,
                                                  PaymentSender::SenderLock sender, Clock::Steady::time_point started,
                                                  PaymentReport report) {
  Payment p;
  p.kind = "pay";
  p.amount = report.amount;
  p.recipient = report.recipient.to_hex();
  std::vector<eth::SpendCall> calls;
  for (const ReadyNote& r : chosen) {
    const Precompute& pc = r.proofs.front();
    p.note_ids.push_back(r.note.id);
    report.notes.push_back(r.note.value);
    calls.push_back(eth::SpendCall{eth::Bytes(pc.proof.begin(), pc.proof.end()),
                                   wallet_util::to_u256(pc.public_inputs[0]), wallet_util::to_u256(pc.public_inputs[1]),
                                   r.note.value, report.recipient});
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes calldata, eth::PoolClient::encode_spend_batch(calls));
  BUCKETPAY_ASSIGN_OR_RETURN(report.payment_id, sender_.record(p));
  SendRequest send{
      report.payment_id, calldata,          "spendBatch", kSpendBatchBaseGas + kSpendGasPerProof * calls.size(), fees,
      started,           &report.latency_ms};
  BUCKETPAY_ASSIGN_OR_RETURN(const Settlement settled, sender_.send(send, std::move(sender)));
  fill(report, settled);
  return report;
}

Result<PaymentReport> Payer::pay_by_split(const std::vector<StoredNote>& notes, const eth::Fees& fees,
                                          Clock::Steady::time_point started, PaymentReport report) {
  // On demand: the smallest note that covers the amount, split into the payment and the change.
  const StoredNote* donor = nullptr;
  for (const StoredNote& n : notes) {
    if (n.value >= report.amount && (donor == nullptr || n.value < donor->value)) donor = &n;
  }
  if (donor == nullptr) {
    return Status::not_found("no single note covers " + wallet_util::dollars(report.amount) +
                             " for an on-demand split");
  }
  const Note change = Note::create(options_.pk, donor->value - report.amount);
  Payment p;
  p.kind = "split";
  p.amount = report.amount;
  p.recipient = report.recipient.to_hex();
  p.note_ids = {donor->id};
  if (change.value > 0) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t change_id,
                               wallet_util::insert_pending_note(notes_, options_.wallet, change));
    p.new_note_ids.push_back(change_id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(report.payment_id, sender_.record(p));
  report.notes = {donor->value};
  report.proved_on_demand = true;
  auto calldata = prove_split(report.payment_id, *donor, change, report);
  if (!calldata.ok()) return sender_.give_up(report.payment_id, calldata.status());
  SendRequest send{report.payment_id, *calldata, "split", kSplitGas, fees, started, &report.latency_ms};
  BUCKETPAY_ASSIGN_OR_RETURN(const Settlement settled, sender_.send(send));
  fill(report, settled);
  return report;
}

Result<eth::Bytes> Payer::prove_split(std::int64_t payment_id, const StoredNote& donor, const Note& change,
                                      PaymentReport& report) {
  BUCKETPAY_ASSIGN_OR_RETURN(ProverPool* const pool, prover_());
  BUCKETPAY_RETURN_IF_ERROR(indexer_.refresh_tree());  // another process may have synced the donor's leaf
  const SplitOutputs outputs{change.value > 0 ? change : Note{Fr::zero(), 0, Fr::zero()},
                             Note{Fr::zero(), 0, Fr::zero()}};
  BUCKETPAY_ASSIGN_OR_RETURN(
      const SplitProofJob job,
      split_proof_job(indexer_.tree(), options_.sk, donor, report.amount, wallet_util::address_fr(report.recipient),
                      outputs, "pay-split-" + std::to_string(payment_id)));
  const auto t_prove = clock_.steady_now();
  ProofResult proved = pool->prove_now(job.request);
  report.prove_ms = clock_.ms_since(t_prove);
  if (!proved.proof.ok()) return proved.proof.status().with_context("proving the split");
  return eth::PoolClient::encode_split(split_call(job.statement, *proved.proof, report.amount, report.recipient));
}

}  // namespace bucketpay
