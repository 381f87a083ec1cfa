// The proving pool: persistent Node witness processes and persistent `bb msgpack run` processes,
// grouped in workers, proving many proofs in parallel.
//
// A worker is one thread that owns one witness process (noir_js, scripts/witness_server.mjs), one
// bb process (CRS loaded once, verification keys computed once per circuit) and a private scratch
// directory (their logs). The pool's scratch directory is made by mkdtemp under
// ProverConfig::scratch_root (<root>/bucketpay-worker-<pid>-XXXXXX, mode 0700, one worker-<i>
// directory inside per worker), removed when the pool stops and, after a crash, at the next start.
// A proof is: inputs (JSON, computed natively by the caller) -> witness (Node) -> proof (bb) ->
// verification (bb CircuitVerify). A proof that does not verify is never returned.
//
// Scheduling: by default one worker per core with one bb thread each (throughput: one proof per
// core beats one proof on all cores, see docs/engine.md). prove_now() is the latency mode: an
// urgent proof goes to a dedicated worker whose bb uses every core, and background workers do not
// start new proofs until it is done.
//
// Failures: a proof whose witness cannot be computed (the inputs break a constraint) fails at once.
// Any other failure (a process crashed, timed out, or bb failed) is retried on a fresh worker,
// at most max_tries times in all; then that proof gets its error while the others go on.
//
// Thread safety: all public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bucketpay/bb.h"
#include "bucketpay/domain.h"
#include "bucketpay/status.h"

namespace bucketpay {

struct ProverConfig {
  std::filesystem::path bb_binary;     // the pinned bb (bb::locate_binary)
  std::filesystem::path crs_dir;       // bb::crs_directory
  std::filesystem::path circuits_dir;  // compiled artifacts: <dir>/<circuit>.json
  // Which artifacts to load (by name: circuit_name(), bucketpay/domain.h).
  std::vector<std::string> circuits = {std::string(circuit_name(CircuitKind::kSpend)),
                                       std::string(circuit_name(CircuitKind::kSplit))};
  std::filesystem::path node_binary = "node";
  std::filesystem::path witness_server;              // scripts/witness_server.mjs
  std::filesystem::path scratch_root;                // empty: the system temp directory
  std::filesystem::path vk_cache_dir;                // empty: no on-disk cache (keys computed at start)
  int workers = 0;                                   // 0: one per core, bounded by available memory
  int threads_per_worker = 0;                        // 0: cores / workers (1 with the defaults)
  std::chrono::milliseconds proof_timeout{120'000};  // witness + proof + verification
  int max_tries = 3;
  // start() starts every background worker's processes and has each make (and discard) three
  // throwaway proofs of every known circuit (spend, split) before returning, so that real
  // proofs do not pay Node's start, noir_js's WebAssembly set-up and bb's slow first proofs
  // (measured by bench/precompute: docs/engine.md). false: processes start on a worker's first proof.
  bool warm_up = true;
};

// One proof to make. `inputs_json` is the circuit's input map: a JSON object of ABI parameter
// names to 0x-hex strings (nested arrays for arrays), see docs/witness-protocol.md.
struct ProofRequest {
  std::string key;      // the caller's name for it (e.g. the precompute key)
  std::string circuit;  // the artifact's name (circuit_name())
  std::string inputs_json;
  // When not empty, the proof's public inputs must equal these (else the proof is discarded).
  std::vector<Fr> expected_public_inputs;
};

struct ProofResult {
  std::string key;
  Result<bb::ProofData> proof = Status::internal("not proved");
  int worker = -1;  // the worker that made it (or last tried)
  int tries = 0;
  double witness_ms = 0;
  double prove_ms = 0;
  double verify_ms = 0;
};

struct WorkerStats {
  int worker = 0;
  int threads = 0;
  bool urgent = false;  // the latency-mode worker
  std::uint64_t proofs = 0;
  std::uint64_t errors = 0;
  std::uint64_t restarts = 0;
  double total_ms = 0;  // witness + prove + verify of successful proofs
  [[nodiscard]] double mean_ms() const { return proofs == 0 ? 0 : total_ms / static_cast<double>(proofs); }
};

// Cancels a batch: proofs not yet started finish with kCancelled.
class CancelToken {
 public:
  void cancel() { cancelled_.store(true); }
  [[nodiscard]] bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

struct BatchOptions {
  // Called (from a worker thread, one call at a time) after each proof finishes or fails.
  std::function<void(const ProofResult& result, std::size_t done, std::size_t total)> on_result;
  const CancelToken* cancel = nullptr;
  // Proofs handed to the workers at a time; 0: from available memory (see docs/engine.md).
  std::size_t batch_size = 0;
};

class ProverPool {
 public:
  // Starts the workers: loads the circuits, computes (or loads) their verification keys, loads the
  // CRS (a missing or too small one is a clear kFailedPrecondition error), starts the processes.
  static Result<std::unique_ptr<ProverPool>> start(const ProverConfig& config);
  // Stops the workers, ends their processes, removes their scratch directories.
  ~ProverPool();
  ProverPool(const ProverPool&) = delete;
  ProverPool& operator=(const ProverPool&) = delete;

  // Proves every request; returns one result per request, in order. Blocks until all are done.
  std::vector<ProofResult> prove_all(const std::vector<ProofRequest>& requests, const BatchOptions& options = {});
  // Latency mode: one urgent proof with all threads, ahead of background work.
  ProofResult prove_now(const ProofRequest& request);

  [[nodiscard]] std::vector<WorkerStats> stats() const;
  [[nodiscard]] int workers() const;
  [[nodiscard]] int threads_per_worker() const;
  // The verification key of a loaded circuit.
  [[nodiscard]] Result<std::vector<std::uint8_t>> verification_key(const std::string& circuit) const;
  // The circuit's size in rows (bb's count).
  [[nodiscard]] Result<bb::Process::CircuitInfo> circuit_info(const std::string& circuit) const;

  // The proofs in flight at once when BatchOptions::batch_size is 0, from MemAvailable.
  static std::size_t default_batch_size();

  struct Impl;

 private:
  explicit ProverPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Removes scratch directories left by pools of processes that no longer run (after a crash): only
// real directories of this user with no access for others (as a pool makes them); a symlink or a
// directory someone else made under such a name is left alone.
void remove_stale_scratch_dirs(const std::filesystem::path& scratch_root);

}  // namespace bucketpay
