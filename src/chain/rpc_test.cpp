// The RPC client against a tiny local HTTP server that misbehaves on purpose: garbage, wrong JSON
// types, RPC errors, wrong ids, HTTP errors, oversized and slow answers. Each must be a clear
// Status, never a crash or a hang.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "anvil_testing.h"
#include "bucketpay/chain.h"

namespace bucketpay::eth {
namespace {

using nlohmann::json;

// Answers every POST with what `reply(id)` returns (id: the request's JSON-RPC id).
class FakeNode {
 public:
  using Reply = std::function<std::string(const json& id)>;

  FakeNode() {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      json r = json::parse(req.body, nullptr, false);
      json id = r.is_object() && r.contains("id") ? r["id"] : json();
      Reply reply;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        reply = reply_;
      }
      if (status_ != 200) {
        res.status = status_;
        res.set_content("oops", "text/plain");
        return;
      }
      res.set_content(reply(id), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeNode() {
    server_.stop();
    thread_.join();
  }

  void answer(Reply r) {
    std::lock_guard<std::mutex> lock(mutex_);
    reply_ = std::move(r);
  }
  // Answers {"jsonrpc":"2.0","id":<id>, <body>}.
  void answer_with(const std::string& body) {
    answer([body](const json& id) { return R"({"jsonrpc":"2.0","id":)" + id.dump() + "," + body + "}"; });
  }
  void http_status(int s) { status_ = s; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  Reply reply_ = [](const json&) { return std::string("{}"); };
  std::atomic<int> status_{200};
};

class RpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Rpc>> r = Rpc::connect({.url = node_.url(), .timeout = std::chrono::milliseconds(400)});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    rpc_ = std::move(r).value();
  }
  FakeNode node_;
  std::unique_ptr<Rpc> rpc_;
};

TEST_F(RpcTest, WellFormedAnswerParses) {
  node_.answer_with(R"("result":"0x7a69")");
  EXPECT_EQ(*rpc_->chain_id(), 31337u);
}

TEST_F(RpcTest, Garbage) {
  node_.answer([](const json&) { return std::string("<html>not json"); });
  Result<std::uint64_t> r = rpc_->chain_id();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("not JSON"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("eth_chainId"), std::string::npos);
}

TEST_F(RpcTest, WrongTypes) {
  for (const char* body : {R"("result":12)", R"("result":"12")", R"("result":"0x")", R"("result":null)",
                           R"("result":"0x1ffffffffffffffff")", R"("result":["0x1"])"}) {
    node_.answer_with(body);
    Result<std::uint64_t> r = rpc_->chain_id();
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << body << ": " << r.status().to_string();
  }
  // A receipt with a field of the wrong type.
  node_.answer_with(R"("result":{"transactionHash":"0x1234","status":"0x1"})");
  Result<std::optional<Receipt>> receipt = rpc_->get_transaction_receipt(Hash32{});
  ASSERT_FALSE(receipt.ok());
  EXPECT_EQ(receipt.status().code(), StatusCode::kCorruption);
  // Logs that are not an array; a block that is a number.
  node_.answer_with(R"("result":{"logs":1})");
  EXPECT_EQ(rpc_->get_logs({}).status().code(), StatusCode::kCorruption);
  node_.answer_with(R"("result":7)");
  EXPECT_EQ(rpc_->get_block(BlockId::latest()).status().code(), StatusCode::kCorruption);
  node_.answer_with(R"("result":{"baseFeePerGas":[]})");
  EXPECT_EQ(rpc_->fee_history(1, BlockId::latest(), {}).status().code(), StatusCode::kCorruption);
}

TEST_F(RpcTest, NotJsonRpc) {
  node_.answer([](const json&) { return std::string(R"([1,2,3])"); });
  EXPECT_EQ(rpc_->chain_id().status().code(), StatusCode::kCorruption);
  node_.answer([](const json&) { return std::string(R"({"jsonrpc":"2.0","id":999999,"result":"0x1"})"); });
  Result<std::uint64_t> wrong_id = rpc_->chain_id();
  EXPECT_EQ(wrong_id.status().code(), StatusCode::kCorruption);
  EXPECT_NE(wrong_id.status().message().find("id"), std::string::npos);
  node_.answer_with(R"("nothing":true)");
  EXPECT_EQ(rpc_->chain_id().status().code(), StatusCode::kCorruption);
  node_.answer_with(R"("error":{"code":"x","message":5})");
  EXPECT_EQ(rpc_->chain_id().status().code(), StatusCode::kCorruption);
}

TEST_F(RpcTest, RpcErrorIsReportedWithCodeAndMessage) {
  node_.answer_with(R"("error":{"code":-32000,"message":"header not found"})");
  Result<U256> r = rpc_->get_balance(Address());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "rpc error -32000: header not found (eth_getBalance)");
  // A revert with data is decoded into the message.
  node_.answer_with(
      R"("error":{"code":3,"message":"execution reverted","data":"0x4e487b710000000000000000000000000000000000000000000000000000000000000001"})");
  Result<Bytes> c = rpc_->call({});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Panic(0x1: assertion failed)"), std::string::npos) << c.status().message();
  Result<CallOutcome> o = rpc_->try_call({});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->reverted);
  EXPECT_EQ(o->data.size(), 36u);
}

TEST_F(RpcTest, HttpErrorStatus) {
  node_.http_status(500);
  Result<std::uint64_t> r = rpc_->chain_id();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("HTTP 500"), std::string::npos);
}

TEST_F(RpcTest, SlowAnswerTimesOut) {
  node_.answer([](const json& id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return R"({"jsonrpc":"2.0","result":"0x1","id":)" + id.dump() + "}";
  });
  auto start = std::chrono::steady_clock::now();
  Result<std::uint64_t> r = rpc_->chain_id();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout) << r.status().to_string();
  EXPECT_LT(took, std::chrono::milliseconds(1400));
}

TEST_F(RpcTest, OversizedAnswerIsRefused) {
  Result<std::unique_ptr<Rpc>> small = Rpc::connect({.url = node_.url(), .max_response_bytes = 1000});
  ASSERT_TRUE(small.ok());
  node_.answer_with(R"("result":")" + std::string(5000, 'a') + "\"");
  EXPECT_EQ((*small)->chain_id().status().code(), StatusCode::kResourceExhausted);
}

TEST(RpcConnect, BadUrlsAndNobodyListening) {
  for (const char* url : {"", "127.0.0.1:8545", "ftp://x", "http://", "http://127.0.0.1:99999", "http://h:x"}) {
    EXPECT_EQ(Rpc::connect({.url = url}).status().code(), StatusCode::kInvalidArgument) << url;
  }
  int port = testing::pick_free_port();  // free, so nobody listens
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = "http://127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(rpc.ok());
  Result<std::uint64_t> r = (*rpc)->chain_id();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
}

}  // namespace
}  // namespace bucketpay::eth
