// End to end on anvil: the real Pool with its real verifiers (the generated BatchSpendVerifier and
// BatchSplitVerifier, contracts/out), notes deposited by hidden owner through PoolClient, the
// engine's tree rebuilt from the Pool's Inserted events, real spend proofs made by the engine before
// anyone knows who will be paid, then a payment to a recipient chosen afterwards, signed by each
// note's auth key and submitted by a relayer; a second relayer submitting the same bundle pays
// nobody twice; a real 1-in-8-out split.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/deployment.h"
#include "bucketpay/engine.h"
#include "bucketpay/note.h"
#include "bucketpay/payment.h"
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

TEST(PoolEndToEnd, RealProofsPaidToARecipientChosenAfterProving) {
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
  Wallet depositor(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  const U256 unit(10'000'000'000'000'000ULL);  // 10^16
  Result<deployment::Contracts> contracts =
      deployment::deploy(**rpc, depositor, testing::project_root() / "contracts" / "out", unit);
  ASSERT_TRUE(contracts.ok()) << contracts.status().to_string();
  Result<std::vector<std::string>> errors = PoolClient::error_signatures_from_abi_json(contracts->pool_abi_json);
  ASSERT_TRUE(errors.ok()) << errors.status().to_string();
  PoolClient pool(**rpc, depositor, contracts->pool, *errors);
  ASSERT_EQ(*pool.unit(), unit);
  ASSERT_EQ(*pool.token(), contracts->token);

  TokenClient token(**rpc, depositor, contracts->token);
  ASSERT_TRUE(token.mint(depositor.address(), U256(1'000'000) * unit).ok());
  ASSERT_TRUE(token.approve(pool.address(), U256::max()).ok());

  // ---- a wallet key and 5 notes, deposited in one depositMany by hidden owner: no pk, no r.
  const SpendingKey sk = SpendingKey::generate();
  const Fr pk = owner_key(sk);
  const std::vector<std::uint64_t> values = {1, 2, 64, 128, 1024};
  std::vector<Note> notes;
  std::vector<U256> owners;
  for (std::uint64_t v : values) {
    notes.push_back(Note::create(pk, v));
    owners.push_back(fr_to_u256(notes.back().owner()));
  }
  Result<Receipt> dep = pool.deposit_many(owners, values);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  EXPECT_TRUE(dep->success);

  Result<std::vector<InsertedEvent>> events =
      pool.inserted_events(BlockId::number(contracts->deploy_block), BlockId::latest());
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  ASSERT_EQ(events->size(), notes.size());
  Result<std::vector<InsertedEvent>> in_receipt = pool.inserted_events(*dep);
  ASSERT_TRUE(in_receipt.ok());
  EXPECT_EQ(in_receipt->size(), notes.size());
  const U256 chain_root = *pool.root();
  EXPECT_EQ(events->back().root, chain_root);
  EXPECT_TRUE(*pool.known_root(chain_root));

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
    ASSERT_EQ(*cm, notes[i].commitment()) << "the Pool's H(owner, v) differs from the C++ note's, leaf " << i;
    Result<std::uint64_t> index = (*engine)->append_leaf(*cm);
    ASSERT_TRUE(index.ok()) << index.status().to_string();
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

  // ---- real spend proofs for notes 0-3, before any recipient exists.
  const std::vector<std::int64_t> spend_ids(ids.begin(), ids.begin() + 4);
  const auto t0 = std::chrono::steady_clock::now();
  Result<PrecomputeReport> report = (*engine)->generate_spend_precomputes(spend_ids);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->failed, 0U) << (report->errors.empty() ? "" : report->errors[0]);
  ASSERT_EQ(report->precomputes.size(), 4U);
  std::cout << "[ e2e ] 4 spend proofs in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";

  std::vector<SpendCall> calls;
  std::vector<PrivateKey> auth_keys;
  for (std::size_t i = 0; i < 4; ++i) {
    const Precompute& p = report->precomputes[i];
    ASSERT_EQ(p.public_inputs.size(), 4U);
    auth_keys.push_back(auth_key(sk, notes[i].commitment()));
    SpendCall c;
    c.proof = p.proof;
    c.root = fr_to_u256(p.public_inputs[0]);
    c.nullifier = fr_to_u256(p.public_inputs[1]);
    c.value = p.amount;
    c.auth = auth_keys.back().address();
    EXPECT_EQ(c.root, chain_root);
    EXPECT_EQ(U256(c.value), fr_to_u256(p.public_inputs[2]));
    EXPECT_EQ(p.public_inputs[3], address_to_field(c.auth));
    calls.push_back(std::move(c));
  }

  auto balance_of = [&](const Address& a) -> U256 {
    Result<U256> b = token.balance_of(a);
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : U256();
  };

  // ---- now the payee is known: a payment of notes 0-2 to a fresh address, with a relayer fee.
  const Address recipient = PrivateKey::random().address();
  Wallet relayer(**rpc, *PrivateKey::from_hex(testing::kAnvilKey1));
  const PrivateKey other_relayer_key = PrivateKey::random();
  ASSERT_TRUE(depositor.transact(other_relayer_key.address(), {}, U256(1'000'000'000'000'000'000ULL)).ok());
  Wallet other_relayer(**rpc, other_relayer_key);
  Result<PaymentDomain> domain = pool.payment_domain();
  ASSERT_TRUE(domain.ok());
  const std::span<const SpendCall> first3(calls.data(), 3);
  Payment payment;
  for (const SpendCall& c : first3) payment.nullifiers.push_back(c.nullifier);
  payment.recipient = recipient;
  payment.fee = unit / U256(2);  // half a cent
  payment.fee_recipient = relayer.address();
  payment.deadline = U256(static_cast<std::uint64_t>(std::time(nullptr)) + 3600);
  const Hash32 digest = payment_digest(*domain, payment);
  ASSERT_EQ(*pool.payment_digest(payment), digest);
  std::vector<RsvSignature> sigs;
  for (std::size_t i = 0; i < 3; ++i) sigs.push_back(sign_digest(auth_keys[i], digest));

  // The relayer submits; anyone could: the bundle is the same whoever sends it.
  PoolClient via_relayer(**rpc, relayer, contracts->pool, *errors);
  Result<Bytes> bundle = PoolClient::encode_spend_batch(first3, payment, sigs);
  ASSERT_TRUE(bundle.ok()) << bundle.status().to_string();
  const U256 relayer_before = balance_of(relayer.address());
  Result<Receipt> batch = via_relayer.spend_batch(first3, payment, sigs);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();
  EXPECT_TRUE(batch->success);
  EXPECT_EQ(batch->from, relayer.address());
  std::cout << "[ e2e ] spendBatch of 3 real proofs: gas used " << batch->gas_used << " (" << batch->gas_used / 3
            << " per proof)\n";
  const U256 total = U256(values[0] + values[1] + values[2]) * unit;
  EXPECT_EQ(balance_of(recipient), total - payment.fee);
  EXPECT_EQ(balance_of(relayer.address()) - relayer_before, payment.fee);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(*pool.is_spent(calls[i].nullifier)) << i;
  EXPECT_FALSE(*pool.is_spent(calls[3].nullifier));

  // ---- a second relayer sends the very same bundle: refused, nobody is paid twice.
  Result<Hash32> copy = other_relayer.send_transaction(contracts->pool, *bundle, U256(), {.gas_limit = 3'000'000});
  ASSERT_TRUE(copy.ok()) << copy.status().to_string();
  Result<Receipt> copied = other_relayer.wait_for_receipt(*copy);
  ASSERT_TRUE(copied.ok()) << copied.status().to_string();
  EXPECT_FALSE(copied->success);
  ASSERT_TRUE(copied->revert_reason.has_value());
  EXPECT_EQ(pool.decode_revert(copied->revert_reason->raw).name, "NullifierAlreadySpent");
  EXPECT_EQ(balance_of(recipient), total - payment.fee);
  EXPECT_EQ(balance_of(relayer.address()) - relayer_before, payment.fee);
  EXPECT_EQ(balance_of(other_relayer.address()), U256(0));

  // ---- the 4th note: a relayer redirecting it to itself is refused; the signed payment lands.
  Payment fourth{{calls[3].nullifier}, recipient, U256(0), Address{}, payment.deadline};
  const RsvSignature fourth_sig = sign_digest(auth_keys[3], payment_digest(*domain, fourth));
  Payment redirected = fourth;
  redirected.recipient = other_relayer.address();
  PoolClient via_other(**rpc, other_relayer, contracts->pool, *errors);
  Result<Receipt> stolen = via_other.spend_batch(std::span(&calls[3], 1), redirected, std::span(&fourth_sig, 1));
  ASSERT_FALSE(stolen.ok());
  EXPECT_NE(stolen.status().message().find("WrongSigner(0)"), std::string::npos) << stolen.status().to_string();
  // A changed proof byte, or the proof presented with another note's auth address: InvalidProof
  // (the auth address is bound by the proof, not only by the signature).
  SpendCall tampered = calls[3];
  tampered.proof[200] ^= 1;
  Result<Receipt> bad_proof = via_other.spend_batch(std::span(&tampered, 1), fourth, std::span(&fourth_sig, 1));
  ASSERT_FALSE(bad_proof.ok());
  EXPECT_NE(bad_proof.status().message().find("InvalidProof()"), std::string::npos) << bad_proof.status().to_string();
  SpendCall other_auth = calls[3];
  other_auth.auth = auth_keys[0].address();
  const RsvSignature by_other = sign_digest(auth_keys[0], payment_digest(*domain, fourth));
  Result<Receipt> rebound = via_other.spend_batch(std::span(&other_auth, 1), fourth, std::span(&by_other, 1));
  ASSERT_FALSE(rebound.ok());
  EXPECT_NE(rebound.status().message().find("InvalidProof()"), std::string::npos) << rebound.status().to_string();
  Result<Receipt> last = via_other.spend_batch(std::span(&calls[3], 1), fourth, std::span(&fourth_sig, 1));
  ASSERT_TRUE(last.ok()) << last.status().to_string();
  std::cout << "[ e2e ] spendBatch of 1 real proof: gas used " << last->gas_used << "\n";
  EXPECT_EQ(balance_of(recipient), total - payment.fee + U256(values[3]) * unit);

  // ---- a real split of note 4 (1024) into 8 outputs: 7 to self, 1 to someone else, 4 withdrawn
  // as the relayer's fee (a rebalancing split: amount * UNIT == fee, recipient = fee recipient).
  const OwnedNote owned{notes[4], sk, 4};
  std::vector<Note> outs;
  for (std::uint64_t v : {512, 256, 128, 64, 32, 16, 8}) outs.push_back(Note::create(pk, v));
  outs.push_back(Note::create(owner_key(SpendingKey::generate()), 4));
  Result<SplitOutputs> split_outputs = make_split_outputs(outs);
  ASSERT_TRUE(split_outputs.ok());
  auto path = (*engine)->tree().path(4);
  ASSERT_TRUE(path.ok());
  const Fr root_fr = (*engine)->tree().root();
  const SplitStatement st = split_statement(owned, root_fr, 4, *split_outputs);
  ProofResult proved = (*prover)->prove_now(
      {"split8", "split", split_inputs_json(owned, *path, root_fr, 4, *split_outputs), st.public_inputs()});
  ASSERT_TRUE(proved.proof.ok()) << proved.proof.status().to_string();
  SplitCall sc{.proof = proved.proof->proof,
               .root = fr_to_u256(st.root),
               .nullifier = fr_to_u256(st.nullifier),
               .amount = 4,
               .auth = owned.auth_address()};
  for (std::size_t i = 0; i < kSplitOutputs; ++i) sc.out_cms[i] = fr_to_u256(st.out_cm[i]);
  const Payment rebalance{{sc.nullifier}, relayer.address(), U256(4) * unit, relayer.address(), payment.deadline};
  const RsvSignature split_sig = sign_digest(owned.auth_key(), payment_digest(*domain, rebalance));
  const std::uint64_t leaves_before = *pool.next_index();
  const U256 relayer_mid = balance_of(relayer.address());
  Result<Receipt> split = via_relayer.split(sc, rebalance, split_sig);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  std::cout << "[ e2e ] split 1 -> 8 (real proof): gas used " << split->gas_used << "\n";
  EXPECT_EQ(*pool.next_index(), leaves_before + 8);
  EXPECT_EQ(balance_of(relayer.address()) - relayer_mid, U256(4) * unit);
  Result<std::vector<InsertedEvent>> split_ins = pool.inserted_events(*split);
  ASSERT_TRUE(split_ins.ok());
  ASSERT_EQ(split_ins->size(), 8U);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ((*split_ins)[i].commitment, fr_to_u256(outs[i].commitment())) << i;
    EXPECT_EQ((*split_ins)[i].leaf_index, leaves_before + i);
    EXPECT_EQ((*split_ins)[i].root, *pool.root());
  }
  // The engine's tree, given the same leaves, has the Pool's root (one batch, one root).
  for (const Note& n : outs) ASSERT_TRUE((*engine)->append_leaf(n.commitment()).ok());
  EXPECT_EQ(fr_to_u256((*engine)->tree().root()), *pool.root());

  // ---- the Pool's events: 5 inserts, 3 spends + Paid, 1 spend + Paid, 8 inserts + Spent + Paid.
  Result<std::vector<PoolEvent>> all = pool.events(contracts->deploy_block, *(*rpc)->block_number());
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 5U + 4U + 2U + 10U);
  using Kind = PoolEvent::Kind;
  for (std::size_t i = 0; i < 3; ++i) {
    const PoolEvent& spent = (*all)[5 + i];
    ASSERT_EQ(spent.kind, Kind::kSpent);
    EXPECT_EQ(spent.spent.nullifier, calls[i].nullifier);
    EXPECT_EQ(spent.spent.payment, digest);
    EXPECT_EQ(spent.block_hash, batch->block_hash);
  }
  const PoolEvent& paid = (*all)[8];
  ASSERT_EQ(paid.kind, Kind::kPaid);
  EXPECT_EQ(paid.paid.payment, digest);
  EXPECT_EQ(paid.paid.recipient, recipient);
  EXPECT_EQ(paid.paid.amount, total - payment.fee);
  EXPECT_EQ(paid.paid.fee_recipient, relayer.address());
  EXPECT_EQ(paid.paid.fee, payment.fee);
  EXPECT_EQ((*all)[9].kind, Kind::kSpent);
  EXPECT_EQ((*all)[10].kind, Kind::kPaid);
  EXPECT_EQ((*all)[10].block_hash, last->block_hash);
  for (std::size_t i = 11; i < 19; ++i) EXPECT_EQ((*all)[i].kind, Kind::kInserted) << i;
  EXPECT_EQ((*all)[19].kind, Kind::kSpent);
  EXPECT_EQ((*all)[19].spent.nullifier, sc.nullifier);
  EXPECT_EQ((*all)[20].kind, Kind::kPaid);
  EXPECT_EQ((*all)[20].paid.amount, U256(0));
  EXPECT_EQ((*all)[20].paid.fee, U256(4) * unit);
}

}  // namespace
}  // namespace bucketpay::eth
