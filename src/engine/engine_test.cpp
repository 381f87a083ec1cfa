// The proving pool and the engine against the real circuits, the real bb and Node, and a real
// SQLite store. Proofs are re-verified here by a separate bb process, not only by the pool.
#include "bucketpay/engine.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "bucketpay/bb.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/store.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

ProverConfig test_config(const fs::path& scratch) {
  ProverConfig c;
  c.bb_binary = testing::bb_binary();
  c.crs_dir = testing::crs_dir();
  c.circuits_dir = testing::build_dir() / "circuits";
  c.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
  c.scratch_root = scratch;
  c.workers = 2;
  c.threads_per_worker = 1;
  c.warm_up = false;  // the inventory test covers a warmed-up pool
  return c;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-engine-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "scratch");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open_store() {
    StoreOptions so;
    so.passphrase = "test passphrase";
    so.vault_params = VaultParams::fast();
    auto s = open_sqlite_store(dir_ / "store.db", so);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return std::move(*s);
  }

  // Independent re-verification of a stored proof in a fresh bb process.
  bool verifies(const std::string& circuit, const std::vector<Fr>& public_inputs,
                const std::vector<std::uint8_t>& proof, ProverPool& pool) {
    auto vk = pool.verification_key(circuit);
    EXPECT_TRUE(vk.ok());
    auto p = bb::Process::start({testing::bb_binary(), 1, {}, {}, testing::crs_dir()});
    EXPECT_TRUE(p.ok());
    auto v = (*p)->verify(*vk, bb::ProofData{public_inputs, proof});
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() && *v;
  }

  fs::path dir_;
};

// A wallet with `values` as notes among some other leaves; returns the note ids.
std::vector<std::int64_t> make_notes(Store& store, Engine& engine, const std::vector<Cents>& values) {
  const SpendingKey sk = SpendingKey::generate();
  EXPECT_TRUE(store.put_spending_key("w", sk.reveal()).is_ok());
  const Fr pk = owner_key(sk);
  std::vector<std::int64_t> ids;
  for (Cents v : values) {
    // Other people's leaves around ours, so paths have non-trivial siblings.
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(engine.append_leaf(Fr::random()).ok());
    const Note note = Note::create(pk, v);
    auto index = engine.append_leaf(note.commitment());
    EXPECT_TRUE(index.ok());
    StoredNote sn;
    sn.wallet = "w";
    sn.pk = pk;
    sn.value = v;
    sn.r = note.r;
    sn.leaf_index = *index;
    sn.state = NoteState::kOnChain;
    sn.commitment = note.commitment();
    auto id = store.insert_note(sn);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    ids.push_back(*id);
  }
  return ids;
}

TEST_F(EngineTest, InventoryModeProvesVerifiableSpendsAndCachesThem) {
  auto store = open_store();
  auto config = test_config(dir_ / "scratch");
  config.warm_up = true;
  auto pool = ProverPool::start(config);
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  auto engine = Engine::open(*store, **pool, "w");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  const auto ids = make_notes(*store, **engine, {1, 2, 64, 65536});
  auto sk = store->get_spending_key("w");
  ASSERT_TRUE(sk.ok());

  std::vector<std::size_t> progress;
  PrecomputeOptions po;
  po.on_progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 4U);
    progress.push_back(done);
  };
  auto report = (*engine)->generate_spend_precomputes(ids, po);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(report->proved, 4U);
  EXPECT_EQ(report->failed, 0U) << (report->errors.empty() ? "" : report->errors[0]);
  ASSERT_EQ(report->precomputes.size(), 4U);
  EXPECT_EQ(progress.back(), 4U);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& p = report->precomputes[i];
    EXPECT_EQ(p.circuit, CircuitKind::kSpend);
    EXPECT_EQ(p.note_id, ids[i]);
    ASSERT_EQ(p.public_inputs.size(), 4U);
    EXPECT_EQ(p.public_inputs[0], (*engine)->tree().root());
    // The proof binds the note's spend authorization address (derived from sk and cm), which the
    // precompute records as its auth.
    const auto note = store->get_note(ids[i]);
    ASSERT_TRUE(note.ok());
    const eth::Address auth = auth_address(SpendingKey::from_fr(*sk), note->commitment);
    EXPECT_EQ(p.public_inputs[3], address_to_field(auth));
    EXPECT_EQ(p.auth, address_to_field(auth));
    EXPECT_EQ(p.public_inputs[1], nullifier(SpendingKey::from_fr(*sk), note->commitment));
    EXPECT_TRUE(verifies("spend", p.public_inputs, p.proof, **pool));
    // Any changed public input must not verify.
    for (std::size_t k = 0; k < 4; ++k) {
      auto changed = p.public_inputs;
      changed[k] += Fr::one();
      EXPECT_FALSE(verifies("spend", changed, p.proof, **pool)) << "public input " << k;
    }
  }
  EXPECT_EQ(report->precomputes[2].amount, 64U);

  // The proof cache: asking again proves nothing.
  auto again = (*engine)->generate_spend_precomputes(ids, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->proved, 0U);
  EXPECT_EQ(again->cached, 4U);
  EXPECT_EQ(again->precomputes, report->precomputes);

  // Worker statistics account for every proof, and not for the warm-up's throwaway proofs.
  std::uint64_t proofs = 0;
  for (const auto& s : (*pool)->stats()) proofs += s.proofs;
  EXPECT_EQ(proofs, 4U);
}

