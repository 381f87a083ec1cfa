// The sender of the wallet's own transactions (protocol v2: deposits) on a scripted chain (no node)
// and a manual clock: the signed bytes journaled before they are sent and settled by the receipt,
// a dropped transaction sent again byte for byte, one replaced through its nonce, a node that
// stalls, the prepared-entry grace, the sender lock, settlements as compare-and-sets, and a deposit
// that would revert never journaled as signed.
#include "payment_sender.h"

#include <gtest/gtest.h>

#include "parts_testing.h"

namespace bucketpay::testing {
namespace {

using PaymentSenderTest = WalletParts;

TEST_F(PaymentSenderTest, SendRecordsTheSignedBytesAndConfirmsFromTheReceipt) {
  const std::vector<Note> notes = {pending_note(4), pending_note(2)};
  const std::int64_t id = record_deposit(notes, 6);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    EXPECT_EQ(payment(id).state, PaymentState::kSigned) << "journaled before it is sent";
    chain_->mine_sent(tx.hash, inserted({notes[0].commitment(), notes[1].commitment()}));
  };
  // Reading the nonce (the send's only request before signing, here) takes 7 ms.
  chain_->before_call = [&](const std::string& method) {
    if (method == "nonce") clock_.advance(std::chrono::milliseconds(7));
    return Status::ok();
  };
  auto s = sender_->send(send_request(id));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed);
  ASSERT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(p.raw_tx, chain_->sent()[0].raw);
  EXPECT_EQ(p.tx_hash, eth::to_hex(chain_->sent()[0].hash));
  EXPECT_EQ(p.nonce, 0U);
  EXPECT_EQ(p.block, s->block);
  EXPECT_DOUBLE_EQ(latency_ms_, 7.0) << "the latency is on the wallet's clock";
  // The notes land when the sync reads the deposit's events.
  ASSERT_TRUE(indexer_->sync().ok());
  for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kOnChain);
}

TEST_F(PaymentSenderTest, ADroppedTransactionIsSentAgainByteForByte) {
  const std::vector<Note> notes = {pending_note(4)};
  const std::int64_t id = record_deposit(notes, 4);
  // The node takes it, never mines it, and forgets it.
  auto s = sender_->send(send_request(id));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kTimeout);
  EXPECT_NE(s.status().message().find("is not mined yet"), std::string::npos) << s.status().message();
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted);
  ASSERT_EQ(chain_->sent().size(), 1U);
  chain_->drop(chain_->sent()[0].hash);

  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, inserted({notes[0].commitment()}));
  };
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 1U);
  ASSERT_EQ(chain_->sent().size(), 2U);
  EXPECT_EQ(chain_->sent()[1].raw, chain_->sent()[0].raw) << "the very same bytes";
  EXPECT_EQ(chain_->sent()[1].hash, chain_->sent()[0].hash);
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed);
  // Nothing left to do: nothing is sent a third time.
  EXPECT_EQ(*sender_->recover(), 0U);
  EXPECT_EQ(chain_->sent().size(), 2U);
}

