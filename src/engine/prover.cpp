#include "bucketpay/prover.h"

#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/merkle_tree.h"
#include "witness.h"

namespace bucketpay {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// A bb process uses about this much memory proving our circuits (measured: docs/engine.md), and a
// Node witness process about 100 MiB; used to bound workers and batches by available memory.
constexpr std::uint64_t kWorkerMemoryBytes = std::uint64_t{512} << 20;
constexpr std::uint64_t kProofInFlightBytes = std::uint64_t{64} << 10;

std::uint64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "MemAvailable:") return value * 1024;
  }
  return std::uint64_t{2} << 30;
}

// A pool's scratch directory: <scratch_root>/bucketpay-worker-<pid>-XXXXXX, made by mkdtemp (a new,
// unguessable name, mode 0700), holding one directory per worker. Nothing is ever created at, or
// removed by, a name another user could have planted first in a shared temp directory.
constexpr std::string_view kScratchPrefix = "bucketpay-worker-";

Result<fs::path> make_pool_scratch(const fs::path& scratch_root) {
  std::string tmpl = (scratch_root / (std::string(kScratchPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::io_error("cannot create a scratch directory in " + scratch_root.string() + ": " +
                            std::strerror(errno));
  }
  return fs::path(tmpl);
}

// A worker's directory inside the pool's: mkdir, never an existing one.
Status make_worker_scratch(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return Status::io_error("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::ok();
}

// Throwaway proofs that warm a worker up: valid statements about a random note alone in a tree.
// bb's first proofs in a process are slower than later ones (measured with bench/precompute on
// 2 cores: about 2x, 1.5x and 1.2x for the first, second and third of a circuit, the same speed
// from about the sixth proof on), and noir_js sets its WebAssembly up on a circuit's first
// execution (0.5-0.8 s): a warm-up pays that before real work (docs/engine.md).
constexpr int kWarmUpRounds = 3;  // each round: one proof of each known circuit

std::vector<ProofRequest> warm_up_requests(const std::map<std::string, bb::Circuit>& circuits) {
  const SpendingKey sk = SpendingKey::generate();
  const Fr pk = owner_key(sk);
  const Note note = Note::create(pk, 2);
  MerkleTree tree;
  const auto index = tree.append(note.commitment());
  const auto path = tree.path(*index);
  const OwnedNote owned{note, sk, *index};
  std::vector<ProofRequest> out;
  for (int round = 0; round < kWarmUpRounds; ++round) {
    const std::string spend(circuit_name(CircuitKind::kSpend));
    const std::string split(circuit_name(CircuitKind::kSplit));
    if (circuits.count(spend) != 0) {
      out.push_back({"warm-up", spend, spend_inputs_json(owned, *path, tree.root()),
                     spend_statement(owned, tree.root()).public_inputs()});
    }
    if (circuits.count(split) != 0) {
      const std::array<Note, 2> notes = {Note::create(pk, 1), Note::create(pk, 0)};
      const SplitOutputs outputs = *make_split_outputs(notes);
      out.push_back({"warm-up", split, split_inputs_json(owned, *path, tree.root(), 1, outputs),
                     split_statement(owned, tree.root(), 1, outputs).public_inputs()});
    }
  }
  return out;
}

}  // namespace

void remove_stale_scratch_dirs(const fs::path& scratch_root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scratch_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kScratchPrefix, 0) != 0) continue;
    // bucketpay-worker-<pid>-XXXXXX
    const std::string rest = name.substr(kScratchPrefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(rest.substr(0, dash).c_str(), nullptr, 10));
    if (pid <= 0) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // that process still runs
    // Only what a pool of ours made: a real directory (not a symlink), ours, closed to others (as
    // mkdtemp makes it). Inside it nobody else can have put anything, so removing it is safe.
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & 077) != 0) {
      continue;
    }
    fs::remove_all(entry.path(), ec);
  }
}

