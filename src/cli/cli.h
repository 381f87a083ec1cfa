// The `bucketpay` command line: parses arguments and dispatches to the library.
//
// Exit status: 0 on success, 2 for invalid input (a one-line "bucketpay: error: ..." on stderr),
// 1 for any other failure (I/O, prover, database).
#pragma once

#include <iosfwd>

namespace bucketpay::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Runs the CLI with the given arguments, writing to out and err. Never throws.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace bucketpay::cli
