#include "bucketpay/deployment.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "bucketpay/abi.h"
#include "bucketpay/pool_client.h"

namespace bucketpay::deployment {

namespace fs = std::filesystem;
using nlohmann::json;

Result<Artifact> load_artifact(const fs::path& artifacts_dir, std::string_view file, std::string_view contract) {
  const fs::path path = artifacts_dir / std::string(file) / (std::string(contract) + ".json");
  std::ifstream in(path);
  if (!in) {
    return Status::not_found("no forge artifact " + path.string() + " (the build's `contracts` target makes it)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& what) { return Status::corruption(path.string() + ": " + what); };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  auto code_it = j.find("bytecode");
  if (code_it == j.end() || !code_it->is_object() || !code_it->contains("object") ||
      !(*code_it)["object"].is_string()) {
    return bad("no bytecode.object");
  }
  Result<eth::Bytes> code = eth::from_hex((*code_it)["object"].get<std::string>());
  if (!code.ok()) {
    return bad("bytecode: " + code.status().message());
  }
  if (code->empty()) {
    return bad("empty bytecode (an interface or abstract contract?)");
  }
  auto abi_it = j.find("abi");
  if (abi_it == j.end() || !abi_it->is_array()) {
    return bad("no abi array");
  }
  return Artifact{std::move(code).value(), abi_it->dump()};
}

namespace {

// Deploys the verifiers and the Pool, and a TestToken unless `token` is given.
Result<Contracts> deploy_contracts(eth::Rpc& rpc, eth::Wallet& deployer, const fs::path& artifacts_dir,
                                   const eth::U256& unit, const std::optional<eth::Address>& token) {
  if (token) {
    Result<eth::Bytes> code = rpc.get_code(*token);
    if (!code.ok()) {
      return code.status().with_context("reading the token at " + token->to_checksum());
    }
    if (code->empty()) {
      return Status::failed_precondition("no contract at the token address " + token->to_checksum());
    }
  }
  if (unit.is_zero()) {
    return Status::invalid_argument("the unit (token base units per cent) must be positive");
  }
  struct Wanted {
    const char* file;
    const char* contract;
  };
  const Wanted wanted[] = {{"TestToken.sol", "TestToken"},
                           {"BatchSpendVerifier.sol", "BatchSpendVerifier"},
                           {"BatchSplitVerifier.sol", "BatchSplitVerifier"},
                           {"Pool.sol", "Pool"}};
  std::vector<Artifact> artifacts;
  for (const Wanted& w : wanted) {
    Result<Artifact> a = load_artifact(artifacts_dir, w.file, w.contract);
    if (!a.ok()) {
      return a.status();
    }
    artifacts.push_back(std::move(a).value());
  }
  Contracts c;
  c.unit = unit;
  c.pool_abi_json = artifacts[3].abi_json;
  eth::Address* targets[] = {&c.token, &c.spend_verifier, &c.split_verifier};
  if (token) {
    c.token = *token;
  }
  for (std::size_t i = token ? 1 : 0; i < 3; ++i) {
    Result<eth::Deployment> d = deployer.deploy(artifacts[i].bytecode);
    if (!d.ok()) {
      return d.status().with_context(std::string("deploying ") + wanted[i].contract);
    }
    *targets[i] = d->address;
  }
  // Pool(IERC20 token, uint256 unit, IBatchProofVerifier spendVerifier, IBatchProofVerifier splitVerifier)
  const std::vector<abi::Value> args = {abi::Value::address(c.token), abi::Value::integer(unit),
                                        abi::Value::address(c.spend_verifier), abi::Value::address(c.split_verifier)};
  Result<eth::Bytes> init = abi::encode_deploy(artifacts[3].bytecode, "(address,uint256,address,address)", args);
  if (!init.ok()) {
    return init.status().with_context("encoding the Pool's constructor");
  }
  Result<eth::Deployment> pool = deployer.deploy(*init);
  if (!pool.ok()) {
    return pool.status().with_context("deploying Pool");
  }
  c.pool = pool->address;
  c.deploy_block = pool->receipt.block_number;
  return c;
}

}  // namespace

Result<Contracts> deploy(eth::Rpc& rpc, eth::Wallet& deployer, const fs::path& artifacts_dir, const eth::U256& unit) {
  return deploy_contracts(rpc, deployer, artifacts_dir, unit, std::nullopt);
}

Result<Contracts> deploy_with_token(eth::Rpc& rpc, eth::Wallet& deployer, const fs::path& artifacts_dir,
                                    const eth::U256& unit, const eth::Address& token) {
  return deploy_contracts(rpc, deployer, artifacts_dir, unit, token);
}

Status verify(eth::Rpc& rpc, const Contracts& c) {
  const std::pair<const char*, const eth::Address*> named[] = {{"token", &c.token},
                                                               {"spend verifier", &c.spend_verifier},
                                                               {"split verifier", &c.split_verifier},
                                                               {"Pool", &c.pool}};
  for (const auto& [name, address] : named) {
    Result<eth::Bytes> code = rpc.get_code(*address);
    if (!code.ok()) {
      return code.status().with_context(std::string("reading the ") + name + "'s code");
    }
    if (code->empty()) {
      return Status::failed_precondition(std::string("no code at the ") + name + " address " + address->to_checksum());
    }
  }
  eth::PoolClient pool(rpc, c.pool, {});
  Result<eth::U256> unit = pool.unit();
  if (!unit.ok()) {
    return unit.status().with_context("reading the Pool's UNIT");
  }
  Result<eth::Address> token = pool.token();
  if (!token.ok()) {
    return token.status().with_context("reading the Pool's TOKEN");
  }
  if (*unit != c.unit || *token != c.token) {
    return Status::failed_precondition("the Pool at " + c.pool.to_checksum() + " holds token " + token->to_checksum() +
                                       " with unit " + unit->to_decimal() + ", not " + c.token.to_checksum() +
                                       " with unit " + c.unit.to_decimal());
  }
  return Status::ok();
}

std::string to_json(const Contracts& c) {
  json j = {{"token", c.token.to_hex()},
            {"spend_verifier", c.spend_verifier.to_hex()},
            {"split_verifier", c.split_verifier.to_hex()},
            {"pool", c.pool.to_hex()},
            {"unit", c.unit.to_decimal()},
            {"deploy_block", c.deploy_block}};
  json abi = json::parse(c.pool_abi_json, nullptr, /*allow_exceptions=*/false);
  j["pool_abi"] = abi.is_discarded() ? json::array() : abi;
  return j.dump(2);
}

Result<Contracts> contracts_from_json(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::invalid_argument("contracts JSON is not a JSON object");
  }
  Contracts c;
  auto address = [&](const char* key, eth::Address* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return Status::invalid_argument(std::string("contracts JSON has no string \"") + key + "\"");
    }
    Result<eth::Address> a = eth::Address::from_string(it->get<std::string>());
    if (!a.ok()) {
      return Status::invalid_argument(std::string("contracts JSON \"") + key + "\": " + a.status().message());
    }
    *out = *a;
    return Status::ok();
  };
  BUCKETPAY_RETURN_IF_ERROR(address("token", &c.token));
  BUCKETPAY_RETURN_IF_ERROR(address("spend_verifier", &c.spend_verifier));
  BUCKETPAY_RETURN_IF_ERROR(address("split_verifier", &c.split_verifier));
  BUCKETPAY_RETURN_IF_ERROR(address("pool", &c.pool));
  auto unit = j.find("unit");
  if (unit == j.end() || !unit->is_string()) {
    return Status::invalid_argument("contracts JSON has no string \"unit\"");
  }
  Result<eth::U256> u = eth::U256::from_string(unit->get<std::string>());
  if (!u.ok() || u->is_zero()) {
    return Status::invalid_argument("contracts JSON \"unit\" is not a positive integer");
  }
  c.unit = *u;
  auto block = j.find("deploy_block");
  if (block == j.end() || !block->is_number_unsigned()) {
    return Status::invalid_argument("contracts JSON has no unsigned \"deploy_block\"");
  }
  c.deploy_block = block->get<std::uint64_t>();
  auto abi = j.find("pool_abi");
  if (abi != j.end()) {
    if (!abi->is_array()) {
      return Status::invalid_argument("contracts JSON \"pool_abi\" is not an array");
    }
    c.pool_abi_json = abi->dump();
  } else {
    c.pool_abi_json = "[]";
  }
  return c;
}

}  // namespace bucketpay::deployment
