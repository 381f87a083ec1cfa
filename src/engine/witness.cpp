#include "witness.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace bucketpay {

Result<std::unique_ptr<WitnessProcess>> WitnessProcess::start(const Options& options) {
  Subprocess::Options so;
  so.argv = {options.node_binary.string(), options.script.string()};
  for (const auto& [name, path] : options.circuits) so.argv.push_back(name + "=" + path.string());
  so.stderr_path = options.stderr_path;
  auto child = Subprocess::spawn(so);
  if (!child.ok()) return child.status().with_context("starting the witness process");
  auto p = std::unique_ptr<WitnessProcess>(new WitnessProcess(std::move(*child)));
  // A ping proves the process loaded its circuits and speaks the protocol.
  auto deadline = Subprocess::Clock::now() + std::chrono::seconds(60);
  auto pong = p->execute("__ping", "{}", deadline);
  if (!pong.ok() && !p->alive()) return pong.status().with_context("witness process did not start");
  return p;
}

namespace {

std::string collapse(std::string_view line) {
  std::string out;
  for (char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool names_an_error(const std::string& line) {
  const std::size_t colon = line.find(": ");
  if (colon == std::string::npos) return false;
  const std::string head = line.substr(0, colon);
  return head.size() >= 5 && head.compare(head.size() - 5, 5, "Error") == 0 && head.find(' ') == std::string::npos;
}

}  // namespace

std::string witness_error_line(std::string_view text, std::size_t max) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string line = collapse(text.substr(start, end - start));
    const bool frame = line.rfind("at ", 0) == 0 || line == "^" || line.rfind("Node.js v", 0) == 0;
    if (!line.empty() && !frame) lines.push_back(std::move(line));
    start = end + 1;
  }
  // The last line naming an error, else the server's last own line, else the first line.
  std::string chosen;
  for (const auto& line : lines) {
    if (names_an_error(line)) chosen = line;
  }
  for (auto it = lines.rbegin(); chosen.empty() && it != lines.rend(); ++it) {
    if (it->rfind("witness_server:", 0) == 0) chosen = *it;
  }
  if (chosen.empty() && !lines.empty()) chosen = lines.front();
  if (chosen.size() > max) chosen = chosen.substr(0, max - 3) + "...";
  return chosen;
}

Result<std::vector<std::uint8_t>> WitnessProcess::execute(const std::string& circuit, const std::string& inputs_json,
                                                          std::optional<Subprocess::Clock::time_point> deadline) {
  if (!alive_) return Status::unavailable("witness process is dead");
  const std::uint64_t id = next_id_++;
  std::string request = R"({"id":)" + std::to_string(id) + R"(,"circuit":)" + nlohmann::json(circuit).dump() +
                        R"(,"inputs":)" + inputs_json + "}";
  Status st = child_.write_frame(std::span(reinterpret_cast<const std::uint8_t*>(request.data()), request.size()));
  auto frame = st.is_ok() ? child_.read_frame(deadline, std::size_t{256} << 20) : Result<std::vector<std::uint8_t>>(st);
  if (!frame.ok()) {
    alive_ = false;
    child_.kill();
    child_.wait();
    std::string msg = "witness process: " + frame.status().message();
    if (auto tail = witness_error_line(child_.stderr_tail(2000)); !tail.empty()) msg += "; node said: " + tail;
    return Status(frame.status().code(), msg);
  }
  auto witness = parse_witness_response(*frame, id, circuit);
  if (!witness.ok() && witness.status().code() == StatusCode::kCorruption) {
    alive_ = false;
    child_.kill();
  }
  return witness;
}

Result<std::vector<std::uint8_t>> parse_witness_response(std::span<const std::uint8_t> frame, std::uint64_t id,
                                                         std::string_view circuit) {
  // Every field's type is checked before it is read: nlohmann's value() and get() throw on another type.
  const auto response = nlohmann::json::parse(frame.begin(), frame.end(), nullptr, false);
  const auto field = [&](const char* key) -> const nlohmann::json* {
    if (!response.is_object()) return nullptr;
    const auto it = response.find(key);
    return it == response.end() ? nullptr : &*it;
  };
  const nlohmann::json* got_id = field("id");
  const nlohmann::json* ok = field("ok");
  if (got_id == nullptr || !got_id->is_number_unsigned() || got_id->get<std::uint64_t>() != id || ok == nullptr ||
      !ok->is_boolean()) {
    return Status::corruption("witness process sent a malformed or out-of-order response");
  }
  if (!ok->get<bool>()) {
    const nlohmann::json* error = field("error");
    const std::string why = error != nullptr && error->is_string() ? error->get<std::string>() : "failed";
    return Status::invalid_argument("witness for " + std::string(circuit) + ": " + witness_error_line(why));
  }
  if (circuit == "__ping") return std::vector<std::uint8_t>{};
  const nlohmann::json* b64_field = field("witness");
  if (b64_field == nullptr || !b64_field->is_string()) {
    return Status::corruption("witness process response has no witness");
  }
  const std::string& b64 = b64_field->get_ref<const std::string&>();
  std::vector<std::uint8_t> witness(b64.size());
  std::size_t len = 0;
  if (sodium_base642bin(witness.data(), witness.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::corruption("witness process sent invalid base64");
  }
  witness.resize(len);
  return witness;
}

}  // namespace bucketpay
