// CLI commands that use the store and the proving engine: init, note, precompute.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

namespace bucketpay::cli {

using CommandList = std::vector<std::pair<CLI::App*, std::function<int()>>>;

// Registers the commands on `app`; each handler runs when its subcommand was parsed.
CommandList add_engine_commands(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace bucketpay::cli
