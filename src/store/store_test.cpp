#include "bucketpay/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassphrase = "test passphrase";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bucketpay-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    file_ = dir_ / "sub" / "store.db";  // the parent directory is created by open
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<Store>> try_open(std::optional<std::string> passphrase) {
    StoreOptions options;
    options.passphrase = std::move(passphrase);
    options.vault_params = VaultParams::fast();
    return open_sqlite_store(file_, options);
  }

  std::unique_ptr<Store> open(std::optional<std::string> passphrase = kPassphrase) {
    Result<std::unique_ptr<Store>> store = try_open(std::move(passphrase));
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on the file directly, behind the store's back (tampering, corrupting).
  void raw_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // The bytes of the database file and its WAL, as SQLite left them on disk.
  std::string raw_file_bytes() const {
    std::string all;
    for (const fs::path& p : {file_, fs::path(file_.string() + "-wal")}) {
      std::ifstream in(p, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  fs::path dir_;
  fs::path file_;
};

StoredNote make_note(std::string wallet, std::uint64_t value, std::optional<std::uint64_t> leaf = std::nullopt) {
  StoredNote n;
  n.wallet = std::move(wallet);
  n.pk = Fr::random();
  n.value = value;
  n.r = Fr::random();
  n.leaf_index = leaf;
  n.state = leaf ? NoteState::kOnChain : NoteState::kPending;
  n.commitment = Fr::random();  // the store does not recompute it
  n.created_ms = 1'700'000'000'000;
  return n;
}

Precompute make_precompute(std::string key, std::int64_t note_id, std::string circuit = "spend") {
  Precompute p;
  p.key = std::move(key);
  p.note_id = note_id;
  p.circuit = std::move(circuit);
  p.amount = 64;
  p.recipient = Fr::from_u64(0xC0FFEE);
  p.public_inputs = {Fr::random(), Fr::random(), Fr::from_u64(64), Fr::from_u64(0xC0FFEE)};
  p.proof = {1, 2, 3, 4, 5, 0, 255};
  p.outputs_json = R"([{"pk":"0x01","v":3,"r":"0x02"}])";
  p.created_ms = 1'700'000'000'123;
  p.prove_ms = 1234.5;
  p.worker = 3;
  return p;
}

Job make_job(std::string key, std::string batch = "b1") {
  Job j;
  j.key = std::move(key);
  j.batch = std::move(batch);
  j.circuit = "spend";
  j.spec_json = R"({"note_id":1,"recipient":"0xc0ffee"})";
  return j;
}

template <typename T>
T must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) {
    throw std::runtime_error(r.status().to_string());
  }
  return std::move(r).value();
}

// ---- Leaves.

TEST_F(StoreTest, LeavesAppendInOrder) {
  auto store = open();
  EXPECT_EQ(must(store->leaf_count()), 0U);
  const std::vector<Fr> a = {Fr::random(), Fr::random(), Fr::zero()};
  const std::vector<Fr> b = {Fr::random(), Fr::from_u64(7)};
  EXPECT_EQ(must(store->append_leaves(a)), 0U);
  EXPECT_EQ(must(store->append_leaves(b)), 3U);
  EXPECT_EQ(must(store->append_leaves({})), 5U);
  EXPECT_EQ(must(store->leaf_count()), 5U);
  std::vector<Fr> all = a;
  all.insert(all.end(), b.begin(), b.end());
  EXPECT_EQ(must(store->load_leaves()), all);
}

// ---- Notes.

TEST_F(StoreTest, NoteRoundTripAndQueries) {
  auto store = open();
  StoredNote n1 = make_note("alice", 64);
  StoredNote n2 = make_note("alice", ~std::uint64_t{0}, 5);  // the largest value survives
  StoredNote n3 = make_note("bob", 1, 6);
  n1.id = must(store->insert_note(n1));
  n2.id = must(store->insert_note(n2));
  n3.id = must(store->insert_note(n3));
  EXPECT_LT(n1.id, n2.id);

  EXPECT_EQ(must(store->get_note(n1.id)), n1);
  EXPECT_EQ(must(store->get_note(n2.id)), n2);
  EXPECT_EQ(store->get_note(999).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(must(store->find_notes_by_commitment(n2.commitment)), std::vector<StoredNote>{n2});
  EXPECT_TRUE(must(store->find_notes_by_commitment(Fr::random())).empty());

  EXPECT_EQ(must(store->list_notes("alice", std::nullopt)), (std::vector<StoredNote>{n1, n2}));
  EXPECT_EQ(must(store->list_notes("alice", NoteState::kOnChain)), std::vector<StoredNote>{n2});
  EXPECT_EQ(must(store->list_notes("alice", NoteState::kPending)), std::vector<StoredNote>{n1});
  EXPECT_TRUE(must(store->list_notes("carol", std::nullopt)).empty());

  // created_ms is filled in when not given.
  StoredNote n4 = make_note("alice", 2);
  n4.created_ms = 0;
  const std::int64_t id4 = must(store->insert_note(n4));
  EXPECT_GT(must(store->get_note(id4)).created_ms, 1'700'000'000'000);
}

TEST_F(StoreTest, NoteStateTransitions) {
  auto store = open();
  const std::int64_t id = must(store->insert_note(make_note("alice", 8)));

  // Pending without a leaf: cannot be on chain yet.
  EXPECT_EQ(store->set_note_state(id, NoteState::kOnChain).code(), StatusCode::kFailedPrecondition);
  // The leaf arrives: pending becomes on_chain.
  ASSERT_TRUE(store->set_note_leaf_index(id, 42).is_ok());
  StoredNote n = must(store->get_note(id));
  EXPECT_EQ(n.leaf_index, std::optional<std::uint64_t>(42));
  EXPECT_EQ(n.state, NoteState::kOnChain);
  EXPECT_TRUE(store->set_note_leaf_index(id, 42).is_ok());  // idempotent
  EXPECT_EQ(store->set_note_leaf_index(id, 43).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->set_note_leaf_index(999, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->set_note_state(id, NoteState::kPending).code(), StatusCode::kFailedPrecondition);

  // Two payments race to reserve it: one wins.
  EXPECT_TRUE(store->transition_note_state(id, NoteState::kOnChain, NoteState::kSpending).is_ok());
  EXPECT_EQ(store->transition_note_state(id, NoteState::kOnChain, NoteState::kSpending).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->set_note_state(id, NoteState::kSpent).is_ok());
  EXPECT_EQ(must(store->get_note(id)).state, NoteState::kSpent);
  EXPECT_EQ(store->set_note_state(999, NoteState::kSpent).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, NoteInsertValidates) {
  auto store = open();
  StoredNote no_wallet = make_note("", 1);
  EXPECT_EQ(store->insert_note(no_wallet).status().code(), StatusCode::kInvalidArgument);
  StoredNote on_chain_no_leaf = make_note("a", 1);
  on_chain_no_leaf.state = NoteState::kOnChain;
  EXPECT_EQ(store->insert_note(on_chain_no_leaf).status().code(), StatusCode::kInvalidArgument);
  StoredNote pending_with_leaf = make_note("a", 1, 3);
  pending_with_leaf.state = NoteState::kPending;
  EXPECT_EQ(store->insert_note(pending_with_leaf).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, NoteDuplicates) {
  auto store = open();
  const StoredNote pending = make_note("alice", 4);
  ASSERT_TRUE(store->insert_note(pending).ok());
  // The same pending note twice.
  EXPECT_EQ(store->insert_note(pending).status().code(), StatusCode::kAlreadyExists);

  // The same commitment at two leaves (deposited twice) is allowed, beside the pending one.
  StoredNote at5 = pending;
  at5.leaf_index = 5;
  at5.state = NoteState::kOnChain;
  StoredNote at6 = at5;
  at6.leaf_index = 6;
  ASSERT_TRUE(store->insert_note(at5).ok());
  ASSERT_TRUE(store->insert_note(at6).ok());
  EXPECT_EQ(store->insert_note(at5).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->find_notes_by_commitment(pending.commitment)).size(), 3U);

  // A leaf holds one note.
  const StoredNote other_at5 = make_note("alice", 4, 5);
  EXPECT_EQ(store->insert_note(other_at5).status().code(), StatusCode::kAlreadyExists);
  const std::int64_t other = must(store->insert_note(make_note("bob", 4)));
  EXPECT_EQ(store->set_note_leaf_index(other, 6).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(must(store->get_note(other)).leaf_index.has_value());
}

// ---- Spending keys.

TEST_F(StoreTest, SpendingKeysNeedAVault) {
  auto store = open(std::nullopt);
  EXPECT_FALSE(store->has_vault());
  EXPECT_EQ(store->put_spending_key("alice", Fr::random()).code(), StatusCode::kFailedPrecondition);
}

TEST_F(StoreTest, SpendingKeyRoundTripNeverOverwritten) {
  auto store = open();
  EXPECT_TRUE(store->has_vault());
  const Fr sk = Fr::random();
  ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(store->put_spending_key("alice", Fr::random()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(store->get_spending_key("bob").status().code(), StatusCode::kNotFound);
}

// ---- Precomputes.

TEST_F(StoreTest, PrecomputeRoundTrip) {
  auto store = open();
  const std::int64_t note1 = must(store->insert_note(make_note("alice", 64, 0)));
  const std::int64_t note2 = must(store->insert_note(make_note("alice", 64, 1)));
  Precompute a = make_precompute("k-a", note1);
  Precompute b = make_precompute("k-b", note1, "split");
  Precompute c = make_precompute("k-c", note2);
  c.proof.clear();  // empty blobs and strings survive as empty
  c.outputs_json.clear();
  c.public_inputs.clear();
  a.id = must(store->insert_precompute(a));
  b.id = must(store->insert_precompute(b));
  c.id = must(store->insert_precompute(c));

  EXPECT_EQ(must(store->find_precompute("k-a")), std::optional<Precompute>(a));
  EXPECT_EQ(must(store->find_precompute("k-c")), std::optional<Precompute>(c));
  EXPECT_EQ(must(store->find_precompute("nope")), std::nullopt);
  EXPECT_EQ(must(store->list_precomputes_for_note(note1)), (std::vector<Precompute>{a, b}));
  EXPECT_EQ(must(store->list_precomputes_by_circuit("spend")), (std::vector<Precompute>{a, c}));
  EXPECT_EQ(must(store->list_precomputes_by_circuit("split")), std::vector<Precompute>{b});
  EXPECT_EQ(must(store->count_precomputes()), 3);

  EXPECT_EQ(store->insert_precompute(a).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->insert_precompute(make_precompute("k-x", 999)).status().code(), StatusCode::kNotFound);
  Precompute bad_json = make_precompute("k-y", note1);
  bad_json.outputs_json = "{not json";
  EXPECT_EQ(store->insert_precompute(bad_json).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(must(store->delete_precomputes_for_note(note1)), 2);
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->find_precompute("k-a")), std::nullopt);
  EXPECT_EQ(must(store->delete_precomputes_for_note(note1)), 0);
}

// ---- Jobs.

TEST_F(StoreTest, EnqueueIsIdempotentOnKey) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  const std::vector<Job> first = {make_job("j1"), make_job("j2"), make_job("j3")};
  EXPECT_EQ(must(store->enqueue_jobs(first)), 3);
  // A repeat changes nothing; only the new key is added (a duplicate within one call counts once).
  Job changed = make_job("j1", "other batch");
  changed.spec_json = R"({"changed":true})";
  const std::vector<Job> second = {changed, make_job("j2"), make_job("j4"), make_job("j4")};
  EXPECT_EQ(must(store->enqueue_jobs(second)), 1);
  const std::vector<Job> jobs = must(store->list_jobs(std::nullopt));
  ASSERT_EQ(jobs.size(), 4U);
  EXPECT_EQ(jobs[0].key, "j1");
  EXPECT_EQ(jobs[0].batch, "b1");
  EXPECT_EQ(jobs[0].spec_json, make_job("j1").spec_json);
  EXPECT_EQ(jobs[3].key, "j4");

  // A done job is not re-queued.
  const Job claimed = must(store->claim_next_job(1)).value();
  ASSERT_TRUE(store->complete_job(claimed.id, make_precompute("", note)).ok());
  EXPECT_EQ(must(store->enqueue_jobs(first)), 0);
  EXPECT_EQ(must(store->get_job(claimed.id)).state, JobState::kDone);

  // All or nothing: one bad job rejects the whole call.
  Job bad = make_job("j9");
  bad.spec_json = "{";
  const std::vector<Job> mixed = {make_job("j8"), bad};
  EXPECT_EQ(store->enqueue_jobs(mixed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(must(store->job_counts(std::nullopt)).total(), 4);
}

TEST_F(StoreTest, ClaimCompleteFailRetryCycle) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  const std::vector<Job> jobs = {make_job("a", "b1"), make_job("b", "b1"), make_job("c", "b2")};
  ASSERT_EQ(must(store->enqueue_jobs(jobs)), 3);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{2, 0, 0, 0}));

  // Oldest first; claiming marks running and counts the try.
  Job a = must(store->claim_next_job(7)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.state, JobState::kRunning);
  EXPECT_EQ(a.tries, 1);
  EXPECT_EQ(a.worker, 7);
  EXPECT_EQ(a.spec_json, jobs[0].spec_json);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{1, 1, 0, 0}));

  // A transient failure: back to pending; it keeps its id, so it is the oldest and claimed next.
  ASSERT_TRUE(store->fail_job(a.id, "bb crashed", false).is_ok());
  Job after_fail = must(store->get_job(a.id));
  EXPECT_EQ(after_fail.state, JobState::kPending);
  EXPECT_EQ(after_fail.error, "bb crashed");
  EXPECT_EQ(store->fail_job(a.id, "again", false).code(), StatusCode::kFailedPrecondition);
  a = must(store->claim_next_job(8)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.tries, 2);
  EXPECT_EQ(a.worker, 8);

  // Done.
  const std::int64_t pid = must(store->complete_job(a.id, make_precompute("", note)));
  const Job done = must(store->get_job(a.id));
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(done.error, "");
  const Precompute stored = must(store->find_precompute("a")).value();
  EXPECT_EQ(stored.id, pid);
  EXPECT_EQ(store->complete_job(a.id, make_precompute("", note)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->fail_job(a.id, "late", true).code(), StatusCode::kFailedPrecondition);

  // A permanent failure.
  Job b = must(store->claim_next_job(1)).value();
  EXPECT_EQ(b.key, "b");
  ASSERT_TRUE(store->fail_job(b.id, "bad witness", true).is_ok());
  EXPECT_EQ(must(store->get_job(b.id)).state, JobState::kFailed);
  EXPECT_EQ(store->complete_job(b.id, make_precompute("", note)).status().code(), StatusCode::kFailedPrecondition);

  Job c = must(store->claim_next_job(1)).value();
  EXPECT_EQ(c.key, "c");
  EXPECT_EQ(must(store->claim_next_job(1)), std::nullopt);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{0, 0, 1, 1}));
  EXPECT_EQ(must(store->job_counts("b2")), (JobCounts{0, 1, 0, 0}));
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 1, 1, 1}));
  EXPECT_EQ(must(store->list_jobs("b2")).size(), 1U);
  EXPECT_EQ(store->fail_job(999, "x", true).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->get_job(999).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, CompleteIsAtomic) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("k")})), 1);
  const Job job = must(store->claim_next_job(1)).value();

  // Unknown job: no precompute row.
  EXPECT_EQ(store->complete_job(999, make_precompute("", note)).status().code(), StatusCode::kNotFound);
  // A key that is not the job's.
  EXPECT_EQ(store->complete_job(job.id, make_precompute("other", note)).status().code(), StatusCode::kInvalidArgument);
  // The precompute cannot be stored (its note does not exist): the job stays running.
  EXPECT_EQ(store->complete_job(job.id, make_precompute("k", 999)).status().code(), StatusCode::kNotFound);
  // The precompute's key is taken: rolled back too.
  ASSERT_TRUE(store->insert_precompute(make_precompute("k", note)).ok());
  EXPECT_EQ(store->complete_job(job.id, make_precompute("k", note)).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->get_job(job.id)).state, JobState::kRunning);

  ASSERT_EQ(must(store->delete_precomputes_for_note(note)), 1);
  EXPECT_EQ(must(store->count_precomputes()), 0);
  ASSERT_TRUE(store->complete_job(job.id, make_precompute("k", note)).ok());
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->get_job(job.id)).state, JobState::kDone);
}

