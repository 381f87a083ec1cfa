// The chain client driving the real Pool contract (forge build output in contracts/out) on anvil,
// with MockVerifier standing in for the proof verifiers: deposits, a spendBatch (an array of
// tuples), events decoded and cross-checked against the C++ Poseidon2, custom errors decoded.
// Skipped when the contracts have not been built.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bucketpay/chain.h"
#include "bucketpay/poseidon2.h"
#include "chain/anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::eth {
namespace {

using abi::Value;

using testing::Artifact;
using testing::load_artifact;

std::filesystem::path anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) {  // NOLINT(concurrency-mt-unsafe)
    return env;
  }
  return BUCKETPAY_ANVIL;
}

U256 to_u256(const Fr& x) { return U256::from_word(x.to_bytes()); }

Bytes call_data(std::string_view sig, std::vector<Value> args) {
  Result<Bytes> b = abi::encode_call(sig, args);
  EXPECT_TRUE(b.ok()) << b.status().to_string();
  return b.ok() ? *b : Bytes{};
}

TEST(PoolOnAnvil, DepositSpendBatchEventsAndErrors) {
  std::optional<Artifact> token_art = load_artifact("TestToken.sol", "TestToken");
  std::optional<Artifact> mock_art = load_artifact("MockVerifier.sol", "MockVerifier");
  std::optional<Artifact> pool_art = load_artifact("Pool.sol", "Pool");
  if (!token_art || !mock_art || !pool_art) {
    FAIL() << "contracts/out not built (the build target `contracts` makes it)";
  }

  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  // The Pool's own errors, plus those of the libraries it calls (when built).
  std::vector<std::string> errors = *abi::signatures_from_abi_json(pool_art->abi_json, "error");
  if (std::optional<Artifact> lib = load_artifact("Poseidon2.sol", "Poseidon2")) {
    std::vector<std::string> more = *abi::signatures_from_abi_json(lib->abi_json, "error");
    errors.insert(errors.end(), more.begin(), more.end());
  }
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url(), .error_signatures = errors});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  const Address me = wallet.address();

  Result<Deployment> token = wallet.deploy(token_art->bytecode);
  ASSERT_TRUE(token.ok()) << token.status().to_string();
  Result<Deployment> mock = wallet.deploy(mock_art->bytecode);
  ASSERT_TRUE(mock.ok()) << mock.status().to_string();
  const U256 unit(10'000);
  Result<Bytes> pool_init =
      abi::encode_deploy(pool_art->bytecode, "(address,uint256,address,address)",
                         std::vector<Value>{Value::address(token->address), Value::integer(unit),
                                            Value::address(mock->address), Value::address(mock->address)});
  ASSERT_TRUE(pool_init.ok());
  Result<Deployment> pool = wallet.deploy(*pool_init);
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  const Address pool_addr = pool->address;

  ASSERT_TRUE(
      wallet
          .transact(token->address,
                    call_data("mint(address,uint256)", {Value::address(me), Value::integer(U256(1'000'000'000))}),
                    U256())
          .ok());
  ASSERT_TRUE(
      wallet
          .transact(token->address,
                    call_data("approve(address,uint256)", {Value::address(pool_addr), Value::integer(U256::max())}),
                    U256())
          .ok());

  // depositMany(pk, [1, 2], [r1, r2]): two Inserted events whose commitments are H(pk, v, r).
  Fr pk = Fr::from_u64(1234567);
  std::vector<std::uint64_t> values = {1, 2};
  std::vector<Fr> rs = {Fr::from_u64(111), Fr::from_u64(222)};
  Result<Receipt> dep = wallet.transact(
      pool_addr,
      call_data("depositMany(uint256,uint256[],uint256[])",
                {Value::integer(to_u256(pk)), Value::list({Value::integer(values[0]), Value::integer(values[1])}),
                 Value::list({Value::integer(to_u256(rs[0])), Value::integer(to_u256(rs[1]))})}),
      U256());
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  abi::Signature inserted =
      *abi::parse_signature("Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root)");
  std::vector<std::vector<Value>> ins;
  for (const Log& log : dep->logs) {
    if (log.address == pool_addr && !log.topics.empty() && log.topics[0] == inserted.topic()) {
      Result<std::vector<Value>> v = abi::decode_log(inserted, log.topics, log.data);
      ASSERT_TRUE(v.ok()) << v.status().to_string();
      ins.push_back(*v);
    }
  }
  ASSERT_EQ(ins.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    Fr cm = poseidon2::hash3(pk, Fr::from_u64(values[i]), rs[i]);
    EXPECT_EQ(*ins[i][0].as_uint(), to_u256(cm)) << "on-chain Poseidon2 commitment differs from C++";
    EXPECT_EQ(*ins[i][1].as_uint(), U256(i));
  }
  U256 root = *ins[1][2].as_uint();
  Result<Bytes> root_ret = (*rpc)->call({.to = pool_addr, .data = call_data("root()", {})});
  ASSERT_TRUE(root_ret.ok());
  EXPECT_EQ(*(*abi::decode("(uint256)", *root_ret))[0].as_uint(), root);

  // The same events through eth_getLogs.
  Result<std::vector<Log>> logs = (*rpc)->get_logs({.addresses = {pool_addr},
                                                    .topics = {std::vector<Hash32>{inserted.topic()}},
                                                    .from_block = BlockId::number(pool->receipt.block_number),
                                                    .to_block = BlockId::latest()});
  ASSERT_TRUE(logs.ok()) << logs.status().to_string();
  EXPECT_EQ(logs->size(), 2u);

  // spendBatch of both notes to one recipient, with the mock accepting exactly these proofs.
  Address recipient = PrivateKey::random().address();
  std::vector<Value> requests;
  for (std::size_t i = 0; i < 2; ++i) {
    Bytes proof(64 + i, static_cast<std::uint8_t>(0xa0 + i));
    U256 nullifier(1000 + i);
    std::vector<Value> inputs = {Value::bytes32(root.to_word()), Value::bytes32(nullifier.to_word()),
                                 Value::bytes32(U256(values[i]).to_word()), Value::bytes32(recipient.to_word())};
    ASSERT_TRUE(wallet
                    .transact(mock->address,
                              call_data("accept(bytes,bytes32[])", {Value::bytes(proof), Value::list(inputs)}), U256())
                    .ok());
    requests.push_back(Value::list({Value::bytes(proof), Value::integer(root), Value::integer(nullifier),
                                    Value::integer(values[i]), Value::address(recipient)}));
  }
  Bytes batch = call_data("spendBatch((bytes,uint256,uint256,uint256,address)[])", {Value::list(requests)});
  Result<Receipt> spent = wallet.transact(pool_addr, batch, U256());
  ASSERT_TRUE(spent.ok()) << spent.status().to_string();
  abi::Signature spent_ev =
      *abi::parse_signature("Spent(uint256 indexed nullifier, address indexed recipient, uint256 value)");
  int n_spent = 0;
  for (const Log& log : spent->logs) {
    if (log.address != pool_addr) {
      continue;
    }
    Result<std::vector<Value>> v = abi::decode_log(spent_ev, log.topics, log.data);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    EXPECT_EQ(*(*v)[1].as_address(), recipient);
    ++n_spent;
  }
  EXPECT_EQ(n_spent, 2);
  Result<Bytes> bal =
      (*rpc)->call({.to = token->address, .data = call_data("balanceOf(address)", {Value::address(recipient)})});
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(*(*abi::decode("(uint256)", *bal))[0].as_uint(), U256(3) * unit);

  // The same batch again: NullifierAlreadySpent, decoded, and nothing sent.
  Result<Hash32> again = wallet.send_transaction(pool_addr, batch, U256());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("NullifierAlreadySpent(1000)"), std::string::npos)
      << again.status().message();
  // An unknown root.
  Bytes bad_root = call_data(
      "spend(bytes,uint256,uint256,uint256,address)",
      {Value::bytes({1}), Value::integer(7), Value::integer(5000), Value::integer(1), Value::address(recipient)});
  Result<CallOutcome> outcome = (*rpc)->try_call({.from = me, .to = pool_addr, .data = bad_root});
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome->reverted);
  EXPECT_EQ((*rpc)->decode_revert(outcome->data).message, "UnknownRoot(7)");
}

}  // namespace
}  // namespace bucketpay::eth
