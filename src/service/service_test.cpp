// The service over real HTTP (httplib::Client on 127.0.0.1, a free port), with a real SQLite store
// in a temporary directory, a real proving pool (the build's circuits, bb, Node) and real tokens.
// Proofs handed out by the plan endpoint are re-verified by a separate bb process.
#include "bucketpay/service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "bucketpay/amount.h"
#include "bucketpay/bb.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/job_spec.h"
#include "bucketpay/keeper_state.h"
#include "bucketpay/note.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPayee = "0x1111111111111111111111111111111111111111";

ProverConfig test_config(const fs::path& scratch) {
  ProverConfig c;
  c.bb_binary = testing::bb_binary();
  c.crs_dir = testing::crs_dir();
  c.circuits_dir = testing::build_dir() / "circuits";
  c.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
  c.scratch_root = scratch;
  c.vk_cache_dir = testing::build_dir() / "vk-cache";  // content-addressed, written atomically
  c.workers = 2;
  c.threads_per_worker = 1;
  c.warm_up = false;
  return c;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-service-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "scratch");
    StoreOptions so;
    so.passphrase = "test passphrase";
    so.vault_params = VaultParams::fast();
    auto store = open_sqlite_store(dir_ / "store.db", so);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    store_ = std::move(*store);
    alice_notes_ = add_wallet("alice", {1, 2, 64, 128});
    bob_notes_ = add_wallet("bob", {2});
    alice_token_ = store_->create_token("alice", TokenScope::kSpend)->token;
    bob_token_ = store_->create_token("bob", TokenScope::kSpend)->token;
  }

  void TearDown() override {
    service_.reset();
    pool_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // A wallet with a key and on-chain notes of `values` (among other people's leaves).
  std::vector<std::int64_t> add_wallet(const std::string& wallet, const std::vector<Cents>& values) {
    const SpendingKey sk = SpendingKey::generate();
    EXPECT_TRUE(store_->put_spending_key(wallet, sk.reveal()).is_ok());
    const Fr pk = owner_key(sk);
    std::vector<std::int64_t> ids;
    for (Cents v : values) {
      const std::vector<Fr> others = {Fr::random(), Fr::random()};
      EXPECT_TRUE(store_->append_leaves(others).ok());
      const Note note = Note::create(pk, v);
      const Fr cm = note.commitment();
      auto index = store_->append_leaves(std::span(&cm, 1));
      EXPECT_TRUE(index.ok());
      StoredNote sn;
      sn.wallet = wallet;
      sn.pk = pk;
      sn.value = v;
      sn.r = note.r;
      sn.leaf_index = *index;
      sn.state = NoteState::kOnChain;
      sn.commitment = cm;
      auto id = store_->insert_note(sn);
      EXPECT_TRUE(id.ok()) << id.status().to_string();
      ids.push_back(*id);
    }
    return ids;
  }

  void start(ServiceOptions options = {}, int workers = 2) {
    auto config = test_config(dir_ / "scratch");
    config.workers = workers;
    auto pool = ProverPool::start(config);
    ASSERT_TRUE(pool.ok()) << pool.status().to_string();
    pool_ = std::move(*pool);
    options.port = 0;
    auto service = Service::start(*store_, *pool_, options);
    ASSERT_TRUE(service.ok()) << service.status().to_string();
    service_ = std::move(*service);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", service_->port());
    client_->set_read_timeout(30, 0);
  }

  static httplib::Headers auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // Every JSON answer: parses, and a 4xx/5xx carries a non-empty "error" string.
  static json body_of(const httplib::Result& r) {
    EXPECT_TRUE(r) << "no answer: " << httplib::to_string(r.error());
    if (!r) return json();
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << r->status << " " << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    if (r->status >= 400) {
      EXPECT_TRUE(j.contains("error") && j["error"].is_string() && !j["error"].get<std::string>().empty()) << r->body;
    }
    return j;
  }

  json post_job(const std::string& token, const json& body, int expected_status) {
    auto r = client_->Post("/v1/jobs", auth(token), body.dump(), "application/json");
    json j = body_of(r);
    EXPECT_EQ(r ? r->status : 0, expected_status) << (r ? r->body : "");
    return j;
  }

  // Polls a job until it is no longer queued or running.
  json wait_for_job(const std::string& token, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    for (;;) {
      auto r = client_->Get("/v1/jobs/" + id, auth(token));
      json j = body_of(r);
      EXPECT_EQ(r ? r->status : 0, 200);
      if (!r || r->status != 200) return j;
      const std::string state = j["state"];
      if (state != "queued" && state != "running") return j;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "job " << id << " did not finish: " << j.dump();
        return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Re-verifies a proof in a fresh bb process, independently of the pool.
  bool verifies(const std::string& circuit, const json& planned) {
    std::vector<Fr> inputs;
    for (const auto& h : planned["public_inputs"]) inputs.push_back(*Fr::from_string(h.get<std::string>()));
    const std::string hex = planned["proof"].get<std::string>().substr(2);
    std::vector<std::uint8_t> proof;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      proof.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    auto vk = pool_->verification_key(circuit);
    EXPECT_TRUE(vk.ok());
    auto p = bb::Process::start({testing::bb_binary(), 1, {}, {}, testing::crs_dir()});
    EXPECT_TRUE(p.ok());
    auto v = (*p)->verify(*vk, bb::ProofData{inputs, proof});
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() && *v;
  }

  // The value of an unlabelled or labelled metric sample, -1 when absent.
  static double metric(const std::string& text, const std::string& sample) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
    }
    return -1;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ProverPool> pool_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<httplib::Client> client_;
  std::vector<std::int64_t> alice_notes_;
  std::vector<std::int64_t> bob_notes_;
  std::string alice_token_;
  std::string bob_token_;
};

TEST_F(ServiceTest, HealthNeedsNoTokenAndNamesVersions) {
  start();
  auto r = client_->Get("/v1/health");
  json j = body_of(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["api"], "v1");
  EXPECT_EQ(j["protocol"], "v2");
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["workers"], 2);
}