TEST_F(StoreTest, ResetRunningJobsAfterACrash) {
  {
    auto store = open();
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("a"), make_job("b"), make_job("c")})), 3);
    ASSERT_TRUE(must(store->claim_next_job(1)).has_value());
    ASSERT_TRUE(must(store->claim_next_job(2)).has_value());
    // The process "dies" with two jobs running.
  }
  auto store = open();
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{1, 2, 0, 0}));
  EXPECT_EQ(must(store->reset_running_jobs()), 2);
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{3, 0, 0, 0}));
  const Job a = must(store->claim_next_job(3)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.tries, 2);  // tries kept, plus this claim
  EXPECT_EQ(must(store->reset_running_jobs()), 1);
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  StoredNote note = make_note("alice", 128, 0);
  const Fr sk = Fr::random();
  const std::vector<Fr> leaves = {note.commitment, Fr::random()};
  Precompute p = make_precompute("", 0);
  Job job = make_job("k1");
  {
    auto store = open();
    ASSERT_EQ(must(store->append_leaves(leaves)), 0U);
    note.id = must(store->insert_note(note));
    ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{job, make_job("k2")})), 2);
    job = must(store->claim_next_job(4)).value();
    p.note_id = note.id;
    p.id = must(store->complete_job(job.id, p));
    p.key = job.key;
  }
  auto store = open();
  EXPECT_TRUE(store->has_vault());
  EXPECT_EQ(must(store->load_leaves()), leaves);
  EXPECT_EQ(must(store->get_note(note.id)), note);
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(must(store->find_precompute("k1")), std::optional<Precompute>(p));
  Job done = must(store->get_job(job.id));
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(done.spec_json, job.spec_json);
  EXPECT_EQ(must(store->claim_next_job(1)).value().key, "k2");
}

