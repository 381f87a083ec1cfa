// The AVX-512 IFMA Poseidon2 kernel (poseidon2_ifma.cpp). Internal to src/poseidon2.
#pragma once

#include "bucketpay/poseidon2.h"

namespace bucketpay::poseidon2::ifma {

// Whether this CPU (and OS) runs AVX-512F and AVX-512 IFMA instructions.
bool supported();

// Permutes states[0..7] in place, exactly as permute() does each. Requires supported().
void permute8(State* states);

}  // namespace bucketpay::poseidon2::ifma
