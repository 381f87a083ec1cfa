// Relayed payments on a scripted chain and a scripted relayer (no node, no relayer process) and a
// manual clock: a payment planned for its amount and the relayer's fee, signed by each note's auth
// key and handed over; fee quotes fetched before the latency clock and cached while valid; and
// settlement by chain truth: a third party's replay of a pending payment and of a pending split
// (paid; the split's outputs kept and spendable), a bundle the relayer lost handed over again and a
// dropped transaction sent again (landing once), a reorganisation under a settled payment, the
// deadline passing unpaid (notes freed only by a synced block past it) and a bundle mined before
// its deadline but seen after it (paid, not freed), and relayers that refuse or time out (nothing
// freed early).
#include "payment_relay.h"

#include <gtest/gtest.h>

#include "parts_testing.h"
#include "split_proof.h"

namespace bucketpay::testing {
namespace {

class PaymentRelayTest : public WalletParts {
 protected:
  Result<PaymentReport> pay(Cents amount) {
    return payer_->pay(amount, payee_, MissingPolicy::kRefuse, relayer_->url());
  }
  Payment settle(std::int64_t id) { return must(relay_->settle(id)); }
  // Mines a block at the clock's time and syncs.
  void mine_and_sync() {
    chain_->mine_empty(1);
    ASSERT_TRUE(indexer_->sync().ok());
  }
  // The bundle journaled for payment `id`.
  eth::RelayBundle bundle_of(std::int64_t id) { return must(eth::decode_bundle(payment(id).bundle_json)); }

