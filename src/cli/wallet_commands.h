// CLI commands of the payments wallet: init, deposit, sync, balance, history, inventory,
// rebalance, pay, key show/backup/restore (bucketpay/wallet.h).
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>

#include "engine_commands.h"

namespace bucketpay::cli {

CommandList add_wallet_commands(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace bucketpay::cli