// Local to this file: the store has a bucketpay::Job too (store.h), and two classes of one name in
// one namespace are one class to the linker (the ODR): std::optional<Job>'s inline members, made
// for both, were merged into one with the wrong layout (AddressSanitizer: stack-buffer-overflow in
// run_worker, docs/hardening.md).
namespace {

struct Job {
  ProofRequest request;
  std::size_t index = 0;
  int tries = 0;
  int avoid_worker = -1;
  struct Batch* batch = nullptr;
};

struct Batch {
  std::mutex mu;
  std::condition_variable done_cv;
  std::vector<ProofResult> results;
  std::size_t remaining = 0;
  std::size_t done = 0;
  std::size_t total = 0;
  const BatchOptions* options = nullptr;
};

}  // namespace

struct ProverPool::Impl {
  ProverConfig config;
  std::map<std::string, bb::Circuit> circuits;
  std::map<std::string, std::vector<std::uint8_t>> vks;
  std::map<std::string, bb::Process::CircuitInfo> infos;
  std::map<std::string, fs::path> artifacts;
  int workers = 1;
  int threads = 1;
  int cores = 1;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> queue;         // background work
  std::deque<Job> urgent_queue;  // latency mode
  int urgent_running = 0;
  bool stopping = false;
  std::vector<WorkerStats> stats;  // index: worker id; the last one is the urgent worker
  std::vector<std::jthread> threads_;
  fs::path scratch;                   // this pool's (make_pool_scratch), removed when it stops
  std::vector<ProofRequest> warm_up;  // each background worker proves these first (config.warm_up)
  int warming = 0;                    // background workers still warming up (guarded by mu)

  // Per-worker processes; only the owning thread touches them.
  struct WorkerState {
    int id = 0;
    bool urgent = false;
    fs::path scratch;
    std::unique_ptr<bb::Process> bb;
    std::unique_ptr<WitnessProcess> witness;
  };

  Status ensure_processes(WorkerState& w) {
    if (w.bb == nullptr || !w.bb->alive()) {
      bb::ProcessOptions po{config.bb_binary, w.urgent ? cores : threads, w.scratch / "bb.log", w.scratch,
                            config.crs_dir};
      auto p = bb::Process::start(po);
      if (!p.ok()) return p.status();
      w.bb = std::move(*p);
    }
    if (w.witness == nullptr || !w.witness->alive()) {
      WitnessProcess::Options wo{config.node_binary, config.witness_server, artifacts, w.scratch / "node.log"};
      auto p = WitnessProcess::start(wo);
      if (!p.ok()) return p.status();
      w.witness = std::move(*p);
    }
    return Status::ok();
  }

  // One attempt at one proof on worker w.
  ProofResult attempt(WorkerState& w, const Job& job) {
    ProofResult r;
    r.key = job.request.key;
    r.worker = w.id;
    r.tries = job.tries;
    const auto it = circuits.find(job.request.circuit);
    if (it == circuits.end()) {
      r.proof = Status::invalid_argument("unknown circuit " + job.request.circuit);
      return r;
    }
    if (Status st = ensure_processes(w); !st.is_ok()) {
      r.proof = st;
      return r;
    }
    const auto deadline = Clock::now() + config.proof_timeout;
    auto t0 = Clock::now();
    auto witness = w.witness->execute(job.request.circuit, job.request.inputs_json, deadline);
    r.witness_ms = ms_since(t0);
    if (!witness.ok()) {
      r.proof = witness.status();
      return r;
    }
    t0 = Clock::now();
    auto proof = w.bb->prove(it->second, vks.at(job.request.circuit), *witness, deadline);
    r.prove_ms = ms_since(t0);
    if (!proof.ok()) {
      r.proof = proof.status();
      return r;
    }
    t0 = Clock::now();
    auto verified = w.bb->verify(vks.at(job.request.circuit), *proof);
    r.verify_ms = ms_since(t0);
    if (!verified.ok()) {
      r.proof = verified.status().with_context("verifying a fresh proof");
    } else if (!*verified) {
      r.proof = Status::internal("bb made a proof that does not verify; it was discarded");
    } else if (!job.request.expected_public_inputs.empty() &&
               proof->public_inputs != job.request.expected_public_inputs) {
      r.proof = Status::internal("the proof's public inputs are not the statement asked for; it was discarded");
    } else {
      r.proof = std::move(*proof);
    }
    return r;
  }