  // A split of `donor` withdrawing `amount` to `recipient` (fee `fee` cents to the relayer) with
  // `outputs` back to the wallet, reserved, "proved" (its statement; the scripted relayer checks no
  // proof) and handed over. The handover's result; `id` and `outs` are set either way.
  Result<Handover> split(const Note& donor, Cents amount, Cents fee, const eth::Address& recipient,
                         const std::vector<Cents>& outputs, std::int64_t& id, std::vector<Note>& outs) {
    outs = output_notes(pk_, outputs);
    Payment p;
    p.kind = PaymentKind::kRebalance;
    p.amount = amount;
    p.recipient = recipient.to_hex();
    p.note_ids = {id_of(donor)};
    p.deadline = now_s() + kDeadline;
    p.fee = (eth::U256(fee) * kUnit).to_decimal();
    p.relayer = relayer_->url();
    for (const Note& o : outs) {
      p.new_note_ids.push_back(must(wallet_util::insert_pending_note(*store_, kWallet, o)));
      ids_[wallet_util::fr_key(o.commitment())] = p.new_note_ids.back();
    }
    id = must(relay_->reserve(p));
    const SplitOutputs padded = must(make_split_outputs(outs));
    const SplitProofJob job = must(split_proof_job(tree_, sk_, stored(donor), amount, padded, "test-split"));
    const bb::ProofData proof{job.statement.public_inputs(), std::vector<std::uint8_t>(96, 0x11)};
    const eth::RelayBundle bundle = split_bundle(domain_, sk_, stored(donor), job.statement, proof, recipient,
                                                 eth::U256(fee) * kUnit, relayer_->fee_recipient, p.deadline);
    return relay_->hand_over(id, relayer_->url(), bundle, clock_.steady_now());
  }
};

TEST_F(PaymentRelayTest, PaysTheAmountAndTheFeeSignedByEachNotesAuthKeyAndSettlesByItsSpentEvents) {
  const std::vector<Note> notes = ready({64, 32, 16, 8, 4, 2, 1});
  // The relayer's quotes take 40 ms; handing the bundle over 3 ms: only the latter is latency, and
  // none of it the wallet's part (the clock stands still while the wallet plans, signs, journals).
  relayer_->before_quote = [&] { clock_.advance(std::chrono::milliseconds(40)); };
  relayer_->before_submit = [&] { clock_.advance(std::chrono::milliseconds(3)); };
  auto r = pay(50);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // The quote for 3 notes is 2.5 + 3 cents: 6 cents in whole cents; 56 = 32 + 16 + 8.
  EXPECT_EQ(r->fee, 6U);
  EXPECT_EQ(r->notes, (std::vector<Cents>{32, 16, 8}));
  EXPECT_DOUBLE_EQ(r->latency_ms, 3.0) << "the quotes come before the clock starts";
  EXPECT_DOUBLE_EQ(r->bundle_ready_ms, 0.0) << "the wallet's part ends before the relayer is asked";
  EXPECT_EQ(r->state, PaymentState::kSubmitted);
  EXPECT_EQ(r->deadline, now_s() + kDeadline);
  ASSERT_EQ(relayer_->received.size(), 1U);
  const eth::RelayBundle& b = relayer_->received[0];
  EXPECT_EQ(b.kind, eth::BundleKind::kSpendBatch);
  EXPECT_EQ(b.payment.recipient, payee_);
  EXPECT_EQ(b.payment.fee, eth::U256(6) * kUnit);
  EXPECT_EQ(b.payment.fee_recipient, relayer_->fee_recipient);
  EXPECT_EQ(b.payment.deadline, eth::U256(r->deadline));
  ASSERT_EQ(b.spends.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    // Each spend's auth is its note's key's address, and the signature recovers to it.
    const Note& n = notes[1 + i];
    EXPECT_EQ(b.spends[i].auth, auth_address(SpendingKey::from_fr(sk_), n.commitment()));
    EXPECT_EQ(b.spends[i].nullifier, wallet_util::to_u256(nullifier_of(n)));
    EXPECT_EQ(*eth::recover_signer(b.digest(), b.signatures[i]), b.spends[i].auth);
    EXPECT_EQ(state_of(n), NoteState::kSpending);
  }
  const Payment p = payment(r->payment_id);
  EXPECT_EQ(p.kind, PaymentKind::kPay);
  EXPECT_EQ(p.state, PaymentState::kSubmitted);
  EXPECT_EQ(p.digest, eth::to_hex(b.digest()));
  EXPECT_EQ(r->digest, p.digest);
  EXPECT_EQ(p.fee, "60000");
  EXPECT_EQ(p.relayer, relayer_->url());
  EXPECT_EQ(bundle_of(p.id), b) << "the journal holds the bundle handed over";
  EXPECT_EQ(p.relayer_tx, r->relayer_tx);
  EXPECT_DOUBLE_EQ(p.latency_ms, 3.0);

  // Not on chain yet: in flight. Then the relayer's transaction lands.
  EXPECT_EQ(settle(p.id).state, PaymentState::kSubmitted);
  const std::uint64_t block = *relayer_->mine();
  const Payment paid = settle(p.id);
  EXPECT_EQ(paid.state, PaymentState::kConfirmed);
  EXPECT_EQ(paid.settled_by, p.relayer_tx);
  EXPECT_EQ(paid.block, block);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(state_of(notes[i]), NoteState::kSpent);
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
}

TEST_F(PaymentRelayTest, FeeQuotesAreFetchedBeforeTheClockAndCachedWhileValid) {
  ready({16, 16, 8, 8, 4, 4, 2, 2, 1, 1});
  ASSERT_TRUE(pay(10).ok());
  const std::size_t asked = relayer_->quotes;
  EXPECT_GE(asked, 1U);
  clock_.advance(std::chrono::seconds(30));
  ASSERT_TRUE(pay(10).ok());
  EXPECT_EQ(relayer_->quotes, asked) << "valid for 60 s: taken from the cache";
  clock_.advance(std::chrono::seconds(30));  // 60 s after they were made: no longer valid
  ASSERT_TRUE(pay(1).ok());
  EXPECT_GT(relayer_->quotes, asked);
}

TEST_F(PaymentRelayTest, AFeeThatTakesFewerNotesFindsItsQuoteFetchedBeforeTheClock) {
  ready({64, 32, 16, 8, 4, 2, 1});
  relayer_->before_quote = [&] { clock_.advance(std::chrono::milliseconds(40)); };
  relayer_->before_submit = [&] { clock_.advance(std::chrono::milliseconds(3)); };
  // 60 alone is 32 + 16 + 8 + 4; with the quote for 4 notes (2.5 + 4 -> 7 cents) it is 67 = 64 + 2 +
  // 1, three notes, whose quote (6 cents) the fee covers: that quote was fetched before the clock.
  auto r = pay(60);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->notes, (std::vector<Cents>{64, 2, 1}));
  EXPECT_EQ(r->fee, 7U);
  EXPECT_DOUBLE_EQ(r->bundle_ready_ms, 0.0) << "no quote inside the clock";
  EXPECT_DOUBLE_EQ(r->latency_ms, 3.0);
}

TEST_F(PaymentRelayTest, AThirdPartysReplayOfAPendingPaymentSettlesIt) {
  const std::vector<Note> notes = ready({8, 4});
  // The relayer takes the bundle and then does not answer: the wallet cannot know it has it.
  relayer_->time_out_after_taking = true;
  auto r = pay(7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_NE(r.status().message().find("notes stay reserved until its deadline"), std::string::npos)
      << r.status().message();
  const std::vector<Payment> all = must(store_->list_payments(kWallet, std::nullopt));
  ASSERT_EQ(all.size(), 1U);
  const Payment p = all[0];
  EXPECT_EQ(p.state, PaymentState::kSigned);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpending);
  // Someone who saw the bundle sends it first, from their own account.
  const std::uint64_t block = relayer_->replay(bundle_of(p.id), third_party_);
  const Payment paid = settle(p.id);
  EXPECT_EQ(paid.state, PaymentState::kConfirmed) << "paid, whoever sent it";
  EXPECT_EQ(paid.block, block);
  EXPECT_EQ(paid.settled_by, eth::to_hex(eth::keccak256("replay of " + p.digest)));
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpent);
}