TEST_F(ServiceTest, WalletEndpointsNeedAValidToken) {
  start();
  const std::vector<std::pair<std::string, std::string>> endpoints = {{"GET", "/v1/jobs/job_0000000000000000"},
                                                                      {"GET", "/v1/payments/plan?amount=1.00"},
                                                                      {"GET", "/v1/workers"},
                                                                      {"GET", "/v1/dashboard"},
                                                                      {"POST", "/v1/jobs"}};
  const std::vector<httplib::Headers> bad = {{},
                                             {{"Authorization", "Basic YWxpY2U6eA=="}},
                                             {{"Authorization", "Bearer"}},
                                             {{"Authorization", "Bearer nope"}},
                                             {{"Authorization", "Bearer " + alice_token_ + "0"}},
                                             {{"Authorization", "Bearer  " + alice_token_}}};
  for (const auto& [method, path] : endpoints) {
    for (const auto& headers : bad) {
      auto r = method == "GET" ? client_->Get(path, headers)
                               : client_->Post(path, headers, R"({"mode":"inventory","all":true})", "application/json");
      json j = body_of(r);
      EXPECT_EQ(r->status, 401) << method << " " << path;
      EXPECT_FALSE(r->get_header_value("WWW-Authenticate").empty());
    }
  }
  // A revoked token stops working at once.
  auto created = store_->create_token("alice", TokenScope::kRead);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(client_->Get("/v1/workers", auth(created->token))->status, 200);
  ASSERT_TRUE(store_->revoke_token(created->id).is_ok());
  EXPECT_EQ(client_->Get("/v1/workers", auth(created->token))->status, 401);
}

// A read token (what a dashboard needs) reads every GET endpoint of its wallet, and gets 403 naming
// the scope on everything that proves, reserves, signs or pays: nothing is queued or paid for it.
TEST_F(ServiceTest, AReadTokenReadsButCannotProveOrPay) {
  ServiceOptions o;
  o.wallet_store = store_.get();  // POST /v1/x402/pay enabled
  start(o, 1);
  const std::string reader = store_->create_token("alice", TokenScope::kRead)->token;
  for (const std::string path : {"/v1/dashboard", "/v1/workers", "/v1/payments/plan?amount=0.08"}) {
    auto r = client_->Get(path, auth(reader));
    body_of(r);
    EXPECT_NE(r->status, 401) << path;
    EXPECT_NE(r->status, 403) << path;
  }
  auto dashboard = client_->Get("/v1/dashboard", auth(reader));
  ASSERT_EQ(dashboard->status, 200) << dashboard->body;
  EXPECT_EQ(body_of(dashboard)["wallet"], "alice");

  const std::string job = json{{"mode", "inventory"}, {"all", true}}.dump();
  const std::string pay = R"({"requirements":{}})";
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/jobs", job}, {"/v1/x402/pay", pay}, {"/v1/jobs", "not json"}, {"/v1/x402/pay", ""}}) {
    auto r = client_->Post(path, auth(reader), body, "application/json");
    const json j = body_of(r);
    EXPECT_EQ(r->status, 403) << path << " " << r->body;
    EXPECT_EQ(j["error"],
              "this needs a token of scope spend; this token has scope read (make one with `bucketpay token create "
              "--scope spend`)")
        << path;
    EXPECT_EQ(r->body.find('\n'), std::string::npos);
    EXPECT_NE(r->get_header_value("WWW-Authenticate").find("insufficient_scope"), std::string::npos);
  }
  // Nothing was queued for it; the same requests with a spend token get past the scope.
  EXPECT_TRUE(body_of(client_->Get("/v1/dashboard", auth(reader)))["jobs"].empty());
  auto paid = client_->Post("/v1/x402/pay", auth(alice_token_), pay, "application/json");
  body_of(paid);
  EXPECT_NE(paid->status, 403) << paid->body;
  EXPECT_NE(paid->status, 401) << paid->body;
  json created = post_job(alice_token_, json::parse(job), 202);
  EXPECT_EQ(body_of(client_->Get("/v1/jobs/" + created["job"].get<std::string>(), auth(reader)))["job"],
            created["job"]);
  // An unknown token is still 401, not 403: the scope is looked at only for a valid token.
  auto unknown = client_->Post("/v1/jobs", auth(reader + "0"), job, "application/json");
  body_of(unknown);
  EXPECT_EQ(unknown->status, 401);
}

