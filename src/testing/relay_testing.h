// A real relayer for end-to-end tests: `bucketpay relay init` makes its store and account (the key
// sealed in its own vault), the account gets gas money from anvil (anvil_setBalance), and
// `bucketpay relay serve` runs as its own process on a free port of 127.0.0.1, ready once
// GET /v1/health answers 200; killed when destroyed. Tests speak to it over its HTTP API only.
// Header-only, test code only.
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bucketpay/chain.h"
#include "bucketpay/eth.h"
#include "bucketpay/subprocess.h"
#include "chain/anvil_testing.h"
#include "testing.h"

namespace bucketpay::testing {

class RelayProcess {
 public:
  struct Options {
    // Tokens per ETH, its fee's price of gas: "3" keeps a 1-note fee around a cent at anvil's gas
    // price, for wallets of a few dollars.
    std::string eth_price = "3";
    // Blocks before the relayer calls its transaction mined (serve --confirmations): until then a
    // transaction that vanishes in a reorganisation is sent again.
    std::uint64_t confirmations = 1;
  };

  // Makes a relayer store under `dir` for the Pool at `pool`, funds its account with 10 ETH on the
  // anvil node at `rpc_url`, and serves it.
  static Result<std::unique_ptr<RelayProcess>> start(const std::string& rpc_url, const eth::Address& pool,
                                                     const std::filesystem::path& dir, const Options& options) {
    std::filesystem::create_directories(dir);
    const std::string db = (dir / "relay.db").string();
    std::string init_out;
    {
      auto init = spawn(dir, {"init", "--rpc-url", rpc_url, "--pool", pool.to_hex(), "--db", db, "--eth-price",
                              options.eth_price, "--json"});
      if (!init.ok()) return init.status();
      for (std::string l = read_line(*init); !l.empty(); l = read_line(*init)) init_out += l;
      if (init->wait() != 0) return Status::internal("bucketpay relay init failed: " + init->stderr_tail());
    }
    const nlohmann::json config = nlohmann::json::parse(init_out, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object() || !config.contains("account") || !config["account"].is_string()) {
      return Status::internal("bucketpay relay init printed no account: " + init_out);
    }
    auto account = eth::Address::from_string(config["account"].get<std::string>());
    if (!account.ok()) return account.status();
    {
      eth::RpcOptions ro;
      ro.url = rpc_url;
      auto rpc = eth::Rpc::connect(ro);
      if (!rpc.ok()) return rpc.status();
      const nlohmann::json params = nlohmann::json::array({account->to_hex(), "0x8ac7230489e80000"});  // 10 ETH
      auto funded = (*rpc)->raw_request("anvil_setBalance", params.dump());
      if (!funded.ok()) return funded.status();
    }
    auto serve = spawn(dir, {"serve", "--db", db, "--port", "0", "--poll-ms", "100", "--confirmations",
                             std::to_string(options.confirmations)});
    if (!serve.ok()) return serve.status();
    // Its first line: "relaying for <account> on http://127.0.0.1:<port>".
    const std::string first = read_line(*serve);
    const std::size_t colon = first.rfind(':');
    if (first.find(account->to_checksum()) == std::string::npos || colon == std::string::npos) {
      return Status::internal("bucketpay relay serve said '" + first + "': " + serve->stderr_tail());
    }
    const int port = std::atoi(first.c_str() + colon + 1);
    auto relay = std::unique_ptr<RelayProcess>(new RelayProcess(std::move(*serve), port, *account));
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = client.Get("/v1/health");
      if (res && res->status == 200) return relay;
      if (!relay->process_.running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Status::unavailable("bucketpay relay did not become healthy: " + relay->process_.stderr_tail());
  }
  static Result<std::unique_ptr<RelayProcess>> start(const std::string& rpc_url, const eth::Address& pool,
                                                     const std::filesystem::path& dir) {
    return start(rpc_url, pool, dir, Options{});
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The relayer's account: the fee recipient of its quotes.
  [[nodiscard]] const eth::Address& account() const { return account_; }
  // Its stderr so far (one line per journal transition).
  [[nodiscard]] std::string log() const { return process_.stderr_tail(); }

 private:
  RelayProcess(Subprocess process, int port, eth::Address account)
      : process_(std::move(process)), port_(port), account_(account) {}

  static Result<Subprocess> spawn(const std::filesystem::path& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {(build_dir() / "bin" / "bucketpay-fastkdf").string(), "relay"});
    Subprocess::Options o;
    o.argv = std::move(args);
    o.env = {{"BUCKETPAY_PASSPHRASE", "relay test passphrase"}, {"BUCKETPAY_KDF", "fast"}};
    o.stderr_path = dir / "relay.log";
    return Subprocess::spawn(o);
  }

  // The next line of the child's stdout; empty at EOF or after 60 s.
  static std::string read_line(Subprocess& p) {
    std::string out;
    std::uint8_t c = 0;
    const auto deadline = Subprocess::Clock::now() + std::chrono::seconds(60);
    while (p.read_exact({&c, 1}, deadline).is_ok() && c != '\n') out.push_back(static_cast<char>(c));
    return out;
  }

  Subprocess process_;
  int port_;
  eth::Address account_;
};

}  // namespace bucketpay::testing
