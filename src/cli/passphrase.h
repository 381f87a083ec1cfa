// Passphrases and other secrets typed on the terminal, or given in the environment by scripts and
// services: only the CLI reads either (the libraries take them as arguments).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bucketpay/status.h"

namespace bucketpay::cli {

// The passphrase from the environment variable BUCKETPAY_PASSPHRASE when it is set (for services
// and scripts; the variable is the caller's to protect), else read from the controlling terminal
// (/dev/tty) after writing `prompt` there, with echo off and restored afterwards. Errors: no
// variable and no terminal (failed precondition, naming both sources), a read error or end of
// input (I/O error), an empty passphrase (invalid argument).
Result<std::string> read_passphrase(std::string_view prompt);

// A secret typed on the controlling terminal after `prompt`, echo off (as read_passphrase does);
// kFailedPrecondition with `without_terminal` when there is none.
Result<std::string> read_from_terminal(std::string_view prompt, std::string_view without_terminal);

// A passphrase for a new store: from BUCKETPAY_PASSPHRASE as read_passphrase (scripts and services
// choose their own), else asked on the terminal twice. On the terminal, one shorter than
// `min_length` characters is refused (kInvalidArgument, before asking again) unless `allow_short`,
// and two answers that differ are refused (kInvalidArgument). Errors otherwise as read_passphrase.
Result<std::string> read_new_passphrase(std::string_view prompt, std::string_view again_prompt, std::size_t min_length,
                                        bool allow_short);

}  // namespace bucketpay::cli
