// What is the PostgreSQL store's own, on a real PostgreSQL cluster (pg_test_cluster.h; the
// environment is registered in store_test.cpp): the fleet queue (leases, heartbeats, reclaim,
// exactly-once completion), its connection pool, and connecting (unreachable servers, timeouts,
// passwords kept out of messages).
#include "bucketpay/pg_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_test_cluster.h"
#include "store_testing.h"

namespace bucketpay {
namespace {

using store_testing::must;

using namespace std::chrono_literals;

class LeaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<PgStore> open(int max_connections = 4) {
    StoreOptions options;
    options.passphrase = "fleet passphrase";
    options.vault_params = VaultParams::fast();
    Result<std::unique_ptr<PgStore>> store = open_pg_store(db_.url(), options, PgOptions{max_connections});
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // A note to hang precomputes on, and `n` jobs "job-0".."job-<n-1>".
  std::int64_t seed(PgStore& store, int n) {
    StoredNote note;
    note.wallet = "alice";
    note.pk = Fr::random();
    note.value = 64;
    note.r = Fr::random();
    note.leaf_index = 0;
    note.state = NoteState::kOnChain;
    note.commitment = Fr::random();
    const std::int64_t id = must(store.insert_note(note));
    std::vector<Job> jobs;
    for (int i = 0; i < n; ++i) {
      Job j;
      j.key = "job-" + std::to_string(i);
      j.batch = "fleet";
      j.circuit = CircuitKind::kSpend;
      j.spec_json = R"({"note_id":)" + std::to_string(id) + "}";
      jobs.push_back(std::move(j));
    }
    EXPECT_EQ(must(store.enqueue_jobs(jobs)), n);
    return id;
  }

  static Precompute proof_for(std::int64_t note_id, std::string_view worker) {
    Precompute p;
    p.note_id = note_id;
    p.circuit = CircuitKind::kSpend;
    p.amount = 64;
    p.auth = Fr::from_u64(1);
    p.public_inputs = {Fr::from_u64(2)};
    p.proof.assign(worker.begin(), worker.end());  // which worker's result got stored
    return p;
  }

