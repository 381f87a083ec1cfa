// Decoding bb's msgpack API answers: one frame body (without its 4-byte length) per function,
// checked field by field. Internal to src/bb; exposed for the unit tests and the fuzzer
// (bb_response_fuzzer.cpp), since a frame is outside input (another program's output).
//
// Errors: a frame that is not msgpack, not [Name, {fields}], or lacks a field of the right type is
// kCorruption; bb's ["ErrorResponse", {message}] is kInternal with its message. Never throws.
// Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/bb.h"

namespace bucketpay::bb::response {

Result<std::array<Fr, 4>> poseidon2_permutation(std::span<const std::uint8_t> frame);
Result<Fr> poseidon2_hash(std::span<const std::uint8_t> frame);
Result<Process::CircuitInfo> circuit_info(std::span<const std::uint8_t> frame);
Result<std::vector<std::uint8_t>> compute_vk(std::span<const std::uint8_t> frame);
Result<ProofData> prove(std::span<const std::uint8_t> frame);
Result<bool> verify(std::span<const std::uint8_t> frame);
Result<std::string> solidity_verifier(std::span<const std::uint8_t> frame);

}  // namespace bucketpay::bb::response
