// The seed's precompute pipeline, rebuilt faithfully (docs/engine.md, "Baseline"): per proof a
// private temp dir, the inputs written to a file, a FRESH `node` process computing the witness
// (scripts/baseline_witness.mjs, standing in for the seed's `nargo execute`), then a `bb prove`
// process with the verification key written once up front, then the temp dir removed. Proofs run
// through a pool of `workers` concurrent pipelines (the seed's WORKER_POOL_SIZE = 10) or one by one.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bucketpay/bb.h"
#include "bucketpay/status.h"
#include "fixture.h"

namespace bucketpay::bench {

struct BaselineConfig {
  std::filesystem::path node_binary = "node";
  std::filesystem::path witness_script;  // scripts/baseline_witness.mjs
  std::filesystem::path bb_binary;
  std::filesystem::path crs_dir;
  std::map<std::string, std::filesystem::path> artifacts;  // circuit name -> artifact JSON
  std::filesystem::path tmp_root;                          // where the per-proof dirs go
};

struct BaselineRun {
  double seconds = 0;                 // wall clock, first spawn to last temp dir removed
  double witness_process_s = 0;       // summed over proofs: the fresh node processes
  double prove_process_s = 0;         // summed over proofs: the bb prove processes
  std::vector<bb::ProofData> proofs;  // read back before each temp dir is removed, for checking
};

class Baseline {
 public:
  // Writes each circuit's verification key once (`bb write_vk`), as the seed's set-up did.
  static Result<Baseline> prepare(const BaselineConfig& config);

  // Proves every input with `workers` concurrent pipelines (1: sequential).
  Result<BaselineRun> run(const std::vector<ProofInputs>& proofs, int workers) const;

 private:
  explicit Baseline(BaselineConfig config) : config_(std::move(config)) {}
  Status prove_one(const ProofInputs& in, bb::ProofData& out, double& witness_s, double& prove_s) const;

  BaselineConfig config_;
  std::map<std::string, std::filesystem::path> vks_;
};

// Runs argv to completion (stdin /dev/null, stdout and stderr to `log`); fails on a non-zero exit.
Status run_command(const std::vector<std::string>& argv, const std::filesystem::path& log);

}  // namespace bucketpay::bench
