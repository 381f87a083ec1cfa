// The relayer end to end on anvil: the real Pool with its real verifiers (contracts/out), notes
// deposited by hidden owner, REAL spend and split proofs made by the engine before anyone knows who
// will be paid, bundles signed by each note's auth key (bucketpay/payment.h, no wallet) and posted
// over HTTP:
//  - the relayer pays a recipient chosen after proving and earns its fee (a spend_batch, and a
//    rebalancing split that withdraws exactly its fee);
//  - a third party replays the pending bundle from the mempool with a higher tip: the payee is paid
//    exactly once, and the relayer's journal says failed, paid by the copy;
//  - kill -9 of a real relayer process (bucketpay-relay, the commands of `bucketpay relay`) between
//    submit and receipt: the restart sends no second transaction, and one the node dropped is sent
//    again byte for byte.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/deployment.h"
#include "bucketpay/devnet.h"
#include "bucketpay/engine.h"
#include "bucketpay/note.h"
#include "bucketpay/payment.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/prover.h"
#include "bucketpay/relay.h"
#include "bucketpay/store.h"
#include "bucketpay/subprocess.h"
#include "chain/anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::relay {
namespace {

namespace fs = std::filesystem;
using eth::U256;
using nlohmann::json;

constexpr const char* kPassphrase = "relay e2e";
const U256 kUnit(10'000);  // the devnet token has 6 decimals: 1 cent is 10,000 base units

fs::path anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) return env;  // NOLINT(concurrency-mt-unsafe)
  return BUCKETPAY_ANVIL;
}

U256 fr_to_u256(const Fr& x) { return U256::from_word(x.to_bytes()); }

StoreOptions store_options() {
  StoreOptions so;
  so.passphrase = kPassphrase;
  so.vault_params = VaultParams::fast();
  return so;
}

// A deposited note with its ready spend proof.
struct ProvedNote {
  OwnedNote owned;
  eth::SpendCall call;
};