  static bool retryable(const Status& s) {
    return s.code() != StatusCode::kInvalidArgument && s.code() != StatusCode::kCancelled;
  }

  void finish(Job& job, ProofResult result) {
    Batch* b = job.batch;
    std::lock_guard lock(b->mu);
    b->results[job.index] = std::move(result);
    ++b->done;
    if (b->options != nullptr && b->options->on_result) {
      b->options->on_result(b->results[job.index], b->done, b->total);
    }
    if (--b->remaining == 0) b->done_cv.notify_all();
  }

  // Takes the next job this worker may run, or nullopt when stopping.
  std::optional<Job> next_job(const WorkerState& w, const std::stop_token& stop) {
    std::unique_lock lock(mu);
    for (;;) {
      if (stopping || stop.stop_requested()) return std::nullopt;
      std::deque<Job>& q = w.urgent ? urgent_queue : queue;
      // Background workers yield to an urgent proof: they start nothing while one waits or runs.
      const bool blocked = !w.urgent && (urgent_running > 0 || !urgent_queue.empty());
      if (!blocked) {
        for (auto it = q.begin(); it != q.end(); ++it) {
          // A retry goes to another worker when there is one.
          if (it->avoid_worker == w.id && workers > 1 && !w.urgent) continue;
          Job job = std::move(*it);
          q.erase(it);
          if (w.urgent) ++urgent_running;
          return job;
        }
      }
      cv.wait(lock);
    }
  }

  // Starts a background worker's processes and makes the warm-up proofs (results discarded; a
  // failure only means the processes are replaced, as after any failed proof).
  void warm_up_worker(WorkerState& w) {
    for (const auto& request : warm_up) {
      if (!attempt(w, Job{request, 0, 1, -1, nullptr}).proof.ok()) {
        w.bb.reset();
        w.witness.reset();
        break;
      }
    }
    std::lock_guard lock(mu);
    --warming;
    cv.notify_all();
  }

  void run_worker(const std::stop_token& stop, WorkerState w) {
    std::error_code ec;
    if (!w.urgent && config.warm_up) warm_up_worker(w);
    while (auto job = next_job(w, stop)) {
      ++job->tries;
      ProofResult result;
      if (job->batch->options != nullptr && job->batch->options->cancel != nullptr &&
          job->batch->options->cancel->cancelled()) {
        result.key = job->request.key;
        result.proof = Status::cancelled("batch cancelled before this proof started");
      } else {
        result = attempt(w, *job);
      }
      const bool ok = result.proof.ok();
      {
        std::lock_guard lock(mu);
        auto& s = stats[static_cast<std::size_t>(w.id)];
        if (ok) {
          ++s.proofs;
          s.total_ms += result.witness_ms + result.prove_ms + result.verify_ms;
        } else if (result.proof.status().code() != StatusCode::kCancelled) {
          ++s.errors;
        }
        if (w.urgent) --urgent_running;
      }
      if (!ok && retryable(result.proof.status())) {
        // A fresh worker: this worker's processes are replaced before its next proof.
        w.bb.reset();
        w.witness.reset();
        {
          std::lock_guard lock(mu);
          ++stats[static_cast<std::size_t>(w.id)].restarts;
        }
        if (job->tries < config.max_tries) {
          job->avoid_worker = w.id;
          std::lock_guard lock(mu);
          (w.urgent ? urgent_queue : queue).push_front(std::move(*job));
          cv.notify_all();
          continue;
        }
        result.proof = result.proof.status().with_context("gave up after " + std::to_string(job->tries) + " tries");
      }
      cv.notify_all();  // an urgent proof ended: background workers may go on
      finish(*job, std::move(result));
    }
    w.bb.reset();
    w.witness.reset();
    fs::remove_all(w.scratch, ec);
  }
};