TEST_F(ServiceTest, InventoryJobThenAPlanOfVerifiedReadyProofsAndWalletsStayApart) {
  start();
  // Bob cannot prove Alice's notes: they do not exist for him.
  json denied = post_job(bob_token_, {{"mode", "inventory"}, {"note_ids", {alice_notes_[0]}}}, 404);
  EXPECT_EQ(denied["error"], "note " + std::to_string(alice_notes_[0]) + " not found");
  post_job(bob_token_, {{"mode", "seed"}, {"note_id", alice_notes_[2]}}, 404);

  json created = post_job(alice_token_, {{"mode", "inventory"}, {"all", true}}, 202);
  const std::string job = created["job"];
  EXPECT_EQ(created["total"], 4);
  // Bob cannot see Alice's job either.
  auto peek = client_->Get("/v1/jobs/" + job, auth(bob_token_));
  body_of(peek);
  EXPECT_EQ(peek->status, 404);

  json done = wait_for_job(alice_token_, job);
  EXPECT_EQ(done["state"], "done") << done.dump();
  EXPECT_EQ(done["proved"], 4);
  EXPECT_EQ(done["done"], 4);
  EXPECT_EQ(done["failed"], 0);

  // 0.67 = 64 + 2 + 1 cents: three notes, largest first, each with a proof that verifies alone.
  auto r = client_->Get("/v1/payments/plan?amount=0.67", auth(alice_token_));
  json plan = body_of(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(plan["amount_cents"], 67);
  EXPECT_EQ(plan["total_cents"], 67);
  ASSERT_EQ(plan["notes"].size(), 3U);
  const SpendingKey alice_sk = SpendingKey::from_fr(*store_->get_spending_key("alice"));
  std::vector<Cents> values;
  for (const auto& n : plan["notes"]) {
    values.push_back(n["value_cents"]);
    EXPECT_EQ(n["circuit"], "spend");
    ASSERT_EQ(n["public_inputs"].size(), 4U);
    EXPECT_EQ(*Fr::from_string(n["public_inputs"][2].get<std::string>()), Fr::from_u64(n["value_cents"]));
    // No recipient: the proof binds its note's spend authorization address.
    const StoredNote note = *store_->get_note(n["note_id"].get<std::int64_t>());
    EXPECT_EQ(*Fr::from_string(n["public_inputs"][3].get<std::string>()),
              address_to_field(auth_address(alice_sk, note.commitment)));
    EXPECT_TRUE(verifies("spend", n));
  }
  EXPECT_EQ(values, (std::vector<Cents>{64, 2, 1}));

  // No exact combination, or another wallet's notes: 409 with what is missing.
  for (const auto& [token, query] :
       std::vector<std::pair<std::string, std::string>>{{alice_token_, "amount=0.08"}, {bob_token_, "amount=0.02"}}) {
    auto miss = client_->Get("/v1/payments/plan?" + query, auth(token));
    body_of(miss);
    EXPECT_EQ(miss->status, 409) << query << " " << miss->body;
  }

  // The same job again is served from the cache.
  json again = post_job(alice_token_, {{"mode", "inventory"}, {"note_ids", alice_notes_}}, 202);
  json cached = wait_for_job(alice_token_, again["job"]);
  EXPECT_EQ(cached["cached"], 4);
  EXPECT_EQ(cached["proved"], 0);

  // Workers, dashboard and metrics account for the four proofs.
  auto w = client_->Get("/v1/workers", auth(alice_token_));
  json workers = body_of(w);
  std::uint64_t proofs = 0;
  for (const auto& s : workers["workers"]) proofs += s["proofs"].get<std::uint64_t>();
  EXPECT_EQ(proofs, 4U);
  auto d = client_->Get("/v1/dashboard", auth(alice_token_));
  json dash = body_of(d);
  EXPECT_EQ(dash["wallet"], "alice");
  EXPECT_EQ(dash["ready_precomputes"], 4);
  EXPECT_EQ(dash["notes_on_chain"], 4);
  EXPECT_EQ(dash["ready_cents"], 1 + 2 + 64 + 128);
  EXPECT_EQ(dash["proofs_ok"], 4);
  EXPECT_EQ(dash["jobs"].size(), 2U);
  std::uint64_t recent = 0;
  for (const auto& n : dash["throughput"]["proofs"]) recent += n.get<std::uint64_t>();
  EXPECT_EQ(recent, 4U);
  auto bob_dash = body_of(client_->Get("/v1/dashboard", auth(bob_token_)));
  EXPECT_EQ(bob_dash["notes_on_chain"], 1);
  EXPECT_EQ(bob_dash["ready_precomputes"], 0);
  EXPECT_TRUE(bob_dash["jobs"].empty());

  // The store's figures count every process's work: jobs another process (the CLI, a worker) put in
  // the store count beside this server's, each wallet only its own; a wallet without a chain has
  // no balance or node; the keeper's state is what it recorded.
  const json stored = dash["stored"];
  ASSERT_TRUE(stored.is_object()) << dash.dump();
  EXPECT_EQ(stored["proof_jobs"]["done"], 4);
  EXPECT_EQ(stored["on_chain"], false);
  EXPECT_TRUE(stored["node"].is_null());
  EXPECT_TRUE(stored["keeper"].is_null());
  EXPECT_TRUE(stored["payments"].empty());
  Job outside;
  outside.key = "outside-process-job";
  outside.batch = "batch-of-the-cli";
  outside.circuit = CircuitKind::kSpend;
  outside.spec_json = encode_job_spec(
      JobSpec{.circuit = CircuitKind::kSpend, .note_id = alice_notes_[0], .auth = {}, .amount = 0, .change_r = {}});
  outside.updated_ms = 0;
  ASSERT_TRUE(store_->enqueue_jobs(std::span(&outside, 1)).ok());
  KeeperState keeper;
  keeper.started_ms = Clock::system().unix_ms() - 5000;
  keeper.last_round_ms = Clock::system().unix_ms() - 1000;
  keeper.interval_s = 10;
  keeper.rounds = 3;
  keeper.proofs = 2;
  ASSERT_TRUE(save_keeper_state(*store_, "alice", keeper).is_ok());
  dash = body_of(client_->Get("/v1/dashboard", auth(alice_token_)));
  EXPECT_EQ(dash["stored"]["proof_jobs"]["done"], 4);
  EXPECT_EQ(dash["stored"]["proof_jobs"]["pending"], 1);
  EXPECT_EQ(dash["queue_depth"], 0);  // this server's queue knows nothing of it
  bool listed = false;
  for (const auto& b : dash["stored"]["job_batches"])
    listed = listed || (b["batch"] == "batch-of-the-cli" && b["pending"] == 1);
  EXPECT_TRUE(listed) << dash["stored"].dump();
  EXPECT_EQ(dash["stored"]["keeper"]["state"], "running");
  EXPECT_EQ(dash["stored"]["keeper"]["rounds"], 3);
  bob_dash = body_of(client_->Get("/v1/dashboard", auth(bob_token_)));
  EXPECT_EQ(bob_dash["stored"]["proof_jobs"]["pending"], 0);
  EXPECT_TRUE(bob_dash["stored"]["job_batches"].empty());
  EXPECT_TRUE(bob_dash["stored"]["keeper"].is_null());
  keeper.last_round_ms = Clock::system().unix_ms() - 10 * 60 * 1000;  // killed long ago
  ASSERT_TRUE(save_keeper_state(*store_, "alice", keeper).is_ok());
  EXPECT_EQ(body_of(client_->Get("/v1/dashboard", auth(alice_token_)))["stored"]["keeper"]["state"], "stale");
  keeper.stopped_ms = Clock::system().unix_ms();
  ASSERT_TRUE(save_keeper_state(*store_, "alice", keeper).is_ok());
  EXPECT_EQ(body_of(client_->Get("/v1/dashboard", auth(alice_token_)))["stored"]["keeper"]["state"], "stopped");
  // Not left for what follows to prove: failed, as a worker would have it.
  auto claimed = store_->claim_next_job(0);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(store_->fail_job((*claimed)->id, "not proved here", true).is_ok());
  EXPECT_EQ(body_of(client_->Get("/v1/dashboard", auth(alice_token_)))["stored"]["proof_jobs"]["failed"], 1);

  auto m = client_->Get("/metrics");
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metric(m->body, "bucketpay_proofs_total{result=\"ok\"}"), 4);
  EXPECT_EQ(metric(m->body, "bucketpay_proofs_total{result=\"failed\"}"), 0);
  EXPECT_EQ(metric(m->body, "bucketpay_proof_seconds_count"), 4);
  EXPECT_EQ(metric(m->body, "bucketpay_proof_seconds_bucket{le=\"+Inf\"}"), 4);
  EXPECT_GT(metric(m->body, "bucketpay_proof_seconds_sum"), 0);
  EXPECT_EQ(metric(m->body, "bucketpay_cache_hits_total"), 4);
  EXPECT_EQ(metric(m->body, "bucketpay_queue_depth"), 0);
  EXPECT_EQ(metric(m->body, "bucketpay_workers_busy"), 0);
  EXPECT_EQ(metric(m->body, "bucketpay_http_requests_total{path=\"/v1/payments/plan\",code=\"200\"}"), 1);
  EXPECT_GE(metric(m->body, "bucketpay_http_requests_total{path=\"/v1/jobs/{id}\",code=\"404\"}"), 1);
}

