// The relayer's HTTP API (RelayServer) over a TestChain: every route's status codes and JSON, the
// body limit, and the monitor settling what was sent. Also the Pool's error list against its ABI.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "relay_testing.h"
#include "testing/testing.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using nlohmann::json;
using testing::RelayFixture;
using testing::TestBundle;

class RelayServerTest : public ::testing::Test, public RelayFixture {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.max_body_bytes = 64 * 1024;
    o.poll_interval = std::chrono::milliseconds(20);
    Result<std::unique_ptr<RelayServer>> s = RelayServer::start(*relayer_, o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server_ = std::move(s).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override { server_.reset(); }

  struct Answer {
    int status = 0;
    json body;
    std::string text;
  };
  Answer get(const std::string& path) {
    httplib::Result r = client_->Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->body};
  }
  Answer post(const std::string& body, const std::string& type = "application/json") {
    httplib::Result r = client_->Post("/v1/relay", body, type);
    EXPECT_TRUE(r);
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->body};
  }

  std::unique_ptr<RelayServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RelayServerTest, HealthNamesTheRelayerAndFailsWithTheNode) {
  Answer a = get("/v1/health");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["ok"], true);
  EXPECT_EQ(a.body["relayer"], account_.to_checksum());
  EXPECT_EQ(a.body["chain_id"], 31337);
  EXPECT_EQ(a.body["pool"], pool_.to_checksum());
  chain_->set_down(Status::unavailable("connection refused"));
  a = get("/v1/health");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.body["ok"], false);
  EXPECT_NE(a.body["error"].get<std::string>().find("connection refused"), std::string::npos);
}

TEST_F(RelayServerTest, QuoteAnswersTheSpecsFieldsAndRefusesBadParameters) {
  Answer a = get("/v1/relay/quote?kind=spend_batch&notes=3");
  ASSERT_EQ(a.status, 200) << a.text;
  Result<eth::RelayQuote> q = eth::decode_quote(a.text);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->kind, BundleKind::kSpendBatch);
  EXPECT_EQ(q->notes, 3U);
  EXPECT_EQ(q->fee, eth::U256(10'872'000'000'000'000'000ULL));
  EXPECT_EQ(q->fee_recipient, account_);
  EXPECT_EQ(q->gas, 1'510'000U);
  EXPECT_EQ(a.body["fee"], "10872000000000000000");  // base units: a decimal string
  EXPECT_EQ(a.body["gas_price"], "2000000000");
  EXPECT_EQ(get("/v1/relay/quote?kind=split").status, 200);
  EXPECT_EQ(get("/v1/relay/quote?kind=split&notes=1").status, 200);
  for (const std::string bad :
       {"", "?kind=spend", "?kind=spend_batch", "?kind=spend_batch&notes=0", "?kind=spend_batch&notes=31",
        "?kind=spend_batch&notes=abc", "?kind=spend_batch&notes=-1", "?kind=split&notes=2"}) {
    Answer b = get("/v1/relay/quote" + bad);
    EXPECT_EQ(b.status, 400) << bad << " " << b.text;
    EXPECT_TRUE(b.body.contains("error")) << bad;
  }
  chain_->set_down(Status::unavailable("down"));
  EXPECT_EQ(get("/v1/relay/quote?kind=split").status, 503);
}