// ---- Secrets at rest.

std::string hex_no_prefix(const Fr& f) { return f.to_hex().substr(2); }
std::string raw(const Fr& f) {
  const Fr::Bytes b = f.to_bytes();
  return {b.begin(), b.end()};
}

TEST_F(StoreTest, SecretsAreNotInTheFileInPlaintext) {
  const StoredNote note = make_note("alice", 64, 0);
  const Fr sk = Fr::random();
  const Fr out_r = Fr::random();
  const Fr spec_secret = Fr::random();
  {
    auto store = open();
    const std::int64_t id = must(store->insert_note(note));
    ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
    Precompute p = make_precompute("pc", id, "split");
    p.outputs_json = R"([{"pk":"0x01","v":3,"r":")" + out_r.to_hex() + R"("}])";
    ASSERT_TRUE(store->insert_precompute(p).ok());
    Job j = make_job("job");
    j.spec_json = R"({"r":")" + spec_secret.to_hex() + R"("})";
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{j})), 1);

    // While open (the WAL holds the data) and after close (checkpointed into the file).
    const std::string bytes = raw_file_bytes();
    ASSERT_NE(bytes.find(raw(note.commitment)), std::string::npos);  // public data is there
    for (const Fr& secret : {note.r, sk, out_r, spec_secret}) {
      EXPECT_EQ(bytes.find(raw(secret)), std::string::npos);
      EXPECT_EQ(bytes.find(hex_no_prefix(secret)), std::string::npos);
    }
  }
  const std::string bytes = raw_file_bytes();
  ASSERT_NE(bytes.find(raw(note.commitment)), std::string::npos);
  for (const Fr& secret : {note.r, sk, out_r, spec_secret}) {
    EXPECT_EQ(bytes.find(raw(secret)), std::string::npos);
    EXPECT_EQ(bytes.find(hex_no_prefix(secret)), std::string::npos);
  }
}

