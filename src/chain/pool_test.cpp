// The chain client driving the real Pool contract (forge build output in contracts/out) on anvil,
// with MockVerifier standing in for the proof verifiers: deposits, a spendBatch (an array of
// tuples), events decoded and cross-checked against the C++ Poseidon2, custom errors decoded.
// Skipped when the contracts have not been built.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bucketpay/chain.h"
#include "bucketpay/pool_client.h"
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

namespace bucketpay::eth {
namespace {

// Makes MockVerifier accept `proof` for `inputs` (each a 32-byte public input).
void accept_proof(Wallet& wallet, const Address& mock, const Bytes& proof, const std::vector<U256>& inputs) {
  Value::List words;
  for (const U256& x : inputs) {
    words.push_back(Value::bytes32(x.to_word()));
  }
  Result<Receipt> r =
      wallet.transact(mock, call_data("accept(bytes,bytes32[])", {Value::bytes(proof), Value::list(words)}), U256());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
}

U256 address_word(const Address& a) { return U256::from_word(a.to_word()); }

// PoolClient::events(): deposits, a spendBatch and a split through the calldata encoders and the
// Wallet's sign + broadcast, read back as Inserted, Spent and Split in chain order with the blocks'
// hashes; TokenClient for the token's side. MockVerifier stands in for the proofs.
TEST(PoolOnAnvil, EventsOfAllKindsInChainOrderAndTokenClient) {
  std::optional<Artifact> token_art = load_artifact("TestToken.sol", "TestToken");
  std::optional<Artifact> mock_art = load_artifact("MockVerifier.sol", "MockVerifier");
  std::optional<Artifact> pool_art = load_artifact("Pool.sol", "Pool");
  if (!token_art || !mock_art || !pool_art) {
    FAIL() << "contracts/out not built (the build target `contracts` makes it)";
  }
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url()});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  const Address me = wallet.address();
  Result<Deployment> token_dep = wallet.deploy(token_art->bytecode);
  ASSERT_TRUE(token_dep.ok());
  Result<Deployment> mock = wallet.deploy(mock_art->bytecode);
  ASSERT_TRUE(mock.ok());
  const U256 unit(10'000);
  Result<Bytes> pool_init =
      abi::encode_deploy(pool_art->bytecode, "(address,uint256,address,address)",
                         std::vector<Value>{Value::address(token_dep->address), Value::integer(unit),
                                            Value::address(mock->address), Value::address(mock->address)});
  ASSERT_TRUE(pool_init.ok());
  Result<Deployment> pool_dep = wallet.deploy(*pool_init);
  ASSERT_TRUE(pool_dep.ok()) << pool_dep.status().to_string();
  PoolClient pool(**rpc, wallet, pool_dep->address, *PoolClient::error_signatures_from_abi_json(pool_art->abi_json));

  // ---- TokenClient: mint, approve, allowance, transfer, balances, decimals.
  TokenClient token(**rpc, wallet, token_dep->address);
  EXPECT_EQ(*token.decimals(), 6);
  ASSERT_TRUE(token.mint(me, U256(1'000'000) * unit).ok());
  EXPECT_EQ(*token.balance_of(me), U256(1'000'000) * unit);
  EXPECT_EQ(*token.allowance(me, pool.address()), U256(0));
  ASSERT_TRUE(token.approve(pool.address(), U256(500) * unit).ok());
  EXPECT_EQ(*token.allowance(me, pool.address()), U256(500) * unit);
  const Address friend_ = PrivateKey::random().address();
  ASSERT_TRUE(token.transfer(friend_, U256(3)).ok());
  EXPECT_EQ(*token.balance_of(friend_), U256(3));
  Result<Receipt> too_much = token.transfer(friend_, U256(2'000'000) * unit);
  ASSERT_FALSE(too_much.ok());
  EXPECT_NE(too_much.status().message().find("token.transfer"), std::string::npos) << too_much.status().to_string();

  // ---- deposits (block A): 3 notes through encode_deposit_many + simulate + sign + broadcast.
  const std::vector<std::uint64_t> values = {5, 7, 100};
  const std::vector<U256> rs = {U256(11), U256(22), U256(33)};
  const Bytes deposit_data = pool.encode_deposit_many(U256(424242), values, rs).value();
  ASSERT_TRUE(pool.simulate("depositMany", deposit_data).is_ok());
  Result<SignedTransaction> signed_dep = wallet.sign_transaction(pool.address(), deposit_data, U256());
  ASSERT_TRUE(signed_dep.ok()) << signed_dep.status().to_string();
  ASSERT_TRUE(wallet.broadcast(*signed_dep).ok());
  Result<Receipt> dep = wallet.wait_for_receipt(signed_dep->hash);
  ASSERT_TRUE(dep.ok() && dep->success);
  const U256 root = *pool.root();

  // A simulated revert names the Pool's error and sends nothing.
  const std::vector<U256> one_r = {U256(1)};
  Status mismatch = pool.simulate("depositMany", pool.encode_deposit_many(U256(1), values, one_r).value());
  EXPECT_EQ(mismatch.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(mismatch.message().find("Pool.depositMany reverted: LengthMismatch(3, 1)"), std::string::npos)
      << mismatch.to_string();

  // ---- spendBatch of two (block B).
  const Address payee = PrivateKey::random().address();
  std::vector<SpendCall> spends;
  for (std::size_t i = 0; i < 2; ++i) {
    SpendCall c{.proof = Bytes(32 + i, static_cast<std::uint8_t>(0x10 + i)),
                .root = root,
                .nullifier = U256(5000 + i),
                .value = values[i],
                .recipient = payee};
    accept_proof(wallet, mock->address, c.proof, {c.root, c.nullifier, U256(c.value), address_word(payee)});
    spends.push_back(c);
  }
  Result<Receipt> batch = pool.spend_batch(spends);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();

  // ---- split of the third note (block C): 30 paid, outputs 40 and 30 inserted.
  SplitCall sc{.proof = Bytes(48, 0x77),
               .root = root,
               .nullifier = U256(6000),
               .amount = 30,
               .recipient = payee,
               .out_cm1 = U256(123456789),
               .out_cm2 = U256(987654321)};
  accept_proof(wallet, mock->address, sc.proof,
               {sc.root, sc.nullifier, U256(sc.amount), address_word(payee), sc.out_cm1, sc.out_cm2});
  ASSERT_TRUE(pool.simulate("split", pool.encode_split(sc).value()).is_ok());
  Result<Receipt> split = pool.split(sc);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_EQ(*token.balance_of(payee), U256(5 + 7 + 30) * unit);

  // ---- events: Inserted x3, Spent x2, Inserted x2 then Split, with the blocks' hashes.
  Result<std::vector<PoolEvent>> events = pool.events(pool_dep->receipt.block_number, *(*rpc)->block_number());
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  using Kind = PoolEvent::Kind;
  const std::vector<Kind> kinds = {Kind::kInserted, Kind::kInserted, Kind::kInserted, Kind::kSpent,
                                   Kind::kSpent,    Kind::kInserted, Kind::kInserted, Kind::kSplit};
  ASSERT_EQ(events->size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const PoolEvent& e = (*events)[i];
    EXPECT_EQ(e.kind, kinds[i]) << i;
    Result<std::optional<BlockHeader>> header = (*rpc)->get_block(BlockId::number(e.block_number));
    ASSERT_TRUE(header.ok() && header->has_value());
    EXPECT_EQ(e.block_hash, (*header)->hash) << i;
    if (i > 0) {
      const PoolEvent& p = (*events)[i - 1];
      EXPECT_TRUE(p.block_number < e.block_number || (p.block_number == e.block_number && p.log_index < e.log_index))
          << i;
    }
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const PoolEvent& e = (*events)[i];
    EXPECT_EQ(e.block_number, dep->block_number);
    EXPECT_EQ(e.transaction_hash, signed_dep->hash);
    EXPECT_EQ(e.inserted.leaf_index, i);
    EXPECT_EQ(e.inserted.block_number, e.block_number);
    EXPECT_EQ(e.inserted.root, root);
  }
  for (std::size_t i = 0; i < 2; ++i) {
    const PoolEvent& e = (*events)[3 + i];
    EXPECT_EQ(e.block_number, batch->block_number);
    EXPECT_EQ(e.block_hash, batch->block_hash);
    EXPECT_EQ(e.spent.nullifier, spends[i].nullifier);
    EXPECT_EQ(e.spent.recipient, payee);
    EXPECT_EQ(e.spent.value, U256(values[i]));
  }
  EXPECT_EQ((*events)[5].inserted.commitment, sc.out_cm1);
  EXPECT_EQ((*events)[6].inserted.commitment, sc.out_cm2);
  EXPECT_EQ((*events)[6].inserted.leaf_index, 4U);
  EXPECT_EQ((*events)[6].inserted.root, *pool.root());
  const PoolEvent& s = (*events)[7];
  EXPECT_EQ(s.block_hash, split->block_hash);
  EXPECT_EQ(s.split.nullifier, sc.nullifier);
  EXPECT_EQ(s.split.recipient, payee);
  EXPECT_EQ(s.split.amount, U256(30));
  EXPECT_EQ(s.split.out_cm1, sc.out_cm1);
  EXPECT_EQ(s.split.out_cm2, sc.out_cm2);

  // A range: only the spendBatch's block; an empty range.
  Result<std::vector<PoolEvent>> only_b = pool.events(batch->block_number, batch->block_number);
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(only_b->size(), 2U);
  Result<std::vector<PoolEvent>> none = pool.events(pool_dep->receipt.block_number, pool_dep->receipt.block_number);
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(pool.events(5, 4)->empty());

  // By nullifier: the Spent of the second spend and the Split, and nothing for an unknown one.
  const std::vector<U256> wanted = {spends[1].nullifier, sc.nullifier, U256(424242)};
  Result<std::vector<PoolEvent>> by_nf =
      pool.spend_events(wanted, BlockId::number(pool_dep->receipt.block_number), BlockId::latest());
  ASSERT_TRUE(by_nf.ok()) << by_nf.status().to_string();
  ASSERT_EQ(by_nf->size(), 2U);
  EXPECT_EQ((*by_nf)[0].kind, Kind::kSpent);
  EXPECT_EQ((*by_nf)[0].spent.nullifier, spends[1].nullifier);
  EXPECT_EQ((*by_nf)[0].transaction_hash, batch->transaction_hash);
  EXPECT_EQ((*by_nf)[1].kind, Kind::kSplit);
  EXPECT_EQ((*by_nf)[1].split.out_cm2, sc.out_cm2);
  EXPECT_TRUE(pool.spend_events({}, BlockId::earliest(), BlockId::latest())->empty());
}

// The encoders return the calldata as a Result (an encoding failure is an error, never empty
// calldata); its layout is the ABI's.
TEST(PoolCalldata, EncodersReturnTheAbiLayout) {
  SplitCall sc{.proof = Bytes(64, 0x01),
               .root = U256(1),
               .nullifier = U256(2),
               .amount = 3,
               .recipient = PrivateKey::random().address(),
               .out_cm1 = U256(4),
               .out_cm2 = U256(5)};
  Result<Bytes> split = PoolClient::encode_split(sc);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_EQ(split->size(), 4U + 7 * 32 + 32 + 64) << "selector, 7 head words, the proof's length and bytes";
  const std::vector<std::uint64_t> values = {1, 2};
  const std::vector<U256> rs = {U256(3), U256(4)};
  Result<Bytes> deposit = PoolClient::encode_deposit_many(U256(9), values, rs);
  ASSERT_TRUE(deposit.ok());
  EXPECT_FALSE(deposit->empty());
  Result<Bytes> approve = TokenClient::encode_approve(sc.recipient, U256::max());
  ASSERT_TRUE(approve.ok());
  EXPECT_EQ(approve->size(), 4U + 2 * 32);
}

// A log with the Spent topic that does not decode (too few topics) is kCorruption, not skipped.
TEST(PoolOnAnvil, UndecodableEventIsCorruption) {
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url()});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  // Runtime: PUSH32 topic; PUSH1 0; PUSH1 0; LOG1; STOP. Init code copies it and returns it.
  const Hash32 topic = abi::parse_signature("Spent(uint256 indexed, address indexed, uint256)")->topic();
  Bytes runtime{0x7f};
  runtime.insert(runtime.end(), topic.begin(), topic.end());
  for (const std::uint8_t b : std::initializer_list<std::uint8_t>{0x60, 0x00, 0x60, 0x00, 0xa1, 0x00}) {
    runtime.push_back(b);
  }
  const auto n = static_cast<std::uint8_t>(runtime.size());
  Bytes init{0x60, n, 0x60, 12, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3};
  init.insert(init.end(), runtime.begin(), runtime.end());
  Result<Deployment> emitter = wallet.deploy(init);
  ASSERT_TRUE(emitter.ok()) << emitter.status().to_string();
  Result<Receipt> emitted = wallet.transact(emitter->address, {}, U256(), {.gas_limit = 100'000});
  ASSERT_TRUE(emitted.ok()) << emitted.status().to_string();
  ASSERT_EQ(emitted->logs.size(), 1U);

  PoolClient pool(**rpc, wallet, emitter->address, {});
  Result<std::vector<PoolEvent>> events = pool.events(0, emitted->block_number);
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), StatusCode::kCorruption) << events.status().to_string();
}

}  // namespace
}  // namespace bucketpay::eth