ProverPool::ProverPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProverPool::~ProverPool() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->threads_.clear();  // jthreads join
  std::error_code ec;
  fs::remove_all(impl_->scratch, ec);
}

std::size_t ProverPool::default_batch_size() {
  return std::clamp<std::size_t>(mem_available_bytes() / 4 / kProofInFlightBytes, 16, 4096);
}

namespace {

// The circuit's verification key: from `cache_dir` when it holds one (keyed by the bytecode's
// content, so a changed circuit never reuses an old key), else computed by `bb` and cached there.
Result<std::vector<std::uint8_t>> load_or_compute_vk(bb::Process& bb, const bb::Circuit& circuit,
                                                     const fs::path& cache_dir) {
  std::vector<std::uint8_t> vk;
  std::string cache_name;
  if (!cache_dir.empty()) {
    unsigned char digest[32];
    crypto_hash_sha256(digest, circuit.bytecode.data(), circuit.bytecode.size());
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : digest) {
      cache_name += kHex[c >> 4];
      cache_name += kHex[c & 15];
    }
    std::ifstream in(cache_dir / ("vk-" + cache_name), std::ios::binary);
    if (in) vk.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (!vk.empty()) return vk;
  auto computed = bb.compute_vk(circuit);
  if (!computed.ok()) return computed.status();
  vk = std::move(*computed);
  if (!cache_name.empty()) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    const fs::path tmp = cache_dir / ("vk-" + cache_name + ".tmp" + std::to_string(::getpid()));
    std::ofstream(tmp, std::ios::binary)
        .write(reinterpret_cast<const char*>(vk.data()), static_cast<std::streamsize>(vk.size()));
    fs::rename(tmp, cache_dir / ("vk-" + cache_name), ec);
  }
  return vk;
}

}  // namespace

Result<std::unique_ptr<ProverPool>> ProverPool::start(const ProverConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  if (impl->config.scratch_root.empty()) impl->config.scratch_root = fs::temp_directory_path();
  remove_stale_scratch_dirs(impl->config.scratch_root);

  impl->cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const auto mem_workers = static_cast<int>(std::max<std::uint64_t>(1, mem_available_bytes() / kWorkerMemoryBytes));
  impl->workers = config.workers > 0 ? config.workers : std::min(impl->cores, mem_workers);
  impl->threads = config.threads_per_worker > 0 ? config.threads_per_worker : std::max(1, impl->cores / impl->workers);
  if (config.max_tries < 1) return Status::invalid_argument("max_tries must be at least 1");

  // Circuits, their sizes and verification keys: computed once by one bb process.
  bb::ProcessOptions po{config.bb_binary, impl->cores, {}, {}, config.crs_dir};
  auto setup = bb::Process::start(po);
  if (!setup.ok()) return setup.status();
  std::uint32_t max_dyadic = 0;
  for (const auto& name : config.circuits) {
    const fs::path artifact = config.circuits_dir / (name + ".json");
    auto circuit = bb::load_circuit_artifact(artifact, name);
    if (!circuit.ok()) return circuit.status();
    auto info = (*setup)->circuit_info(*circuit);
    if (!info.ok()) return info.status().with_context("sizing circuit " + name);
    max_dyadic = std::max(max_dyadic, info->num_gates_dyadic);
    impl->infos[name] = *info;
    impl->artifacts[name] = fs::absolute(artifact);
    impl->circuits[name] = std::move(*circuit);
  }
  BUCKETPAY_RETURN_IF_ERROR(bb::check_crs(config.crs_dir, bb::crs_points_for(max_dyadic)));
  for (const auto& [name, circuit] : impl->circuits) {
    auto vk = load_or_compute_vk(**setup, circuit, config.vk_cache_dir);
    if (!vk.ok()) return vk.status().with_context("verification key of " + name);
    impl->vks[name] = std::move(*vk);
  }
  setup->reset();
  if (config.warm_up) impl->warm_up = warm_up_requests(impl->circuits);

  BUCKETPAY_ASSIGN_OR_RETURN(impl->scratch, make_pool_scratch(impl->config.scratch_root));
  for (int i = 0; i <= impl->workers; ++i) {
    if (Status st = make_worker_scratch(impl->scratch / ("worker-" + std::to_string(i))); !st.is_ok()) {
      std::error_code ec;
      fs::remove_all(impl->scratch, ec);
      return st;
    }
  }
  // Workers 0..n-1 do background work; worker n is the latency-mode worker.
  impl->stats.resize(static_cast<std::size_t>(impl->workers) + 1);
  impl->warming = config.warm_up ? impl->workers : 0;
  Impl* raw = impl.get();
  for (int i = 0; i <= impl->workers; ++i) {
    Impl::WorkerState w;
    w.id = i;
    w.urgent = i == impl->workers;
    w.scratch = impl->scratch / ("worker-" + std::to_string(i));
    auto& s = impl->stats[static_cast<std::size_t>(i)];
    s.worker = i;
    s.urgent = w.urgent;
    s.threads = w.urgent ? impl->cores : impl->threads;
    impl->threads_.emplace_back(
        [raw, w = std::move(w)](const std::stop_token& st) mutable { raw->run_worker(st, std::move(w)); });
  }
  {
    std::unique_lock lock(impl->mu);
    impl->cv.wait(lock, [&] { return impl->warming == 0; });
  }
  return std::unique_ptr<ProverPool>(new ProverPool(std::move(impl)));
}

