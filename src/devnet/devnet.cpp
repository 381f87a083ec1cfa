#include "bucketpay/devnet.h"

#include <nlohmann/json.hpp>

namespace bucketpay::devnet {

Status set_balance(eth::Rpc& rpc, const eth::Address& account, const eth::U256& wei) {
  const nlohmann::json params = nlohmann::json::array({account.to_hex(), wei.to_quantity()});
  Result<std::string> r = rpc.raw_request("anvil_setBalance", params.dump());
  if (!r.ok()) {
    return r.status().with_context("setting the balance of " + account.to_hex() + " (a development node?)");
  }
  return Status::ok();
}

}  // namespace bucketpay::devnet
