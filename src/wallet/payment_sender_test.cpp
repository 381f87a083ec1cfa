// The payment sender on a scripted chain (no node) and a manual clock: a dropped transaction sent
// again byte for byte, a transaction replaced through its nonce, a copy of the wallet's calldata
// sent by a third party (settled by chain truth; a split's outputs kept and landing), a node that
// stalls, the prepared-payment grace, the sender lock, and settlements as compare-and-sets.
#include "wallet/payment_sender.h"

#include <gtest/gtest.h>

#include "wallet/parts_testing.h"

namespace bucketpay::testing {
namespace {

using PaymentSenderTest = WalletParts;

TEST_F(PaymentSenderTest, SendRecordsTheSignedBytesAndConfirmsFromTheReceipt) {
  const std::vector<Note> notes = deposited({4, 2});
  const std::int64_t id = record_pay(notes, payee_, 6);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    EXPECT_EQ(payment(id).state, PaymentState::kSigned) << "journaled before it is sent";
    chain_->mine_sent(tx.hash, {spent(nullifier_of(notes[0]), payee_, 4), spent(nullifier_of(notes[1]), payee_, 2)});
  };
  // Reading the nonce (the send's only request before signing, here) takes 7 ms.
  chain_->before_call = [&](const std::string& method) {
    if (method == "nonce") clock_.advance(std::chrono::milliseconds(7));
    return Status::ok();
  };
  auto s = sender_->send(send_request(id));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_FALSE(s->settled_by.has_value());
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed);
  ASSERT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(p.raw_tx, chain_->sent()[0].raw);
  EXPECT_EQ(p.tx_hash, eth::to_hex(chain_->sent()[0].hash));
  EXPECT_EQ(p.nonce, 1U) << "after the wallet's deposit";
  EXPECT_EQ(p.block, s->block);
  EXPECT_TRUE(p.settled_by.empty());
  EXPECT_DOUBLE_EQ(latency_ms_, 7.0) << "the latency is on the wallet's clock";
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, ADroppedTransactionIsSentAgainByteForByte) {
  const std::vector<Note> notes = deposited({4});
  const std::int64_t id = record_pay(notes, payee_, 4);
  // The node takes it, never mines it, and forgets it.
  auto s = sender_->send(send_request(id));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kTimeout);
  EXPECT_NE(s.status().message().find("is not mined yet"), std::string::npos) << s.status().message();
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpending);
  ASSERT_EQ(chain_->sent().size(), 1U);
  chain_->drop(chain_->sent()[0].hash);

  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, {spent(nullifier_of(notes[0]), payee_, 4)});
  };
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 1U);
  ASSERT_EQ(chain_->sent().size(), 2U);
  EXPECT_EQ(chain_->sent()[1].raw, chain_->sent()[0].raw) << "the very same bytes";
  EXPECT_EQ(chain_->sent()[1].hash, chain_->sent()[0].hash);
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
  // Nothing left to do: nothing is sent a third time.
  EXPECT_EQ(*sender_->recover(), 0U);
  EXPECT_EQ(chain_->sent().size(), 2U);
}

TEST_F(PaymentSenderTest, AThirdPartysCopyThatPaidFirstSettlesThePaymentByChainTruth) {
  const std::vector<Note> notes = deposited({4, 1});
  const std::int64_t id = record_pay(notes, payee_, 5);
  eth::Hash32 copy{};
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    // Someone copies the calldata from the node's pool and gets it mined first, from their account;
    // the wallet's own transaction then reverts.
    ScriptedTx theirs =
        third_party_tx({spent(nullifier_of(notes[0]), payee_, 4), spent(nullifier_of(notes[1]), payee_, 1)});
    copy = theirs.hash;
    chain_->mine({theirs});
    chain_->mine_sent(tx.hash, {}, /*success=*/false, "NullifierAlreadySpent(...)");
  };
  auto s = sender_->send(send_request(id));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  ASSERT_TRUE(s->settled_by.has_value());
  EXPECT_EQ(*s->settled_by, copy);
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed) << "paid, if not by the wallet's own transaction";
  EXPECT_EQ(p.settled_by, eth::to_hex(copy));
  EXPECT_EQ(p.tx_hash, eth::to_hex(chain_->sent()[0].hash));
  EXPECT_EQ(p.block, s->block);
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, ASplitCopiedByAThirdPartyKeepsItsOutputsAndTheyLand) {
  const std::vector<Note> donor = deposited({8});
  const Note change = pending_note(5);
  Payment split;
  split.kind = "split";
  split.amount = 3;
  split.recipient = payee_.to_hex();
  split.note_ids = {id_of(donor[0])};
  split.new_note_ids = {id_of(change)};
  const std::int64_t id = must(sender_->record(split));
  const Note zero{Fr::zero(), 0, Fr::zero()};
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine(
        {third_party_tx(split_events(nullifier_of(donor[0]), payee_, 3, change.commitment(), zero.commitment()))});
    chain_->mine_sent(tx.hash, {}, /*success=*/false, "NullifierAlreadySpent(...)");
  };
  auto s = sender_->send(send_request(id, "split"));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(s->settled_by.has_value());
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed);
  EXPECT_EQ(state_of(change), NoteState::kPending) << "kept: its leaf is on chain";
  auto synced = indexer_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_EQ(state_of(change), NoteState::kOnChain);
  EXPECT_EQ(stored(change).leaf_index, std::optional<std::uint64_t>(1));
  EXPECT_EQ(state_of(donor[0]), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, ASpendThatPaidSomeoneElseDoesNotSettleThePayment) {
  // A node that shows the nullifier spent to another recipient: the payment did not pay what it
  // meant to. It fails; the note, whose nullifier is on chain anyway, is spent.
  const std::vector<Note> notes = deposited({4, 2});
  const std::int64_t id = record_pay(notes, payee_, 6);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine({third_party_tx({spent(nullifier_of(notes[0]), third_party_, 4)})});
    chain_->mine_sent(tx.hash, {}, /*success=*/false, "NullifierAlreadySpent(...)");
  };
  auto s = sender_->send(send_request(id));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("Pool.spendBatch reverted: NullifierAlreadySpent"), std::string::npos)
      << s.status().message();
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kFailed);
  EXPECT_TRUE(p.settled_by.empty());
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
  EXPECT_EQ(state_of(notes[1]), NoteState::kOnChain) << "released";
}

