// End to end on anvil: the real Pool with bb's real SpendVerifier and SplitVerifier (contracts/out),
// notes deposited through PoolClient, the engine's tree rebuilt from the Pool's Inserted events,
// real spend proofs made by the engine, and spent on chain in one spendBatch.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "bucketpay/note.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"
#include "chain/anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::eth {
namespace {

namespace fs = std::filesystem;
using abi::Value;
using testing::Artifact;
using testing::load_artifact;

fs::path e2e_anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) {  // NOLINT(concurrency-mt-unsafe)
    return env;
  }
  return BUCKETPAY_ANVIL;
}

U256 fr_to_u256(const Fr& x) { return U256::from_word(x.to_bytes()); }

Bytes encode(std::string_view sig, std::vector<Value> args) {
  Result<Bytes> b = abi::encode_call(sig, args);
  EXPECT_TRUE(b.ok()) << b.status().to_string();
  return b.ok() ? *b : Bytes{};
}

TEST(PoolEndToEnd, RealProofsFromTheEngineSpentThroughPoolClient) {
  std::optional<Artifact> token_art = load_artifact("TestToken.sol", "TestToken");
  std::optional<Artifact> spend_art = load_artifact("SpendVerifier.sol", "SpendVerifier");
  std::optional<Artifact> split_art = load_artifact("SplitVerifier.sol", "SplitVerifier");
  std::optional<Artifact> pool_art = load_artifact("Pool.sol", "Pool");
  if (!token_art || !spend_art || !split_art || !pool_art) {
    FAIL() << "contracts/out not built (the build target `contracts` makes it)";
  }

  const fs::path dir = fs::temp_directory_path() / ("bucketpay-pool-e2e-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "scratch");
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};

  // ---- chain: token, real verifiers, pool (UNIT = 10^16: one cent of an 18-decimals token).
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(e2e_anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  Result<std::vector<std::string>> errors = PoolClient::error_signatures_from_abi_json(pool_art->abi_json);
  ASSERT_TRUE(errors.ok()) << errors.status().to_string();
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url(), .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  const Address me = wallet.address();

  Result<Deployment> token = wallet.deploy(token_art->bytecode);
  ASSERT_TRUE(token.ok()) << token.status().to_string();
  Result<Deployment> spend_v = wallet.deploy(spend_art->bytecode);
  ASSERT_TRUE(spend_v.ok()) << spend_v.status().to_string();
  Result<Deployment> split_v = wallet.deploy(split_art->bytecode);
  ASSERT_TRUE(split_v.ok()) << split_v.status().to_string();
  const U256 unit(10'000'000'000'000'000ULL);  // 10^16
  Result<Bytes> pool_init =
      abi::encode_deploy(pool_art->bytecode, "(address,uint256,address,address)",
                         std::vector<Value>{Value::address(token->address), Value::integer(unit),
                                            Value::address(spend_v->address), Value::address(split_v->address)});
  ASSERT_TRUE(pool_init.ok());
  Result<Deployment> pool_dep = wallet.deploy(*pool_init);
  ASSERT_TRUE(pool_dep.ok()) << pool_dep.status().to_string();
  PoolClient pool(**rpc, wallet, pool_dep->address, *errors);
  ASSERT_EQ(*pool.unit(), unit);
  ASSERT_EQ(*pool.token(), token->address);

  ASSERT_TRUE(wallet
                  .transact(token->address,
                            encode("mint(address,uint256)",
                                   {Value::address(me), Value::integer(U256(1'000'000) * unit)}),
                            U256())
                  .ok());
  ASSERT_TRUE(wallet
                  .transact(token->address,
                            encode("approve(address,uint256)",
                                   {Value::address(pool.address()), Value::integer(U256::max())}),
                            U256())
                  .ok());

  // ---- a wallet key and 4 notes, deposited in one depositMany.
  const SpendingKey sk = SpendingKey::generate();
  const Fr pk = owner_key(sk);
  const std::vector<std::uint64_t> values = {1, 2, 64, 128};
  std::vector<Note> notes;
  std::vector<U256> rs;
  for (std::uint64_t v : values) {
    notes.push_back(Note::create(pk, v));
    rs.push_back(fr_to_u256(notes.back().r));
  }
  Result<Receipt> dep = pool.deposit_many(fr_to_u256(pk), values, rs);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  EXPECT_TRUE(dep->success);

  Result<std::vector<InsertedEvent>> events =
      pool.inserted_events(BlockId::number(pool_dep->receipt.block_number), BlockId::latest());
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  ASSERT_EQ(events->size(), 4U);
  Result<std::vector<InsertedEvent>> in_receipt = pool.inserted_events(*dep);
  ASSERT_TRUE(in_receipt.ok());
  EXPECT_EQ(in_receipt->size(), 4U);
  const U256 chain_root = *pool.root();
  EXPECT_EQ((*events)[3].root, chain_root);
  EXPECT_TRUE(*pool.known_root(chain_root));
  EXPECT_EQ(*pool.next_index(), 4U);

  // ---- the engine: its tree is the chain's leaves, in order.
  StoreOptions so;
  so.passphrase = "e2e";
  so.vault_params = VaultParams::fast();
  Result<std::unique_ptr<Store>> store = open_sqlite_store(dir / "store.db", so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  ASSERT_TRUE((*store)->put_spending_key("w", sk.reveal()).is_ok());
  ProverConfig pc;
  pc.bb_binary = testing::bb_binary();
  pc.crs_dir = testing::crs_dir();
  pc.circuits_dir = testing::build_dir() / "circuits";
  pc.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
  pc.scratch_root = dir / "scratch";
  pc.workers = 2;
  pc.threads_per_worker = 1;
  pc.warm_up = false;
  Result<std::unique_ptr<ProverPool>> prover = ProverPool::start(pc);
  ASSERT_TRUE(prover.ok()) << prover.status().to_string();
  Result<std::unique_ptr<Engine>> engine = Engine::open(**store, **prover, "w");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();

  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const InsertedEvent& e = (*events)[i];
    ASSERT_EQ(e.leaf_index, i);
    Result<Fr> cm = Fr::from_bytes(std::span<const std::uint8_t, 32>(e.commitment.to_word()));
    ASSERT_TRUE(cm.ok());
    ASSERT_EQ(*cm, notes[i].commitment()) << "leaf " << i;
    Result<std::uint64_t> index = (*engine)->append_leaf(*cm);
    ASSERT_TRUE(index.ok()) << index.status().to_string();
    ASSERT_EQ(*index, e.leaf_index);
    StoredNote sn;
    sn.wallet = "w";
    sn.pk = pk;
    sn.value = values[i];
    sn.r = notes[i].r;
    sn.leaf_index = e.leaf_index;
    sn.state = NoteState::kOnChain;
    sn.commitment = *cm;
    Result<std::int64_t> id = (*store)->insert_note(sn);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    ids.push_back(*id);
  }
  ASSERT_EQ(fr_to_u256((*engine)->tree().root()), chain_root) << "the engine's tree differs from the chain's";

  // ---- real spend proofs to a fresh address.
  const Address recipient = PrivateKey::random().address();
  Result<Fr> recipient_fr = address_to_field(recipient.to_hex());
  ASSERT_TRUE(recipient_fr.ok());
  const auto t0 = std::chrono::steady_clock::now();
  Result<PrecomputeReport> report = (*engine)->generate_spend_precomputes(ids, *recipient_fr);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->failed, 0U) << (report->errors.empty() ? "" : report->errors[0]);
  ASSERT_EQ(report->precomputes.size(), 4U);
  std::cout << "[ e2e ] 4 spend proofs in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";

  std::vector<SpendCall> calls;
  for (const Precompute& p : report->precomputes) {
    ASSERT_EQ(p.public_inputs.size(), 4U);
    SpendCall c;
    c.proof = p.proof;
    c.root = fr_to_u256(p.public_inputs[0]);
    c.nullifier = fr_to_u256(p.public_inputs[1]);
    c.value = p.amount;
    c.recipient = recipient;
    EXPECT_EQ(c.root, chain_root);
    EXPECT_EQ(U256(c.value), fr_to_u256(p.public_inputs[2]));
    EXPECT_EQ(fr_to_u256(p.public_inputs[3]), fr_to_u256(*recipient_fr));
    calls.push_back(std::move(c));
  }

  auto balance_of = [&](const Address& a) -> U256 {
    Result<Bytes> b = (*rpc)->call({.to = token->address, .data = encode("balanceOf(address)", {Value::address(a)})});
    EXPECT_TRUE(b.ok());
    return b.ok() ? *(*abi::decode("(uint256)", *b))[0].as_uint() : U256();
  };

  // ---- three in one spendBatch.
  const std::span<const SpendCall> first3(calls.data(), 3);
  Result<Receipt> batch = pool.spend_batch(first3);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();
  EXPECT_TRUE(batch->success);
  std::cout << "[ e2e ] spendBatch of 3 real proofs: gas used " << batch->gas_used << " ("
            << batch->gas_used / 3 << " per proof)\n";
  EXPECT_EQ(balance_of(recipient), U256(values[0] + values[1] + values[2]) * unit);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(*pool.is_spent(calls[i].nullifier)) << i;
  }
  EXPECT_FALSE(*pool.is_spent(calls[3].nullifier));

  // ---- a double spend: refused, with the Pool's error decoded by name.
  Result<Receipt> again = pool.spend_batch(std::span<const SpendCall>(&calls[1], 1));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("NullifierAlreadySpent(" + calls[1].nullifier.to_decimal() + ")"),
            std::string::npos)
      << again.status().message();
  ASSERT_TRUE(pool.last_revert().has_value());
  EXPECT_EQ(pool.last_revert()->name, "NullifierAlreadySpent");

  // ---- the 4th alone.
  Result<Receipt> last = pool.spend_batch(std::span<const SpendCall>(&calls[3], 1));
  ASSERT_TRUE(last.ok()) << last.status().to_string();
  std::cout << "[ e2e ] spendBatch of 1 real proof: gas used " << last->gas_used << "\n";
  EXPECT_TRUE(*pool.is_spent(calls[3].nullifier));
  EXPECT_EQ(balance_of(recipient), U256(values[0] + values[1] + values[2] + values[3]) * unit);
}

}  // namespace
}  // namespace bucketpay::eth