TEST_F(RelayServerTest, APostedBundleIs202ThenItsDigestIsKnown) {
  TestBundle t = spend({1000, 1000});
  Answer a = post(t.json());
  ASSERT_EQ(a.status, 202) << a.text;
  EXPECT_EQ(a.body["digest"], t.digest());
  EXPECT_EQ(a.body["state"], "submitted");
  const std::string tx_hash = a.body["tx_hash"];
  EXPECT_EQ(tx_hash, eth::to_hex(chain_->sent().at(0).hash));

  Answer again = post(t.json());
  EXPECT_EQ(again.status, 200) << again.text;
  EXPECT_EQ(again.body["tx_hash"], tx_hash);
  EXPECT_EQ(again.body["state"], "submitted");

  Answer status = get("/v1/relay/" + t.digest());
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.body["digest"], t.digest());
  EXPECT_EQ(status.body["tx_hash"], tx_hash);
  EXPECT_TRUE(status.body["block"].is_null());
  EXPECT_EQ(status.body["reason"], "");  // none
  // Either case of the digest names the same entry.
  std::string upper = t.digest();
  std::transform(upper.begin() + 2, upper.end(), upper.begin() + 2, ::toupper);
  EXPECT_EQ(get("/v1/relay/" + upper).status, 200);

  // The monitor settles it once mined.
  const std::uint64_t block = chain_->mine_sent(*eth::hash_from_hex(tx_hash), true, RelayFixture::paid_events(t));
  for (int i = 0; i < 500 && get("/v1/relay/" + t.digest()).body["state"] != "mined"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  status = get("/v1/relay/" + t.digest());
  EXPECT_EQ(status.body["state"], "mined");
  EXPECT_EQ(status.body["block"], block);
  EXPECT_EQ(status.body["gas_used"], 650'000);
  EXPECT_EQ(chain_->sent().size(), 1U);
}

TEST_F(RelayServerTest, RefusalsAre4xxWithAOneLineErrorAndAReason) {
  Answer a = post("{\"kind\":");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["reason"], "malformed");
  EXPECT_NE(a.body["error"].get<std::string>().find("not JSON"), std::string::npos);

  TestBundle t = spend({1000});
  t.bundle.payment.fee_recipient = eth::PrivateKey::random().address();
  t.sign();
  a = post(t.json());
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body["reason"], "wrong_fee_recipient");

  chain_->set_simulate_failure(Status::failed_precondition("Pool.spendBatch reverted: UnknownRoot(5)"));
  a = post(spend({1000}).json());
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body["reason"], "reverted");
  EXPECT_EQ(a.body["error"], "Pool.spendBatch reverted: UnknownRoot(5)");
  chain_->set_simulate_failure(std::nullopt);

  // Above the body limit (64 KiB here): 413 before the relayer reads it.
  TestBundle big = spend({1000, 1000, 1000, 1000, 1000, 1000});
  ASSERT_GT(big.json().size(), 64U * 1024);
  a = post(big.json());
  EXPECT_EQ(a.status, 413) << a.text;
  EXPECT_EQ(a.body["reason"], "too_large");

  a = post(spend({1000}).json(), "text/plain");
  EXPECT_EQ(a.status, 415);

  chain_->set_down(Status::unavailable("down"));
  a = post(spend({1000}, eth::U256(1)).json());
  EXPECT_EQ(a.status, 503) << a.text;
  chain_->set_down(std::nullopt);

  EXPECT_TRUE(chain_->sent().empty());
  const std::string m = get("/metrics").text;
  EXPECT_NE(m.find("bucketpay_relay_bundles_refused_total{reason=\"too_large\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("bucketpay_relay_http_requests_total{route=\"/v1/relay\",code=\"413\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("bucketpay_relay_http_requests_total{route=\"/v1/relay\",code=\"422\"} 2\n"), std::string::npos);
}

TEST_F(RelayServerTest, UnknownDigestsAre404AndMalformedOnes400) {
  Answer a = get("/v1/relay/0x" + std::string(64, '1'));
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"], "no bundle with this digest");
  EXPECT_EQ(get("/v1/relay/0x1234").status, 400);
  EXPECT_EQ(get("/v1/relay/" + std::string(66, 'z')).status, 400);
  a = get("/v1/nothing");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"], "no such endpoint");
}

TEST_F(RelayServerTest, MetricsArePrometheusText) {
  httplib::Result r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE bucketpay_relay_bundles_refused_total counter\n"), std::string::npos);
  EXPECT_NE(r->body.find("bucketpay_relay_transactions_mined_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace bucketpay::relay
