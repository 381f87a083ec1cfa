// CLI commands of the relayer (bucketpay/relay.h, docs/relay.md): `bucketpay relay init`, `serve`
// and `status`. The same commands make the `bucketpay-relay` binary (relay_main.cpp), the relayer
// alone, without the wallet and the prover.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>

#include "engine_commands.h"

namespace bucketpay::cli {

// Registers `relay` and its subcommands on `app`; each handler runs when its subcommand was parsed.
CommandList add_relay_commands(CLI::App& app, std::ostream& out, std::ostream& err);
// Registers init, serve and status directly on `app` (the bucketpay-relay binary's top level).
CommandList add_relay_subcommands(CLI::App& app, std::ostream& out, std::ostream& err);

// `bucketpay-relay ARGS`: exit status as `bucketpay`'s (cli.h). Never throws.
int run_relay_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace bucketpay::cli