TEST_F(EngineTest, SeedModeProvesOneSplitPerBucketUpToTheValue) {
  auto store = open_store();
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  auto engine = Engine::open(*store, **pool, "w");
  ASSERT_TRUE(engine.ok());
  // Buckets 1, 2, 4, 8 fit; the last withdraws the whole note (no change: every output absent).
  const auto ids = make_notes(*store, **engine, {8});
  auto report = (*engine)->generate_all_precomputes(ids[0], kBuckets, {});
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->precomputes.size(), 4U);
  EXPECT_EQ(report->failed, 0U);
  auto sk = store->get_spending_key("w");
  ASSERT_TRUE(sk.ok());
  const auto note = store->get_note(ids[0]);
  ASSERT_TRUE(note.ok());
  const Fr auth = address_to_field(auth_address(SpendingKey::from_fr(*sk), note->commitment));
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& p = report->precomputes[i];
    EXPECT_EQ(p.circuit, CircuitKind::kSplit);
    EXPECT_EQ(p.amount, Cents{1} << i);
    ASSERT_EQ(p.public_inputs.size(), 4U + kSplitOutputs);
    EXPECT_EQ(p.public_inputs[2], Fr::from_u64(p.amount));
    EXPECT_EQ(p.public_inputs[3], auth);
    // The change note goes back to the owner with value 8 - b: its commitment is out_cm[0] (0 when
    // there is no change); the other seven outputs are absent.
    const auto outputs = nlohmann::json::parse(p.outputs_json);
    const Note change{note->pk, 8 - p.amount, *Fr::from_string(outputs[0]["r"].get<std::string>())};
    EXPECT_EQ(p.public_inputs[4], p.amount == 8 ? Fr::zero() : change.commitment()) << p.amount;
    for (std::size_t k = 5; k < p.public_inputs.size(); ++k) EXPECT_EQ(p.public_inputs[k], Fr::zero()) << k;
    EXPECT_TRUE(verifies("split", p.public_inputs, p.proof, **pool));
  }
}