TEST_F(PaymentSenderTest, ATransactionReplacedThroughItsNonceFailsAndKeepsTheSplitsOutputs) {
  const std::vector<Note> donor = deposited({8});
  const Note change = pending_note(6);
  Payment split;
  split.kind = "split";
  split.amount = 2;
  split.recipient = payee_.to_hex();
  split.note_ids = {id_of(donor[0])};
  split.new_note_ids = {id_of(change)};
  const std::int64_t id = must(sender_->record(split));
  // The node drops it, and another transaction of the account takes its nonce.
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->drop(tx.hash);
    chain_->mine({ScriptedTx{fresh_hash(), account_key_.address(), tx.nonce, true, 21'000, {}, {}}});
  };
  auto s = sender_->send(send_request(id, "split"));
  ASSERT_EQ(s.status().code(), StatusCode::kTimeout) << s.status().to_string();
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 1U);
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kFailed);
  EXPECT_NE(p.error.find("never mined"), std::string::npos) << p.error;
  EXPECT_EQ(state_of(donor[0]), NoteState::kOnChain) << "released";
  ASSERT_EQ(state_of(change), NoteState::kPending) << "the signed split is public: its output could still land";
  EXPECT_EQ(chain_->sent().size(), 1U) << "never sent again: it can never be mined";

  // And it does: a third party sends the copy. The sync finds the output and the spent donor.
  const Note zero{Fr::zero(), 0, Fr::zero()};
  chain_->mine(
      {third_party_tx(split_events(nullifier_of(donor[0]), payee_, 2, change.commitment(), zero.commitment()))});
  ASSERT_TRUE(indexer_->sync().ok());
  EXPECT_EQ(state_of(change), NoteState::kOnChain);
  EXPECT_EQ(state_of(donor[0]), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, ATransactionReplacedButPaidByACopyIsConfirmed) {
  const std::vector<Note> notes = deposited({2});
  const std::int64_t id = record_pay(notes, payee_, 2);
  eth::Hash32 copy{};
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    ScriptedTx theirs = third_party_tx({spent(nullifier_of(notes[0]), payee_, 2)});
    copy = theirs.hash;
    chain_->mine({theirs});
    chain_->drop(tx.hash);
    chain_->mine({ScriptedTx{fresh_hash(), account_key_.address(), tx.nonce, true, 21'000, {}, {}}});
  };
  ASSERT_EQ(sender_->send(send_request(id)).status().code(), StatusCode::kTimeout);
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 1U);
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed);
  EXPECT_EQ(p.settled_by, eth::to_hex(copy));
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, APreparedPaymentIsReleasedOnlyAfterItsGraceOnTheClock) {
  const std::vector<Note> notes = deposited({4});
  const Note output = pending_note(3);
  Payment p;
  p.kind = "split";
  p.amount = 1;
  p.recipient = payee_.to_hex();
  p.note_ids = {id_of(notes[0])};
  p.new_note_ids = {id_of(output)};
  const std::int64_t id = must(sender_->record(p));
  EXPECT_EQ(payment(id).created_ms, clock_.unix_ms());
  // Another process may still be proving it: under five minutes it is left alone.
  clock_.advance(std::chrono::minutes(4) + std::chrono::seconds(59));
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 0U);
  EXPECT_EQ(payment(id).state, PaymentState::kPrepared);
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpending);
  // Past the grace it is a crash's leftover: released, and its output (never signed) deleted.
  clock_.advance(std::chrono::seconds(2));
  settled = sender_->recover();
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(*settled, 1U);
  EXPECT_EQ(payment(id).state, PaymentState::kFailed);
  EXPECT_EQ(payment(id).error, "stopped before it was signed");
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
  EXPECT_EQ(store_->get_note(id_of(output)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(chain_->sent().empty());
}

TEST_F(PaymentSenderTest, AStallingNodeLeavesThePaymentInFlightUntilItAnswers) {
  const std::vector<Note> notes = deposited({4});
  const std::int64_t id = record_pay(notes, payee_, 4);
  chain_->before_call = [](const std::string& method) {
    return method == "receipt" ? Status::timeout("scripted node: eth_getTransactionReceipt timed out after 10000 ms")
                               : Status::ok();
  };
  auto s = sender_->send(send_request(id));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kTimeout);
  EXPECT_NE(s.status().message().find("was sent and is not mined yet"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("eth_getTransactionReceipt timed out"), std::string::npos);
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted) << "signed, sent, waiting: nothing half-settled";
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpending);
  // recover() on a node that still stalls fails the same way and changes nothing.
  auto r = sender_->recover();
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted);
  // The node answers again; the transaction was mined meanwhile.
  chain_->before_call = nullptr;
  chain_->mine_sent(chain_->sent()[0].hash, {spent(nullifier_of(notes[0]), payee_, 4)});
  r = sender_->recover();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 1U);
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed);
}

