// `bucketpay relay` (the relayer server, docs/protocol.md "Relayers") for end-to-end tests: started
// as its own process on a free port of 127.0.0.1 against a node and a Pool, with its own account,
// ready once GET /v1/health answers 200; killed when destroyed.
//
// The relayer server is written on another branch (src/relay). Until this build's `bucketpay` has
// the `relay` command, start() fails with kFailedPrecondition kWaitsForRelay and the tests that need a relayer skip,
// saying so (relay_missing()); they are written against the relayer's HTTP API
// (bucketpay/relay_api.h) only.
// The command line used here is this side's assumption of the relayer's (one place to adjust):
//   bucketpay relay --rpc URL --pool ADDRESS --listen 127.0.0.1:PORT --store DIR/relay.db
//   with the relayer account's key in $BUCKETPAY_RELAYER_KEY.
// Header-only, test code only.
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "bucketpay/eth.h"
#include "chain/anvil_testing.h"
#include "common/subprocess.h"
#include "testing/testing.h"

namespace bucketpay::testing {

inline constexpr const char* kWaitsForRelay =
    "waits for the relayer server (`bucketpay relay`, src/relay on another branch): this build has no relay command";

class RelayProcess {
 public:
  // `key_hex`: the relayer account's key (0x + 64 hex), an account with gas money.
  static Result<std::unique_ptr<RelayProcess>> start(const std::string& rpc_url, const eth::Address& pool,
                                                     const std::string& key_hex, const std::filesystem::path& dir) {
    const std::filesystem::path cli = build_dir() / "bin" / "bucketpay";
    {
      // `bucketpay --help` lists its commands.
      Subprocess::Options help;
      help.argv = {"/bin/sh", "-c", "\"$0\" --help | grep -Eq '^ +relay +'", cli.string()};
      auto p = Subprocess::spawn(help);
      if (!p.ok()) return p.status();
      if (p->wait() != 0) return Status::failed_precondition(kWaitsForRelay);
    }
    const int port = pick_free_port();
    std::filesystem::create_directories(dir);
    Subprocess::Options o;
    o.argv = {cli.string(), "relay",
              "--rpc",      rpc_url,
              "--pool",     pool.to_hex(),
              "--listen",   "127.0.0.1:" + std::to_string(port),
              "--store",    (dir / "relay.db").string()};
    o.env = {{"BUCKETPAY_RELAYER_KEY", key_hex}};
    o.stderr_path = dir / "relay.log";
    auto p = Subprocess::spawn(o);
    if (!p.ok()) return p.status();
    auto relay = std::unique_ptr<RelayProcess>(new RelayProcess(std::move(*p), port));
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

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Whether a start() failure means this build has no relayer yet (the test skips).
  static bool relay_missing(const Status& st) { return st.message() == kWaitsForRelay; }

 private:
  RelayProcess(Subprocess process, int port) : process_(std::move(process)), port_(port) {}
  Subprocess process_;
  int port_;
};

}  // namespace bucketpay::testing