TEST_F(StoreTest, WithoutVaultSecretsArePlain) {
  // The control for the test above: the search does find an unsealed r.
  const StoredNote note = make_note("alice", 64, 0);
  {
    auto store = open(std::nullopt);
    ASSERT_TRUE(store->insert_note(note).ok());
    EXPECT_EQ(must(store->get_note(1)).r, note.r);
  }
  EXPECT_NE(raw_file_bytes().find(raw(note.r)), std::string::npos);
}

TEST_F(StoreTest, WrongOrMissingPassphraseRefused) {
  { auto store = open(); }
  Result<std::unique_ptr<Store>> wrong = try_open("not the passphrase");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  Result<std::unique_ptr<Store>> none = try_open(std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("passphrase"), std::string::npos);
  EXPECT_TRUE(try_open(kPassphrase).ok());
}

TEST_F(StoreTest, VaultOnlyAddedToAStoreWithoutSecrets) {
  { auto store = open(std::nullopt); }
  {
    auto store = open();  // empty so far: the vault is added
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->has_vault());
  }
  fs::remove_all(dir_ / "sub");
  {
    auto store = open(std::nullopt);
    ASSERT_TRUE(store->insert_note(make_note("alice", 1)).ok());
  }
  EXPECT_EQ(try_open(kPassphrase).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(StoreTest, TamperedCiphertextRefused) {
  std::int64_t id = 0;
  {
    auto store = open();
    id = must(store->insert_note(make_note("alice", 64, 0)));
    ASSERT_TRUE(store->put_spending_key("alice", Fr::random()).is_ok());
  }
  // Flip the last byte (in the tag) of the sealed r and sk.
  raw_sql(
      "UPDATE notes SET r = substr(r, 1, length(r) - 1) || "
      "CASE WHEN substr(r, -1) = x'00' THEN x'01' ELSE x'00' END;"
      "UPDATE secrets SET sk = substr(sk, 1, length(sk) - 1) || "
      "CASE WHEN substr(sk, -1) = x'00' THEN x'01' ELSE x'00' END;");
  auto store = open();
  EXPECT_EQ(store->get_note(id).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->list_notes("alice", std::nullopt).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->get_spending_key("alice").status().code(), StatusCode::kCorruption);
}

TEST_F(StoreTest, SealedValuesAreBoundToTheirRecord) {
  std::int64_t id1 = 0;
  std::int64_t id2 = 0;
  {
    auto store = open();
    id1 = must(store->insert_note(make_note("alice", 64, 0)));
    id2 = must(store->insert_note(make_note("alice", 64, 1)));
    ASSERT_TRUE(store->put_spending_key("alice", Fr::random()).is_ok());
    ASSERT_TRUE(store->put_spending_key("mallory", Fr::random()).is_ok());
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("j1"), make_job("j2")})), 2);
  }
  // Copy note 1's sealed r onto note 2, alice's key onto mallory, job 1's spec onto job 2.
  raw_sql("UPDATE notes SET r = (SELECT r FROM notes WHERE id = " + std::to_string(id1) +
          ") WHERE id = " + std::to_string(id2) +
          "; UPDATE secrets SET sk = (SELECT sk FROM secrets WHERE wallet = 'alice') "
          "WHERE wallet = 'mallory';"
          "UPDATE jobs SET spec = (SELECT spec FROM jobs WHERE key = 'j1') WHERE key = 'j2';");
  auto store = open();
  EXPECT_TRUE(store->get_note(id1).ok());
  EXPECT_EQ(store->get_note(id2).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(store->get_spending_key("alice").ok());
  EXPECT_EQ(store->get_spending_key("mallory").status().code(), StatusCode::kCorruption);

  // A job whose spec cannot be opened is failed for good, so the queue moves on.
  EXPECT_EQ(must(store->claim_next_job(1)).value().key, "j1");
  EXPECT_EQ(store->claim_next_job(1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 1, 0, 1}));
  EXPECT_EQ(must(store->claim_next_job(1)), std::nullopt);
}

