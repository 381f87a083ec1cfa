// What `bucketpay keeper` last did, kept in the store (a wallet setting) so that other processes
// (the dashboard of `bucketpay serve`) can say whether it runs: each round records itself, and a
// keeper that stops cleanly says so. A keeper killed with -9 leaves its last round, which grows old.
//
// Thread safety: as the store's. Errors: the store's; a stored value that does not parse is
// kCorruption.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay {

struct KeeperState {
  std::int64_t started_ms = 0;     // when this keeper started (Unix ms)
  std::int64_t last_round_ms = 0;  // when its last round ended (0: none yet)
  int interval_s = 0;              // seconds between rounds
  std::uint64_t rounds = 0;
  std::uint64_t splits = 0;                // in its last round
  std::uint64_t proofs = 0;                // spend proofs made in its last round
  std::vector<std::string> errors;         // of its last round
  std::optional<std::int64_t> stopped_ms;  // it stopped cleanly then

  // "running" (a round within 3 intervals + 60 s of `now_ms`), "stopped", or "stale" (it neither
  // ran a round lately nor said it stopped: killed, or its machine is gone).
  [[nodiscard]] std::string state(std::int64_t now_ms) const;
};

Status save_keeper_state(SettingsStore& store, std::string_view wallet, const KeeperState& state);
// None when no keeper ever ran for the wallet.
Result<std::optional<KeeperState>> load_keeper_state(SettingsStore& store, std::string_view wallet);

}  // namespace bucketpay