TEST_F(PaymentRelayTest, AThirdPartysReplayOfAPendingSplitSettlesItAndItsOutputsLandSpendable) {
  const std::vector<Note> donor = ready({64});
  relayer_->refuse = Status::failed_precondition("the relayer at http://relayer.test refused (HTTP 503 as 4xx)");
  std::int64_t id = 0;
  std::vector<Note> outs;
  auto handed = split(donor[0], 6, 6, relayer_->fee_recipient, {32, 16, 8, 2}, id, outs);
  ASSERT_FALSE(handed.ok());
  EXPECT_EQ(payment(id).state, PaymentState::kSigned);
  for (const Note& o : outs) EXPECT_EQ(state_of(o), NoteState::kPending);
  relayer_->replay(bundle_of(id), third_party_);
  EXPECT_EQ(settle(id).state, PaymentState::kConfirmed);
  EXPECT_EQ(state_of(donor[0]), NoteState::kSpent);
  for (const Note& o : outs) EXPECT_EQ(state_of(o), NoteState::kPending) << "until the sync finds its leaf";
  ASSERT_TRUE(indexer_->sync().ok());
  for (const Note& o : outs) EXPECT_EQ(state_of(o), NoteState::kOnChain);
  // Spendable: with their spend proofs they pay.
  make_ready(outs);
  relayer_->refuse.reset();
  auto paid = pay(29);  // 29 + 5 (the quote for two notes, rounded up) = 34 = 32 + 2
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->notes, (std::vector<Cents>{32, 2}));
}

TEST_F(PaymentRelayTest, ABundleTheRelayerLostIsHandedOverAgainAndLandsOnce) {
  const std::vector<Note> notes = ready({4, 2});
  auto r = pay(1);  // 1 + 5 (the quote for two notes, rounded up) = 6 = 4 + 2
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const eth::Hash32 digest = *eth::hash_from_hex(r->digest);
  // The node drops the relayer's transaction and the relayer restarts without its journal.
  relayer_->drop_pending();
  relayer_->forget(digest);
  EXPECT_FALSE(relayer_->mine().has_value());
  EXPECT_EQ(settle(r->payment_id).state, PaymentState::kSubmitted) << "nothing freed: it may still land";
  EXPECT_EQ(relayer_->posts, 2U) << "handed over again: the relayer did not know it";
  EXPECT_TRUE(relayer_->knows(digest));
  ASSERT_TRUE(relayer_->mine().has_value());
  EXPECT_EQ(settle(r->payment_id).state, PaymentState::kConfirmed);
  // Known and settled: never handed over a third time.
  ASSERT_TRUE(relay_->recover().ok());
  EXPECT_EQ(relayer_->posts, 2U);
}