class RelayOnAnvil : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-relay-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "scratch");
    Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(anvil_binary());
    ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
    anvil_ = std::move(anvil).value();
    Result<std::unique_ptr<eth::Rpc>> rpc =
        eth::Rpc::connect({.url = anvil_->url(), .timeout = std::chrono::seconds(30)});
    ASSERT_TRUE(rpc.ok());
    rpc_ = std::move(rpc).value();
    depositor_ = std::make_unique<eth::Wallet>(*rpc_, *eth::PrivateKey::from_hex(testing::kAnvilKey0));
    Result<deployment::Contracts> contracts =
        deployment::deploy(*rpc_, *depositor_, testing::project_root() / "contracts" / "out", kUnit);
    ASSERT_TRUE(contracts.ok()) << contracts.status().to_string();
    contracts_ = *contracts;
    pool_ = std::make_unique<eth::PoolClient>(*rpc_, *depositor_, contracts_.pool, eth::pool_error_signatures());
    token_ = std::make_unique<eth::TokenClient>(*rpc_, *depositor_, contracts_.token);
    ASSERT_TRUE(token_->mint(depositor_->address(), U256(1'000'000) * kUnit).ok());
    ASSERT_TRUE(token_->approve(contracts_.pool, U256::max()).ok());

    // The wallet's side, without a wallet: a key, a store for the engine, a prover.
    Result<std::unique_ptr<Store>> store = open_sqlite_store(dir_ / "notes.db", store_options());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    notes_store_ = std::move(store).value();
    ASSERT_TRUE(notes_store_->put_spending_key("w", sk_.reveal()).is_ok());
    ProverConfig pc;
    pc.bb_binary = testing::bb_binary();
    pc.crs_dir = testing::crs_dir();
    pc.circuits_dir = testing::build_dir() / "circuits";
    pc.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
    pc.scratch_root = dir_ / "scratch";
    pc.workers = 2;
    pc.threads_per_worker = 1;
    pc.warm_up = false;
    Result<std::unique_ptr<ProverPool>> prover = ProverPool::start(pc);
    ASSERT_TRUE(prover.ok()) << prover.status().to_string();
    prover_ = std::move(prover).value();
    Result<std::unique_ptr<Engine>> engine = Engine::open(*notes_store_, *prover_, "w");
    ASSERT_TRUE(engine.ok()) << engine.status().to_string();
    engine_ = std::move(engine).value();
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    relayer_.reset();
    chain_.reset();
    relay_store_.reset();
    engine_.reset();
    prover_.reset();
    notes_store_.reset();
    anvil_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Deposits notes of `values` (cents) by hidden owner, mirrors the Pool's leaves in the engine's
  // tree, and proves a spend of each, before any payee exists.
  std::vector<ProvedNote> deposit_and_prove(const std::vector<std::uint64_t>& values) {
    std::vector<Note> notes;
    std::vector<U256> owners;
    for (std::uint64_t v : values) {
      notes.push_back(Note::create(pk_, v));
      owners.push_back(fr_to_u256(notes.back().owner()));
    }
    Result<eth::Receipt> dep = pool_->deposit_many(owners, values);
    EXPECT_TRUE(dep.ok()) << dep.status().to_string();
    Result<std::vector<eth::InsertedEvent>> inserted = pool_->inserted_events(*dep);
    EXPECT_TRUE(inserted.ok());
    std::vector<std::int64_t> ids;
    std::vector<ProvedNote> out;
    for (std::size_t i = 0; i < notes.size(); ++i) {
      const eth::InsertedEvent& ev = (*inserted)[i];
      EXPECT_EQ(ev.commitment, fr_to_u256(notes[i].commitment()));
      EXPECT_TRUE(engine_->append_leaf(notes[i].commitment()).ok());
      StoredNote sn;
      sn.wallet = "w";
      sn.pk = pk_;
      sn.value = values[i];
      sn.r = notes[i].r;
      sn.leaf_index = ev.leaf_index;
      sn.state = NoteState::kOnChain;
      sn.commitment = notes[i].commitment();
      Result<std::int64_t> id = notes_store_->insert_note(sn);
      EXPECT_TRUE(id.ok()) << id.status().to_string();
      ids.push_back(*id);
      out.push_back(ProvedNote{OwnedNote{notes[i], sk_, ev.leaf_index}, {}});
    }
    EXPECT_EQ(fr_to_u256(engine_->tree().root()), *pool_->root());
    const auto t0 = std::chrono::steady_clock::now();
    Result<PrecomputeReport> report = engine_->generate_spend_precomputes(ids);
    EXPECT_TRUE(report.ok()) << report.status().to_string();
    EXPECT_EQ(report->failed, 0U);
    std::cout << "[ relay e2e ] " << ids.size() << " spend proofs in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
    for (std::size_t i = 0; i < out.size(); ++i) {
      const Precompute& p = report->precomputes.at(i);
      EXPECT_EQ(p.note_id, ids[i]);
      eth::SpendCall& c = out[i].call;
      c.proof = p.proof;
      c.root = fr_to_u256(p.public_inputs.at(0));
      c.nullifier = fr_to_u256(p.public_inputs.at(1));
      c.value = p.amount;
      c.auth = out[i].owned.auth_address();
      EXPECT_EQ(p.public_inputs.at(3), address_to_field(c.auth));
    }
    return out;
  }

  // The relayer's account on a store of its own: its key made, its config read from the chain.
  void init_relayer_store() {
    Result<std::unique_ptr<Store>> store = open_sqlite_store(dir_ / "relay.db", store_options());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    relay_store_ = std::move(store).value();
    Result<eth::Address> account = create_account(*relay_store_);
    ASSERT_TRUE(account.ok()) << account.status().to_string();
    account_ = *account;
    Result<RelayConfig> config = read_chain_config(anvil_->url(), contracts_.pool);
    ASSERT_TRUE(config.ok()) << config.status().to_string();
    EXPECT_EQ(config->token_decimals, 6U);
    EXPECT_EQ(config->unit, kUnit);
    config->fees.eth_price = "300";  // fees of cents, not dollars, so that small notes pay them
    ASSERT_TRUE(save_config(*relay_store_, *config).is_ok());
    fund(account_);
  }
  void fund(const eth::Address& account) {
    ASSERT_TRUE(devnet::set_balance(*rpc_, account, U256(10'000'000'000'000'000'000ULL)).is_ok());
  }

  // A relayer in this process, serving on a free port.
  void start_relayer() {
    init_relayer_store();
    eth::RpcOptions ro;
    ro.url = anvil_->url();
    ro.error_signatures = eth::pool_error_signatures();
    Result<std::unique_ptr<eth::RpcPoolChain>> chain = eth::RpcPoolChain::connect(ro, contracts_.pool);
    ASSERT_TRUE(chain.ok());
    chain_ = std::move(chain).value();
    RelayOptions options;
    options.log = &std::cout;
    Result<std::unique_ptr<Relayer>> relayer = Relayer::open(*relay_store_, *chain_, options);
    ASSERT_TRUE(relayer.ok()) << relayer.status().to_string();
    relayer_ = std::move(relayer).value();
    ServerOptions so;
    so.port = 0;
    so.poll_interval = std::chrono::milliseconds(100);
    Result<std::unique_ptr<RelayServer>> server = RelayServer::start(*relayer_, so);
    ASSERT_TRUE(server.ok()) << server.status().to_string();
    server_ = std::move(server).value();
    connect_client(server_->port());
  }
  void connect_client(int port) {
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
    client_->set_read_timeout(std::chrono::seconds(60));
  }

  eth::RelayQuote quote(eth::BundleKind kind, std::size_t notes) {
    const std::string path =
        "/v1/relay/quote?kind=" + std::string(eth::bundle_kind_name(kind)) + "&notes=" + std::to_string(notes);
    httplib::Result r = client_->Get(path);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    Result<eth::RelayQuote> q = eth::decode_quote(r ? r->body : "");
    EXPECT_TRUE(q.ok()) << q.status().to_string();
    return *q;
  }

  std::uint64_t chain_time() { return (*rpc_->get_block(eth::BlockId::latest()))->timestamp; }

  // A spend_batch of `notes` paying `recipient`, with the quote's fee to its fee recipient, signed
  // by each note's auth key.
  eth::RelayBundle spend_bundle(const std::vector<const ProvedNote*>& notes, const eth::Address& recipient,
                                const eth::RelayQuote& q) {
    eth::RelayBundle b;
    b.kind = eth::BundleKind::kSpendBatch;
    b.chain_id = q.chain_id;
    b.pool = q.pool;
    for (const ProvedNote* n : notes) {
      b.spends.push_back(n->call);
      b.payment.nullifiers.push_back(n->call.nullifier);
    }
    b.payment.recipient = recipient;
    b.payment.fee = q.fee;
    b.payment.fee_recipient = q.fee_recipient;
    b.payment.deadline = U256(chain_time() + 300);
    const eth::Hash32 digest = b.digest();
    for (const ProvedNote* n : notes) b.signatures.push_back(eth::sign_digest(n->owned.auth_key(), digest));
    return b;
  }

  struct Answer {
    int status = 0;
    json body;
  };
  Answer post(const eth::RelayBundle& b) {
    httplib::Result r = client_->Post("/v1/relay", eth::encode_bundle(b), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  json status_of(const std::string& digest) {
    httplib::Result r = client_->Get("/v1/relay/" + digest);
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  // Polls GET /v1/relay/{digest} until its state is `state` (the relayer's monitor moves it).
  json wait_for_state(const std::string& digest, const std::string& state) {
    json s;
    for (int i = 0; i < 600; ++i) {
      s = status_of(digest);
      if (s.is_object() && s["state"] == state) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << digest << " never became " << state << ": " << s.dump();
    return s;
  }

  U256 balance(const eth::Address& a) { return *token_->balance_of(a); }
  std::uint64_t mined_nonce(const eth::Address& a) { return *rpc_->get_transaction_count(a, eth::BlockId::latest()); }
  std::uint64_t pending_nonce(const eth::Address& a) {
    return *rpc_->get_transaction_count(a, eth::BlockId::pending());
  }

  fs::path dir_;
  std::unique_ptr<testing::Anvil> anvil_;
  std::unique_ptr<eth::Rpc> rpc_;
  std::unique_ptr<eth::Wallet> depositor_;
  deployment::Contracts contracts_;
  std::unique_ptr<eth::PoolClient> pool_;
  std::unique_ptr<eth::TokenClient> token_;
  const SpendingKey sk_ = SpendingKey::generate();
  const Fr pk_ = owner_key(sk_);
  std::unique_ptr<Store> notes_store_;
  std::unique_ptr<ProverPool> prover_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Store> relay_store_;
  eth::Address account_;
  std::unique_ptr<eth::RpcPoolChain> chain_;
  std::unique_ptr<Relayer> relayer_;
  std::unique_ptr<RelayServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RelayOnAnvil, PaysARecipientChosenAfterProvingAndEarnsItsFee) {
  const std::vector<ProvedNote> notes = deposit_and_prove({4096, 2048, 1024});
  start_relayer();

  // Only now is the payee known.
  const eth::Address recipient = eth::PrivateKey::random().address();
  const eth::RelayQuote q = quote(eth::BundleKind::kSpendBatch, 2);
  EXPECT_EQ(q.fee_recipient, account_);
  EXPECT_GT(q.fee, U256(0));
  const eth::RelayBundle b = spend_bundle({&notes[0], &notes[1]}, recipient, q);
  const std::string digest = eth::to_hex(b.digest());
  EXPECT_EQ(b.digest(), *pool_->payment_digest(b.payment));  // the Pool agrees on what was signed

  Answer a = post(b);
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["digest"], digest);
  const json mined = wait_for_state(digest, "mined");
  const eth::Hash32 tx_hash = *eth::hash_from_hex(a.body["tx_hash"].get<std::string>());
  std::optional<eth::Receipt> receipt = *rpc_->get_transaction_receipt(tx_hash);
  ASSERT_TRUE(receipt.has_value());
  EXPECT_TRUE(receipt->success);
  EXPECT_EQ(receipt->from, account_);  // sent from the relayer's own account, not the depositor's
  EXPECT_EQ(mined["block"], receipt->block_number);
  EXPECT_EQ(mined["gas_used"], receipt->gas_used);
  std::cout << "[ relay e2e ] spendBatch of 2 real proofs via the relayer: gas " << receipt->gas_used << ", fee "
            << q.fee.to_decimal() << " base units (quoted gas " << q.gas << ")\n";
  EXPECT_LE(receipt->gas_used, q.gas) << "the gas table is below a measured transaction";
  EXPECT_EQ(balance(recipient), U256(4096 + 2048) * kUnit - q.fee);
  EXPECT_EQ(balance(account_), q.fee);
  EXPECT_TRUE(*pool_->is_spent(notes[0].call.nullifier));
  EXPECT_TRUE(*pool_->is_spent(notes[1].call.nullifier));
  // Posting it again changes nothing.
  Answer again = post(b);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["state"], "mined");
  EXPECT_EQ(mined_nonce(account_), 1U);

  // A rebalancing split of the third note through the same relayer: it withdraws exactly the fee
  // (amount * UNIT == fee, recipient = fee recipient), the rest back to the owner as one new note.
  const eth::RelayQuote sq = quote(eth::BundleKind::kSplit, 1);
  const std::uint64_t amount = ((sq.fee + kUnit - U256(1)) / kUnit).low_u64();  // whole cents, rounded up
  ASSERT_LT(amount, 1024U);
  const OwnedNote& owned = notes[2].owned;
  const Note change = Note::create(pk_, 1024 - amount);
  Result<SplitOutputs> outputs = make_split_outputs(std::span(&change, 1));
  ASSERT_TRUE(outputs.ok());
  const Fr root = engine_->tree().root();
  auto path = engine_->tree().path(owned.leaf_index);
  ASSERT_TRUE(path.ok());
  const SplitStatement st = split_statement(owned, root, amount, *outputs);
  ProofResult proved = prover_->prove_now(
      {"relay-split", "split", split_inputs_json(owned, *path, root, amount, *outputs), st.public_inputs()});
  ASSERT_TRUE(proved.proof.ok()) << proved.proof.status().to_string();
  eth::RelayBundle sb;
  sb.kind = eth::BundleKind::kSplit;
  sb.chain_id = sq.chain_id;
  sb.pool = sq.pool;
  sb.split = eth::SplitCall{};
  sb.split->proof = proved.proof->proof;
  sb.split->root = fr_to_u256(st.root);
  sb.split->nullifier = fr_to_u256(st.nullifier);
  sb.split->amount = amount;
  sb.split->auth = owned.auth_address();
  for (std::size_t i = 0; i < eth::kSplitOutputs; ++i) sb.split->out_cms[i] = fr_to_u256(st.out_cm[i]);
  sb.payment = {
      {sb.split->nullifier}, sq.fee_recipient, U256(amount) * kUnit, sq.fee_recipient, U256(chain_time() + 300)};
  sb.signatures = {eth::sign_digest(owned.auth_key(), sb.digest())};
  const std::uint64_t leaves_before = *pool_->next_index();
  Answer split_answer = post(sb);
  ASSERT_EQ(split_answer.status, 202) << split_answer.body.dump();
  const json split_mined = wait_for_state(eth::to_hex(sb.digest()), "mined");
  std::cout << "[ relay e2e ] rebalancing split via the relayer: gas " << split_mined["gas_used"] << "\n";
  EXPECT_EQ(balance(account_), q.fee + U256(amount) * kUnit);
  EXPECT_EQ(*pool_->next_index(), leaves_before + 1);  // the change note; absent outputs insert nothing
  EXPECT_TRUE(*pool_->is_spent(sb.split->nullifier));

  const std::string metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("bucketpay_relay_transactions_mined_total 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("bucketpay_relay_fees_earned_total " + (q.fee + U256(amount) * kUnit).to_decimal() + "\n"),
            std::string::npos);
}

TEST_F(RelayOnAnvil, AReplayWithAHigherTipPaysThePayeeOnceAndTheJournalSaysPaidBy) {
  const std::vector<ProvedNote> notes = deposit_and_prove({512});
  start_relayer();
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());

  const eth::Address recipient = eth::PrivateKey::random().address();
  const eth::RelayQuote q = quote(eth::BundleKind::kSpendBatch, 1);
  const eth::RelayBundle b = spend_bundle({&notes[0]}, recipient, q);
  const std::string digest = eth::to_hex(b.digest());
  Answer a = post(b);
  ASSERT_EQ(a.status, 202) << a.body.dump();
  const eth::Hash32 own_hash = *eth::hash_from_hex(a.body["tx_hash"].get<std::string>());

  // A third party reads the pending transaction from the mempool and sends its calldata again from
  // its own account with a far higher tip.
  std::optional<eth::Transaction> pending = *rpc_->get_transaction(own_hash);
  ASSERT_TRUE(pending.has_value());
  EXPECT_FALSE(pending->block_number.has_value());
  eth::Wallet thief(*rpc_, *eth::PrivateKey::from_hex(testing::kAnvilKey1));
  Result<eth::Hash32> copy = thief.send_transaction(contracts_.pool, pending->input, U256(),
                                                    {.gas_limit = 3'000'000,
                                                     .max_fee_per_gas = U256(200'000'000'000ULL),
                                                     .max_priority_fee_per_gas = U256(50'000'000'000ULL)});
  ASSERT_TRUE(copy.ok()) << copy.status().to_string();
  ASSERT_TRUE(testing::anvil_mine(*rpc_).is_ok());

  std::optional<eth::Receipt> copied = *rpc_->get_transaction_receipt(*copy);
  std::optional<eth::Receipt> own = *rpc_->get_transaction_receipt(own_hash);
  ASSERT_TRUE(copied && own);
  EXPECT_TRUE(copied->success);
  EXPECT_FALSE(own->success);  // its nullifier was spent by the copy just before it
  EXPECT_EQ(copied->block_number, own->block_number);

  const json failed = wait_for_state(digest, "failed");
  EXPECT_EQ(failed["reason"], "paid by " + eth::to_hex(*copy));
  EXPECT_EQ(failed["block"], own->block_number);
  // Paid exactly once: the payee the amount less the fee, the fee to the relayer (it is its
  // fee_recipient, whoever sent the copy); the thief only paid gas.
  EXPECT_EQ(balance(recipient), U256(512) * kUnit - q.fee);
  EXPECT_EQ(balance(account_), q.fee);
  EXPECT_EQ(balance(thief.address()), U256(0));
  Result<std::vector<eth::PoolEvent>> events = pool_->events(contracts_.deploy_block, own->block_number);
  ASSERT_TRUE(events.ok());
  int paid = 0;
  for (const eth::PoolEvent& ev : *events) {
    if (ev.kind == eth::PoolEvent::Kind::kPaid && ev.paid.payment == b.digest()) ++paid;
  }
  EXPECT_EQ(paid, 1);
  // Failed is final: the same digest again sends nothing.
  Answer again = post(b);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["state"], "failed");
  EXPECT_EQ(pending_nonce(account_), 1U);
}

// ---- kill -9 of a real relayer process

class RelayProcess {
 public:
  RelayProcess(const fs::path& dir, std::vector<std::string> args) {
    args.insert(args.begin(), BUCKETPAY_RELAY_BINARY);
    Subprocess::Options o;
    o.argv = std::move(args);
    o.env = {{"BUCKETPAY_PASSPHRASE", kPassphrase}};  // the shipped binary: the wallet's own key derivation
    o.stderr_path = dir / "relay.stderr";
    Result<Subprocess> p = Subprocess::spawn(o);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    process_.emplace(std::move(p).value());
  }
  // The next line of its stdout (empty at EOF or after 60 s).
  std::string line() {
    std::string out;
    std::uint8_t c = 0;
    const auto deadline = Subprocess::Clock::now() + std::chrono::seconds(60);
    while (process_->read_exact({&c, 1}, deadline).is_ok() && c != '\n') out.push_back(static_cast<char>(c));
    return out;
  }
  std::string all() {
    std::string out;
    for (std::string l = line(); !l.empty(); l = line()) out += l + "\n";
    return out;
  }
  int wait() { return process_->wait(); }
  void kill9() {
    process_->kill();
    EXPECT_EQ(process_->wait(), 128 + 9);
  }
  [[nodiscard]] std::string stderr_tail() const { return process_->stderr_tail(); }

 private:
  std::optional<Subprocess> process_;
};

TEST_F(RelayOnAnvil, KillNineBetweenSubmitAndReceiptSendsNoSecondTransaction) {
  const std::vector<ProvedNote> notes = deposit_and_prove({256, 128});
  const std::string db = (dir_ / "relay-process.db").string();

  RelayProcess init(dir_, {"init", "--rpc-url", anvil_->url(), "--pool", contracts_.pool.to_hex(), "--db", db,
                           "--eth-price", "300", "--json"});
  const std::string init_out = init.all();
  ASSERT_EQ(init.wait(), 0) << init.stderr_tail();
  const json config = json::parse(init_out, nullptr, false);
  ASSERT_TRUE(config.is_object()) << init_out;
  const eth::Address account = *eth::Address::from_string(config["account"].get<std::string>());
  fund(account);

  auto serve = [&] {
    auto p = std::make_unique<RelayProcess>(
        dir_, std::vector<std::string>{"serve", "--db", db, "--port", "0", "--poll-ms", "100"});
    const std::string first = p->line();
    const std::size_t colon = first.rfind(':');
    EXPECT_NE(first.find("relaying for " + account.to_checksum()), std::string::npos) << first << p->stderr_tail();
    if (colon != std::string::npos) connect_client(std::stoi(first.substr(colon + 1)));
    return p;
  };
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());

  // ---- A: killed while its transaction waits in the node's pool; the restart finds it.
  auto relay = serve();
  const eth::Address payee_a = eth::PrivateKey::random().address();
  const eth::RelayQuote qa = quote(eth::BundleKind::kSpendBatch, 1);
  const eth::RelayBundle a = spend_bundle({&notes[0]}, payee_a, qa);
  const std::string digest_a = eth::to_hex(a.digest());
  Answer posted = post(a);
  ASSERT_EQ(posted.status, 202) << posted.body.dump();
  const std::string hash_a = posted.body["tx_hash"];
  relay->kill9();
  {
    // What the dead process left: the journal holds the very bytes the node holds.
    Result<std::unique_ptr<Store>> store = open_sqlite_store(db, store_options());
    ASSERT_TRUE(store.ok());
    const RelayEntry e = **(*store)->get_relay(digest_a);
    EXPECT_EQ(e.state, RelayEntryState::kSubmitted);
    EXPECT_EQ(e.tx_hash, hash_a);
    EXPECT_EQ(eth::to_hex(eth::keccak256(e.raw_tx)), hash_a);
  }
  ASSERT_TRUE(rpc_->get_transaction(*eth::hash_from_hex(hash_a))->has_value());
  relay = serve();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // several monitor passes
  EXPECT_EQ(pending_nonce(account), 1U) << "a second transaction was sent";
  EXPECT_EQ(status_of(digest_a)["state"], "submitted");
  Answer again = post(a);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["tx_hash"], hash_a);
  ASSERT_TRUE(testing::anvil_mine(*rpc_).is_ok());
  wait_for_state(digest_a, "mined");
  EXPECT_EQ(mined_nonce(account), 1U);
  EXPECT_EQ(balance(payee_a), U256(256) * kUnit - qa.fee);

  // ---- B: killed, and the node forgets the transaction; the restart sends the same bytes again.
  const eth::Address payee_b = eth::PrivateKey::random().address();
  const eth::RelayQuote qb = quote(eth::BundleKind::kSpendBatch, 1);
  const eth::RelayBundle b = spend_bundle({&notes[1]}, payee_b, qb);
  const std::string digest_b = eth::to_hex(b.digest());
  posted = post(b);
  ASSERT_EQ(posted.status, 202) << posted.body.dump();
  const eth::Hash32 hash_b = *eth::hash_from_hex(posted.body["tx_hash"].get<std::string>());
  relay->kill9();
  ASSERT_TRUE(testing::anvil_drop_transaction(*rpc_, hash_b).is_ok());
  ASSERT_FALSE(rpc_->get_transaction(hash_b)->has_value());
  relay = serve();
  bool back = false;
  for (int i = 0; i < 200 && !back; ++i) {
    back = rpc_->get_transaction(hash_b)->has_value();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(back) << "the dropped transaction was not sent again: " << relay->stderr_tail();
  EXPECT_EQ(pending_nonce(account), 2U);
  ASSERT_TRUE(testing::anvil_mine(*rpc_).is_ok());
  const json mined_b = wait_for_state(digest_b, "mined");
  EXPECT_EQ(mined_b["tx_hash"], eth::to_hex(hash_b));
  EXPECT_EQ(mined_nonce(account), 2U);  // two bundles, two transactions, ever
  EXPECT_EQ(balance(payee_b), U256(128) * kUnit - qb.fee);
  EXPECT_EQ(balance(account), qa.fee + qb.fee);
  const std::string metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("bucketpay_relay_transactions_resent_total 1\n"), std::string::npos) << metrics;
  relay->kill9();
}

}  // namespace
}  // namespace bucketpay::relay