TEST_F(PaymentSenderTest, ATransactionReplacedThroughItsNonceFailsAndKeepsItsNotesPending) {
  const std::vector<Note> notes = {pending_note(8)};
  const std::int64_t id = record_deposit(notes, 8);
  // The node drops it, and another transaction of the account takes its nonce.
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->drop(tx.hash);
    chain_->mine({ScriptedTx{fresh_hash(), account_key_.address(), tx.nonce, true, 21'000, {}, {}}});
  };
  auto s = sender_->send(send_request(id));
  ASSERT_EQ(s.status().code(), StatusCode::kTimeout) << s.status().to_string();
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 1U);
  const Payment p = payment(id);
  EXPECT_EQ(p.state, PaymentState::kFailed);
  EXPECT_NE(p.error.find("never mined"), std::string::npos) << p.error;
  ASSERT_EQ(state_of(notes[0]), NoteState::kPending) << "its signed bytes were out: kept, in case they land";
  EXPECT_EQ(chain_->sent().size(), 1U) << "never sent again: it can never be mined";
}

TEST_F(PaymentSenderTest, APreparedDepositIsGivenUpOnlyAfterItsGraceOnTheClock) {
  const Note note = pending_note(3);
  const std::int64_t id = record_deposit({note}, 3);
  EXPECT_EQ(payment(id).created_ms, clock_.unix_ms());
  // Another process may still be between recording and signing: under five minutes it is left alone.
  clock_.advance(std::chrono::minutes(4) + std::chrono::seconds(59));
  auto settled = sender_->recover();
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(*settled, 0U);
  EXPECT_EQ(payment(id).state, PaymentState::kPrepared);
  // Past the grace it is a crash's leftover: given up, its notes (never signed) deleted.
  clock_.advance(std::chrono::seconds(2));
  settled = sender_->recover();
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(*settled, 1U);
  EXPECT_EQ(payment(id).state, PaymentState::kFailed);
  EXPECT_EQ(payment(id).error, "stopped before it was signed");
  EXPECT_FALSE(exists(note));
  EXPECT_TRUE(chain_->sent().empty());
}

TEST_F(PaymentSenderTest, AStallingNodeLeavesTheDepositInFlightUntilItAnswers) {
  const std::vector<Note> notes = {pending_note(4)};
  const std::int64_t id = record_deposit(notes, 4);
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
  // recover() on a node that still stalls fails the same way and changes nothing.
  auto r = sender_->recover();
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted);
  // The node answers again; the transaction was mined meanwhile.
  chain_->before_call = nullptr;
  chain_->mine_sent(chain_->sent()[0].hash, inserted({notes[0].commitment()}));
  r = sender_->recover();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 1U);
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed);
}

TEST_F(PaymentSenderTest, RecoverWaitsForTheSenderLock) {
  const std::int64_t id = record_deposit({pending_note(4)}, 4);
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
  const std::int64_t id = record_deposit({pending_note(4)}, 4);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, {}, /*success=*/false, "ZeroValue()");
  };
  // While this process reads the (reverted) receipt, another one confirms the deposit.
  auto other = must(open_sqlite_store(dir_ / "wallet.db"));
  chain_->before_call = [&](const std::string& method) {
    if (method == "receipt" && chain_->sent().size() == 1) {
      Status st = other->confirm_payment(id, 90'000, 99);
      EXPECT_TRUE(st.is_ok() || st.code() == StatusCode::kFailedPrecondition) << st.to_string();
    }
    return Status::ok();
  };
  auto s = sender_->send(send_request(id));
  ASSERT_TRUE(s.ok()) << "the other settler's verdict stands: " << s.status().to_string();
  EXPECT_EQ(s->block, 99U);
  EXPECT_EQ(payment(id).state, PaymentState::kConfirmed) << "not failed over the other's confirmation";
}

TEST_F(PaymentSenderTest, ADepositThatWouldRevertIsNeverJournaledAsSigned) {
  const Note note = pending_note(1);
  const std::int64_t id = record_deposit({note}, 1);
  chain_->simulate_failure = Status::failed_precondition("ZeroValue()");
  auto s = sender_->send(send_request(id));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "Pool.depositMany reverted: ZeroValue()");
  EXPECT_TRUE(chain_->sent().empty());
  const Payment failed = payment(id);
  EXPECT_EQ(failed.state, PaymentState::kFailed);
  EXPECT_TRUE(failed.raw_tx.empty()) << "never signed into the journal";
  EXPECT_FALSE(exists(note)) << "it cannot land";
  // Its nonce is free again: the next deposit signs it.
  chain_->simulate_failure.reset();
  const Note again = pending_note(2);
  const std::int64_t next = record_deposit({again}, 2);
  chain_->on_sent = [&](const eth::SignedTransaction& tx) {
    chain_->mine_sent(tx.hash, inserted({again.commitment()}));
  };
  ASSERT_TRUE(sender_->send(send_request(next)).ok());
  EXPECT_EQ(payment(next).nonce, 0U);
}

TEST_F(PaymentSenderTest, RecoverLeavesRelayedPaymentsToTheRelay) {
  const std::vector<Note> notes = ready({4});
  Payment p = store_testing::make_payment({id_of(notes[0])});
  p.wallet = kWallet;
  const std::int64_t id = must(store_->begin_payment(p));
  clock_.advance(std::chrono::minutes(10));
  auto r = sender_->recover();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 0U);
  EXPECT_EQ(payment(id).state, PaymentState::kPrepared);
}

}  // namespace
}  // namespace bucketpay::testing