TEST_F(PaymentRelayTest, ABundleNeverHandedOverIsHandedOverWhenTheRelayerIsBack) {
  const std::vector<Note> notes = ready({8});
  relayer_->refuse = Status::unavailable("cannot reach POST /v1/relay at the relayer http://relayer.test");
  auto r = pay(4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  const Payment p = must(store_->list_payments(kWallet, std::nullopt))[0];
  EXPECT_EQ(p.state, PaymentState::kSigned);
  relayer_->refuse.reset();
  auto settled = relay_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(payment(p.id).state, PaymentState::kSubmitted);
  ASSERT_TRUE(relayer_->mine().has_value());
  EXPECT_EQ(settle(p.id).state, PaymentState::kConfirmed);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
}

TEST_F(PaymentRelayTest, AReorganisationUnderASettledPaymentReopensItAndItLandsAgain) {
  const std::vector<Note> notes = ready({8, 4});
  const MerkleTree before = pool_tree_;
  auto r = pay(7);  // 7 + 5 (two notes' fee) = 12 = 8 + 4
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::uint64_t block = *relayer_->mine();
  ASSERT_TRUE(indexer_->sync().ok());
  ASSERT_EQ(settle(r->payment_id).state, PaymentState::kConfirmed);
  // The block that paid it is reorganised away.
  pool_tree_ = before;
  chain_->reorg(block, 2);
  auto synced = indexer_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_GE(synced->reorg_depth, 1U);
  EXPECT_EQ(payment(r->payment_id).state, PaymentState::kSubmitted) << "no longer paid: in flight again";
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpending) << "and still reserved, not freed";
  EXPECT_EQ(settle(r->payment_id).state, PaymentState::kSubmitted);
  // The relayer sends it again; it lands in a new block.
  relayer_->resend_lost();
  const std::uint64_t again = *relayer_->mine();
  ASSERT_TRUE(indexer_->sync().ok());
  const Payment paid = settle(r->payment_id);
  EXPECT_EQ(paid.state, PaymentState::kConfirmed);
  EXPECT_EQ(paid.block, again);
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpent);
}

TEST_F(PaymentRelayTest, ARefusedPaymentStaysReservedUntilASyncedBlockIsPastItsDeadline) {
  const std::vector<Note> notes = ready({8, 4});
  make_indexer({}, /*confirmations=*/2);
  chain_->mine_empty(2);
  ASSERT_TRUE(indexer_->sync().ok());
  relayer_->refuse = Status::failed_precondition("the relayer at http://relayer.test refused (HTTP 422): fee");
  auto r = pay(7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  const Payment p = must(store_->list_payments(kWallet, std::nullopt))[0];
  EXPECT_EQ(p.state, PaymentState::kSigned);
  EXPECT_EQ(settle(p.id).state, PaymentState::kSigned);
  EXPECT_EQ(relayer_->posts, 2U) << "handed over again while there is time";
  // The relayer keeps refusing; time passes up to the deadline: nothing is freed.
  clock_.advance(std::chrono::seconds(kDeadline));
  mine_and_sync();
  EXPECT_EQ(settle(p.id).state, PaymentState::kSigned) << "a block at the deadline: the Pool still takes it";
  EXPECT_EQ(relayer_->posts, 2U) << "too close to the deadline to hand over again";
  // Past the deadline at the head, but the synced chain (2 confirmations) is not yet: still reserved.
  clock_.advance(std::chrono::seconds(1));
  mine_and_sync();
  EXPECT_EQ(settle(p.id).state, PaymentState::kSigned);
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpending);
  mine_and_sync();
  mine_and_sync();
  const Payment expired = settle(p.id);
  EXPECT_EQ(expired.state, PaymentState::kFailed);
  EXPECT_NE(expired.error.find("passed unpaid"), std::string::npos) << expired.error;
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kOnChain) << "free again";
}

