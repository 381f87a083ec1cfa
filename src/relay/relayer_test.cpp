// The relayer's rules on a TestChain and a real SQLite store: every refusal (nothing journaled,
// nothing sent), the quote it honours, one transaction per digest, and the journal's states
// through receipts, reverts, a third party's copy, dropped transactions, node failures, restarts
// and two processes.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "relay_testing.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using eth::U256;
using nlohmann::json;
using testing::RelayFixture;
using testing::TestBundle;
using Outcome = Submission::Outcome;

class RelayerTest : public ::testing::Test, public RelayFixture {
 protected:
  // Submits and expects a refusal with `message` in it; nothing may be journaled or sent.
  void expect_refused(const std::string& body, Refusal refusal, const std::string& message) {
    const std::size_t sent_before = chain_->sent().size();
    const std::int64_t open_before = must_counts().open();
    const Submission s = relayer_->submit(body);
    ASSERT_EQ(s.outcome, Outcome::kRefused) << s.status.to_string();
    EXPECT_EQ(s.refusal, refusal) << refusal_name(s.refusal) << ": " << s.status.message();
    EXPECT_NE(s.status.message().find(message), std::string::npos) << s.status.message();
    EXPECT_EQ(s.status.message().find('\n'), std::string::npos);
    EXPECT_EQ(chain_->sent().size(), sent_before);
    EXPECT_EQ(must_counts().open(), open_before);
  }
  void expect_refused(const TestBundle& t, Refusal refusal, const std::string& message) {
    expect_refused(t.json(), refusal, message);
    EXPECT_FALSE(entry(t.digest()).has_value());
  }
  RelayCounts must_counts() {
    Result<RelayCounts> c = store_->relay_counts();
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : RelayCounts{};
  }
  Submission submit_ok(const TestBundle& t) {
    Submission s = relayer_->submit(t.json());
    EXPECT_EQ(s.outcome, Outcome::kSubmitted) << s.status.to_string() << " " << refusal_name(s.refusal);
    return s;
  }
  static eth::Hash32 hash_of(const Submission& s) { return *eth::hash_from_hex(s.entry->tx_hash); }
};

// ------------------------------------------------------------------------------------- refusals

TEST_F(RelayerTest, MalformedBodiesAre400sNamingTheField) {
  expect_refused("{", Refusal::kMalformed, "not JSON");
  json j = json::parse(spend({1000}).json());
  j["spends"][0]["root"] = "0x" + std::string(64, 'f');
  expect_refused(j.dump(), Refusal::kMalformed, "spends[0].root is not a field element");
  EXPECT_EQ(refusal_http_status(Refusal::kMalformed), 400);
  EXPECT_EQ(refusal_http_status(Refusal::kTooLarge), 413);
  EXPECT_EQ(refusal_http_status(Refusal::kReverted), 422);
}

TEST_F(RelayerTest, ABundleForAnotherChainOrPoolIsRefused) {
  TestBundle t = spend({1000});
  t.bundle.chain_id = 1;
  t.sign();
  expect_refused(t, Refusal::kWrongChain, "chain_id 1 is not this relayer's chain 31337");
  t = spend({1000});
  t.bundle.pool = eth::PrivateKey::random().address();
  t.sign();
  expect_refused(t, Refusal::kWrongPool, "is not this relayer's Pool " + pool_.to_checksum());
}

TEST_F(RelayerTest, AFeeForSomeoneElseIsRefused) {
  TestBundle t = spend({1000});
  t.bundle.payment.fee_recipient = eth::PrivateKey::random().address();
  t.sign();
  expect_refused(t, Refusal::kWrongFeeRecipient, "is not this relayer's account " + account_.to_checksum());
}

