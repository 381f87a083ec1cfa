// End to end on anvil: the real Pool with bb's real SpendVerifier and SplitVerifier (contracts/out),
// notes deposited through PoolClient, the engine's tree rebuilt from the Pool's Inserted events,
// real spend proofs made by the engine, and spent on chain in one spendBatch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/devnet.h"
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

fs::path e2e_anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) {  // NOLINT(concurrency-mt-unsafe)
    return env;
  }
  return BUCKETPAY_ANVIL;
}

U256 fr_to_u256(const Fr& x) { return U256::from_word(x.to_bytes()); }

TEST(PoolEndToEnd, RealProofsFromTheEngineSpentThroughPoolClient) {
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

  // ---- chain: token, real verifiers, pool (UNIT = 10^16), deployed by the devnet module.
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(e2e_anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url(), .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  const Address me = wallet.address();
  const U256 unit(10'000'000'000'000'000ULL);  // 10^16
  Result<devnet::Contracts> contracts =
      devnet::deploy(**rpc, wallet, testing::project_root() / "contracts" / "out", unit);
  ASSERT_TRUE(contracts.ok()) << contracts.status().to_string();
  Result<std::vector<std::string>> errors = PoolClient::error_signatures_from_abi_json(contracts->pool_abi_json);
  ASSERT_TRUE(errors.ok()) << errors.status().to_string();
  PoolClient pool(**rpc, wallet, contracts->pool, *errors);
  ASSERT_EQ(*pool.unit(), unit);
  ASSERT_EQ(*pool.token(), contracts->token);

  TokenClient token(**rpc, wallet, contracts->token);
  ASSERT_TRUE(token.mint(me, U256(1'000'000) * unit).ok());
  ASSERT_TRUE(token.approve(pool.address(), U256::max()).ok());

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
      pool.inserted_events(BlockId::number(contracts->deploy_block), BlockId::latest());
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
    Result<U256> b = token.balance_of(a);
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : U256();
  };

  // ---- three in one spendBatch.
  const std::span<const SpendCall> first3(calls.data(), 3);
  Result<Receipt> batch = pool.spend_batch(first3);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();
  EXPECT_TRUE(batch->success);
  std::cout << "[ e2e ] spendBatch of 3 real proofs: gas used " << batch->gas_used << " (" << batch->gas_used / 3
            << " per proof)\n";
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

  // ---- the Pool's events: the 4 inserts, then the 4 spends of real proofs, in chain order.
  Result<std::vector<PoolEvent>> all = pool.events(contracts->deploy_block, *(*rpc)->block_number());
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 8U);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*all)[i].kind, PoolEvent::Kind::kInserted);
    const PoolEvent& spent = (*all)[4 + i];
    ASSERT_EQ(spent.kind, PoolEvent::Kind::kSpent);
    EXPECT_EQ(spent.spent.nullifier, calls[i].nullifier);
    EXPECT_EQ(spent.spent.recipient, recipient);
    EXPECT_EQ(spent.spent.value, U256(values[i]));
  }
  EXPECT_EQ((*all)[4].block_hash, batch->block_hash);
  EXPECT_EQ((*all)[7].block_hash, last->block_hash);
}

}  // namespace
}  // namespace bucketpay::eth