std::vector<ProofResult> ProverPool::prove_all(const std::vector<ProofRequest>& requests, const BatchOptions& options) {
  Batch batch;
  batch.results.resize(requests.size());
  batch.total = requests.size();
  batch.options = &options;
  const std::size_t chunk = options.batch_size > 0 ? options.batch_size : default_batch_size();
  for (std::size_t start = 0; start < requests.size(); start += chunk) {
    const std::size_t end = std::min(requests.size(), start + chunk);
    {
      std::lock_guard block(batch.mu);
      batch.remaining = end - start;
    }
    {
      std::lock_guard lock(impl_->mu);
      for (std::size_t i = start; i < end; ++i) {
        impl_->queue.push_back(Job{requests[i], i, 0, -1, &batch});
      }
    }
    impl_->cv.notify_all();
    std::unique_lock block(batch.mu);
    batch.done_cv.wait(block, [&] { return batch.remaining == 0; });
  }
  return std::move(batch.results);
}

ProofResult ProverPool::prove_now(const ProofRequest& request) {
  Batch batch;
  batch.results.resize(1);
  batch.total = 1;
  batch.remaining = 1;
  BatchOptions options;
  batch.options = &options;
  {
    std::lock_guard lock(impl_->mu);
    impl_->urgent_queue.push_back(Job{request, 0, 0, -1, &batch});
  }
  impl_->cv.notify_all();
  std::unique_lock block(batch.mu);
  batch.done_cv.wait(block, [&] { return batch.remaining == 0; });
  return std::move(batch.results[0]);
}

std::vector<WorkerStats> ProverPool::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

int ProverPool::workers() const { return impl_->workers; }
int ProverPool::threads_per_worker() const { return impl_->threads; }

Result<std::vector<std::uint8_t>> ProverPool::verification_key(const std::string& circuit) const {
  auto it = impl_->vks.find(circuit);
  if (it == impl_->vks.end()) return Status::not_found("no circuit " + circuit);
  return it->second;
}

Result<bb::Process::CircuitInfo> ProverPool::circuit_info(const std::string& circuit) const {
  auto it = impl_->infos.find(circuit);
  if (it == impl_->infos.end()) return Status::not_found("no circuit " + circuit);
  return it->second;
}

}  // namespace bucketpay
