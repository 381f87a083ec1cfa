#include "key_derivation.h"

namespace bucketpay::cli {

VaultParams key_derivation_params() { return VaultParams::moderate(); }

}  // namespace bucketpay::cli
