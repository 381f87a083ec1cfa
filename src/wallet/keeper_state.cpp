#include "bucketpay/keeper_state.h"

#include <nlohmann/json.hpp>

namespace bucketpay {
namespace {

using nlohmann::json;
constexpr std::string_view kSetting = "keeper_state";

}  // namespace

std::string KeeperState::state(std::int64_t now_ms) const {
  if (stopped_ms) return "stopped";
  const std::int64_t since = last_round_ms > 0 ? last_round_ms : started_ms;
  const std::int64_t allowed_ms = (3 * static_cast<std::int64_t>(interval_s) + 60) * 1000;
  return now_ms - since <= allowed_ms ? "running" : "stale";
}

Status save_keeper_state(SettingsStore& store, std::string_view wallet, const KeeperState& s) {
  const json j{{"started_ms", s.started_ms}, {"last_round_ms", s.last_round_ms},
               {"interval_s", s.interval_s}, {"rounds", s.rounds},
               {"splits", s.splits},         {"proofs", s.proofs},
               {"errors", s.errors},         {"stopped_ms", s.stopped_ms ? json(*s.stopped_ms) : json(nullptr)}};
  return store.put_setting(wallet, kSetting, j.dump());
}

Result<std::optional<KeeperState>> load_keeper_state(SettingsStore& store, std::string_view wallet) {
  auto text = store.get_setting(wallet, kSetting);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::optional<KeeperState>();
  const json j = json::parse(**text, nullptr, false);
  if (!j.is_object()) return Status::corruption("the keeper state of wallet " + std::string(wallet) + " is not JSON");
  try {
    KeeperState s;
    s.started_ms = j.at("started_ms").get<std::int64_t>();
    s.last_round_ms = j.at("last_round_ms").get<std::int64_t>();
    s.interval_s = j.at("interval_s").get<int>();
    s.rounds = j.at("rounds").get<std::uint64_t>();
    s.splits = j.at("splits").get<std::uint64_t>();
    s.proofs = j.at("proofs").get<std::uint64_t>();
    s.errors = j.at("errors").get<std::vector<std::string>>();
    if (!j.at("stopped_ms").is_null()) s.stopped_ms = j.at("stopped_ms").get<std::int64_t>();
    return std::optional<KeeperState>(std::move(s));
  } catch (const json::exception& e) {
    return Status::corruption("the keeper state of wallet " + std::string(wallet) + ": " + e.what());
  }
}

}  // namespace bucketpay