  pgtest::FreshDatabase db_;
};

TEST_F(LeaseTest, ClaimSetsOwnerAndExpiryByTheServerClock) {
  auto store = open();
  seed(*store, 2);
  const auto before =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const LeasedJob a = must(store->claim_job_with_lease("host-a/1", 30s)).value();
  EXPECT_EQ(a.job.key, "job-0");
  EXPECT_EQ(a.job.state, JobState::kRunning);
  EXPECT_EQ(a.job.tries, 1);
  EXPECT_EQ(a.worker_id, "host-a/1");
  // The same machine runs the server here, so the clocks agree to well within the lease.
  EXPECT_NEAR(static_cast<double>(a.lease_expires_ms), static_cast<double>(before + 30'000), 5'000.0);
  EXPECT_EQ(must(store->lease_owner(a.job.id)), std::optional<std::string>("host-a/1"));
  EXPECT_EQ(must(store->claim_job_with_lease("host-b/1", 30s)).value().job.key, "job-1");
  EXPECT_EQ(must(store->claim_job_with_lease("host-b/1", 30s)), std::nullopt);

  EXPECT_EQ(store->claim_job_with_lease("", 30s).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->claim_job_with_lease("w", 0ms).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->lease_owner(999).status().code(), StatusCode::kNotFound);
}

TEST_F(LeaseTest, HeartbeatExtendsOnlyTheOwnersLease) {
  auto store = open();
  seed(*store, 1);
  const LeasedJob a = must(store->claim_job_with_lease("w1", 1s)).value();
  const std::int64_t extended = must(store->heartbeat(a.job.id, "w1", 60s));
  EXPECT_GT(extended, a.lease_expires_ms + 50'000);
  EXPECT_EQ(store->heartbeat(a.job.id, "w2", 60s).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->heartbeat(999, "w1", 60s).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{0, 0}));  // extended: not expired
}

TEST_F(LeaseTest, ExpiredLeaseIsReclaimedTakenOverAndTheLateCompletionRefused) {
  auto store = open();
  const std::int64_t note = seed(*store, 1);
  const LeasedJob first = must(store->claim_job_with_lease("slow", 200ms)).value();
  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{0, 0}));  // not yet
  std::this_thread::sleep_for(400ms);                                // "slow" stops heartbeating

  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{1, 0}));
  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{0, 0}));  // once
  const Job requeued = must(store->get_job(first.job.id));
  EXPECT_EQ(requeued.state, JobState::kPending);
  EXPECT_EQ(requeued.tries, 1);
  EXPECT_NE(requeued.error.find("slow"), std::string::npos) << requeued.error;

  const LeasedJob second = must(store->claim_job_with_lease("fast", 30s)).value();
  EXPECT_EQ(second.job.id, first.job.id);
  EXPECT_EQ(second.job.tries, 2);

  // The first worker wakes up: its lease is gone, its heartbeat and result are refused.
  EXPECT_EQ(store->heartbeat(first.job.id, "slow", 30s).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->complete_leased_job(first.job.id, "slow", proof_for(note, "slow")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->fail_leased_job(first.job.id, "slow", "late failure", false).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(must(store->count_precomputes()), 0);

  const std::int64_t id = must(store->complete_leased_job(second.job.id, "fast", proof_for(note, "fast")));
  // Any later completion is a no-op reporting kAlreadyExists: never a second row.
  EXPECT_EQ(store->complete_leased_job(first.job.id, "slow", proof_for(note, "slow")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->complete_leased_job(second.job.id, "fast", proof_for(note, "fast")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->count_precomputes()), 1);
  const Precompute stored = must(store->find_precompute("job-0")).value();
  EXPECT_EQ(stored.id, id);
  EXPECT_EQ(std::string(stored.proof.begin(), stored.proof.end()), "fast");
  const Job done = must(store->get_job(first.job.id));
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(must(store->lease_owner(done.id)), std::nullopt);
}

TEST_F(LeaseTest, AnExpiredLeaseNobodyTookStillCompletes) {
  auto store = open();
  const std::int64_t note = seed(*store, 1);
  const LeasedJob job = must(store->claim_job_with_lease("w", 50ms)).value();
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(store->complete_leased_job(job.job.id, "w", proof_for(note, "w")).ok());
  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{0, 0}));
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 0, 1, 0}));
}

TEST_F(LeaseTest, AJobIsFailedAfterThreeExpiredLeases) {
  auto store = open();
  seed(*store, 1);
  for (int attempt = 1; attempt <= PgStore::kMaxLeaseTries; ++attempt) {
    const LeasedJob job = must(store->claim_job_with_lease("crashy-" + std::to_string(attempt), 50ms)).value();
    EXPECT_EQ(job.job.tries, attempt);
    std::this_thread::sleep_for(120ms);
    const ReclaimCounts counts = must(store->reclaim_expired());
    EXPECT_EQ(counts, attempt < PgStore::kMaxLeaseTries ? (ReclaimCounts{1, 0}) : (ReclaimCounts{0, 1}));
  }
  const Job job = must(store->list_jobs(std::nullopt)).at(0);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.error.find("3 tries"), std::string::npos) << job.error;
  EXPECT_EQ(must(store->claim_job_with_lease("w", 1s)), std::nullopt);
}