// A 1-in-8-out split from circuit_inputs (the wallet's fan-out of a power of two), proved by the
// pool and verified again; its public inputs are the statement's; changing any one of the 12 fails
// verification. An unbalanced split yields no witness (and is not retried); more than 8 outputs is
// refused before any proving.
TEST_F(EngineTest, SplitIntoEightOutputs) {
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  const SpendingKey sk = SpendingKey::generate();
  const Fr pk = owner_key(sk);
  const Note input = Note::create(pk, 1024);
  MerkleTree tree;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(tree.append(Fr::random()).ok());
  auto index = tree.append(input.commitment());
  ASSERT_TRUE(index.ok());
  auto path = tree.path(*index);
  ASSERT_TRUE(path.ok());
  const OwnedNote owned{input, sk, *index};
  std::vector<Note> notes;
  for (std::uint64_t v : {512, 256, 128, 64, 32, 16, 8, 4}) {
    notes.push_back(Note::create(owner_key(SpendingKey::generate()), v));
  }
  auto outputs = make_split_outputs(notes);
  ASSERT_TRUE(outputs.ok());
  const SplitStatement st = split_statement(owned, tree.root(), 4, *outputs);
  EXPECT_EQ(st.auth, address_to_field(owned.auth_address()));
  for (std::size_t i = 0; i < kSplitOutputs; ++i) EXPECT_EQ(st.out_cm[i], notes[i].commitment());
  ProofRequest req{"split8", "split", split_inputs_json(owned, *path, tree.root(), 4, *outputs), st.public_inputs()};
  auto results = (*pool)->prove_all({req});
  ASSERT_TRUE(results[0].proof.ok()) << results[0].proof.status().to_string();
  const auto& proof = *results[0].proof;
  ASSERT_EQ(proof.public_inputs, st.public_inputs());
  EXPECT_TRUE(verifies("split", proof.public_inputs, proof.proof, **pool));
  for (std::size_t k = 0; k < proof.public_inputs.size(); ++k) {
    auto changed = proof.public_inputs;
    changed[k] += Fr::one();
    EXPECT_FALSE(verifies("split", changed, proof.proof, **pool)) << "public input " << k;
  }

  ProofRequest unbalanced{"unbalanced", "split", split_inputs_json(owned, *path, tree.root(), 5, *outputs), {}};
  auto bad = (*pool)->prove_all({unbalanced});
  ASSERT_FALSE(bad[0].proof.ok());
  EXPECT_EQ(bad[0].proof.status().code(), StatusCode::kInvalidArgument) << bad[0].proof.status().to_string();
  EXPECT_EQ(bad[0].tries, 1);

  notes.push_back(Note::create(pk, 1));
  auto nine = make_split_outputs(notes);
  ASSERT_FALSE(nine.ok());
  EXPECT_EQ(nine.status().code(), StatusCode::kInvalidArgument);
}

// Stored jobs whose spec does not decode (a string note id, a v1 spec naming a recipient) are
// failed for good with the codec's reason; the run goes on and nothing throws.
TEST_F(EngineTest, AStoredJobWithAMalformedSpecFailsWithAStatus) {
  auto store = open_store();
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  auto engine = Engine::open(*store, **pool, "w");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  const auto ids = make_notes(*store, **engine, {4});
  Job bad;
  bad.key = "spend:bad";
  bad.batch = "b";
  bad.circuit = CircuitKind::kSpend;
  bad.spec_json = R"({"note_id":")" + std::to_string(ids[0]) + R"(","auth":"0x01"})";
  Job v1 = bad;
  v1.key = "spend:v1";
  v1.spec_json = R"({"note_id":)" + std::to_string(ids[0]) + R"(,"recipient":"0x01"})";
  ASSERT_TRUE(store->enqueue_jobs(std::vector<Job>{bad, v1}).ok());
  auto report = (*engine)->resume();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(report->failed, 2U);
  EXPECT_EQ(report->proved, 0U);
  const auto jobs = store->list_jobs(std::nullopt);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2U);
  for (const Job& j : *jobs) {
    EXPECT_EQ(j.state, JobState::kFailed) << j.key;
    EXPECT_NE(j.error.find("malformed job spec"), std::string::npos) << j.error;
  }
}

TEST_F(EngineTest, InvalidInputsFailOnceWithoutRetry) {
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  ProofRequest bad{"bad",
                   "spend",
                   R"({"root":"0x1","nullifier":"0x2","value":"0x3","auth":"0x4","sk":"0x5","r":"0x6",)"
                   R"("siblings":[],"positions":[]})",
                   {}};
  auto results = (*pool)->prove_all({bad});
  ASSERT_EQ(results.size(), 1U);
  EXPECT_FALSE(results[0].proof.ok());
  EXPECT_EQ(results[0].tries, 1);
  // One line, whatever Node printed.
  EXPECT_EQ(results[0].proof.status().message().find('\n'), std::string::npos) << results[0].proof.status().message();
  ProofRequest unknown{"unknown", "nope", "{}", {}};
  auto r2 = (*pool)->prove_all({unknown});
  EXPECT_FALSE(r2[0].proof.ok());
  EXPECT_NE(r2[0].proof.status().message().find("unknown circuit"), std::string::npos);
}

TEST_F(EngineTest, TimeoutsAreRetriedThreeTimesThenReported) {
  auto config = test_config(dir_ / "scratch");
  config.proof_timeout = std::chrono::milliseconds(1);
  auto pool = ProverPool::start(config);
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  ProofRequest req{"slow", "spend", "{}", {}};
  auto results = (*pool)->prove_all({req});
  ASSERT_FALSE(results[0].proof.ok());
  EXPECT_EQ(results[0].tries, 3);
  EXPECT_NE(results[0].proof.status().message().find("gave up after 3 tries"), std::string::npos)
      << results[0].proof.status().message();
}

