// The relayer API's messages (bucketpay/relay_api.h) and the HTTP relayer client
// (bucketpay/relayer_client.h): codecs that read back what they write and refuse what breaks the
// spec, signatures checked against their auths, and a client that turns every misbehaving answer
// of a tiny local HTTP server (the wrong quote, the wrong digest, garbage, refusals, errors, silence)
// into a clear Status.
#include "bucketpay/relay_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "anvil_testing.h"
#include "bucketpay/relayer_client.h"

namespace bucketpay::eth {
namespace {

using nlohmann::json;

const Address kPool = *Address::from_string("0x00000000000000000000000000000000000b0017");
const Address kRelayer = *Address::from_string("0x000000000000000000000000000000000000fee5");

// A spend_batch bundle of `n` notes, each signed by its own auth key.
RelayBundle spend_bundle(std::size_t n) {
  RelayBundle b;
  b.kind = BundleKind::kSpendBatch;
  b.chain_id = 31337;
  b.pool = kPool;
  b.payment.recipient = PrivateKey::random().address();
  b.payment.fee = U256(30'000);
  b.payment.fee_recipient = kRelayer;
  b.payment.deadline = U256(1'800'000'000);
  std::vector<PrivateKey> keys;
  for (std::size_t i = 0; i < n; ++i) {
    keys.push_back(PrivateKey::random());
    SpendCall s{Bytes(64 + 32 * i, static_cast<std::uint8_t>(i + 1)), U256(100 + i), U256(200 + i), 5 + i,
                keys.back().address()};
    b.payment.nullifiers.push_back(s.nullifier);
    b.spends.push_back(std::move(s));
  }
  const Hash32 digest = b.digest();
  for (const PrivateKey& k : keys) b.signatures.push_back(sign_digest(k, digest));
  return b;
}

RelayBundle split_bundle() {
  RelayBundle b;
  b.kind = BundleKind::kSplit;
  b.chain_id = 31337;
  b.pool = kPool;
  const PrivateKey key = PrivateKey::random();
  SplitCall s{Bytes(96, 7), U256(1), U256(2), 12, key.address(), {}};
  for (std::size_t i = 0; i < 3; ++i) s.out_cms[i] = U256(50 + i);
  b.split = s;
  b.payment = Payment{{s.nullifier}, kRelayer, U256(120'000), kRelayer, U256(1'800'000'000)};
  b.signatures = {sign_digest(key, b.digest())};
  return b;
}

TEST(RelayApi, BundlesQuotesAndStatusesReadBackWhatIsWritten) {
  for (const RelayBundle& b : {spend_bundle(1), spend_bundle(5), split_bundle()}) {
    auto back = decode_bundle(encode_bundle(b));
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(*back, b);
    EXPECT_TRUE(verify_bundle_signatures(*back).is_ok());
  }
  const RelayQuote q{BundleKind::kSplit, 1, U256(123'456), kRelayer, 31337, kPool, 1'200'000, U256(3'000'000'000),
                     1'800'000'060};
  auto qb = decode_quote(encode_quote(q));
  ASSERT_TRUE(qb.ok()) << qb.status().to_string();
  EXPECT_EQ(*qb, q);
  RelayStatus s;
  s.digest = keccak256("a payment");
  s.state = RelayState::kMined;
  s.tx_hash = keccak256("its transaction");
  s.block = 12;
  s.gas_used = 400'000;
  auto sb = decode_status(encode_status(s));
  ASSERT_TRUE(sb.ok()) << sb.status().to_string();
  EXPECT_EQ(*sb, s);
  // The POST answer: digest, state, tx_hash only.
  auto posted = decode_status(R"({"digest":")" + to_hex(s.digest) + R"(","state":"submitted","tx_hash":")" +
                              to_hex(*s.tx_hash) + R"("})");
  ASSERT_TRUE(posted.ok()) << posted.status().to_string();
  EXPECT_EQ(posted->state, RelayState::kSubmitted);
  EXPECT_FALSE(posted->block.has_value());
}

TEST(RelayApi, TheBundleIsTheSpecsJson) {
  const RelayBundle b = spend_bundle(1);
  const json j = json::parse(encode_bundle(b));
  EXPECT_EQ(j["kind"], "spend_batch");
  EXPECT_EQ(j["chain_id"], 31337);
  EXPECT_EQ(j["payment"]["fee"], "30000") << "base units: a decimal string";
  EXPECT_EQ(j["payment"]["deadline"], 1'800'000'000) << "Unix seconds: an integer";
  EXPECT_EQ(j["spends"][0]["value"], 5) << "cents: an integer";
  EXPECT_EQ(j["spends"][0]["root"], "0x" + std::string(62, '0') + "64") << "field elements: 0x + 64 hex";
  EXPECT_EQ(j["signatures"][0].get<std::string>().size(), 2U + 130U);
  EXPECT_FALSE(j.contains("split"));
}

TEST(RelayApi, MalformedBundlesAreRefusedNamingWhatIsWrong) {
  const json good = json::parse(encode_bundle(spend_bundle(2)));
  const std::string p = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
  struct Case {
    std::function<void(json&)> change;
    const char* named;
  };
  const Case cases[] = {
      {[](json& j) { j.erase("payment"); }, "payment is missing"},
      {[](json& j) { j["extra"] = 1; }, "extra is not a member"},
      {[](json& j) { j["kind"] = "spend"; }, "not a bundle kind"},
      {[](json& j) { j["chain_id"] = "31337"; }, "chain_id is not a non-negative integer"},
      {[](json& j) { j["payment"]["fee"] = 30000; }, "payment.fee is not a string"},
      {[](json& j) { j["payment"]["fee"] = "0x10"; }, "payment.fee is not a decimal"},
      {[](json& j) { j["payment"]["fee"] = "-1"; }, "payment.fee is not a decimal"},
      {[](json& j) { j["payment"]["deadline"] = -5; }, "payment.deadline"},
      {[](json& j) { j["payment"]["recipient"] = "0x1234"; }, "payment.recipient is not an address"},
      {[&](json& j) { j["spends"][1]["root"] = p; }, "spends[1].root is not a field element"},
      {[](json& j) { j["spends"][0]["root"] = "0x01"; }, "spends[0].root is not 0x and 64 hex digits"},
      {[](json& j) { j["spends"][0]["value"] = 0; }, "spends[0].value is 0"},
      {[](json& j) { j["spends"][0]["value"] = 1.5; }, "spends[0].value is not"},
      {[](json& j) { j["spends"][0]["auth"] = "0x0000000000000000000000000000000000000000"; }, "zero address"},
      {[](json& j) { j["spends"][0]["proof"] = "0x"; }, "spends[0].proof"},
      {[](json& j) { j["spends"] = json::array(); }, "spends must hold 1 to 32"},
      {[](json& j) { j["signatures"].erase(1); }, "2 spent notes"},
      {[](json& j) { j["signatures"][0] = "0x1234"; }, "signatures[0] is not 0x and 130"},
      {[](json& j) { j["split"] = json::object(); }, "split is not a member"},
  };
  for (const Case& c : cases) {
    json j = good;
    c.change(j);
    auto b = decode_bundle(j.dump());
    ASSERT_FALSE(b.ok()) << c.named;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << c.named;
    EXPECT_NE(b.status().message().find(c.named), std::string::npos) << b.status().message();
  }
  json split = json::parse(encode_bundle(split_bundle()));
  split["split"]["out_cms"].erase(0);
  EXPECT_NE(decode_bundle(split.dump()).status().message().find("8 commitments"), std::string::npos);
  EXPECT_FALSE(decode_bundle("not json").ok());
  EXPECT_FALSE(decode_bundle("[]").ok());
}

TEST(RelayApi, SignaturesMustRecoverToTheirProofsAuth) {
  RelayBundle b = spend_bundle(3);
  std::swap(b.signatures[0], b.signatures[2]);
  Status st = verify_bundle_signatures(b);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("signatures[0] is not by the proof's auth"), std::string::npos) << st.message();
  b = spend_bundle(2);
  b.payment.fee = U256(30'001);  // a relayer raising its fee after the notes signed
  EXPECT_FALSE(verify_bundle_signatures(b).is_ok());
  b = split_bundle();
  b.signatures[0][64] = 29;  // v neither 27 nor 28
  EXPECT_NE(verify_bundle_signatures(b).message().find("malformed"), std::string::npos);
}

// A relayer that answers whatever the test sets, per path.
class FakeRelayer {
 public:
  FakeRelayer() {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      last_body_ = req.body;
      last_path_ = req.path + (req.params.empty() ? "" : "?");
      for (const auto& [k, v] : req.params) last_path_ += k + "=" + v + "&";
      if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      res.status = status_;
      res.set_content(body_, "application/json");
    };
    server_.Get(R"(/v1/relay/.*)", handle);
    server_.Post("/v1/relay", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeRelayer() {
    server_.stop();
    thread_.join();
  }
  void answer(int status, std::string body, int delay_ms = 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
    body_ = std::move(body);
    delay_ms_ = delay_ms;
  }
  std::string last_body() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_body_;
  }
  std::string last_path() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_path_;
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  int status_ = 200;
  std::string body_ = "{}";
  int delay_ms_ = 0;
  std::string last_body_;
  std::string last_path_;
};

TEST(RelayerClient, SpeaksTheApiAndChecksEveryAnswer) {
  FakeRelayer relayer;
  auto client = connect_relayer({.url = relayer.url(), .timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  const RelayQuote q{BundleKind::kSpendBatch, 3, U256(90'000), kRelayer, 31337, kPool, 800'000, U256(1), 99};
  relayer.answer(200, encode_quote(q));
  auto got = (*client)->quote(BundleKind::kSpendBatch, 3);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, q);
  EXPECT_NE(relayer.last_path().find("kind=spend_batch"), std::string::npos) << relayer.last_path();
  EXPECT_NE(relayer.last_path().find("notes=3"), std::string::npos) << relayer.last_path();
  // A quote of something else than asked is not this quote.
  auto other = (*client)->quote(BundleKind::kSpendBatch, 4);
  EXPECT_EQ(other.status().code(), StatusCode::kCorruption) << other.status().to_string();

  const RelayBundle b = spend_bundle(2);
  const Hash32 digest = b.digest();
  RelayStatus taken;
  taken.digest = digest;
  taken.state = RelayState::kSubmitted;
  taken.tx_hash = keccak256("tx");
  relayer.answer(202, encode_status(taken));
  auto submitted = (*client)->submit(b, digest);
  ASSERT_TRUE(submitted.ok()) << submitted.status().to_string();
  EXPECT_EQ(submitted->tx_hash, taken.tx_hash);
  auto sent = decode_bundle(relayer.last_body());
  ASSERT_TRUE(sent.ok()) << sent.status().to_string();
  EXPECT_EQ(*sent, b) << "the bundle went as the spec's JSON";
  // The status of another payment is not this payment's.
  RelayStatus wrong = taken;
  wrong.digest = keccak256("another");
  relayer.answer(200, encode_status(wrong));
  EXPECT_EQ((*client)->submit(b, digest).status().code(), StatusCode::kCorruption);
  EXPECT_EQ((*client)->status(digest).status().code(), StatusCode::kCorruption);
  relayer.answer(404, R"({"error":"unknown payment"})");
  auto unknown = (*client)->status(digest);
  ASSERT_TRUE(unknown.ok()) << unknown.status().to_string();
  EXPECT_FALSE(unknown->has_value());
}

TEST(RelayerClient, RefusalsErrorsGarbageAndSilenceAreClearStatuses) {
  FakeRelayer relayer;
  auto client = connect_relayer({.url = relayer.url() + "/", .timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(client.ok());
  const RelayBundle b = spend_bundle(1);
  relayer.answer(422, R"x({"error":"eth_call reverted: NullifierAlreadySpent(200)"})x");
  Status st = (*client)->submit(b, b.digest()).status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("refused"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("NullifierAlreadySpent(200)"), std::string::npos) << st.message();
  relayer.answer(503, "overloaded");
  EXPECT_EQ((*client)->quote(BundleKind::kSplit, 1).status().code(), StatusCode::kUnavailable);
  relayer.answer(200, "<html>");
  EXPECT_EQ((*client)->quote(BundleKind::kSplit, 1).status().code(), StatusCode::kCorruption);
  relayer.answer(200, R"({"kind":"split","notes":1})");
  Status partial = (*client)->quote(BundleKind::kSplit, 1).status();
  EXPECT_EQ(partial.code(), StatusCode::kCorruption);
  EXPECT_NE(partial.message().find("quote.fee is missing"), std::string::npos) << partial.message();
  relayer.answer(200, "{}", /*delay_ms=*/1000);
  EXPECT_EQ((*client)->status(b.digest()).status().code(), StatusCode::kTimeout);
  // Nobody listening.
  auto nobody = connect_relayer({.url = "http://127.0.0.1:" + std::to_string(testing::pick_free_port()),
                                 .timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ((*nobody)->quote(BundleKind::kSpendBatch, 1).status().code(), StatusCode::kUnavailable);
  for (const char* bad : {"127.0.0.1:8646", "ftp://x", "http://", "http://h:99999", "http://h/p?q=1"}) {
    EXPECT_EQ(connect_relayer({.url = bad}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace bucketpay::eth
