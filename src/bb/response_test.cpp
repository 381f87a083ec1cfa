// bb's answer frames, decoded without a process (response.h); the round trip through a real bb
// is in bb_test.cpp.
#include "response.h"

#include <gtest/gtest.h>

#include <vector>

namespace bucketpay::bb {
namespace {

using Bytes = std::vector<std::uint8_t>;

// msgpack by hand (the spec's encodings), so these frames do not come from the code under test.
Bytes str(std::string_view s) {
  Bytes b{static_cast<std::uint8_t>(0xa0 | s.size())};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes fr(std::uint8_t v) {
  Bytes b{0xc4, 32};
  b.resize(2 + 32);
  b.back() = v;
  return b;
}

TEST(BbResponse, AProofAndAVerdict) {
  const Bytes prove = cat({{0x92},
                           str("CircuitProveResponse"),
                           {0x82},
                           str("public_inputs"),
                           {0x91},
                           fr(5),
                           str("proof"),
                           {0x92},
                           fr(1),
                           fr(2)});
  auto proof = response::prove(prove);
  ASSERT_TRUE(proof.ok()) << proof.status().to_string();
  ASSERT_EQ(proof->public_inputs.size(), 1U);
  EXPECT_EQ(proof->public_inputs[0], Fr::from_u64(5));
  EXPECT_EQ(proof->proof.size(), 64U);
  auto verified = response::verify(cat({{0x92}, str("CircuitVerifyResponse"), {0x81}, str("verified"), {0xc3}}));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
  auto error = response::verify(cat({{0x92}, str("ErrorResponse"), {0x81}, str("message"), str("no")}));
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kInternal);
}

TEST(BbResponse, WrongShapesAndTypesAreCorruption) {
  for (const Bytes& frame : {Bytes{}, Bytes{0xc1}, cat({{0x91}, str("CircuitVerifyResponse")}),
                             cat({{0x92}, str("CircuitProveResponse"), {0x81}, str("verified"), {0xc3}}),
                             cat({{0x92}, str("CircuitVerifyResponse"), {0x81}, str("verified"), {0x01}})}) {
    auto r = response::verify(frame);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  auto short_field = response::prove(cat(
      {{0x92}, str("CircuitProveResponse"), {0x82}, str("public_inputs"), {0x91, 0xc4, 1, 7}, str("proof"), {0x90}}));
  ASSERT_FALSE(short_field.ok());
  EXPECT_EQ(short_field.status().code(), StatusCode::kCorruption);
}

// A frame whose array or map header claims 2^32 - 1 elements (found while writing bb_response_fuzzer):
// msgpack-c sized the elements from the header before reading them and asked for 128 GiB
// (the ASan build aborts on it: this test fails there without the limit; a plain build got bad_alloc).
// Now no container may claim more elements than the frame has bytes.
TEST(BbResponse, ContainersClaimingMoreElementsThanTheFrameHasBytesAreRefused) {
  for (const Bytes& frame : {Bytes{0xdd, 0xff, 0xff, 0xff, 0xff}, Bytes{0xdf, 0xff, 0xff, 0xff, 0xff},
                             cat({{0x92}, str("CircuitProveResponse"), {0x81}, str("proof"), {0xdd, 0x10, 0, 0, 0}})}) {
    auto r = response::prove(frame);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

}  // namespace
}  // namespace bucketpay::bb
