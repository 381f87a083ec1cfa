// `bucketpay deploy`: the verifiers and the Pool (and a TestToken on request) on any EVM chain,
// through deployment::deploy (receipts waited for, code verified), written as the contracts file that
// `init --contracts` reads.
#pragma once

#include <ostream>

#include "engine_commands.h"

namespace bucketpay::cli {

CommandList add_deploy_command(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace bucketpay::cli
