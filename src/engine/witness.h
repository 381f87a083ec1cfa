// A client for one persistent Node witness process (scripts/witness_server.mjs, protocol in
// docs/witness-protocol.md): 4-byte little-endian length frames carrying JSON.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/status.h"
#include "bucketpay/subprocess.h"

namespace bucketpay {

// One line out of what Node printed (an error message, a stack trace, a stderr tail): the line
// naming the error ("Error: ...", "witness_server: ..."), else the first that is not a stack
// frame; whitespace collapsed, at most `max` characters.
std::string witness_error_line(std::string_view text, std::size_t max = 300);

// Decodes one answer frame of the witness server to request `id` for `circuit` (docs/witness-protocol.md):
// {"id": N, "ok": true, "witness": base64} -> the witness bytes (empty for "__ping");
// {"id": N, "ok": false, "error": text} -> kInvalidArgument naming the circuit and the error.
// Anything else (not JSON, another id, a field of the wrong type, bad base64) is kCorruption: the
// process is then out of step and must be replaced. Never throws. Pure; safe from any thread.
Result<std::vector<std::uint8_t>> parse_witness_response(std::span<const std::uint8_t> frame, std::uint64_t id,
                                                         std::string_view circuit);

class WitnessProcess {
 public:
  struct Options {
    std::filesystem::path node_binary = "node";
    std::filesystem::path script;
    std::map<std::string, std::filesystem::path> circuits;  // name -> artifact JSON
    std::filesystem::path stderr_path;
  };

  static Result<std::unique_ptr<WitnessProcess>> start(const Options& options);

  // Executes a circuit on its inputs; returns the gunzipped witness. kInvalidArgument when the
  // inputs do not satisfy the circuit (not retryable); kUnavailable/kTimeout when the process died
  // or did not answer (the process is then dead: alive() is false).
  Result<std::vector<std::uint8_t>> execute(const std::string& circuit, const std::string& inputs_json,
                                            std::optional<Subprocess::Clock::time_point> deadline);
  [[nodiscard]] bool alive() const { return alive_; }

 private:
  explicit WitnessProcess(Subprocess child) : child_(std::move(child)) {}
  Subprocess child_;
  std::uint64_t next_id_ = 1;
  bool alive_ = true;
};

}  // namespace bucketpay