TEST_F(ServiceTest, SeedJobProvesASplitPerBucketUpToTheValue) {
  start();
  // Note 3 holds 64 cents: 128 is skipped before queueing.
  json created = post_job(alice_token_, {{"mode", "seed"}, {"note_id", alice_notes_[2]}, {"buckets", {1, 128}}}, 202);
  EXPECT_EQ(created["total"], 1);
  json done = wait_for_job(alice_token_, created["job"]);
  EXPECT_EQ(done["state"], "done") << done.dump();
  EXPECT_EQ(done["proved"], 1);
  EXPECT_EQ(done["buckets"], json::array({1}));
  // A seed precompute is a split, not a ready spend: the plan does not use it.
  auto r = client_->Get("/v1/payments/plan?amount=0.01", auth(alice_token_));
  body_of(r);
  EXPECT_EQ(r->status, 409);
}

// Two wallets share the store: Alice's job proves and reports Alice's jobs only. Bob's pending job
// (enqueued for a fleet, say) would fail here (his note is spent since) with an error naming its
// key, which carries Bob's nullifier: it never reaches Alice's report, and stays Bob's to run.
TEST_F(ServiceTest, AJobClaimsAndReportsOnlyItsOwnWalletsWork) {
  auto bob_engine = Engine::open_without_prover(*store_, "bob");
  ASSERT_TRUE(bob_engine.ok()) << bob_engine.status().to_string();
  PrecomputeOptions bob_options;
  bob_options.batch = "bob-batch";
  auto bob_batch = (*bob_engine)->enqueue_spend_precomputes(bob_notes_, bob_options);
  ASSERT_TRUE(bob_batch.ok()) << bob_batch.status().to_string();
  ASSERT_EQ(bob_batch->enqueued, 1U);
  ASSERT_TRUE(store_->set_note_state(bob_notes_[0], NoteState::kSpent).is_ok());
  const StoredNote bob_note = *store_->get_note(bob_notes_[0]);
  const SpendingKey bob_sk = SpendingKey::from_fr(*store_->get_spending_key("bob"));
  const std::string bob_nullifier = nullifier(bob_sk, bob_note.commitment).to_hex();

  start();
  json created = post_job(alice_token_, {{"mode", "inventory"}, {"note_ids", {alice_notes_[0]}}}, 202);
  json done = wait_for_job(alice_token_, created["job"]);
  EXPECT_EQ(done["state"], "done") << done.dump();
  EXPECT_EQ(done["proved"], 1);
  EXPECT_EQ(done["failed"], 0);
  EXPECT_EQ(done["errors"], json::array()) << done.dump();
  EXPECT_EQ(done.dump().find(bob_nullifier), std::string::npos) << done.dump();

  // Bob's job was neither proved nor failed by Alice's run.
  const auto bob_jobs = store_->list_jobs("bob-batch");
  ASSERT_TRUE(bob_jobs.ok());
  ASSERT_EQ(bob_jobs->size(), 1U);
  EXPECT_EQ((*bob_jobs)[0].state, JobState::kPending);
  EXPECT_EQ((*bob_jobs)[0].tries, 0);
  EXPECT_NE((*bob_jobs)[0].key.find(bob_nullifier), std::string::npos);  // what would have leaked
}

