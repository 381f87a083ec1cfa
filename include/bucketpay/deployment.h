// Deployment: bucketpay's contracts (the two generated batch verifiers, the Pool, and on a test
// chain a TestToken) deployed from forge artifacts with their receipts waited for, checked against
// the chain, and recorded as the contracts file the wallet and the relayer read (`bucketpay deploy`).
// Nothing here is specific to a development chain; funding accounts on anvil is devnet's
// (bucketpay/devnet.h, not part of the shipped binary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "bucketpay/chain.h"
#include "bucketpay/status.h"

namespace bucketpay::deployment {

struct Contracts {
  eth::Address token;
  eth::Address spend_verifier;  // BatchSpendVerifier: the Pool verifies a spendBatch's proofs in one call
  eth::Address split_verifier;  // BatchSplitVerifier: a split's one proof
  eth::Address pool;
  eth::U256 unit;                  // token base units per value unit (cent)
  std::uint64_t deploy_block = 0;  // the block of the Pool's deployment: sync starts here
  std::string pool_abi_json;       // the Pool's ABI (for its custom errors)
};

// A forge artifact (<artifacts_dir>/<File>.sol/<Contract>.json): init code and ABI.
struct Artifact {
  eth::Bytes bytecode;
  std::string abi_json;  // the "abi" array
};

// Loads <artifacts_dir>/<file>/<contract>.json, e.g. ("contracts/out", "Pool.sol", "Pool"):
// kNotFound when the file is missing (the build's `contracts` target makes it), kCorruption when it
// is not a forge artifact with non-empty bytecode.
Result<Artifact> load_artifact(const std::filesystem::path& artifacts_dir, std::string_view file,
                               std::string_view contract);

// Deploys TestToken, BatchSpendVerifier, BatchSplitVerifier (generated from the circuits' keys by
// contracts/tools/gen_batch_verifier.py) and Pool(token, unit, spend, split) with `deployer`. `artifacts_dir` is the
// forge output directory (contracts/out).
Result<Contracts> deploy(eth::Rpc& rpc, eth::Wallet& deployer, const std::filesystem::path& artifacts_dir,
                         const eth::U256& unit);

// The same on any EVM chain (nothing here is anvil's): with `token`, the Pool holds that ERC-20
// (which must have code) and no TestToken is deployed. Each deployment waits for its receipt.
Result<Contracts> deploy_with_token(eth::Rpc& rpc, eth::Wallet& deployer, const std::filesystem::path& artifacts_dir,
                                    const eth::U256& unit, const eth::Address& token);

// Checks a deployment against the chain: code at every address, and the Pool's TOKEN() and UNIT()
// as recorded (kFailedPrecondition naming what differs).
Status verify(eth::Rpc& rpc, const Contracts& contracts);

// JSON round trip of Contracts, e.g. {"token":"0x..","pool":"0x..",...,"unit":"10000000000000000"}.
std::string to_json(const Contracts& c);
Result<Contracts> contracts_from_json(std::string_view json);  // kInvalidArgument when malformed

}  // namespace bucketpay::deployment