TEST_F(PaymentRelayTest, AnExpiredSplitDropsItsOutputs) {
  const std::vector<Note> donor = ready({64});
  relayer_->refuse = Status::failed_precondition("refused");
  std::int64_t id = 0;
  std::vector<Note> outs;
  ASSERT_FALSE(split(donor[0], 10, 4, payee_, {32, 16, 4, 2}, id, outs).ok());
  clock_.advance(std::chrono::seconds(kDeadline + 1));
  mine_and_sync();
  EXPECT_EQ(settle(id).state, PaymentState::kFailed);
  EXPECT_EQ(state_of(donor[0]), NoteState::kOnChain);
  for (const Note& o : outs) EXPECT_FALSE(exists(o)) << "past the deadline they can never land";
}

TEST_F(PaymentRelayTest, PastItsDeadlineANoteSpentByAnotherPaymentIsSpentAndTheOthersFree) {
  // One of the payment's notes is spent by another payment (e.g. of a restored copy of the wallet):
  // this one can never land, but nothing is decided before its deadline.
  const std::vector<Note> notes = ready({8, 4});
  relayer_->refuse = Status::failed_precondition("refused");
  ASSERT_FALSE(pay(7).ok());
  const Payment p = must(store_->list_payments(kWallet, PaymentState::kSigned))[0];
  chain_->mine({third_party_tx({spent(nullifier_of(notes[0]), eth::keccak256("another payment"))})});
  EXPECT_EQ(settle(p.id).state, PaymentState::kSigned) << "not paid by it, not past its deadline";
  clock_.advance(std::chrono::seconds(kDeadline + 1));
  mine_and_sync();
  EXPECT_EQ(settle(p.id).state, PaymentState::kFailed);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
  EXPECT_EQ(state_of(notes[1]), NoteState::kOnChain);
}

TEST_F(PaymentRelayTest, ABundleMinedBeforeItsDeadlineButSeenAfterItIsPaidNotFreed) {
  const std::vector<Note> notes = ready({8, 4});
  relayer_->time_out_after_taking = true;
  auto r = pay(7);
  ASSERT_FALSE(r.ok());
  const Payment p = must(store_->list_payments(kWallet, std::nullopt))[0];
  // Mined just before the deadline; the wallet looks only long after it.
  clock_.advance(std::chrono::seconds(kDeadline - 1));
  ASSERT_TRUE(relayer_->mine().has_value());
  clock_.advance(std::chrono::hours(1));
  mine_and_sync();
  const Payment paid = settle(p.id);
  EXPECT_EQ(paid.state, PaymentState::kConfirmed) << "the chain says paid: never freed";
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpent);
}

TEST_F(PaymentRelayTest, ARelayerForAnotherChainOrPoolIsRefusedBeforeAnythingIsReserved) {
  const std::vector<Note> notes = ready({8});
  auto other_pool = std::make_unique<ScriptedRelayer>(
      *chain_, clock_, eth::PaymentDomain{eth::U256(31337), third_party_},
      [this](const eth::RelayBundle& b, const eth::Hash32& d) { return events_of(b, d); });
  relayer_.swap(other_pool);
  auto r = pay(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not this wallet's Pool"), std::string::npos) << r.status().message();
  EXPECT_TRUE(must(store_->list_payments(kWallet, std::nullopt)).empty());
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
  relayer_.swap(other_pool);
}

TEST_F(PaymentRelayTest, WhatTheReadyProofsCannotMakeIsRefusedSayingWhatIsMissing) {
  ready({8, 4});
  auto r = pay(11);  // 11 + the fee is more than 12
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("and the relayer's fee"), std::string::npos) << r.status().message();
  EXPECT_TRUE(must(store_->list_payments(kWallet, std::nullopt)).empty());
  EXPECT_EQ(payer_->pay(3, payee_, MissingPolicy::kRefuse, "").status().code(), StatusCode::kFailedPrecondition)
      << "no relayer named";
}

}  // namespace
}  // namespace bucketpay::testing