TEST_F(ServiceTest, BadInputGetsAClearFourHundredNeverACrash) {
  start();
  const std::string jobs_path = "/v1/jobs";
  const std::string addr = kPayee;
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  const std::string pending_id = [&] {
    StoredNote sn;
    sn.wallet = "alice";
    sn.value = 4;
    sn.r = Fr::random();
    sn.commitment = Fr::random();
    sn.state = NoteState::kPending;
    return std::to_string(*store_->insert_note(sn));
  }();
  const std::vector<Case> cases = {
      {"{", 400, "not valid JSON"},
      {"null", 400, "must be a JSON object"},
      {R"({"mode":"inventory","all":true,"recipient":"0x12"})", 400, "\"recipient\" is not taken"},
      {R"({"mode":"inventory","all":true,"note_ids":[1]})", 400, "either"},
      {R"({"mode":"inventory","all":false})", 400, "either"},
      {R"({"mode":"inventory","note_ids":[1,1]})", 400, "listed twice"},
      {R"({"mode":"inventory","note_ids":[999999]})", 404, "note 999999 not found"},
      {R"({"mode":"inventory","note_ids":[)" + pending_id + "]}", 409, "not on chain"},
      {R"({"mode":"inventory","note_ids":[1],"priority":1})", 400, "unknown field"},
      {R"({"mode":"seed","note_id":1,"buckets":[3]})", 400, "not a power of two"},
      {R"({"mode":"seed","note_id":1,"buckets":[131072]})", 400, "not a power of two"},
      {R"({"mode":"seed","note_id":1,"buckets":[4]})", 400, "above the note's value"},
      {R"({"mode":"seed","note_id":1,"buckets":[1,1]})", 400, "listed twice"},
  };
  for (const auto& c : cases) {
    auto r = client_->Post(jobs_path, auth(alice_token_), c.body, "application/json");
    json j = body_of(r);
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(c.message), std::string::npos) << c.body << " -> " << r->body;
  }
  // Too large a body: 413 before any parsing.
  auto big = client_->Post(jobs_path, auth(alice_token_), std::string(100 * 1024, ' '), "application/json");
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(body_of(big)["error"].get<std::string>().find("too large"), std::string::npos);
  // Not JSON.
  auto form = client_->Post(jobs_path, auth(alice_token_), "mode=inventory", "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 415);
  body_of(form);

  const std::vector<std::pair<std::string, std::string>> plans = {
      {"amount=abc", "invalid amount"},
      {"amount=-1", ""},
      {"amount=0", ""},
      {"amount=1.234", ""},
      {"amount=1e3", ""},
      {"amount=99999999999999999999999", ""},
      {"amount=1310.72", ""},
      {"amount=1.00&recipient=" + addr, "\"recipient\" is not taken"},
      {"", "\"amount\" is required"},
      {"amount=1.00&amount=2.00", "given twice"},
      {"amount=1.00&fee=1", "unknown parameter"},
  };
  for (const auto& [query, message] : plans) {
    auto r = client_->Get("/v1/payments/plan?" + query, auth(alice_token_));
    json j = body_of(r);
    EXPECT_EQ(r->status, 400) << query << " -> " << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(message), std::string::npos) << query << " -> " << r->body;
  }
  // Unknown endpoints and methods are JSON 404s too.
  for (const auto& path : {"/v1/nope", "/v2/health", "/v1/jobs/", "/v1/jobs/a/b"}) {
    auto r = client_->Get(path, auth(alice_token_));
    body_of(r);
    EXPECT_EQ(r->status, 404) << path;
  }
  // A known path with another method: 405 naming the methods it takes (it was 404).
  auto del = client_->Delete("/v1/jobs", auth(alice_token_));
  EXPECT_NE(body_of(del)["error"].get<std::string>().find("method not allowed"), std::string::npos) << del->body;
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(del->get_header_value("Allow"), "POST");
  auto post_health = client_->Post("/v1/health", "", "application/json");
  body_of(post_health);
  EXPECT_EQ(post_health->status, 405);
  EXPECT_EQ(post_health->get_header_value("Allow"), "GET, HEAD");
  // Duplicate keys and note ids beyond 64 bits are named as such.
  auto twice = client_->Post(jobs_path, auth(alice_token_),
                             R"({"mode":"inventory","all":true,"recipient":")" + addr + R"(","recipient":"0x00"})",
                             "application/json");
  EXPECT_EQ(twice->status, 400);
  EXPECT_NE(body_of(twice)["error"].get<std::string>().find("\"recipient\" is given twice"), std::string::npos);
  auto huge = client_->Post(jobs_path, auth(alice_token_),
                            R"({"mode":"seed","note_id":99999999999999999999,"recipient":")" + addr + "\"}",
                            "application/json");
  EXPECT_EQ(huge->status, 400);
  EXPECT_NE(body_of(huge)["error"].get<std::string>().find("too large for 64 bits"), std::string::npos) << huge->body;
  // A page of another name that rebinds it to us (DNS rebinding) is refused.
  httplib::Client rebound("127.0.0.1", service_->port());
  auto evil = rebound.Get("/v1/dashboard", {{"Host", "evil.example"}, {"Authorization", "Bearer " + alice_token_}});
  ASSERT_TRUE(evil);
  EXPECT_EQ(evil->status, 403);
  EXPECT_NE(body_of(evil)["error"].get<std::string>().find("Host"), std::string::npos);
  EXPECT_EQ(client_->Get("/v1/health")->status, 200);
}