TEST_F(RelayerTest, AFeeBelowTheQuoteIsRefused) {
  const U256 quote = quote_fee(BundleKind::kSpendBatch, 2);
  TestBundle t = spend({1000, 1000}, quote - U256(1));
  expect_refused(t, Refusal::kFeeBelowQuote,
                 "payment.fee " + (quote - U256(1)).to_decimal() + " is below the quote " + quote.to_decimal() +
                     " for a spend_batch of 2 notes");
  // The quote is per size: the fee of 2 notes does not pay for 3.
  TestBundle three = spend({1000, 1000, 1000}, quote);
  expect_refused(three, Refusal::kFeeBelowQuote, "for a spend_batch of 3 notes");
  TestBundle split_bundle = split(1000);
  split_bundle.bundle.payment.fee = U256(0);
  split_bundle.sign();
  expect_refused(split_bundle, Refusal::kFeeBelowQuote, "is below the quote");
}

TEST_F(RelayerTest, AQuoteGivenIsHonouredWhileValidEvenIfGasGetsDearer) {
  const U256 quoted = quote_fee(BundleKind::kSpendBatch, 1);
  chain_->set_gas_price(U256(5'000'000'000ULL), U256(1'000'000'000ULL));  // 2 gwei -> 6 gwei
  Result<eth::RelayQuote> now = relayer_->quote(BundleKind::kSpendBatch, 1);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->fee, quoted * U256(3));
  // Within the first quote's 60 s: its fee is enough.
  clock_.advance(std::chrono::seconds(59));
  TestBundle t = spend({1000}, quoted);
  submit_ok(t);
  // Past it, only the current quote counts (the second one, also past its validity by then).
  clock_.advance(std::chrono::seconds(2));
  TestBundle late = spend({1000}, quoted);
  expect_refused(late, Refusal::kFeeBelowQuote, "is below the quote " + (quoted * U256(3)).to_decimal());
}

TEST_F(RelayerTest, AFeeAboveWhatTheBundleWithdrawsIsRefused) {
  // 1 cent = 10^16 units, far below any quote: the fee cannot come out of it.
  TestBundle t = spend({1});
  expect_refused(t, Refusal::kFeeAboveValue, "is more than the 1 cents the bundle withdraws");
}

TEST_F(RelayerTest, ADeadlineTooCloseOrPastIsRefused) {
  TestBundle t = spend({1000});
  t.bundle.payment.deadline = U256(static_cast<std::uint64_t>(testing::kStartMs / 1000 + 59));
  t.sign();
  expect_refused(t, Refusal::kDeadline, "is less than 60 s after now (" + std::to_string(testing::kStartMs / 1000));
  t.bundle.payment.deadline = U256(1);
  t.sign();
  expect_refused(t, Refusal::kDeadline, "payment.deadline 1 is less than 60 s");
  t.bundle.payment.deadline = U256(static_cast<std::uint64_t>(testing::kStartMs / 1000 + 60));
  t.sign();
  submit_ok(t);
}

TEST_F(RelayerTest, NullifiersThatAreNotTheProofsAreRefused) {
  TestBundle t = spend({1000, 1000});
  std::swap(t.bundle.payment.nullifiers[0], t.bundle.payment.nullifiers[1]);
  t.sign();
  expect_refused(t, Refusal::kNullifierMismatch, "payment.nullifiers[0] is not spends[0].nullifier");
  t = spend({1000, 1000});
  t.bundle.payment.nullifiers.pop_back();
  t.keys.pop_back();
  t.sign();
  t.bundle.signatures.push_back(t.bundle.signatures[0]);  // two signatures for two proofs
  expect_refused(t, Refusal::kNullifierMismatch, "payment.nullifiers has 1 entries for 2 proofs");
  TestBundle s = split(1000);
  s.bundle.payment.nullifiers[0] = testing::random_field();
  s.sign();
  expect_refused(s, Refusal::kNullifierMismatch, "payment.nullifiers[0] is not split.nullifier");
}