// ---- Schema and durability settings.

TEST_F(StoreTest, SchemaVersionAndPragmas) {
  { auto store = open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(scalar("PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_EQ(scalar("PRAGMA user_version"), "2");
  sqlite3_close(db);

  // A newer schema than this build knows is refused, not touched.
  raw_sql("PRAGMA user_version = 99");
  Result<std::unique_ptr<Store>> newer = try_open(kPassphrase);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(StoreTest, NotADatabase) {
  fs::create_directories(file_.parent_path());
  std::ofstream(file_) << std::string(8192, 'x');
  EXPECT_EQ(try_open(kPassphrase).status().code(), StatusCode::kCorruption);
}

// ---- Concurrency.

// Workers on one Store and on a second connection to the same file (as another process would)
// drain the queue together: every job is claimed and completed exactly once.
TEST_F(StoreTest, ConcurrentClaimsHandEachJobOnce) {
  constexpr int kJobs = 120;
  constexpr int kThreadsPerStore = 3;
  auto store_a = open();
  auto store_b = open();
  ASSERT_NE(store_a, nullptr);
  ASSERT_NE(store_b, nullptr);
  const std::int64_t note = must(store_a->insert_note(make_note("alice", 64, 0)));
  std::vector<Job> jobs;
  jobs.reserve(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(make_job("job-" + std::to_string(i)));
  }
  ASSERT_EQ(must(store_a->enqueue_jobs(jobs)), kJobs);

  std::mutex mu;
  std::map<std::string, int> claims;
  std::atomic<int> errors{0};
  auto work = [&](Store* store, int worker) {
    while (true) {
      Result<std::optional<Job>> job = store->claim_next_job(worker);
      if (!job.ok()) {
        ++errors;
        ADD_FAILURE() << job.status().to_string();
        return;
      }
      if (!job->has_value()) {
        return;
      }
      {
        const std::lock_guard lock(mu);
        ++claims[(*job)->key];
      }
      Precompute p = make_precompute("", note);
      p.worker = worker;
      if (!store->complete_job((*job)->id, p).ok()) {
        ++errors;
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back(work, store_a.get(), t);
      threads.emplace_back(work, store_b.get(), 100 + t);
    }
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [key, n] : claims) {
    EXPECT_EQ(n, 1) << key;
  }
  EXPECT_EQ(must(store_a->job_counts(std::nullopt)), (JobCounts{0, 0, kJobs, 0}));
  EXPECT_EQ(must(store_b->count_precomputes()), kJobs);
  for (const Job& j : must(store_b->list_jobs(std::nullopt))) {
    EXPECT_EQ(j.tries, 1) << j.key;
  }
}

// ---- Wallet state. The contract scenarios (settings, secrets, chain sync, rollback, payments) run
// over both backends in src/pgstore/pgstore_test.cpp; here what is SQLite's own.

// Schema version 1 exactly as the first release created it (kMigrations[0] in sqlite_store.cpp).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value NOT NULL);
CREATE TABLE IF NOT EXISTS leaves(
  idx INTEGER PRIMARY KEY,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wallet TEXT NOT NULL,
  pk BLOB NOT NULL,
  value INTEGER NOT NULL,
  r BLOB NOT NULL,
  leaf_index INTEGER,
  state TEXT NOT NULL CHECK (state IN ('pending', 'on_chain', 'spending', 'spent')),
  commitment BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  CHECK (state <> 'on_chain' OR leaf_index IS NOT NULL),
  CHECK (state <> 'pending' OR leaf_index IS NULL));
CREATE UNIQUE INDEX IF NOT EXISTS notes_by_leaf ON notes(leaf_index) WHERE leaf_index IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS notes_pending_by_commitment ON notes(commitment)
  WHERE leaf_index IS NULL;
CREATE INDEX IF NOT EXISTS notes_by_commitment ON notes(commitment);
CREATE INDEX IF NOT EXISTS notes_by_wallet_state ON notes(wallet, state);
CREATE TABLE IF NOT EXISTS secrets(
  wallet TEXT PRIMARY KEY,
  sk BLOB NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS precomputes(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  note_id INTEGER NOT NULL REFERENCES notes(id),
  circuit TEXT NOT NULL,
  amount INTEGER NOT NULL,
  recipient BLOB NOT NULL,
  public_inputs BLOB NOT NULL,
  proof BLOB NOT NULL,
  outputs BLOB,
  created_ms INTEGER NOT NULL,
  prove_ms REAL NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS precomputes_by_note ON precomputes(note_id);
CREATE INDEX IF NOT EXISTS precomputes_by_circuit ON precomputes(circuit);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  batch TEXT NOT NULL,
  circuit TEXT NOT NULL,
  spec BLOB,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  tries INTEGER NOT NULL,
  error TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs(batch, state);
)sql";

std::string blob_literal(const Fr& f) { return "X'" + hex_no_prefix(f) + "'"; }

BlockRef block_ref(std::uint64_t number, std::uint8_t tag) {
  BlockRef b;
  b.number = number;
  b.hash.fill(tag);
  return b;
}

TEST_F(StoreTest, MigratesAStoreOfTheFirstSchema) {
  fs::create_directories(file_.parent_path());
  const Fr leaf0 = Fr::random();
  const Fr leaf1 = Fr::random();
  const Fr pk = Fr::random();
  const Fr r = Fr::random();
  // A store made by the first release: two leaves, a note on leaf 1, a pending note (no vault).
  raw_sql(std::string(kSchemaV1) + "PRAGMA user_version = 1;" + "INSERT INTO leaves(idx, value) VALUES (0, " +
          blob_literal(leaf0) + "), (1, " + blob_literal(leaf1) + ");" +
          "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) VALUES ('w', " +
          blob_literal(pk) + ", 5, " + blob_literal(r) + ", 1, 'on_chain', " + blob_literal(leaf1) + ", 7), ('w', " +
          blob_literal(pk) + ", 6, " + blob_literal(r) + ", NULL, 'pending', " + blob_literal(leaf0) + ", 8);");

  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), 2);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  // The old data is all there, the old leaves unstamped (block 0, no root).
  EXPECT_EQ(must(store->load_leaves()), (std::vector<Fr>{leaf0, leaf1}));
  const std::vector<StoredNote> notes = must(store->list_notes("w", std::nullopt));
  ASSERT_EQ(notes.size(), 2U);
  EXPECT_EQ(notes[0].state, NoteState::kOnChain);
  EXPECT_EQ(notes[0].leaf_index, std::optional<std::uint64_t>(1));
  EXPECT_EQ(notes[0].r, r);
  EXPECT_EQ(notes[0].created_ms, 7);
  EXPECT_EQ(notes[1].state, NoteState::kPending);
  EXPECT_TRUE(must(store->known_roots()).empty());
  EXPECT_FALSE(must(store->sync_cursor()).has_value());
  EXPECT_TRUE(must(store->list_payments("w", std::nullopt)).empty());

  // And the new tables and columns work on it.
  ASSERT_TRUE(store->put_setting("w", "chain", "31337").is_ok());
  ChainUpdate u;
  const Fr root = Fr::random();
  u.leaves = {ChainLeaf{1, leaf1, 3, root}, ChainLeaf{2, leaf0, 4, root}};  // 1 is already there
  u.note_leaves = {{notes[1].id, 2}};
  u.blocks = {block_ref(4, 4)};
  u.cursor = block_ref(5, 5);
  ASSERT_TRUE(store->apply_chain_update(u).is_ok());
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{root});
  Payment p;
  p.wallet = "w";
  p.kind = "pay";
  p.note_ids = {notes[0].id};
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(must(store->get_payment(id)).note_ids, p.note_ids);
  // A rollback to before block 4 keeps the unstamped leaves.
  ASSERT_TRUE(store->rollback_chain(block_ref(3, 3)).is_ok());
  EXPECT_EQ(must(store->load_leaves()), (std::vector<Fr>{leaf0, leaf1}));
  EXPECT_EQ(must(store->get_note(notes[1].id)).state, NoteState::kPending);
  EXPECT_EQ(must(store->get_note(notes[0].id)).state, NoteState::kSpending);
  store.reset();
  // Reopened: nothing migrates twice.
  store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->get_setting("w", "chain")), std::optional<std::string>("31337"));
}

TEST_F(StoreTest, NamedSecretsAreNotInTheFileInPlaintext) {
  std::vector<std::uint8_t> secret(32);
  const Fr::Bytes random = Fr::random().to_bytes();
  std::copy(random.begin(), random.end(), secret.begin());
  const std::string as_text(secret.begin(), secret.end());
  {
    auto store = open();
    ASSERT_TRUE(store->put_secret("alice", "eth_key", secret).is_ok());
    EXPECT_EQ(must(store->get_secret("alice", "eth_key")), secret);
    EXPECT_EQ(raw_file_bytes().find(as_text), std::string::npos);
  }
  EXPECT_EQ(raw_file_bytes().find(as_text), std::string::npos);
  // The control: the same search finds a value stored as is (a setting is public).
  {
    auto store = open();
    ASSERT_TRUE(store->put_setting("alice", "public", as_text).is_ok());
  }
  EXPECT_NE(raw_file_bytes().find(as_text), std::string::npos);
  // Reopened with the passphrase, the secret opens; the name binds it.
  auto store = open();
  EXPECT_EQ(must(store->get_secret("alice", "eth_key")), secret);
  raw_sql(
      "INSERT INTO named_secrets(wallet, name, value, created_ms) "
      "SELECT wallet, 'other_key', value, created_ms FROM named_secrets");
  EXPECT_EQ(store->get_secret("alice", "other_key").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace bucketpay