TEST_F(PaymentSenderTest, RecoverWaitsForTheSenderLock) {
  const std::vector<Note> notes = deposited({4});
  const std::int64_t id = record_pay(notes, payee_, 4);
  clock_.advance(std::chrono::minutes(10));
  // Another process sending for the account holds the lock.
  auto other = must(open_sqlite_store(dir_ / "wallet.db"));
  auto held = must(other->lock("sender-" + account_key_.address().to_hex(), std::chrono::milliseconds(100)));
  auto r = sender_->recover();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("another process sending for this account"), std::string::npos);
  EXPECT_EQ(payment(id).state, PaymentState::kPrepared) << "nothing decided without the lock";
  held.reset();
  r = sender_->recover();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(payment(id).state, PaymentState::kFailed);
}

TEST_F(PaymentSenderTest, ASettlementIsACompareAndSetThatLosesToAnotherSettler) {
  const std::vector<Note> notes = deposited({4});
  const std::int64_t id = record_pay(notes, payee_, 4);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, {}, /*success=*/false, "UnknownRoot(1)");
  };
  // While this process looks up the payment's spends, another one confirms it.
  auto other = must(open_sqlite_store(dir_ / "wallet.db"));
  chain_->before_call = [&](const std::string& method) {
    if (method == "spends_of") {
      EXPECT_TRUE(other->confirm_payment(id, 90'000, 99).is_ok());
    }
    return Status::ok();
  };
  auto s = sender_->send(send_request(id));
  ASSERT_TRUE(s.ok()) << "the other settler's verdict stands: " << s.status().to_string();
  EXPECT_EQ(s->block, 99U);
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed) << "not failed over the other's confirmation";
  EXPECT_EQ(state_of(notes[0]), NoteState::kSpent);
}

TEST_F(PaymentSenderTest, APaymentThatWouldRevertIsNeverJournaledAsSigned) {
  const std::vector<Note> notes = deposited({4});
  const Note output = pending_note(1);
  Payment p;
  p.kind = "split";
  p.amount = 3;
  p.recipient = payee_.to_hex();
  p.note_ids = {id_of(notes[0])};
  p.new_note_ids = {id_of(output)};
  const std::int64_t id = must(sender_->record(p));
  chain_->simulate_failure = Status::failed_precondition("UnknownRoot(7)");
  auto s = sender_->send(send_request(id, "split"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "Pool.split reverted: UnknownRoot(7)");
  EXPECT_TRUE(chain_->sent().empty());
  const Payment failed = payment(id);
  EXPECT_EQ(failed.state, PaymentState::kFailed);
  EXPECT_TRUE(failed.raw_tx.empty()) << "never signed into the journal";
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
  EXPECT_EQ(store_->get_note(id_of(output)).status().code(), StatusCode::kNotFound) << "it cannot land";
  // Its nonce is free again: the next payment signs it.
  chain_->simulate_failure.reset();
  const std::int64_t next = record_pay(notes, payee_, 4);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, {spent(nullifier_of(notes[0]), payee_, 4)});
  };
  ASSERT_TRUE(sender_->send(send_request(next)).ok());
  EXPECT_EQ(payment(next).nonce, 1U);
}

}  // namespace
}  // namespace bucketpay::testing