// A proof that failed (here: every try timed out) is tried again when it is asked for again,
// instead of its failed job leaving the note unproved for good.
TEST_F(EngineTest, AFailedProofIsTriedAgainWhenAskedForAgain) {
  auto store = open_store();
  std::vector<std::int64_t> ids;
  {
    auto config = test_config(dir_ / "scratch");
    config.proof_timeout = std::chrono::milliseconds(1);
    auto pool = ProverPool::start(config);
    ASSERT_TRUE(pool.ok()) << pool.status().to_string();
    auto engine = Engine::open(*store, **pool, "w");
    ASSERT_TRUE(engine.ok());
    ids = make_notes(*store, **engine, {8});
    auto report = (*engine)->generate_spend_precomputes(ids);
    ASSERT_TRUE(report.ok()) << report.status().to_string();
    EXPECT_EQ(report->failed, 1U);
    EXPECT_TRUE(report->precomputes.empty());
    auto counts = store->job_counts(std::nullopt);
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(counts->failed, 1);
  }
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  auto engine = Engine::open(*store, **pool, "w");
  ASSERT_TRUE(engine.ok());
  std::vector<std::size_t> progress;
  PrecomputeOptions po;
  po.on_progress = [&](std::size_t done, std::size_t total) { progress.push_back(done * 100 + total); };
  auto report = (*engine)->generate_spend_precomputes(ids, po);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(report->proved, 1U);
  EXPECT_EQ(report->failed, 0U) << (report->errors.empty() ? "" : report->errors[0]);
  ASSERT_EQ(report->precomputes.size(), 1U);
  EXPECT_TRUE(verifies("spend", report->precomputes[0].public_inputs, report->precomputes[0].proof, **pool));
  EXPECT_EQ(progress, (std::vector<std::size_t>{101}));  // the retried job counts in this run's progress
  auto counts = store->job_counts(std::nullopt);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (JobCounts{0, 0, 1, 0}));
}

std::vector<pid_t> child_bb_processes() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos || line.find("(bb)") == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid;
    rest >> state >> ppid;
    if (ppid == ::getpid()) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

TEST_F(EngineTest, ACrashedProverIsReplacedAndItsProofRetried) {
  auto store = open_store();
  auto pool = ProverPool::start(test_config(dir_ / "scratch"));
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  auto engine = Engine::open(*store, **pool, "w");
  ASSERT_TRUE(engine.ok());
  const auto ids = make_notes(*store, **engine, {1, 2, 3, 4, 5, 6});
  std::atomic<bool> killed{false};
  PrecomputeOptions po;
  po.on_progress = [&](std::size_t done, std::size_t) {
    if (done == 1 && !killed.exchange(true)) {
      for (pid_t pid : child_bb_processes()) ::kill(pid, SIGKILL);
    }
  };
  auto report = (*engine)->generate_spend_precomputes(ids, po);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(killed.load());
  EXPECT_EQ(report->failed, 0U) << (report->errors.empty() ? "" : report->errors[0]);
  EXPECT_EQ(report->precomputes.size(), 6U);
  std::uint64_t restarts = 0;
  for (const auto& s : (*pool)->stats()) restarts += s.restarts;
  EXPECT_GE(restarts, 1U);
  for (const auto& p : report->precomputes) EXPECT_TRUE(verifies("spend", p.public_inputs, p.proof, **pool));
}

// Entries of `root` named bucketpay-worker-*, by name.
std::set<std::string> worker_entries(const fs::path& root) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("bucketpay-worker-", 0) == 0) names.insert(name);
  }
  return names;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode;
}

TEST_F(EngineTest, ScratchDirectoriesAreRemovedAndStaleOnesCleaned) {
  // A stale pool directory of a process that no longer exists (pid 2^22 - 1 is above pid_max by
  // default), as a pool makes it (mode 0700, workers inside): removed at the next start.
  const fs::path stale = dir_ / "scratch" / "bucketpay-worker-4194303-Ab12Cd";
  fs::create_directories(stale / "worker-0");
  std::ofstream(stale / "worker-0" / "bb.log") << "old log";
  fs::permissions(stale, fs::perms::owner_all, fs::perm_options::replace);
  {
    auto pool = ProverPool::start(test_config(dir_ / "scratch"));
    ASSERT_TRUE(pool.ok()) << pool.status().to_string();
    EXPECT_FALSE(fs::exists(stale));
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "scratch"));
}

