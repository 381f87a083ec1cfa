#include "baseline.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

extern char** environ;

namespace bucketpay::bench {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string read_text(const fs::path& p, std::size_t max_bytes) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

Result<std::vector<std::uint8_t>> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::io_error("cannot read " + p.string());
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

Result<fs::path> make_temp_dir(const fs::path& root, const std::string& prefix) {
  std::string tmpl = (root / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::io_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  return fs::path(tmpl);
}

}  // namespace

Status run_command(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::unavailable("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::internal("waitpid: " + std::string(std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::internal(fs::path(argv[0]).filename().string() + " " + (argv.size() > 1 ? argv[1] : "") +
                            " failed (status " + std::to_string(status) + "): " + read_text(log, 600));
  }
  return Status::ok();
}

Result<Baseline> Baseline::prepare(const BaselineConfig& config) {
  Baseline b(config);
  std::error_code ec;
  fs::create_directories(config.tmp_root, ec);
  for (const auto& [name, artifact] : config.artifacts) {
    const fs::path dir = config.tmp_root / ("vk-" + name);
    fs::create_directories(dir, ec);
    BUCKETPAY_RETURN_IF_ERROR(run_command({config.bb_binary.string(), "write_vk", "-c", config.crs_dir.string(), "-b",
                                           artifact.string(), "-o", dir.string(), "-t", "evm"},
                                          dir / "log"));
    if (!fs::exists(dir / "vk")) return Status::internal("bb write_vk wrote no " + (dir / "vk").string());
    b.vks_[name] = dir / "vk";
  }
  return b;
}

Status Baseline::prove_one(const ProofInputs& in, bb::ProofData& out, double& witness_s, double& prove_s) const {
  const auto artifact = config_.artifacts.find(in.circuit);
  if (artifact == config_.artifacts.end()) return Status::invalid_argument("no artifact for " + in.circuit);
  // The seed's worker isolation: a private dir per proof (its Prover.toml, witness and proof).
  auto dir = make_temp_dir(config_.tmp_root, "zk-worker-");
  if (!dir.ok()) return dir.status();
  Status st = [&]() -> Status {
    std::ofstream(*dir / "inputs.json") << in.inputs_json;
    auto t0 = Clock::now();
    BUCKETPAY_RETURN_IF_ERROR(
        run_command({config_.node_binary.string(), config_.witness_script.string(), artifact->second.string(),
                     (*dir / "inputs.json").string(), (*dir / "witness.gz").string()},
                    *dir / "node.log"));
    witness_s = seconds_since(t0);
    std::error_code ec;
    fs::create_directories(*dir / "out", ec);
    t0 = Clock::now();
    BUCKETPAY_RETURN_IF_ERROR(run_command({config_.bb_binary.string(), "prove", "-c", config_.crs_dir.string(), "-b",
                                           artifact->second.string(), "-w", (*dir / "witness.gz").string(), "-o",
                                           (*dir / "out").string(), "-t", "evm", "-k", vks_.at(in.circuit).string()},
                                          *dir / "bb.log"));
    prove_s = seconds_since(t0);
    auto proof = read_bytes(*dir / "out" / "proof");
    if (!proof.ok()) return proof.status();
    auto inputs = read_bytes(*dir / "out" / "public_inputs");
    if (!inputs.ok()) return inputs.status();
    if (proof->empty() || inputs->size() % 32 != 0) return Status::internal("bb prove wrote a malformed proof");
    out.proof = std::move(*proof);
    out.public_inputs.clear();
    for (std::size_t i = 0; i < inputs->size(); i += 32) {
      auto fr = Fr::from_bytes(std::span<const std::uint8_t, 32>(inputs->data() + i, 32));
      if (!fr.ok()) return fr.status();
      out.public_inputs.push_back(*fr);
    }
    return Status::ok();
  }();
  std::error_code ec;
  fs::remove_all(*dir, ec);
  return st;
}

Result<BaselineRun> Baseline::run(const std::vector<ProofInputs>& proofs, int workers) const {
  BaselineRun r;
  r.proofs.resize(proofs.size());
  std::vector<double> witness_s(proofs.size()), prove_s(proofs.size());
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  Status first_error = Status::ok();
  const auto t0 = Clock::now();
  {
    std::vector<std::jthread> pool;
    for (int w = 0; w < std::max(1, workers); ++w) {
      pool.emplace_back([&] {
        for (std::size_t i = next++; i < proofs.size(); i = next++) {
          Status st = prove_one(proofs[i], r.proofs[i], witness_s[i], prove_s[i]);
          if (!st.is_ok()) {
            std::lock_guard lock(mu);
            if (first_error.is_ok()) first_error = st;
          }
        }
      });
    }
  }
  r.seconds = seconds_since(t0);
  if (!first_error.is_ok()) return first_error;
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    r.witness_process_s += witness_s[i];
    r.prove_process_s += prove_s[i];
  }
  return r;
}

}  // namespace bucketpay::bench