TEST_F(LeaseTest, LeasedFailureBackToPendingOrFailed) {
  auto store = open();
  seed(*store, 2);
  const LeasedJob a = must(store->claim_job_with_lease("w", 30s)).value();
  EXPECT_EQ(store->fail_leased_job(a.job.id, "other", "not mine", false).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->fail_leased_job(a.job.id, "w", "bb crashed", false).is_ok());
  EXPECT_EQ(must(store->get_job(a.job.id)).state, JobState::kPending);
  EXPECT_EQ(must(store->lease_owner(a.job.id)), std::nullopt);
  const LeasedJob again = must(store->claim_job_with_lease("w2", 30s)).value();
  EXPECT_EQ(again.job.id, a.job.id);  // a retried job keeps its place
  ASSERT_TRUE(store->fail_leased_job(again.job.id, "w2", "bad witness", true).is_ok());
  EXPECT_EQ(must(store->get_job(a.job.id)).state, JobState::kFailed);
}

TEST_F(LeaseTest, UnleasedClaimsAreLeftAloneByReclaim) {
  auto store = open();
  seed(*store, 1);
  const Job job = must(store->claim_next_job(3)).value();
  EXPECT_EQ(must(store->lease_owner(job.id)), std::nullopt);
  EXPECT_EQ(must(store->reclaim_expired()), (ReclaimCounts{0, 0}));
  EXPECT_EQ(store->heartbeat(job.id, "w", 1s).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->complete_leased_job(job.id, "w", proof_for(1, "w")).status().code(),
            StatusCode::kFailedPrecondition);
}

// Four workers, each with a connection of its own (as four machines would), drain 200 jobs with
// leases: every job is claimed exactly once and completed exactly once.
TEST_F(LeaseTest, FourWorkersClaimEachJobExactlyOnce) {
  constexpr int kJobs = 200;
  constexpr int kWorkers = 4;
  std::int64_t note = 0;
  {
    auto setup = open();
    note = seed(*setup, kJobs);
  }
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> claims;  // job key -> claimers
  std::atomic<int> errors{0};
  std::atomic<int> completed{0};
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        auto store = open(/*max_connections=*/1);
        if (store == nullptr) {
          ++errors;
          return;
        }
        const std::string me = "worker-" + std::to_string(w);
        while (true) {
          Result<std::optional<LeasedJob>> job = store->claim_job_with_lease(me, 30s);
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
            claims[(*job)->job.key].push_back(me);
          }
          if (!store->heartbeat((*job)->job.id, me, 30s).ok()) {
            ++errors;
          }
          Result<std::int64_t> done = store->complete_leased_job((*job)->job.id, me, proof_for(note, me));
          if (done.ok()) {
            ++completed;
          } else {
            ++errors;
            ADD_FAILURE() << done.status().to_string();
          }
        }
      });
    }
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(completed.load(), kJobs);
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kJobs));
  std::set<std::string> busy;
  for (const auto& [key, who] : claims) {
    EXPECT_EQ(who.size(), 1U) << key;
    busy.insert(who.begin(), who.end());
  }
  auto store = open();
  EXPECT_EQ(must(store->job_counts("fleet")), (JobCounts{0, 0, kJobs, 0}));
  EXPECT_EQ(must(store->count_precomputes()), kJobs);
  for (const Job& j : must(store->list_jobs(std::nullopt))) {
    EXPECT_EQ(j.tries, 1) << j.key;
  }
  EXPECT_GE(busy.size(), 2U) << "the workers did not run concurrently";
}

