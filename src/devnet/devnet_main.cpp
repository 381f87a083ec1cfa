// bucketpay-devnet: deploys bucketpay's contracts on a development chain (anvil) and funds accounts.
//
//   bucketpay-devnet deploy --rpc URL [--artifacts DIR] [--unit N] [--key HEX] [--out FILE]
//   bucketpay-devnet fund --rpc URL --contracts FILE --to ADDRESS [--eth N] [--tokens CENTS] [--key HEX]
//
// deploy prints the contracts as JSON (deployment::to_json) and writes them to --out. The key is
// --key, else $BUCKETPAY_DEVNET_KEY, else anvil's public account 0. Invalid input: a one-line
// "bucketpay-devnet: error: ..." on stderr and exit status 2; a failure on the chain: exit 1.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "bucketpay/chain.h"
#include "bucketpay/deployment.h"
#include "bucketpay/devnet.h"
#include "bucketpay/pool_client.h"

namespace {

namespace fs = std::filesystem;
using namespace bucketpay;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// anvil's default account 0 ("test test ... junk"); public, for development chains only.
constexpr const char* kAnvilKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

int fail(const Status& s) {
  std::string msg = s.message();
  for (char& ch : msg) {
    if (ch == '\n') ch = ' ';
  }
  std::cerr << "bucketpay-devnet: error: " << msg << "\n";
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

fs::path default_artifacts() {
  if (const char* env = std::getenv("BUCKETPAY_ROOT"); env != nullptr && *env != '\0') {  // NOLINT
    return fs::path(env) / "contracts" / "out";
  }
  return fs::path(BUCKETPAY_SOURCE_DIR) / "contracts" / "out";
}

struct Options {
  std::string rpc;
  std::string artifacts = default_artifacts().string();
  std::string unit = "10000";  // TestToken has 6 decimals: a cent is 10^4 base units
  std::optional<std::string> key;
  std::optional<std::string> out;
  std::string contracts;
  std::string to;
  std::string eth = "100";
  std::string tokens = "0";
};

Result<eth::PrivateKey> signing_key(const Options& o) {
  std::string hex = kAnvilKey0;
  if (o.key) {
    hex = *o.key;
  } else if (const char* env = std::getenv("BUCKETPAY_DEVNET_KEY"); env != nullptr && *env != '\0') {  // NOLINT
    hex = env;
  }
  Result<eth::PrivateKey> key = eth::PrivateKey::from_hex(hex);
  if (!key.ok()) {
    return Status::invalid_argument("the deployer key is not a valid secp256k1 key (32 bytes of hex)");
  }
  return key;
}

Result<eth::U256> positive_integer(const std::string& text, const char* what, bool allow_zero) {
  Result<eth::U256> v = eth::U256::from_string(text);
  if (!v.ok() || (!allow_zero && v->is_zero())) {
    return Status::invalid_argument(std::string(what) + " must be a " + (allow_zero ? "non-negative" : "positive") +
                                    " integer, not '" + text + "'");
  }
  return v;
}

Result<std::unique_ptr<eth::Rpc>> connect(const Options& o) {
  eth::RpcOptions options;
  options.url = o.rpc;
  options.timeout = std::chrono::seconds(30);
  Result<std::unique_ptr<eth::Rpc>> rpc = eth::Rpc::connect(std::move(options));
  if (!rpc.ok()) {
    return Status::invalid_argument("--rpc: " + rpc.status().message());
  }
  return rpc;
}

int cmd_deploy(const Options& o) {
  Result<eth::U256> unit = positive_integer(o.unit, "--unit", false);
  if (!unit.ok()) return fail(unit.status());
  Result<eth::PrivateKey> key = signing_key(o);
  if (!key.ok()) return fail(key.status());
  if (!fs::is_directory(o.artifacts)) {
    return fail(Status::invalid_argument("--artifacts: no directory " + o.artifacts +
                                         " (build the `contracts` target, or point at forge's out/)"));
  }
  Result<std::unique_ptr<eth::Rpc>> rpc = connect(o);
  if (!rpc.ok()) return fail(rpc.status());
  eth::Wallet deployer(**rpc, *key);
  Result<deployment::Contracts> c = deployment::deploy(**rpc, deployer, o.artifacts, *unit);
  if (!c.ok()) return fail(c.status());
  const std::string text = deployment::to_json(*c);
  if (o.out) {
    std::ofstream f(*o.out);
    f << text << "\n";
    if (!f) return fail(Status::io_error("cannot write " + *o.out));
    std::cout << "token " << c->token.to_hex() << "\nbatch spend verifier " << c->spend_verifier.to_hex()
              << "\nbatch split verifier " << c->split_verifier.to_hex() << "\npool " << c->pool.to_hex() << " (block "
              << c->deploy_block << ", unit " << c->unit.to_decimal() << ")\nwritten to " << *o.out << "\n";
  } else {
    std::cout << text << "\n";
  }
  return kExitOk;
}

int cmd_fund(const Options& o) {
  std::ifstream in(o.contracts);
  if (!in) return fail(Status::invalid_argument("--contracts: cannot read " + o.contracts));
  std::stringstream ss;
  ss << in.rdbuf();
  Result<deployment::Contracts> c = deployment::contracts_from_json(ss.str());
  if (!c.ok()) return fail(Status::invalid_argument("--contracts " + o.contracts + ": " + c.status().message()));
  Result<eth::Address> to = eth::Address::from_string(o.to);
  if (!to.ok()) return fail(Status::invalid_argument("--to: " + to.status().message()));
  Result<eth::U256> ether = positive_integer(o.eth, "--eth", true);
  if (!ether.ok()) return fail(ether.status());
  Result<eth::U256> cents = positive_integer(o.tokens, "--tokens", true);
  if (!cents.ok()) return fail(cents.status());
  auto wei = eth::U256::checked_mul(*ether, eth::U256(1'000'000'000'000'000'000ULL));
  auto base_units = eth::U256::checked_mul(*cents, c->unit);
  if (!wei || !base_units) return fail(Status::invalid_argument("--eth or --tokens is too large"));
  Result<eth::PrivateKey> key = signing_key(o);
  if (!key.ok()) return fail(key.status());
  Result<std::unique_ptr<eth::Rpc>> rpc = connect(o);
  if (!rpc.ok()) return fail(rpc.status());

  if (Status s = devnet::set_balance(**rpc, *to, *wei); !s.is_ok()) return fail(s);
  eth::Wallet minter(**rpc, *key);
  eth::TokenClient token(**rpc, minter, c->token);
  if (!cents->is_zero()) {
    // The minter pays the gas: a minter without ether (a fresh --key) is given some first.
    Result<eth::U256> gas_money = (*rpc)->get_balance(minter.address());
    if (!gas_money.ok()) return fail(gas_money.status());
    if (gas_money->is_zero()) {
      if (Status s = devnet::set_balance(**rpc, minter.address(), eth::U256(1'000'000'000'000'000'000ULL));
          !s.is_ok()) {
        return fail(s);
      }
    }
    Result<eth::Receipt> minted = token.mint(*to, *base_units);
    if (!minted.ok()) return fail(minted.status());
  }
  Result<eth::U256> balance = token.balance_of(*to);
  if (!balance.ok()) return fail(balance.status());
  std::cout << to->to_hex() << ": " << ether->to_decimal() << " ETH, token balance " << balance->to_decimal()
            << " base units\n";
  return kExitOk;
}

int run(int argc, char** argv) {
  CLI::App app{"bucketpay-devnet: deploys bucketpay's contracts on a development chain and funds accounts"};
  app.require_subcommand(1);
  Options o;
  auto* deploy = app.add_subcommand("deploy", "Deploy TestToken, BatchSpendVerifier, BatchSplitVerifier and the Pool");
  deploy->add_option("--rpc", o.rpc, "the node's JSON-RPC URL")->required();
  deploy->add_option("--artifacts", o.artifacts, "forge's output directory")->capture_default_str();
  deploy->add_option("--unit", o.unit, "token base units per cent")->capture_default_str();
  deploy->add_option("--key", o.key, "the deployer's key (default $BUCKETPAY_DEVNET_KEY, else anvil's account 0)");
  deploy->add_option("--out", o.out, "write the contracts' JSON here (default: print it)");
  auto* fund = app.add_subcommand("fund", "Give an account ether (anvil_setBalance) and test tokens (mint)");
  fund->add_option("--rpc", o.rpc, "the node's JSON-RPC URL")->required();
  fund->add_option("--contracts", o.contracts, "the JSON written by deploy")->required();
  fund->add_option("--to", o.to, "the account to fund")->required();
  fund->add_option("--eth", o.eth, "its ether balance, in whole ether")->capture_default_str();
  fund->add_option("--tokens", o.tokens, "test tokens to mint to it, in cents")->capture_default_str();
  fund->add_option("--key", o.key, "the minter's key (default $BUCKETPAY_DEVNET_KEY, else anvil's account 0)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& ch : msg) {
      if (ch == '\n') ch = ' ';
    }
    std::cerr << "bucketpay-devnet: error: " << msg << "\n";
    return kExitUsage;
  }
  if (deploy->parsed()) return cmd_deploy(o);
  return cmd_fund(o);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bucketpay-devnet: error: " << e.what() << "\n";
    return kExitFailure;
  }
}
