#include "deploy_command.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "bucketpay/chain.h"
#include "bucketpay/deployment.h"
#include "bucketpay/vault.h"
#include "cli.h"
#include "context.h"
#include "passphrase.h"
#include "progress.h"
#include "runtime_files.h"

namespace bucketpay::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DeployFlags {
  std::optional<std::string> rpc_url;
  std::optional<std::string> token;
  bool test_token = false;
  std::optional<std::string> unit;
  std::optional<std::string> key_file;
  std::string out = "contracts.json";
  std::string artifacts = runtime_files().contract_artifacts().string();
  bool json_out = false;
};

int fail(std::ostream& err, const Status& s) {
  err << "bucketpay: error: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

// The deployer's key: from --key-file (hex), else $BUCKETPAY_DEPLOYER_KEY, else typed on the
// terminal (echo off). Never a command-line argument: those end up in shell histories and `ps`.
Result<eth::PrivateKey> deployer_key(const DeployFlags& f) {
  std::string hex;
  if (f.key_file) {
    std::ifstream in(*f.key_file);
    if (!in) return Status::invalid_argument("cannot read --key-file " + *f.key_file);
    std::getline(in, hex);
  } else if (const char* env = std::getenv("BUCKETPAY_DEPLOYER_KEY"); env != nullptr && *env != '\0') {
    hex = env;
  } else {
    auto typed = read_from_terminal("the deployer's private key (0x + 64 hex digits): ",
                                    "no deployer key: give --key-file FILE or $BUCKETPAY_DEPLOYER_KEY (there is no "
                                    "terminal to ask on)");
    if (!typed.ok()) return typed.status();
    hex = std::move(*typed);
  }
  while (!hex.empty() && (hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  auto key = eth::PrivateKey::from_hex(hex);
  sodium_memzero(hex.data(), hex.size());
  if (!key.ok()) return Status::invalid_argument("the deployer key is not a secp256k1 key (0x + 64 hex digits)");
  return key;
}

// Token base units per cent: --unit, else from the token's decimals() (10^(decimals - 2)).
Result<eth::U256> unit_for(eth::Rpc& rpc, const DeployFlags& f, const std::optional<eth::Address>& token) {
  if (f.unit) {
    auto u = eth::U256::from_string(*f.unit);
    if (!u.ok() || u->is_zero()) return Status::invalid_argument("--unit must be a positive integer");
    return *u;
  }
  if (!token) return eth::U256(10'000);  // the TestToken has 6 decimals
  eth::CallRequest call;
  call.to = *token;
  call.data = {0x31, 0x3c, 0xe5, 0x67};  // decimals()
  auto answer = rpc.call(call);
  if (!answer.ok() || answer->size() != 32) {
    return Status::invalid_argument("the token's decimals() cannot be read; give --unit (its base units per cent)");
  }
  auto decimals = eth::U256::from_be_bytes(*answer);
  if (!decimals.ok() || !decimals->fits_u64() || decimals->low_u64() < 2 || decimals->low_u64() > 40) {
    return Status::invalid_argument("the token's decimals() is not 2..40; give --unit (its base units per cent)");
  }
  eth::U256 unit(1);
  for (std::uint64_t i = 2; i < decimals->low_u64(); ++i) unit = unit * eth::U256(10);
  return unit;
}

// Writes `text` to a new file (never over an existing one: it may be the only record of a deployment).
Status write_new_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return Status::io_error("cannot create " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::io_error("writing " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status::ok() : Status::io_error("fsync " + path);
}

int deploy(const DeployFlags& f, std::ostream& out, std::ostream& err) {
  std::string url = f.rpc_url.value_or("");
  if (url.empty()) {
    if (const char* env = std::getenv("ETH_RPC_URL"); env != nullptr) url = env;
  }
  if (url.empty()) return fail(err, Status::invalid_argument("--rpc-url URL (or $ETH_RPC_URL) is needed"));
  if (f.token.has_value() == f.test_token) {
    return fail(err, Status::invalid_argument("give --token ADDRESS (the ERC-20 the Pool holds) or --test-token"));
  }
  std::optional<eth::Address> token;
  if (f.token) {
    auto a = eth::Address::from_string(*f.token);
    if (!a.ok()) return fail(err, Status::invalid_argument("--token: " + a.status().message()));
    token = *a;
  }
  std::error_code ec;
  if (fs::exists(f.out, ec)) {
    return fail(err,
                Status::already_exists(f.out + " exists (a deployment's record is never overwritten); give --out"));
  }
  auto key = deployer_key(f);
  if (!key.ok()) return fail(err, key.status());
  eth::RpcOptions ro;
  ro.url = url;
  auto rpc = eth::Rpc::connect(ro);
  if (!rpc.ok()) return fail(err, Status::invalid_argument("--rpc-url: " + rpc.status().message()));
  auto chain_id = (*rpc)->chain_id();
  if (!chain_id.ok()) return fail(err, chain_id.status().with_context("connecting to " + url));
  auto unit = unit_for(**rpc, f, token);
  if (!unit.ok()) return fail(err, unit.status());
  eth::Wallet deployer(**rpc, *key);
  err << "bucketpay: deploying from " << key->address().to_checksum() << " on chain " << *chain_id << " ("
      << (token ? "token " + token->to_checksum() : std::string("a new TestToken")) << ", unit " << unit->to_decimal()
      << " base units per cent); each step waits for its receipt\n";
  const auto t0 = std::chrono::steady_clock::now();
  auto contracts = token ? deployment::deploy_with_token(**rpc, deployer, f.artifacts, *unit, *token)
                         : deployment::deploy(**rpc, deployer, f.artifacts, *unit);
  if (!contracts.ok()) return fail(err, contracts.status());
  if (Status st = deployment::verify(**rpc, *contracts); !st.is_ok()) return fail(err, st.with_context("verifying"));
  if (Status st = write_new_file(f.out, deployment::to_json(*contracts) + "\n"); !st.is_ok()) return fail(err, st);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (f.json_out) {
    out << json{{"chain_id", *chain_id},
                {"token", contracts->token.to_checksum()},
                {"spend_verifier", contracts->spend_verifier.to_checksum()},
                {"split_verifier", contracts->split_verifier.to_checksum()},
                {"pool", contracts->pool.to_checksum()},
                {"unit", contracts->unit.to_decimal()},
                {"deploy_block", contracts->deploy_block},
                {"file", f.out}}
               .dump()
        << "\n";
  } else {
    out << "token           " << contracts->token.to_checksum() << (token ? "" : "  (TestToken)") << "\n"
        << "spend verifier  " << contracts->spend_verifier.to_checksum() << "\n"
        << "split verifier  " << contracts->split_verifier.to_checksum() << "\n"
        << "pool            " << contracts->pool.to_checksum() << "  (block " << contracts->deploy_block << ")\n"
        << "verified on chain in " << format_duration(seconds) << "; written to " << f.out
        << "\nnext: bucketpay init --rpc-url " << url << " --contracts " << f.out << " --relayer URL\n";
  }
  return kExitOk;
}

}  // namespace

CommandList add_deploy_command(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto f = std::make_shared<DeployFlags>();
  auto* deploy_cmd = app.add_subcommand(
      "deploy",
      "Deploy the generated verifiers and the Pool (and a test token on request) to an EVM chain from an account key "
      "(--key-file, $BUCKETPAY_DEPLOYER_KEY, or typed); wait for the receipts, verify the code, write the contracts "
      "file `init --contracts` reads");
  deploy_cmd->add_option("-r,--rpc-url", f->rpc_url, "the node's JSON-RPC URL (default $ETH_RPC_URL)");
  auto* token = deploy_cmd->add_option("--token", f->token, "the ERC-20 the Pool holds");
  deploy_cmd->add_flag("--test-token", f->test_token, "deploy a TestToken (anyone may mint it: test networks only)")
      ->excludes(token);
  deploy_cmd->add_option("--unit", f->unit, "token base units per cent (default: from the token's decimals)");
  deploy_cmd->add_option("--key-file", f->key_file, "a file holding the deployer's key (0x + 64 hex digits)");
  deploy_cmd->add_option("--out", f->out, "the contracts file to write (never overwritten)")->capture_default_str();
  deploy_cmd
      ->add_option("--artifacts", f->artifacts,
                   "the forge artifacts (default: those of the runtime files, docs/install.md)")
      ->capture_default_str();
  deploy_cmd->add_flag("-j,--json", f->json_out, "print JSON");
  CommandList list;
  list.emplace_back(deploy_cmd, [f, &out, &err] { return deploy(*f, out, err); });
  return list;
}

}  // namespace bucketpay::cli
