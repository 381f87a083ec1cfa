// The x402 facilitator (X402Facilitator) over a TestChain, through the relayer's HTTP server:
// /supported, staging, every verify reason, settle (mined, reverted, pending and its one
// reconciling retry, replayed, raced) and release. The SDK's zod schemas are checked against these
// answers by the end-to-end test (packages/x402-bucketpay).
#include "bucketpay/x402.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "bucketpay/relayer_client.h"
#include "relay_testing.h"
#include "testing/testing.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using eth::U256;
using nlohmann::json;
using testing::RelayFixture;
using testing::TestBundle;

class X402Test : public ::testing::Test, public RelayFixture {
 protected:
  void SetUp() override {
    X402Options xo;
    xo.clock = &clock_;
    xo.settle_wait = std::chrono::milliseconds(5'000);
    Result<std::unique_ptr<X402Facilitator>> f = X402Facilitator::create(*relayer_, xo);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    facilitator_ = std::move(f).value();
    ServerOptions o;
    o.port = 0;
    o.poll_interval = std::chrono::hours(1);  // the monitor's first pass only: settle drives the entries
    o.x402 = facilitator_.get();
    Result<std::unique_ptr<RelayServer>> s = RelayServer::start(*relayer_, o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server_ = std::move(s).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(60));
  }
  void TearDown() override {
    chain_->on_sent = nullptr;
    server_.reset();
  }

  struct Answer {
    int status = 0;
    json body;
  };
  Answer post(const std::string& path, const std::string& body) {
    httplib::Result r = client_->Post("/x402" + path, body, "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  // A 2-note payment whose fee is the quote rounded up to whole cents (as the wallet does), so
  // that what payTo receives is a whole number of cents.
  TestBundle payment(std::vector<std::uint64_t> values = {5'000, 3'000}) {
    const U256 quote = quote_fee(BundleKind::kSpendBatch, values.size());
    const U256 fee = (quote + testing::kUnit - U256(1)) / testing::kUnit * testing::kUnit;
    return spend(std::move(values), fee);
  }
  static U256 amount_of(const TestBundle& t) { return t.bundle.value_units() * testing::kUnit - t.bundle.payment.fee; }
  json requirements(const TestBundle& t) {
    return json{{"scheme", "bucketpay-exact"},
                {"network", "eip155:31337"},
                {"asset", facilitator_->asset().to_checksum()},
                {"amount", amount_of(t).to_decimal()},
                {"payTo", t.bundle.payment.recipient.to_checksum()},
                {"maxTimeoutSeconds", 300},
                {"extra", {{"pool", pool_.to_checksum()}, {"unit", testing::kUnit.to_decimal()}}}};
  }
  json request(const TestBundle& t, const json& req, std::optional<json> accepted = std::nullopt) {
    Result<eth::Bytes> calldata = t.bundle.calldata();
    EXPECT_TRUE(calldata.ok());
    json payload{{"x402Version", 2},
                 {"accepted", accepted ? *accepted : req},
                 {"payload", {{"paymentDigest", t.digest()}, {"bundleHash", eth::to_hex(eth::keccak256(*calldata))}}}};
    return json{{"x402Version", 2}, {"paymentPayload", payload}, {"paymentRequirements", req}};
  }
  static std::string bundle_hash(const TestBundle& t) { return eth::to_hex(eth::keccak256(*t.bundle.calldata())); }
  // POST /release of t, signed by `key` (none: unsigned).
  Answer release(const TestBundle& t, std::optional<eth::PrivateKey> key) {
    json body{{"paymentDigest", t.digest()}, {"bundleHash", bundle_hash(t)}};
    if (key) {
      const eth::Hash32 message = eth::x402_release_message(t.bundle.digest(), eth::keccak256(*t.bundle.calldata()));
      body["signature"] = eth::to_hex(eth::sign_digest(*key, message));
    }
    return post("/release", body.dump());
  }
  std::unique_ptr<X402Facilitator> restarted() {
    X402Options xo;
    xo.clock = &clock_;
    xo.settle_wait = std::chrono::milliseconds(5'000);
    Result<std::unique_ptr<X402Facilitator>> fresh = X402Facilitator::create(*relayer_, xo);
    EXPECT_TRUE(fresh.ok()) << fresh.status().to_string();
    return fresh.ok() ? std::move(fresh).value() : nullptr;
  }
  void stage(const TestBundle& t) {
    Answer a = post("/v1/relay", t.json());
    ASSERT_EQ(a.status, 202) << a.body.dump();
  }
  std::string verify_reason(const json& body) {
    Answer a = post("/verify", body.dump());
    EXPECT_EQ(a.status, 200) << a.body.dump();
    if (a.body.value("isValid", false)) return "valid";
    return a.body.value("invalidReason", std::string("(none)"));
  }
  // Mines every transaction the relayer sends, at once.
  void mine_on_send(bool success = true, std::optional<std::string> revert = std::nullopt) {
    chain_->on_sent = [this, success, revert](const eth::SignedTransaction& tx) {
      chain_->mine_sent(tx.hash, success, {}, revert);
    };
  }

  std::unique_ptr<X402Facilitator> facilitator_;
  std::unique_ptr<RelayServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(X402Test, SupportedAdvertisesTheSchemeAndThePoolsTerms) {
  httplib::Result r = client_->Get("/x402/supported");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json j = json::parse(r->body);
  ASSERT_EQ(j["kinds"].size(), 1U);
  const json& k = j["kinds"][0];
  EXPECT_EQ(k["x402Version"], 2);
  EXPECT_EQ(k["scheme"], "bucketpay-exact");
  EXPECT_EQ(k["network"], "eip155:31337");
  EXPECT_EQ(k["extra"]["pool"], pool_.to_checksum());
  EXPECT_EQ(k["extra"]["asset"], eth::Address(eth::Address::Raw{0x70}).to_checksum());
  EXPECT_EQ(k["extra"]["unit"], testing::kUnit.to_decimal());
  EXPECT_EQ(k["extra"]["feeRecipient"], account_.to_checksum());
  EXPECT_EQ(k["extra"]["relayUrl"], "http://127.0.0.1:" + std::to_string(server_->port()) + "/x402");
  EXPECT_EQ(j["extensions"], json::array());
  EXPECT_EQ(j["signers"]["eip155:*"][0], account_.to_checksum());
}

TEST_F(X402Test, StageTakesABundleOnceAndRefusesBadOnesAndTakenNullifiers) {
  TestBundle t = payment();
  Answer a = post("/v1/relay", t.json());
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["payment_digest"], t.digest());
  EXPECT_EQ(a.body["bundle_hash"], eth::to_hex(eth::keccak256(*t.bundle.calldata())));
  EXPECT_EQ(a.body["expires_at"], t.bundle.payment.deadline.low_u64());
  EXPECT_EQ(post("/v1/relay", t.json()).status, 200);

  EXPECT_EQ(post("/v1/relay", "{").status, 400);
  TestBundle wrong_fee_recipient = payment();
  wrong_fee_recipient.bundle.payment.fee_recipient = eth::PrivateKey::random().address();
  wrong_fee_recipient.sign();
  Answer wf = post("/v1/relay", wrong_fee_recipient.json());
  EXPECT_EQ(wf.status, 422);
  EXPECT_EQ(wf.body["reason"], "wrong_fee_recipient");

  // The same notes paying someone else: the first payment holds them.
  TestBundle other = t;
  other.bundle.payment.recipient = eth::PrivateKey::random().address();
  other.sign();
  Answer o = post("/v1/relay", other.json());
  EXPECT_EQ(o.status, 409) << o.body.dump();
  EXPECT_NE(o.body["error"].get<std::string>().find("staged for another payment"), std::string::npos);

  // Released by the payer, they are free again.
  Answer rel = release(t, t.keys[0]);
  EXPECT_EQ(rel.status, 200) << rel.body.dump();
  EXPECT_EQ(rel.body["released"], true);
  EXPECT_EQ(post("/v1/relay", other.json()).status, 202);
}

TEST_F(X402Test, AWalletsRelayerClientStagesThroughTheBaseUrlAndNothingIsSent) {
  Result<std::unique_ptr<eth::RelayerClient>> c =
      eth::connect_relayer({.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/x402"});
  ASSERT_TRUE(c.ok());
  Result<eth::RelayQuote> q = (*c)->quote(BundleKind::kSpendBatch, 2);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->fee_recipient, account_);
  TestBundle t = payment();
  Result<eth::RelayStatus> st = (*c)->submit(t.bundle, t.bundle.digest());
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->state, eth::RelayState::kPending);
  Result<std::optional<eth::RelayStatus>> known = (*c)->status(t.bundle.digest());
  ASSERT_TRUE(known.ok() && known->has_value()) << known.status().to_string();
  EXPECT_EQ((*known)->state, eth::RelayState::kPending);
  Result<std::optional<eth::RelayStatus>> unknown = (*c)->status(payment().bundle.digest());
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  EXPECT_TRUE(chain_->sent().empty());
  EXPECT_FALSE(entry(t.digest()).has_value());
}

TEST_F(X402Test, VerifyAcceptsAnExactPaymentAndSendsNothing) {
  TestBundle t = payment();
  stage(t);
  Answer a = post("/verify", request(t, requirements(t)).dump());
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["isValid"], true) << a.body.dump();
  EXPECT_EQ(a.body["extra"]["paymentDigest"], t.digest());
  EXPECT_TRUE(chain_->sent().empty());
  EXPECT_FALSE(entry(t.digest()).has_value());
}

TEST_F(X402Test, VerifyNamesTheFirstThingWrong) {
  TestBundle t = payment();
  stage(t);
  const json req = requirements(t);

  json v1 = request(t, req);
  v1["paymentPayload"]["x402Version"] = 1;
  EXPECT_EQ(verify_reason(v1), "invalid_x402_version");

  json scheme = req;
  scheme["scheme"] = "exact";
  EXPECT_EQ(verify_reason(request(t, scheme)), "invalid_scheme");

  json network = req;
  network["network"] = "eip155:1";
  EXPECT_EQ(verify_reason(request(t, network)), "invalid_network");

  // The requirements the server rebuilt differ from what the client accepted.
  json cheaper = req;
  cheaper["amount"] = testing::kUnit.to_decimal();
  EXPECT_EQ(verify_reason(request(t, req, cheaper)), "invalid_payment_requirements");

  json asset = req;
  asset["asset"] = eth::PrivateKey::random().address().to_checksum();
  EXPECT_EQ(verify_reason(request(t, asset)), "invalid_bucketpay_asset_mismatch");

  json pool = req;
  pool["extra"]["pool"] = eth::PrivateKey::random().address().to_checksum();
  EXPECT_EQ(verify_reason(request(t, pool)), "invalid_bucketpay_pool_mismatch");

  json odd = req;
  odd["amount"] = (amount_of(t) + U256(1)).to_decimal();
  EXPECT_EQ(verify_reason(request(t, odd)), "invalid_payment_requirements");

  json bad_payload = request(t, req);
  bad_payload["paymentPayload"]["payload"]["bundleHash"] = "0x12";
  EXPECT_EQ(verify_reason(bad_payload), "invalid_payload");

  TestBundle unstaged = payment();
  EXPECT_EQ(verify_reason(request(unstaged, requirements(unstaged))), "invalid_bucketpay_bundle_not_staged");

  json other_pay_to = req;
  other_pay_to["payTo"] = eth::PrivateKey::random().address().to_checksum();
  EXPECT_EQ(verify_reason(request(t, other_pay_to)), "invalid_bucketpay_recipient_mismatch");

  json more = req;
  more["amount"] = (amount_of(t) + testing::kUnit).to_decimal();
  EXPECT_EQ(verify_reason(request(t, more)), "invalid_bucketpay_amount_mismatch");

  json short_timeout = req;
  short_timeout["maxTimeoutSeconds"] = 60;  // the payment's deadline is 300 s away
  EXPECT_EQ(verify_reason(request(t, short_timeout)), "invalid_bucketpay_deadline_too_late");

  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: NullifierAlreadySpent(0x01)"));
  EXPECT_EQ(verify_reason(request(t, req)), "invalid_bucketpay_nullifier_spent");
  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: UnknownRoot(0x02)"));
  EXPECT_EQ(verify_reason(request(t, req)), "invalid_bucketpay_unknown_root");
  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: InvalidProof()"));
  Answer proof = post("/verify", request(t, req).dump());
  EXPECT_EQ(proof.body["invalidReason"], "invalid_bucketpay_invalid_proof");
  EXPECT_NE(proof.body["invalidMessage"].get<std::string>().find("InvalidProof()"), std::string::npos);
  chain_->set_simulate_failure(std::nullopt);
  EXPECT_EQ(verify_reason(request(t, req)), "valid");

  // A deadline the relayer would not send any more.
  clock_.advance(std::chrono::seconds(280));
  EXPECT_EQ(verify_reason(request(t, req)), "invalid_bucketpay_deadline_too_soon");

  // Not a VerifyRequest at all: 400.
  EXPECT_EQ(post("/verify", "[]").status, 400);
  EXPECT_EQ(post("/verify", R"({"paymentPayload":{}})").status, 400);
}

TEST_F(X402Test, VerifyRefusesNullifiersInAnotherOpenRelayEntry) {
  TestBundle t = payment();
  stage(t);
  // The same notes, paying someone else, posted straight to the relayer and not mined yet.
  TestBundle other = t;
  other.bundle.payment.recipient = eth::PrivateKey::random().address();
  other.sign();
  ASSERT_EQ(relayer_->submit(other.json()).outcome, Submission::Outcome::kSubmitted);
  EXPECT_EQ(verify_reason(request(t, requirements(t))), "invalid_bucketpay_nullifier_pending");
}

TEST_F(X402Test, SettleSendsOnceWaitsForTheReceiptAndNeverSucceedsTwice) {
  TestBundle t = payment();
  stage(t);
  mine_on_send();
  const std::string body = request(t, requirements(t)).dump();
  Answer a = post("/settle", body);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["success"], true) << a.body.dump();
  ASSERT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(a.body["transaction"], eth::to_hex(chain_->sent()[0].hash));
  EXPECT_EQ(a.body["network"], "eip155:31337");
  EXPECT_EQ(a.body["extra"]["paymentDigest"], t.digest());
  EXPECT_EQ(entry(t.digest())->state, RelayEntryState::kMined);

  // The same header again: verify and settle refuse it, nothing more is sent.
  EXPECT_EQ(verify_reason(request(t, requirements(t))), "invalid_bucketpay_payment_already_settled");
  Answer again = post("/settle", body);
  EXPECT_EQ(again.body["success"], false);
  EXPECT_EQ(again.body["errorReason"], "invalid_bucketpay_payment_already_settled");
  EXPECT_EQ(again.body["transaction"], a.body["transaction"]);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(X402Test, SettleOfConcurrentDuplicatesSucceedsOnce) {
  TestBundle t = payment();
  stage(t);
  mine_on_send();
  const std::string body = request(t, requirements(t)).dump();
  std::vector<Answer> answers(4);
  std::vector<std::thread> threads;
  for (Answer& a : answers) {
    threads.emplace_back([&, this] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(std::chrono::seconds(60));
      httplib::Result r = c.Post("/x402/settle", body, "application/json");
      if (r) a = {r->status, json::parse(r->body, nullptr, false)};
    });
  }
  for (std::thread& th : threads) th.join();
  int succeeded = 0;
  for (const Answer& a : answers) {
    ASSERT_EQ(a.status, 200);
    if (a.body["success"] == true) {
      ++succeeded;
    } else {
      EXPECT_EQ(a.body["errorReason"], "invalid_bucketpay_payment_already_settled") << a.body.dump();
    }
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(X402Test, SettlementPendingIsReconciledOnceOnTheSameTransaction) {
  TestBundle t = payment();
  stage(t);
  const std::string body = request(t, requirements(t)).dump();
  Answer pending = post("/settle", body);  // nothing mines it: the wait runs out
  EXPECT_EQ(pending.body["success"], false);
  EXPECT_EQ(pending.body["errorReason"], "settlement_pending");
  ASSERT_EQ(chain_->sent().size(), 1U);
  const std::string tx = eth::to_hex(chain_->sent()[0].hash);
  EXPECT_EQ(pending.body["transaction"], tx);

  chain_->mine_sent(chain_->sent()[0].hash);
  Answer retry = post("/settle", body);  // the SDK's one retry
  EXPECT_EQ(retry.body["success"], true) << retry.body.dump();
  EXPECT_EQ(retry.body["transaction"], tx);
  Answer third = post("/settle", body);
  EXPECT_EQ(third.body["errorReason"], "invalid_bucketpay_payment_already_settled");
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(X402Test, SettleMapsAReceiptRevertAndAPreflightRefusal) {
  TestBundle t = payment();
  stage(t);
  mine_on_send(false, "InvalidProof()");
  Answer a = post("/settle", request(t, requirements(t)).dump());
  EXPECT_EQ(a.body["success"], false);
  EXPECT_EQ(a.body["errorReason"], "invalid_bucketpay_transaction_failed");
  EXPECT_NE(a.body["errorMessage"].get<std::string>().find("InvalidProof"), std::string::npos);
  EXPECT_EQ(a.body["transaction"], eth::to_hex(chain_->sent()[0].hash));

  TestBundle spent = payment();
  stage(spent);
  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: NullifierAlreadySpent(0x01)"));
  Answer b = post("/settle", request(spent, requirements(spent)).dump());
  EXPECT_EQ(b.body["success"], false);
  EXPECT_EQ(b.body["errorReason"], "invalid_bucketpay_nullifier_spent");
  EXPECT_EQ(b.body["transaction"], "");
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(X402Test, SettleForAnotherPayToSendsNothing) {
  TestBundle t = payment();
  stage(t);
  mine_on_send();
  json req = requirements(t);
  req["payTo"] = eth::PrivateKey::random().address().to_checksum();
  Answer a = post("/settle", request(t, req).dump());
  EXPECT_EQ(a.body["success"], false);
  EXPECT_EQ(a.body["errorReason"], "invalid_bucketpay_recipient_mismatch");
  EXPECT_TRUE(chain_->sent().empty());
}

TEST_F(X402Test, ReleaseNeedsThePayersSignature) {
  TestBundle t = payment();
  stage(t);
  // No signature, a stranger's, another note's of the same payment, one over another message.
  Answer none = release(t, std::nullopt);
  EXPECT_EQ(none.status, 401) << none.body.dump();
  EXPECT_NE(none.body["error"].get<std::string>().find("payer's signature"), std::string::npos);
  EXPECT_EQ(release(t, eth::PrivateKey::random()).status, 403);
  EXPECT_EQ(release(t, t.keys[1]).status, 403);
  json other_message{{"paymentDigest", t.digest()},
                     {"bundleHash", bundle_hash(t)},
                     {"signature", eth::to_hex(eth::sign_digest(t.keys[0], t.bundle.digest()))}};
  EXPECT_EQ(post("/release", other_message.dump()).status, 403);
  json malformed{{"paymentDigest", t.digest()}, {"bundleHash", bundle_hash(t)}, {"signature", "0x12"}};
  EXPECT_EQ(post("/release", malformed.dump()).status, 403);
  EXPECT_EQ(post("/release", R"({"paymentDigest":"0x12"})").status, 400);
  // Still staged after all of them.
  EXPECT_EQ(verify_reason(request(t, requirements(t))), "valid");
  ASSERT_TRUE(restarted() != nullptr);

  Answer right = release(t, t.keys[0]);
  EXPECT_EQ(right.status, 200) << right.body.dump();
  EXPECT_EQ(right.body["released"], true);
  EXPECT_EQ(release(t, t.keys[0]).status, 404);
  EXPECT_EQ(verify_reason(request(t, requirements(t))), "invalid_bucketpay_bundle_not_staged");
  // Gone from the journal too: a restart does not bring it back.
  std::unique_ptr<X402Facilitator> fresh = restarted();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(json::parse(fresh->verify(request(t, requirements(t)).dump()).body)["invalidReason"],
            "invalid_bucketpay_bundle_not_staged");
  EXPECT_TRUE(chain_->sent().empty());
}

TEST_F(X402Test, ARestartedFacilitatorSettlesWhatItStagedOnce) {
  TestBundle t = payment();
  stage(t);
  TestBundle expired = payment({1'000});
  expired.bundle.payment.deadline = eth::U256(static_cast<std::uint64_t>(clock_.unix_ms() / 1000 + 100));
  expired.sign();
  stage(expired);
  mine_on_send();
  std::unique_ptr<X402Facilitator> fresh = restarted();  // the same store: another process, or after kill -9
  ASSERT_NE(fresh, nullptr);
  const std::string body = request(t, requirements(t)).dump();
  EXPECT_EQ(json::parse(fresh->verify(body).body)["isValid"], true);
  // Its nullifiers are held again: the same notes for someone else are refused.
  TestBundle other = t;
  other.bundle.payment.recipient = eth::PrivateKey::random().address();
  other.sign();
  EXPECT_EQ(fresh->stage(other.json()).status, 409);
  json settled = json::parse(fresh->settle(body).body);
  EXPECT_EQ(settled["success"], true) << settled.dump();
  ASSERT_EQ(chain_->sent().size(), 1U);
  EXPECT_EQ(json::parse(fresh->settle(body).body)["errorReason"], "invalid_bucketpay_payment_already_settled");
  EXPECT_EQ(json::parse(post("/settle", body).body.dump())["errorReason"], "invalid_bucketpay_payment_already_settled");
  EXPECT_EQ(chain_->sent().size(), 1U);
  // A stage past its deadline does not come back.
  clock_.advance(std::chrono::seconds(101));
  std::unique_ptr<X402Facilitator> later = restarted();
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(json::parse(later->verify(request(expired, requirements(expired)).dump()).body)["invalidReason"],
            "invalid_bucketpay_bundle_not_staged");
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(X402Test, SettlementPendingSurvivesARestartAndIsReconciledOnce) {
  TestBundle t = payment();
  stage(t);
  const std::string body = request(t, requirements(t)).dump();
  Answer pending = post("/settle", body);  // nothing mines it: the wait runs out
  EXPECT_EQ(pending.body["errorReason"], "settlement_pending");
  ASSERT_EQ(chain_->sent().size(), 1U);
  const std::string tx = eth::to_hex(chain_->sent()[0].hash);
  chain_->mine_sent(chain_->sent()[0].hash);
  std::unique_ptr<X402Facilitator> fresh = restarted();
  ASSERT_NE(fresh, nullptr);
  json retry = json::parse(fresh->settle(body).body);  // the SDK's one retry, at the restarted process
  EXPECT_EQ(retry["success"], true) << retry.dump();
  EXPECT_EQ(retry["transaction"], tx);
  EXPECT_EQ(json::parse(fresh->settle(body).body)["errorReason"], "invalid_bucketpay_payment_already_settled");
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST(X402Options, BadBasePathsAreRefused) {
  RelayFixture f;
  X402Options o;
  o.base_path = "x402";
  EXPECT_EQ(X402Facilitator::create(*f.relayer_, o).status().code(), StatusCode::kInvalidArgument);
  o.base_path = "/x402/";
  EXPECT_EQ(X402Facilitator::create(*f.relayer_, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bucketpay::relay
