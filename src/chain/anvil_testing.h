// Test helper: a real anvil on 127.0.0.1 with a free port and its own state directory, stopped
// (SIGKILL, via Subprocess) and its directory removed when the object goes away.
//
// Also the forge artifacts (through bucketpay/deployment.h: link bucketpay_deployment) and anvil's test
// methods (snapshot, revert, mine, automine, drop a pending transaction).
//
// Test-only; header-only so it is not linked into bucketpay_chain.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "bucketpay/chain.h"
#include "bucketpay/deployment.h"
#include "bucketpay/subprocess.h"
#include "testing/testing.h"

namespace bucketpay::testing {

// anvil's default mnemonic ("test test ... junk"), accounts 0 and 1. These keys are public.
inline constexpr const char* kAnvilKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
inline constexpr const char* kAnvilAddress0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
inline constexpr const char* kAnvilAddress1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
inline constexpr const char* kAnvilKey1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

// A port that was free a moment ago (the kernel picks it for a socket bound to 127.0.0.1:0).
inline int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class Anvil {
 public:
  // Starts anvil and waits until it answers eth_chainId. Retries with another port if the one
  // picked was taken in the meantime.
  static Result<std::unique_ptr<Anvil>> start(const std::filesystem::path& anvil_binary) {
    if (!std::filesystem::exists(anvil_binary)) {
      return Status::failed_precondition("anvil not found at " + anvil_binary.string() + " (run npm ci)");
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "bucketpay-anvil-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Status::io_error("mkdtemp failed");
    }
    std::filesystem::path dir = tmpl;
    Status last = Status::unavailable("anvil did not start");
    for (int attempt = 0; attempt < 3; ++attempt) {
      int port = pick_free_port();
      if (port <= 0) {
        return Status::io_error("no free port");
      }
      Subprocess::Options o;
      // anvil logs every request on stdout, which nobody reads here: send it to a file.
      o.argv = {"/bin/sh",
                "-c",
                "exec \"$0\" \"$@\" > \"$BUCKETPAY_ANVIL_LOG\"",
                anvil_binary.string(),
                "--host",
                "127.0.0.1",
                "--port",
                std::to_string(port),
                "--state",
                (dir / "state.json").string(),
                "--cache-path",
                (dir / "cache").string()};
      o.env = {{"BUCKETPAY_ANVIL_LOG", (dir / "stdout.log").string()}};
      o.stderr_path = dir / "stderr.log";
      Result<Subprocess> p = Subprocess::spawn(o);
      if (!p) {
        std::filesystem::remove_all(dir);
        return p.status();
      }
      auto anvil = std::unique_ptr<Anvil>(new Anvil(std::move(p).value(), dir, port));
      Status s = anvil->wait_ready();
      if (s.is_ok()) {
        return anvil;
      }
      last = s;
      anvil->dir_.clear();  // keep the directory for the next attempt
    }
    std::filesystem::remove_all(dir);
    return last;
  }

  ~Anvil() {
    process_.kill();
    process_.wait();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  Anvil(Subprocess p, std::filesystem::path dir, int port)
      : process_(std::move(p)), dir_(std::move(dir)), port_(port) {}

  Status wait_ready() {
    Result<std::unique_ptr<eth::Rpc>> rpc =
        eth::Rpc::connect({.url = url(), .timeout = std::chrono::milliseconds(500)});
    if (!rpc) {
      return rpc.status();
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_.running()) {
        return Status::unavailable("anvil exited: " + process_.stderr_tail());
      }
      if ((*rpc)->chain_id().ok()) {
        return Status::ok();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Status::timeout("anvil did not answer within 30 s");
  }

  Subprocess process_;
  std::filesystem::path dir_;
  int port_;
};

// A forge artifact from contracts/out (made by the build's `contracts` target): init code and ABI.
using Artifact = deployment::Artifact;

// contracts/out/<file>/<contract>.json, or nullopt when it is missing or has no bytecode.
inline std::optional<Artifact> load_artifact(const std::string& file, const std::string& contract) {
  Result<Artifact> a = deployment::load_artifact(project_root() / "contracts" / "out", file, contract);
  if (!a.ok()) {
    return std::nullopt;
  }
  return std::move(a).value();
}

// ---- anvil's test methods (development nodes only), through Rpc::raw_request.

// evm_snapshot: an id that anvil_revert() takes back to this state (once: reverting consumes it).
inline Result<std::string> anvil_snapshot(eth::Rpc& rpc) {
  Result<std::string> r = rpc.raw_request("evm_snapshot", "[]");
  if (!r.ok()) {
    return r.status();
  }
  nlohmann::json j = nlohmann::json::parse(*r, nullptr, false);
  if (!j.is_string()) {
    return Status::corruption("evm_snapshot answered " + *r);
  }
  return j.get<std::string>();
}

// evm_revert to a snapshot: the chain's head goes back to the snapshot's block (later blocks and
// their transactions are forgotten). kFailedPrecondition when anvil did not revert.
inline Status anvil_revert(eth::Rpc& rpc, const std::string& snapshot_id) {
  Result<std::string> r = rpc.raw_request("evm_revert", nlohmann::json::array({snapshot_id}).dump());
  if (!r.ok()) {
    return r.status();
  }
  if (*r != "true") {
    return Status::failed_precondition("evm_revert " + snapshot_id + " answered " + *r);
  }
  return Status::ok();
}

// Mines `blocks` blocks at once (anvil_mine), with whatever is in the pool.
inline Status anvil_mine(eth::Rpc& rpc, std::uint64_t blocks = 1) {
  Result<std::string> r =
      rpc.raw_request("anvil_mine", nlohmann::json::array({eth::U256(blocks).to_quantity()}).dump());
  return r.ok() ? Status::ok() : r.status();
}

// evm_setAutomine: with false, sent transactions wait in the pool until anvil_mine.
inline Status anvil_set_automine(eth::Rpc& rpc, bool on) {
  Result<std::string> r = rpc.raw_request("evm_setAutomine", nlohmann::json::array({on}).dump());
  return r.ok() ? Status::ok() : r.status();
}

// anvil_dropTransaction: removes a pending transaction from the pool (as if it was never sent).
inline Status anvil_drop_transaction(eth::Rpc& rpc, const eth::Hash32& tx_hash) {
  Result<std::string> r =
      rpc.raw_request("anvil_dropTransaction", nlohmann::json::array({eth::to_hex(tx_hash)}).dump());
  return r.ok() ? Status::ok() : r.status();
}

}  // namespace bucketpay::testing