TEST_F(RelayerTest, ANullifierSpentTwiceInOneBundleIsRefused) {
  TestBundle t = spend({1000, 1000, 1000});
  t.bundle.spends[2].nullifier = t.bundle.spends[0].nullifier;
  t.bundle.payment.nullifiers[2] = t.bundle.spends[0].nullifier;
  t.sign();
  expect_refused(t, Refusal::kDuplicateNullifier, "is spent twice in the bundle (notes 0 and 2)");
}

TEST_F(RelayerTest, ASignatureThatIsNotTheProofsAuthIsRefused) {
  // Signed by another key than the note's auth key.
  TestBundle t = spend({1000, 1000});
  t.bundle.signatures[1] = eth::sign_digest(eth::PrivateKey::random(), t.bundle.digest());
  expect_refused(t, Refusal::kBadSignature, "signatures[1] recovers to ");
  // A signature of another payment (the recipient changed after signing: a relayer redirecting it).
  t = spend({1000});
  t.bundle.payment.recipient = eth::PrivateKey::random().address();
  expect_refused(t, Refusal::kBadSignature, "not spends[0].auth " + t.bundle.spends[0].auth.to_checksum());
  // Malformed: v not 27/28; the malleable high-s twin.
  t = spend({1000});
  t.bundle.signatures[0][64] = 29;
  expect_refused(t, Refusal::kBadSignature, "signatures[0]: ");
  t = spend({1000});
  eth::RsvSignature& sig = t.bundle.signatures[0];
  const U256 n = *U256::from_string("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  eth::Hash32 s_word{};
  std::copy(sig.begin() + 32, sig.begin() + 64, s_word.begin());
  const eth::Hash32 high_s = (n - U256::from_word(s_word)).to_word();
  std::copy(high_s.begin(), high_s.end(), sig.begin() + 32);
  sig[64] = sig[64] == 27 ? 28 : 27;
  expect_refused(t, Refusal::kBadSignature, "signatures[0]: ");
  // A split's signature is checked against split.auth.
  TestBundle s = split(1000);
  s.bundle.signatures[0] = eth::sign_digest(eth::PrivateKey::random(), s.bundle.digest());
  expect_refused(s, Refusal::kBadSignature, "not split.auth");
}

TEST_F(RelayerTest, ACallThatWouldRevertIsRefusedWithItsReason) {
  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: NullifierAlreadySpent(42)"));
  expect_refused(spend({1000}), Refusal::kReverted, "Pool.spendBatch reverted: NullifierAlreadySpent(42)");
  EXPECT_EQ(chain_->calls("simulate"), 1U);
}

TEST_F(RelayerTest, ANodeThatDoesNotAnswerIsAnErrorNotARefusal) {
  TestBundle t = spend({1000});
  chain_->set_down(Status::unavailable("connection refused"));
  const Submission s = relayer_->submit(t.json());
  EXPECT_EQ(s.outcome, Outcome::kError);
  EXPECT_EQ(s.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(entry(t.digest()).has_value());
  EXPECT_FALSE(relayer_->health().is_ok());
  chain_->set_down(std::nullopt);
  EXPECT_TRUE(relayer_->health().is_ok());
  submit_ok(t);
}

TEST_F(RelayerTest, QuotesNameTheRelayerAndRefuseImpossibleSizes) {
  Result<eth::RelayQuote> q = relayer_->quote(BundleKind::kSpendBatch, 3);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->fee_recipient, account_);
  EXPECT_EQ(q->pool, pool_);
  EXPECT_EQ(q->chain_id, testing::kChainId);
  EXPECT_EQ(q->gas, 340'000U + 3U * 390'000U);
  EXPECT_EQ(q->gas_price, U256(2'000'000'000ULL));  // base 1 gwei + priority 1 gwei
  EXPECT_EQ(q->valid_until, testing::kStartMs / 1000 + 60);
  // 1,510,000 gas * 2 gwei * 3000 * 1.2 = 10.872 tokens.
  EXPECT_EQ(q->fee, U256(10'872'000'000'000'000'000ULL));
  EXPECT_EQ(relayer_->quote(BundleKind::kSplit, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(relayer_->quote(BundleKind::kSpendBatch, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(relayer_->quote(BundleKind::kSpendBatch, 31).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(relayer_->quote(BundleKind::kSpendBatch, 30).ok());
}

// ---------------------------------------------------------------------------- one tx per digest

TEST_F(RelayerTest, AnAcceptedBundleIsJournaledSignedAndSent) {
  TestBundle t = spend({1000, 2000});
  const Submission s = submit_ok(t);
  ASSERT_TRUE(s.entry.has_value());
  EXPECT_EQ(s.entry->digest, t.digest());
  EXPECT_EQ(s.entry->state, RelayEntryState::kSubmitted);
  const std::vector<eth::SignedTransaction> sent = chain_->sent();
  ASSERT_EQ(sent.size(), 1U);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.raw_tx, sent[0].raw);
  EXPECT_EQ(e.tx_hash, eth::to_hex(sent[0].hash));
  EXPECT_EQ(e.tx_hash, eth::to_hex(eth::keccak256(sent[0].raw)));
  EXPECT_EQ(e.nonce, 0U);
  EXPECT_EQ(e.kind, "spend_batch");
  EXPECT_EQ(e.fee, t.bundle.payment.fee.to_decimal());
  EXPECT_EQ(e.sender, account_.to_hex());
  EXPECT_EQ(e.bundle, t.json());
  EXPECT_TRUE(chain_->is_pending(sent[0].hash));
  // A split goes the same way, with the next nonce.
  TestBundle sp = split(1000);
  submit_ok(sp);
  EXPECT_EQ(entry(sp.digest())->nonce, 1U);
  EXPECT_NE(log_.str().find("submitted " + t.digest()), std::string::npos) << log_.str();
}

TEST_F(RelayerTest, TheSameDigestAgainAnswersItsStateAndSendsNothing) {
  TestBundle t = spend({1000});
  const Submission first = submit_ok(t);
  for (int i = 0; i < 3; ++i) {
    const Submission again = relayer_->submit(t.json());
    ASSERT_EQ(again.outcome, Outcome::kKnown);
    EXPECT_EQ(again.entry->tx_hash, first.entry->tx_hash);
  }
  // Even with other proofs and signatures (the digest covers the payment): still the same entry.
  TestBundle other = t;
  other.bundle.spends[0].proof[5] ^= 1;
  EXPECT_EQ(relayer_->submit(other.json()).outcome, Outcome::kKnown);
  // Even once mined, and once the deadline passed.
  chain_->mine_sent(hash_of(first));
  ASSERT_TRUE(relayer_->poll().ok());
  clock_.advance(std::chrono::hours(1));
  const Submission late = relayer_->submit(t.json());
  ASSERT_EQ(late.outcome, Outcome::kKnown);
  EXPECT_EQ(late.entry->state, RelayEntryState::kMined);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(RelayerTest, ConcurrentPostsOfOneBundleMakeOneTransaction) {
  TestBundle t = spend({1000, 1000});
  const std::string body = t.json();
  std::atomic<int> submitted{0};
  std::atomic<int> known_count{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const Submission s = relayer_->submit(body);
      if (s.outcome == Outcome::kSubmitted) ++submitted;
      if (s.outcome == Outcome::kKnown) ++known_count;
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(submitted.load(), 1);
  EXPECT_EQ(known_count.load(), 7);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

// ---------------------------------------------------------------------------------- settlement

TEST_F(RelayerTest, AMinedTransactionIsRecordedWithItsBlockAndGas) {
  TestBundle t = spend({1000});
  const Submission s = submit_ok(t);
  ASSERT_EQ(*relayer_->poll(), 0U);  // pending: nothing changes
  const std::uint64_t block = chain_->mine_sent(hash_of(s), true, RelayFixture::paid_events(t));
  ASSERT_EQ(*relayer_->poll(), 1U);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.state, RelayEntryState::kMined);
  EXPECT_EQ(e.block, block);
  EXPECT_EQ(e.gas_used, 650'000U);
  EXPECT_EQ(*relayer_->poll(), 0U);  // settled: no longer open
  const std::string metrics = relayer_->metrics_text();
  EXPECT_NE(metrics.find("bucketpay_relay_transactions_mined_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("bucketpay_relay_fees_earned_total " + t.bundle.payment.fee.to_decimal() + "\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("bucketpay_relay_gas_spent_total 650000\n"), std::string::npos);
  // 650,000 gas at 2 gwei.
  EXPECT_NE(metrics.find("bucketpay_relay_wei_spent_total 1300000000000000\n"), std::string::npos);
  EXPECT_NE(metrics.find("bucketpay_relay_journal_entries{state=\"mined\"} 1\n"), std::string::npos);
}

TEST_F(RelayerTest, PaidBySomeoneElsesCopyIsFailedNamingTheCopy) {
  TestBundle t = spend({1000, 1000});
  const Submission s = submit_ok(t);
  // A third party copies the pending bundle with a higher tip: its copy is mined first, and the
  // relayer's own transaction reverts in the same block.
  testing::TestTx copy;
  copy.hash = eth::keccak256("the copy");
  copy.from = eth::PrivateKey::random().address();
  copy.events = RelayFixture::paid_events(t);
  testing::TestTx own;
  own.hash = hash_of(s);
  own.from = account_;
  own.nonce = 0;
  own.success = false;
  own.gas_used = 60'000;
  own.revert_reason = "NullifierAlreadySpent(1)";
  const std::uint64_t block = chain_->mine({copy, own});
  ASSERT_EQ(*relayer_->poll(), 1U);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.state, RelayEntryState::kFailed);
  EXPECT_EQ(e.reason, "paid by " + eth::to_hex(copy.hash));
  EXPECT_EQ(e.block, block);
  EXPECT_EQ(e.gas_used, 60'000U);
  const std::string metrics = relayer_->metrics_text();
  EXPECT_NE(metrics.find("bucketpay_relay_transactions_failed_total 1\n"), std::string::npos);
  // The copy paid the fee to the relayer's account all the same.
  EXPECT_NE(metrics.find("bucketpay_relay_fees_earned_total " + t.bundle.payment.fee.to_decimal() + "\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("bucketpay_relay_gas_spent_total 60000\n"), std::string::npos);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(RelayerTest, ARevertNotPaidElsewhereIsFailedWithItsReason) {
  TestBundle t = spend({1000, 1000});
  const Submission s = submit_ok(t);
  // Only one of its nullifiers was spent, by another payment (a double spend by the wallet).
  testing::TestTx other;
  other.hash = eth::keccak256("another payment");
  other.from = eth::PrivateKey::random().address();
  eth::PoolEvent spent;
  spent.kind = eth::PoolEvent::Kind::kSpent;
  spent.spent.nullifier = t.bundle.payment.nullifiers[0];
  spent.spent.payment = eth::keccak256("another digest");
  other.events = {spent};
  chain_->mine({other});
  chain_->mine_sent(hash_of(s), false, {}, "NullifierAlreadySpent(7)");
  ASSERT_EQ(*relayer_->poll(), 1U);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.state, RelayEntryState::kFailed);
  EXPECT_EQ(e.reason, "reverted: NullifierAlreadySpent(7)");
  EXPECT_NE(relayer_->metrics_text().find("bucketpay_relay_fees_earned_total 0\n"), std::string::npos);
}

TEST_F(RelayerTest, ATransactionTheNodeDroppedIsSentAgainByteForByte) {
  TestBundle t = spend({1000});
  const Submission s = submit_ok(t);
  chain_->drop(hash_of(s));
  ASSERT_EQ(*relayer_->poll(), 1U);
  std::vector<eth::SignedTransaction> sent = chain_->sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[1].raw, sent[0].raw);
  EXPECT_TRUE(chain_->is_pending(hash_of(s)));
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kSubmitted);
  // While the node holds it, nothing is sent again.
  ASSERT_EQ(*relayer_->poll(), 0U);
  EXPECT_EQ(chain_->sent().size(), 2U);
  EXPECT_NE(relayer_->metrics_text().find("bucketpay_relay_transactions_resent_total 1\n"), std::string::npos);
  // The next bundle does not take its nonce while it is dropped again.
  chain_->drop(hash_of(s));
  TestBundle next = spend({1000});
  submit_ok(next);
  EXPECT_EQ(entry(next.digest())->nonce, 1U);
}

TEST_F(RelayerTest, ATransactionJournaledButNotSentIsSentAfterARestartAndNothingNew) {
  TestBundle t = spend({1000});
  // The node takes the transaction but the answer is lost (a crash between sending and hearing back
  // looks the same): the entry stays signed.
  chain_->fail_next_send(Status::timeout("no answer"), /*keep=*/false);
  const Submission s = relayer_->submit(t.json());
  ASSERT_EQ(s.outcome, Outcome::kError);
  EXPECT_EQ(s.status.code(), StatusCode::kUnavailable);
  ASSERT_TRUE(s.entry.has_value());
  EXPECT_EQ(s.entry->state, RelayEntryState::kSigned);
  const RelayEntry signed_entry = *entry(t.digest());
  ASSERT_EQ(signed_entry.state, RelayEntryState::kSigned);

  // A restart: a new store handle and relayer. Posting the bundle again signs nothing new.
  relayer_.reset();
  store_ = open_store();
  relayer_ = open_relayer(*store_);
  EXPECT_EQ(relayer_->submit(t.json()).outcome, Outcome::kKnown);
  ASSERT_EQ(*relayer_->poll(), 1U);
  const std::vector<eth::SignedTransaction> sent = chain_->sent();
  ASSERT_EQ(sent.size(), 2U);
  for (const eth::SignedTransaction& tx : sent) EXPECT_EQ(tx.raw, signed_entry.raw_tx);
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kSubmitted);
  chain_->mine_sent(*eth::hash_from_hex(signed_entry.tx_hash));
  ASSERT_EQ(*relayer_->poll(), 1U);
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kMined);
}

TEST_F(RelayerTest, ARestartWithATransactionInTheNodesPoolSendsNothing) {
  TestBundle t = spend({1000});
  const Submission s = submit_ok(t);
  relayer_.reset();
  store_ = open_store();
  relayer_ = open_relayer(*store_);
  ASSERT_EQ(*relayer_->poll(), 0U);
  EXPECT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(relayer_->submit(t.json()).outcome, Outcome::kKnown);
  EXPECT_EQ(chain_->sent().size(), 1U);
  chain_->mine_sent(hash_of(s));
  ASSERT_EQ(*relayer_->poll(), 1U);
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kMined);
}

TEST_F(RelayerTest, ATransactionTheNodeRefusedFailsAndFreesItsNonce) {
  TestBundle t = spend({1000});
  chain_->fail_next_send(Status::failed_precondition("rpc error -32000: insufficient funds for gas * price + value"));
  const Submission s = relayer_->submit(t.json());
  ASSERT_EQ(s.outcome, Outcome::kError);
  EXPECT_EQ(s.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status.message().find("insufficient funds"), std::string::npos);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.state, RelayEntryState::kFailed);
  EXPECT_NE(e.reason.find("not sent: the node refused the transaction"), std::string::npos);
  TestBundle next = spend({1000});
  submit_ok(next);
  EXPECT_EQ(entry(next.digest())->nonce, 0U);
  EXPECT_EQ(relayer_->submit(t.json()).outcome, Outcome::kKnown);
}

TEST_F(RelayerTest, ANonceUsedByAnotherTransactionEndsTheEntry) {
  TestBundle t = spend({1000});
  const Submission s = submit_ok(t);
  chain_->drop(hash_of(s));
  chain_->use_nonce_elsewhere(0);
  ASSERT_EQ(*relayer_->poll(), 1U);
  const RelayEntry e = *entry(t.digest());
  EXPECT_EQ(e.state, RelayEntryState::kFailed);
  EXPECT_EQ(e.reason, "never mined: its nonce was used by another transaction");
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(RelayerTest, AReceivedEntryLeftByACrashIsResumedAfterTheGrace) {
  // A crash between journaling the bundle and signing it: the entry is received, nothing sent.
  TestBundle t = spend({1000});
  RelayEntry e;
  e.digest = t.digest();
  e.kind = "spend_batch";
  e.bundle = t.json();
  e.fee = t.bundle.payment.fee.to_decimal();
  e.sender = account_.to_hex();
  e.deadline = t.bundle.payment.deadline.low_u64();
  e.created_ms = clock_.unix_ms();
  ASSERT_TRUE(store_->begin_relay(e).is_ok());
  // Another request may still be signing it: not within the grace.
  ASSERT_EQ(*relayer_->poll(), 0U);
  EXPECT_TRUE(chain_->sent().empty());
  clock_.advance(std::chrono::seconds(61));
  ASSERT_EQ(*relayer_->poll(), 1U);
  ASSERT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kSubmitted);
  EXPECT_EQ(entry(t.digest())->raw_tx, chain_->sent()[0].raw);
}

TEST_F(RelayerTest, AReceivedEntryPastItsDeadlineOrAlreadyPaidIsNotSent) {
  TestBundle late = spend({1000});
  TestBundle paid = spend({1000});
  for (const TestBundle* t : {&late, &paid}) {
    RelayEntry e;
    e.digest = t->digest();
    e.kind = "spend_batch";
    e.bundle = t->json();
    e.fee = "1";
    e.sender = account_.to_hex();
    e.deadline = t->bundle.payment.deadline.low_u64();
    e.created_ms = clock_.unix_ms();
    ASSERT_TRUE(store_->begin_relay(e).is_ok());
  }
  // `paid` was paid by a copy meanwhile: the simulation reverts and the Spent events carry its digest.
  testing::TestTx copy;
  copy.hash = eth::keccak256("copy of paid");
  copy.from = eth::PrivateKey::random().address();
  copy.events = RelayFixture::paid_events(paid);
  chain_->mine({copy});
  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: NullifierAlreadySpent(1)"));
  clock_.advance(std::chrono::seconds(250));  // 50 s before the deadlines: closer than the 60 s margin
  ASSERT_EQ(*relayer_->poll(), 2U);
  EXPECT_EQ(entry(late.digest())->state, RelayEntryState::kFailed);
  EXPECT_NE(entry(late.digest())->reason.find("deadline"), std::string::npos);
  EXPECT_TRUE(chain_->sent().empty());
  // (the deadline check comes first for both; a fresh one with time left meets the simulation)
  TestBundle fresh = spend({1000});
  RelayEntry e;
  e.digest = fresh.digest();
  e.kind = "spend_batch";
  e.bundle = fresh.json();
  e.fee = "1";
  e.sender = account_.to_hex();
  e.deadline = fresh.bundle.payment.deadline.low_u64();
  e.created_ms = clock_.unix_ms();
  ASSERT_TRUE(store_->begin_relay(e).is_ok());
  testing::TestTx copy2;
  copy2.hash = eth::keccak256("copy of fresh");
  copy2.from = copy.from;
  copy2.events = RelayFixture::paid_events(fresh);
  chain_->mine({copy2});
  clock_.advance(std::chrono::seconds(61));
  ASSERT_EQ(*relayer_->poll(), 1U);
  EXPECT_EQ(entry(fresh.digest())->reason, "paid by " + eth::to_hex(copy2.hash));
  EXPECT_TRUE(chain_->sent().empty());
}

TEST_F(RelayerTest, TwoRelayerProcessesOnOneStoreNeverShareANonce) {
  std::unique_ptr<Store> other_store = open_store();
  std::unique_ptr<Relayer> other = open_relayer(*other_store);
  // Both processes quote, so both honour the fee.
  std::vector<TestBundle> bundles;
  for (int i = 0; i < 12; ++i) bundles.push_back(spend({1000}));
  ASSERT_TRUE(other->quote(BundleKind::kSpendBatch, 1).ok());
  std::atomic<int> ok{0};
  auto run = [&](Relayer* r, int parity) {
    for (std::size_t i = 0; i < bundles.size(); ++i) {
      if (static_cast<int>(i % 2) != parity) continue;
      if (r->submit(bundles[i].json()).outcome == Outcome::kSubmitted) ++ok;
    }
  };
  std::thread a(run, relayer_.get(), 0);
  std::thread b(run, other.get(), 1);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 12);
  std::set<std::uint64_t> nonces;
  for (const eth::SignedTransaction& tx : chain_->sent()) nonces.insert(tx.nonce);
  EXPECT_EQ(nonces.size(), 12U);
  EXPECT_EQ(*nonces.rbegin(), 11U);
}

TEST_F(RelayerTest, MetricsCountReceivedAndRefusedByReason) {
  relayer_->submit("not json");
  TestBundle t = spend({1000});
  t.bundle.payment.fee_recipient = eth::PrivateKey::random().address();
  t.sign();
  relayer_->submit(t.json());
  submit_ok(split(1000));
  relayer_->count_too_large();
  relayer_->count_request("/v1/relay", 202);
  const std::string m = relayer_->metrics_text();
  for (const std::string line :
       {"bucketpay_relay_bundles_received_total{kind=\"spend_batch\"} 1",
        "bucketpay_relay_bundles_received_total{kind=\"split\"} 1",
        "bucketpay_relay_bundles_received_total{kind=\"unknown\"} 2",
        "bucketpay_relay_bundles_refused_total{reason=\"malformed\"} 1",
        "bucketpay_relay_bundles_refused_total{reason=\"too_large\"} 1",
        "bucketpay_relay_bundles_refused_total{reason=\"wrong_fee_recipient\"} 1",
        "bucketpay_relay_bundles_refused_total{reason=\"reverted\"} 0",
        "bucketpay_relay_transactions_submitted_total 1", "bucketpay_relay_journal_entries{state=\"submitted\"} 1",
        "bucketpay_relay_http_requests_total{route=\"/v1/relay\",code=\"202\"} 1",
        "# TYPE bucketpay_relay_fees_earned_total counter"}) {
    EXPECT_NE(m.find(line + "\n"), std::string::npos) << line << "\n" << m;
  }
}

TEST_F(RelayerTest, ConfigAndKeyRoundTripThroughTheStore) {
  Result<RelayConfig> c = load_config(*store_);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->pool, pool_);
  EXPECT_EQ(c->unit, testing::kUnit);
  EXPECT_EQ(c->fees.eth_price, "3000");
  EXPECT_EQ(c->fees.gas.split, 1'120'000U);
  // The key is made once: a second create gives the same account.
  EXPECT_EQ(*create_account(*store_), account_);
  EXPECT_EQ(load_account(*store_)->address(), account_);
  // The relayer refuses a chain view of another Pool.
  testing::TestChain elsewhere(eth::PrivateKey::random().address(), account_);
  Result<std::unique_ptr<Relayer>> wrong = Relayer::open(*store_, elsewhere);
  EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace bucketpay::relay
