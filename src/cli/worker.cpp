#include "worker.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "bucketpay/engine.h"
#include "cli.h"

namespace bucketpay::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

void on_stop_signal(int /*signal*/) { g_stop.store(true); }

class Log {
 public:
  explicit Log(std::ostream& err) : err_(err) {}
  void line(const std::string& who, const std::string& text) {
    const std::lock_guard lock(mu_);
    err_ << "bucketpay worker " << who << ": " << text << "\n" << std::flush;
  }

 private:
  std::mutex mu_;
  std::ostream& err_;
};

// Sleeps up to `d`, waking early when a stop signal came.
void nap(std::chrono::milliseconds d) {
  const auto until = Clock::now() + d;
  while (!g_stop.load() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Whether a failure may go away on another try (the store was unreachable, the batch cancelled).
bool transient(StatusCode code) {
  return code == StatusCode::kCancelled || code == StatusCode::kUnavailable || code == StatusCode::kTimeout;
}

// One claim-prove-complete loop. Returns false after a fatal error.
bool loop(LeasedJobQueue& queue, EngineStores stores, ProverPool& pool, const WorkerOptions& o, const std::string& id,
          Log& log) {
  auto engine = Engine::open(stores, pool, "");
  if (!engine.ok()) {
    log.line(id, "cannot start: " + engine.status().message());
    return false;
  }
  bool idle = false;
  Clock::time_point idle_since{};
  while (!g_stop.load()) {
    if (auto reclaimed = queue.reclaim_expired(); !reclaimed.ok()) {
      log.line(id, "reclaim failed: " + reclaimed.status().message());
    } else if (reclaimed->requeued > 0 || reclaimed->failed > 0) {
      log.line(id, "reclaimed expired leases: " + std::to_string(reclaimed->requeued) + " requeued, " +
                       std::to_string(reclaimed->failed) + " failed");
    }
    auto claimed = queue.claim_job_with_lease(id, o.lease);
    if (!claimed.ok()) {
      log.line(id, "claim failed: " + claimed.status().message());
      nap(std::chrono::seconds(1));
      continue;
    }
    if (!claimed->has_value()) {
      auto counts = stores.proofs.job_counts(std::nullopt);
      if (counts.ok() && counts->pending == 0 && counts->running == 0) {
        if (!idle) {
          idle = true;
          idle_since = Clock::now();
        }
        if (o.idle_exit && Clock::now() - idle_since >= *o.idle_exit) {
          log.line(id, "idle, exiting");
          return true;
        }
      } else {
        idle = false;
      }
      nap(o.poll);
      continue;
    }
    idle = false;
    const Job& job = (*claimed)->job;
    log.line(id, "claimed job " + std::to_string(job.id) + " (" + std::string(circuit_name(job.circuit)) + ", try " +
                     std::to_string(job.tries) + ")");
    const auto t0 = Clock::now();

    CancelToken cancel;
    std::atomic<bool> lost{false};
    Result<Precompute> proved = Status::internal("not proved");
    {
      std::jthread heartbeat([&](const std::stop_token& stop) {
        std::mutex mu;
        std::condition_variable_any cv;
        std::unique_lock lock(mu);
        while (!stop.stop_requested()) {
          cv.wait_for(lock, stop, o.heartbeat, [] { return false; });
          if (stop.stop_requested()) break;
          auto hb = queue.heartbeat(job.id, id, o.lease);
          if (!hb.ok()) {
            if (hb.status().code() == StatusCode::kFailedPrecondition || hb.status().code() == StatusCode::kNotFound) {
              log.line(id, "lost the lease of job " + std::to_string(job.id));
              lost.store(true);
              cancel.cancel();
              break;
            }
            log.line(id, "heartbeat of job " + std::to_string(job.id) + " failed: " + hb.status().message());
          }
        }
      });
      proved = (*engine)->prove_job(job, &cancel);
      heartbeat.request_stop();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (proved.ok()) {
      auto done = queue.complete_leased_job(job.id, id, *proved);
      if (done.ok()) {
        log.line(id, "job " + std::to_string(job.id) + " done in " + std::to_string(seconds) + " s");
      } else if (done.status().code() == StatusCode::kAlreadyExists) {
        log.line(id, "job " + std::to_string(job.id) + " was done already by another worker; result dropped");
      } else if (done.status().code() == StatusCode::kFailedPrecondition) {
        log.line(id, "lost the lease of job " + std::to_string(job.id) + "; result dropped");
      } else {
        log.line(id, "completing job " + std::to_string(job.id) + " failed: " + done.status().message());
      }
      continue;
    }
    const bool permanent = !lost.load() && !transient(proved.status().code());
    log.line(id, "job " + std::to_string(job.id) + (permanent ? " failed: " : " failed (will be retried): ") +
                     proved.status().message());
    if (lost.load()) continue;  // someone else holds it now
    if (Status st = queue.fail_leased_job(job.id, id, proved.status().message(), permanent); !st.is_ok()) {
      log.line(id, "recording the failure of job " + std::to_string(job.id) + " failed: " + st.message());
    }
  }
  log.line(id, "stopping");
  return true;
}

}  // namespace

std::string default_worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(getpid());
}

int run_worker(LeasedJobQueue& queue, EngineStores stores, ProverPool& pool, const WorkerOptions& options,
               std::ostream& err) {
  g_stop.store(false);
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_term = {};
  struct sigaction old_int = {};
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGINT, &sa, &old_int);

  const std::string base = options.worker_id.empty() ? default_worker_id() : options.worker_id;
  Log log(err);
  log.line(base, "started with " + std::to_string(options.loops) + " loop(s), lease " +
                     std::to_string(options.lease.count()) + " ms");
  std::atomic<bool> ok{true};
  {
    std::vector<std::jthread> loops;
    for (int i = 0; i < std::max(1, options.loops); ++i) {
      loops.emplace_back([&, i] {
        if (!loop(queue, stores, pool, options, base + "/" + std::to_string(i), log)) ok.store(false);
      });
    }
  }
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  return ok.load() ? kExitOk : kExitFailure;
}

}  // namespace bucketpay::cli