TEST_F(EngineTest, ScratchIsANewPrivateDirectoryNeverAPlantedName) {
  // What another user of a shared temp directory can plant before the pool starts, at the names
  // the pool once used (bucketpay-worker-<pid>-<i>): a symlink to a directory of theirs, and a
  // directory of theirs; and, under a dead pid, a symlink and a directory open to others, which
  // are not a pool's leftovers and not ours to remove.
  const fs::path root = dir_ / "scratch";
  const fs::path victim = dir_ / "victim";
  fs::create_directories(victim);
  std::ofstream(victim / "keep") << "theirs";
  const std::string mine = "bucketpay-worker-" + std::to_string(::getpid()) + "-";
  fs::create_directory_symlink(victim, root / (mine + "0"));
  fs::create_directories(root / (mine + "1"));
  std::ofstream(root / (mine + "1") / "planted") << "theirs";
  fs::create_directory_symlink(victim, root / "bucketpay-worker-4194303-0");
  fs::create_directories(root / "bucketpay-worker-4194303-1");
  fs::permissions(root / "bucketpay-worker-4194303-1",
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec,
                  fs::perm_options::replace);
  const std::set<std::string> planted = worker_entries(root);
  ASSERT_EQ(planted.size(), 4U);
  {
    auto pool = ProverPool::start(test_config(root));
    ASSERT_TRUE(pool.ok()) << pool.status().to_string();
    // Inputs that break the circuit: each worker starts its bb and Node (and their logs) and fails fast.
    ProofRequest bad{"bad", "spend", R"({"root":"0x1"})", {}};
    for (const auto& r : (*pool)->prove_all({bad, bad})) EXPECT_FALSE(r.proof.ok());
    EXPECT_FALSE((*pool)->prove_now(bad).proof.ok());

    std::set<std::string> created;
    for (const auto& name : worker_entries(root)) {
      if (planted.count(name) == 0) created.insert(name);
    }
    ASSERT_EQ(created.size(), 1U) << "one new pool directory";
    const fs::path pool_dir = root / *created.begin();
    EXPECT_TRUE(S_ISDIR(mode_of(pool_dir)));
    EXPECT_EQ(mode_of(pool_dir) & 0777, 0700U);
    int logs = 0;
    for (int i = 0; i <= (*pool)->workers(); ++i) {
      const fs::path worker = pool_dir / ("worker-" + std::to_string(i));
      EXPECT_TRUE(S_ISDIR(mode_of(worker))) << worker;
      EXPECT_EQ(mode_of(worker) & 0777, 0700U) << worker;
      logs += fs::exists(worker / "bb.log") ? 1 : 0;
    }
    EXPECT_EQ(logs, (*pool)->workers() + 1) << "every worker ran bb in its own directory";
  }
  // Nothing planted was followed, used or removed; the pool's own directory is gone.
  EXPECT_EQ(worker_entries(root), planted);
  EXPECT_EQ(std::distance(fs::directory_iterator(victim), fs::directory_iterator{}), 1);
  EXPECT_TRUE(fs::is_symlink(root / (mine + "0")));
  EXPECT_TRUE(fs::is_symlink(root / "bucketpay-worker-4194303-0"));
  EXPECT_TRUE(fs::exists(root / (mine + "1") / "planted"));
  EXPECT_EQ(std::distance(fs::directory_iterator(root / (mine + "1")), fs::directory_iterator{}), 1);
  EXPECT_TRUE(fs::is_directory(root / "bucketpay-worker-4194303-1"));
}

TEST_F(EngineTest, MissingCrsIsAClearError) {
  auto config = test_config(dir_ / "scratch");
  config.crs_dir = dir_ / "no-crs-here";
  auto pool = ProverPool::start(config);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(pool.status().message().find((dir_ / "no-crs-here").string()), std::string::npos);
  EXPECT_NE(pool.status().message().find("points"), std::string::npos);
  // Too small: a CRS with 10 points.
  fs::create_directories(dir_ / "small");
  std::ofstream(dir_ / "small" / "bn254_g1.dat", std::ios::binary) << std::string(640, '\0');
  fs::copy_file(testing::crs_dir() / "bn254_g2.dat", dir_ / "small" / "bn254_g2.dat");
  config.crs_dir = dir_ / "small";
  auto small = ProverPool::start(config);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("has only 10 points"), std::string::npos) << small.status().message();
}

}  // namespace
}  // namespace bucketpay
