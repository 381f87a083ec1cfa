// Test and benchmark helper: a real anvil with bucketpay's contracts deployed (TestToken, the two
// generated batch verifiers, the Pool), a deployer account, and funding. Header-only, not linked into
// bucketpay_devnet; needs the build's contracts (contracts/out).
#pragma once

#include <memory>

#include "bucketpay/deployment.h"
#include "bucketpay/devnet.h"
#include "bucketpay/pool_client.h"
#include "chain/anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::testing {

// A cent of TestToken (6 decimals): 10,000 base units.
inline const eth::U256 kCentUnits = eth::U256(10'000);

class DevChain {
 public:
  // Starts anvil and deploys; fails with the first error.
  static Result<std::unique_ptr<DevChain>> start() {
    auto anvil = Anvil::start(node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil");
    if (!anvil.ok()) return anvil.status();
    eth::RpcOptions ro;
    ro.url = (*anvil)->url();
    auto rpc = eth::Rpc::connect(ro);
    if (!rpc.ok()) return rpc.status();
    auto key = eth::PrivateKey::from_hex(kAnvilKey0);
    if (!key.ok()) return key.status();
    auto chain = std::unique_ptr<DevChain>(new DevChain());
    chain->anvil_ = std::move(*anvil);
    chain->rpc_ = std::move(*rpc);
    chain->deployer_ = std::make_unique<eth::Wallet>(*chain->rpc_, *key);
    auto c = deployment::deploy(*chain->rpc_, *chain->deployer_, project_root() / "contracts" / "out", kCentUnits);
    if (!c.ok()) return c.status();
    chain->contracts_ = *c;
    return chain;
  }

  [[nodiscard]] std::string url() const { return anvil_->url(); }
  [[nodiscard]] eth::Rpc& rpc() { return *rpc_; }
  [[nodiscard]] eth::Wallet& deployer() { return *deployer_; }
  [[nodiscard]] const deployment::Contracts& contracts() const { return contracts_; }

  // 100 ether of gas money and `cents` of TestToken for `account`.
  Status fund(const eth::Address& account, std::uint64_t cents) {
    const eth::U256 ether(1'000'000'000'000'000'000ULL);
    if (Status st = devnet::set_balance(*rpc_, account, ether * eth::U256(100)); !st.is_ok()) return st;
    eth::TokenClient token(*rpc_, *deployer_, contracts_.token);
    auto minted = token.mint(account, eth::U256(cents) * kCentUnits);
    return minted.ok() ? Status::ok() : minted.status();
  }

  // `account`'s TestToken balance in base units.
  Result<eth::U256> token_balance(const eth::Address& account) {
    eth::TokenClient token(*rpc_, *deployer_, contracts_.token);
    return token.balance_of(account);
  }

 private:
  DevChain() = default;
  std::unique_ptr<Anvil> anvil_;
  std::unique_ptr<eth::Rpc> rpc_;
  std::unique_ptr<eth::Wallet> deployer_;
  deployment::Contracts contracts_;
};

}  // namespace bucketpay::testing
