// Devnet: what only a development chain (anvil) allows, for the demo, the end-to-end tests and the
// benchmarks (`bucketpay-devnet`). Not linked into the shipped `bucketpay` or `bucketpay-relay`.
#pragma once

#include "bucketpay/chain.h"
#include "bucketpay/status.h"

namespace bucketpay::devnet {

// Gives `account` `wei` of ether (anvil_setBalance; development nodes only).
Status set_balance(eth::Rpc& rpc, const eth::Address& account, const eth::U256& wei);

}  // namespace bucketpay::devnet
