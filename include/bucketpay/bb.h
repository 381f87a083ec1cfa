// Barretenberg (bb), the prover: locating the pinned binary and the CRS, and a client for one
// persistent `bb msgpack run` process.
//
// bb's msgpack API: each frame is a 4-byte little-endian length and a msgpack body; a request is
// [[CommandName, {fields}]], a response [ResponseName, {fields}] or ["ErrorResponse", {message}]
// (docs/toolchain.md). One process reads the CRS once and then serves any
// number of requests, one at a time.
//
// Proof settings are always the EVM target with zero knowledge: keccak transcript, no IPA
// accumulation, ZK on. These are the settings `bb prove -t evm` uses and bb's Solidity verifier checks.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bucketpay/field.h"
#include "bucketpay/status.h"

namespace bucketpay::bb {

// The first of `candidates` that is an executable file, made absolute (the caller lists them in its
// order of precedence: --bb, $BUCKETPAY_BB, the installed copy). kFailedPrecondition naming every
// place it looked when none is.
Result<std::filesystem::path> locate_binary(const std::vector<std::filesystem::path>& candidates);

// The CRS directory: `option` (--crs DIR) if given, else `from_environment` ($BUCKETPAY_CRS) if
// given and not empty, else `home`/.bb-crs; always absolute (a relative one is taken from the
// current directory), as bb runs in a directory of its own.
std::filesystem::path crs_directory(const std::optional<std::filesystem::path>& option,
                                    const std::optional<std::filesystem::path>& from_environment,
                                    const std::filesystem::path& home);

// Checks that `dir` holds a BN254 CRS as bb reads it (bn254_g1.dat: 64-byte uncompressed affine
// points; bn254_g2.dat: 128 bytes) with at least `num_points` G1 points. A missing directory or
// file, or too few points, is a kFailedPrecondition error naming the directory and the number of
// points needed. bb itself reads the files (ProcessOptions::crs_dir), once per process.
Status check_crs(const std::filesystem::path& dir, std::uint32_t num_points);

// Points needed to prove a circuit of `circuit_size` rows (its dyadic size) : circuit_size + 1.
std::uint32_t crs_points_for(std::uint32_t circuit_size);

// A compiled circuit as bb's msgpack API wants it: the ACIR bytecode, gunzipped.
struct Circuit {
  std::string name;
  std::vector<std::uint8_t> bytecode;  // gunzipped msgpack ACIR
};

struct ProofData {
  std::vector<Fr> public_inputs;
  std::vector<std::uint8_t> proof;  // the proof's field elements, 32 bytes each, big-endian (bb's file format)
};

struct ProcessOptions {
  std::filesystem::path binary;       // the bb executable
  int threads = 0;                    // HARDWARE_CONCURRENCY for bb; 0: bb decides (all cores)
  std::filesystem::path stderr_path;  // where bb's log goes; empty: discarded
  std::filesystem::path cwd;          // bb's working directory; empty: inherit
  std::filesystem::path crs_dir;      // where bb may read CRS files itself (CRS_PATH; a relative path is
                                      // taken from this process's directory, not `cwd`); empty: none
};

// One persistent `bb msgpack run` process. It reads the CRS from ProcessOptions::crs_dir the first
// time it needs it and keeps it (bb's msgpack SrsInitSrs is not used: bb 5.0.0 still looked for
// the CRS on the network after it, while CRS_PATH works).
//
// Thread safety: not thread-safe; one thread uses a Process at a time. Each call blocks until bb
// answers. A call given a deadline that passes kills the process and returns kTimeout; after any
// kUnavailable or kTimeout the process is dead and must be replaced (alive() is false).
class Process {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;

  static Result<std::unique_ptr<Process>> start(const ProcessOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  Result<std::array<Fr, 4>> poseidon2_permutation(const std::array<Fr, 4>& inputs);
  // bb's Poseidon2 sponge hash of any number of inputs.
  Result<Fr> poseidon2_hash(std::span<const Fr> inputs);

  // The circuit's size in rows: as built (num_gates) and rounded up to a power of two (dyadic).
  struct CircuitInfo {
    std::uint32_t num_gates = 0;
    std::uint32_t num_gates_dyadic = 0;
  };
  Result<CircuitInfo> circuit_info(const Circuit& circuit);

  // The verification key (bytes) of a circuit, for the EVM/ZK settings.
  Result<std::vector<std::uint8_t>> compute_vk(const Circuit& circuit);
  // Proves a circuit for a gunzipped witness, using a precomputed verification key.
  Result<ProofData> prove(const Circuit& circuit, std::span<const std::uint8_t> vk,
                          std::span<const std::uint8_t> witness, Deadline deadline = std::nullopt);
  // True when the proof verifies under vk with these public inputs; false when it does not.
  Result<bool> verify(std::span<const std::uint8_t> vk, const ProofData& proof);
  // The Solidity verifier bb generates for vk (optimized: true for `--optimized`).
  Result<std::string> solidity_verifier(std::span<const std::uint8_t> vk, bool optimized);

  [[nodiscard]] bool alive() const { return alive_; }
  [[nodiscard]] int pid() const;

 private:
  struct Impl;
  explicit Process(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  bool alive_ = true;
  friend struct ProcessAccess;
};

// Gunzips data (the witness and artifact bytecode are gzip; bb's msgpack API wants them raw).
Result<std::vector<std::uint8_t>> gunzip(std::span<const std::uint8_t> data);
// Gzips data (bb's CLI reads gzip witnesses).
Result<std::vector<std::uint8_t>> gzip(std::span<const std::uint8_t> data);

// Reads a nargo/noir_wasm artifact JSON (bytecode = base64 of gzip ACIR) into a Circuit.
Result<Circuit> load_circuit_artifact(const std::filesystem::path& artifact_json, std::string name);

}  // namespace bucketpay::bb
