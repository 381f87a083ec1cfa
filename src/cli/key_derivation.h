// The cost of the key derivation (Argon2id) for a new store's vault and for a backup file.
//
// Which definition a binary gets is chosen when it is linked, so that the shipped binaries cannot be
// switched to a cheap derivation: `bucketpay` and `bucketpay-relay` link kdf/moderate.cpp (always
// VaultParams::moderate()); `bucketpay-fastkdf`, the CLI the tests run (built only with the tests,
// never installed), links kdf/fast_for_tests.cpp, which takes BUCKETPAY_KDF=fast for libsodium's
// minimums. Both are in src/cli/kdf/, which the module library (src/cli/*.cpp) does not take in.
#pragma once

#include "bucketpay/vault.h"

namespace bucketpay::cli {

// The parameters for a vault or a backup made now. Thread-safe; never fails.
VaultParams key_derivation_params();

}  // namespace bucketpay::cli