// A fleet where workers crash mid-job (they drop the job silently) and a reclaimer runs: every job
// ends done with exactly one precompute, and no completion by a worker that lost its lease lands.
TEST_F(LeaseTest, FleetWithCrashingWorkersCompletesEverythingOnce) {
  constexpr int kJobs = 60;
  constexpr int kWorkers = 4;
  std::int64_t note = 0;
  {
    auto setup = open();
    note = seed(*setup, kJobs);
  }
  std::atomic<int> errors{0};
  std::atomic<int> dropped{0};
  std::atomic<int> late_refused{0};
  std::atomic<bool> stop{false};
  {
    std::jthread reclaimer([&] {
      auto store = open(1);
      while (!stop) {
        if (!store->reclaim_expired().ok()) {
          ++errors;
        }
        std::this_thread::sleep_for(20ms);
      }
    });
    std::vector<std::jthread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        auto store = open(1);
        const std::string me = "worker-" + std::to_string(w);
        int n = 0;
        std::optional<LeasedJob> abandoned;
        while (true) {
          Result<std::optional<LeasedJob>> job = store->claim_job_with_lease(me, 100ms);
          if (!job.ok()) {
            ++errors;
            return;
          }
          if (!job->has_value()) {
            const JobCounts counts = must(store->job_counts(std::nullopt));
            if (counts.pending + counts.running == 0) {
              break;
            }
            std::this_thread::sleep_for(20ms);  // others' abandoned jobs come back when their leases expire
            continue;
          }
          if (++n % 5 == 0 && !abandoned) {
            abandoned = **job;  // "crash": never heartbeat nor complete it
            ++dropped;
            continue;
          }
          if (!store->complete_leased_job((*job)->job.id, me, proof_for(note, me)).ok()) {
            ++errors;
          }
        }
        // The crashed worker "comes back" with its old result: refused, no second row.
        if (abandoned) {
          const Status late = store->complete_leased_job(abandoned->job.id, me, proof_for(note, me)).status();
          if (late.code() == StatusCode::kAlreadyExists) {
            ++late_refused;
          } else {
            ++errors;
            ADD_FAILURE() << late.to_string();
          }
        }
      });
    }
    workers.clear();
    stop = true;
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(dropped.load(), 0);
  EXPECT_EQ(late_refused.load(), dropped.load());
  auto store = open();
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 0, kJobs, 0}));
  EXPECT_EQ(must(store->count_precomputes()), kJobs);
}

TEST_F(LeaseTest, APoolSmallerThanTheThreadsServesThemAll) {
  auto store = open(/*max_connections=*/2);
  seed(*store, 0);
  std::atomic<int> errors{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i) {
          if (!store->append_leaves(std::vector<Fr>{Fr::random()}).ok() || !store->leaf_count().ok()) {
            ++errors;
          }
        }
      });
    }
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(must(store->leaf_count()), 200U);
}

TEST(PgStoreOpen, UnreachableServerIsUnavailable) {
  StoreOptions options;
  options.busy_timeout_ms = 1000;
  // Port 1 on loopback: nothing listens there.
  Result<std::unique_ptr<PgStore>> store =
      open_pg_store("postgresql://nobody@127.0.0.1:1/bucketpay?connect_timeout=2", options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().to_string();
}

TEST(PgStoreOpen, PasswordIsNotEchoedInErrors) {
  Result<std::unique_ptr<PgStore>> store =
      open_pg_store("postgresql://nobody:s3cret@127.0.0.1:1/bucketpay?connect_timeout=2", {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message().find("s3cret"), std::string::npos) << store.status().to_string();
}

// A server that accepts the connection and then never says anything (a listening socket nobody
// accepts on: the kernel completes the TCP handshake): without a connect timeout libpq waits for it
// forever. Both forms of connection string get the timeout.
TEST(PgStoreOpen, AServerThatNeverAnswersIsGivenUpOnAfterTheConnectTimeout) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  PgOptions pg;
  pg.connect_timeout_s = 2;
  for (const std::string& url : {"postgresql://nobody@127.0.0.1:" + port + "/bucketpay",
                                 "host=127.0.0.1 port=" + port + " user=nobody dbname=bucketpay"}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto opening = std::async(std::launch::async, [&] { return open_pg_store(url, {}, pg); });
    if (opening.wait_for(60s) == std::future_status::timeout) {
      ADD_FAILURE() << "still connecting to " << url << " after 60 s";
      ::close(listener);  // resets the waiting connection, so that the call returns
      opening.wait();
      return;
    }
    const Result<std::unique_ptr<PgStore>> store = opening.get();
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << url;
  }
  ::close(listener);
}

}  // namespace
}  // namespace bucketpay