TEST_F(ServiceTest, ASecondServiceOnItsPortIsRefused) {
  start({}, 1);
  ServiceOptions same;
  same.port = service_->port();
  auto second = Service::start(*store_, *pool_, same);
  ASSERT_FALSE(second.ok()) << "a second service bound port " << same.port << " too";
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().message();
  EXPECT_EQ(client_->Get("/v1/health")->status, 200);
}

// Slowloris: 8 connections sending a header line every 300 ms held every thread of cpp-httplib's
// pool (8 here), each as long as lines kept coming within its 5 s read timeout.
TEST_F(ServiceTest, EightSlowClientsDoNotStallHealth) {
  start({}, 1);
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(service_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string head = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (int round = 0; !stop && round < 20; ++round) {
      for (int fd : slow) (void)::send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  httplib::Client fresh("127.0.0.1", service_->port());
  fresh.set_read_timeout(5, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto health = fresh.Get("/v1/health");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  drip.join();
  for (int fd : slow) ::close(fd);
  ASSERT_TRUE(health) << "no answer behind 8 slow clients: " << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(ms, 2000) << "/v1/health took " << ms << " ms behind 8 slow clients";
}

TEST_F(ServiceTest, MetricsTokenGuardsMetricsOnly) {
  ServiceOptions o;
  o.metrics_token = "scrape-secret";
  start(o, 1);
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  EXPECT_EQ(client_->Get("/metrics", auth(alice_token_))->status, 401);  // a wallet token is not enough
  auto ok = client_->Get("/metrics", auth("scrape-secret"));
  ASSERT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("# TYPE bucketpay_proof_seconds histogram"), std::string::npos);
  // ...and does not open the wallet API.
  EXPECT_EQ(client_->Get("/v1/workers", auth("scrape-secret"))->status, 401);
}

TEST_F(ServiceTest, DashboardPageIsSelfContained) {
  start({}, 1);
  auto r = client_->Get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(r->body.find("<canvas"), std::string::npos);
  EXPECT_NE(r->body.find("/v1/dashboard"), std::string::npos);
  // Nothing is loaded from elsewhere.
  for (const char* s : {"http://", "https://", "src=\"/", "src='"}) {
    EXPECT_EQ(r->body.find(s), std::string::npos) << s;
  }
}

// Random and mutated requests through real HTTP: every answer is a well-formed JSON 2xx/4xx, and
// the service is healthy afterwards. Bounded: kRequests requests or kBudget, whichever comes first.
TEST_F(ServiceTest, FuzzedRequestsAlwaysGetWellFormedJsonAnswers) {
  start({}, 1);
  constexpr int kRequests = 3000;
  constexpr auto kBudget = std::chrono::seconds(30);
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> seeds = {
      R"({"mode":"inventory","note_ids":[1,2]})",
      R"({"mode":"inventory","all":true})",
      R"({"mode":"seed","note_id":1,"buckets":[1,2,4]})",
      R"({"mode":"inventory","all":true,"recipient":"0x1111111111111111111111111111111111111111"})",
      R"([1,2,{"a":null}])",
      "{}",
      "",
      "null",
      std::string(70 * 1024, '['),
      std::string(5000, '[') + std::string(5000, ']'),
      R"({"mode":"inventory","note_ids":[1e400]})",
      "\"\\ud800\"",
      "{\"mode\":\"\xff\"}"};
  const std::vector<std::string> paths = {"/v1/jobs",         "/v1/jobs/job_0123456789abcdef",
                                          "/v1/jobs/%00",     "/v1/payments/plan",
                                          "/v1/workers",      "/v1/dashboard",
                                          "/v1/health",       "/v1/",
                                          "/v1/jobs/..%2f..", "/v1/payments/plan/x",
                                          "/%ff%fe",          "/v1/jobs/" + std::string(300, 'a')};
  const std::vector<std::string> queries = {
      "",
      "?amount=1.00",
      "?amount=1.00&recipient=" + std::string(kPayee),
      "?amount=0.03",
      "?amount=%ff&recipient=%00",
      "?amount",
      "?=&=&",
      "?amount=1.00&amount=1.00",
      "?recipient=" + std::string(kPayee) + "&amount=0.0" + std::string(200, '1')};
  const std::vector<std::string> tokens = {alice_token_,          bob_token_, "", "x", alice_token_.substr(0, 40),
                                           std::string(5000, 'A')};
  auto mutate = [&](std::string s) {
    const int edits = static_cast<int>(pick(6));
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = s.empty() ? 0 : pick(s.size() + 1);
      switch (pick(4)) {
        case 0:
          s.insert(at, 1, static_cast<char>(pick(256)));
          break;  // a random byte
        case 1:
          if (at < s.size()) s.erase(at, 1 + pick(8));
          break;  // a cut
        case 2:
          if (at < s.size()) s[at] = "{}[]\",:0-9.e\\ntfu"[pick(18)];
          break;  // a JSON-ish byte
        default:
          s.insert(at, std::to_string(static_cast<std::int64_t>(rng())));
          break;  // a number
      }
    }
    return s;
  };

  // Query parameters, mutated and percent-encoded (every byte but the unreserved ones).
  auto encode = [](const std::string& v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
      if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
    return out;
  };
  auto plan_query = [&] {
    std::string amount = std::vector<std::string>{"1.00", "0.03", "0.01", "1310.71", "12.345", "7"}[pick(6)];
    if (pick(2) == 0) amount = mutate(amount);
    std::string q = "?amount=" + encode(amount);
    if (pick(4) == 0) q += "&recipient=" + encode(pick(2) == 0 ? std::string(kPayee) : mutate(kPayee));
    if (pick(8) == 0) q += "&" + encode(mutate("x")) + "=1";
    return q;
  };

  const auto t0 = std::chrono::steady_clock::now();
  int sent = 0;
  std::map<int, int> by_status;
  for (; sent < kRequests && std::chrono::steady_clock::now() - t0 < kBudget; ++sent) {
    httplib::Headers headers;
    if (pick(10) != 0) {
      const std::string token = pick(3) != 0 ? alice_token_ : tokens[pick(tokens.size())];
      headers.emplace("Authorization", (pick(20) == 0 ? "Basic " : "Bearer ") + token);
    }
    const std::string body = pick(5) == 0 ? seeds[pick(seeds.size())] : mutate(seeds[pick(seeds.size())]);
    const char* type = pick(10) == 0 ? "text/plain" : "application/json";
    const std::size_t target = pick(20);
    httplib::Result r = [&]() -> httplib::Result {
      if (target < 9) {  // the job endpoint, with mutated bodies
        return client_->Post("/v1/jobs", headers, body, type);
      }
      if (target < 14) {  // plans, with mutated parameters
        return client_->Get("/v1/payments/plan" + (pick(10) == 0 ? queries[pick(queries.size())] : plan_query()),
                            headers);
      }
      if (target < 16) {  // jobs by (mutated) id
        return client_->Get("/v1/jobs/" + encode(mutate("job_0123456789abcdef")), headers);
      }
      if (target < 18) {
        return client_->Get(std::vector<std::string>{"/v1/workers", "/v1/dashboard", "/v1/health"}[pick(3)], headers);
      }
      {  // anything anywhere
        const std::string path = paths[pick(paths.size())] + (pick(3) == 0 ? queries[pick(queries.size())] : "");
        const std::size_t method = pick(3);
        return method == 0   ? client_->Get(path, headers)
               : method == 1 ? client_->Delete(path, headers)
                             : client_->Post(path, headers, body, type);
      }
    }();
    ASSERT_TRUE(r) << "no answer to request " << sent << ": " << httplib::to_string(r.error());
    ++by_status[r->status];
    ASSERT_LT(r->status, 500) << r->body;
    ASSERT_GE(r->status, 200);
    if (r->get_header_value("Content-Type") == "application/json") {
      const json j = json::parse(r->body, nullptr, false);
      ASSERT_TRUE(j.is_object()) << r->body;
      if (r->status >= 400) {
        ASSERT_TRUE(j.contains("error") && j["error"].is_string()) << r->body;
      }
    } else {
      // Only the page and the metrics are not JSON.
      ASSERT_EQ(r->status, 200) << r->body;
    }
  }

  // Raw garbage on the socket: the server answers or hangs up, and keeps serving.
  for (int i = 0; i < 50; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(service_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string junk = mutate("GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    for (int k = 0; k < 20; ++k) junk.push_back(static_cast<char>(pick(256)));
    junk += "\r\n\r\n";
    (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    timeval tv{6, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string summary;
  for (const auto& [code, n] : by_status) summary += " " + std::to_string(code) + ":" + std::to_string(n);
  std::cout << "fuzz (seed " << ::testing::UnitTest::GetInstance()->random_seed() << "): " << sent << " requests in "
            << seconds << " s; status counts" << summary << "\n";
  EXPECT_GE(sent, 500);
  auto health = client_->Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(body_of(health)["status"], "ok");
}

// Latency of the read endpoints over keep-alive HTTP, printed for docs/api.md (not asserted tightly).
TEST_F(ServiceTest, ReadEndpointsAnswerQuickly) {
  start({}, 1);
  const std::vector<std::pair<std::string, bool>> endpoints = {
      {"/v1/health", false},
      {"/v1/workers", true},
      {"/v1/dashboard", true},
      {"/metrics", false},
      {"/v1/payments/plan?amount=0.03&recipient=" + std::string(kPayee), true}};
  for (const auto& [path, authed] : endpoints) {
    std::vector<double> ms;
    for (int i = 0; i < 200; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = authed ? client_->Get(path, auth(alice_token_)) : client_->Get(path);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ASSERT_TRUE(r);
      ASSERT_LT(r->status, 500);
    }
    std::sort(ms.begin(), ms.end());
    std::cout << "latency " << path << ": p50 " << ms[100] << " ms, p99 " << ms[198] << " ms\n";
    EXPECT_LT(ms[100], 250) << path;
  }
}

}  // namespace
}  // namespace bucketpay
