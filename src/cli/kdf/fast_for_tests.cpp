// Linked only into bucketpay-fastkdf and the tests (see key_derivation.h): a real wallet never gets here.
#include <cstdlib>
#include <string_view>

#include "key_derivation.h"

namespace bucketpay::cli {

VaultParams key_derivation_params() {
  const char* kdf = std::getenv("BUCKETPAY_KDF");  // NOLINT(concurrency-mt-unsafe): read-only use
  return kdf != nullptr && std::string_view(kdf) == "fast" ? VaultParams::fast() : VaultParams::moderate();
}

}  // namespace bucketpay::cli
