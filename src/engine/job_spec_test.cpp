// The job spec's one codec: what the engine writes reads back, and stored data that does not
// decode is a kCorruption Status naming what is wrong, never an exception or a default.
#include "bucketpay/job_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace bucketpay {
namespace {

TEST(JobSpec, SpendAndSplitRoundTrip) {
  const JobSpec spend{CircuitKind::kSpend, 42, Fr::from_u64(0xA11CE), 0, Fr::zero()};
  auto back = decode_job_spec(CircuitKind::kSpend, encode_job_spec(spend));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, spend);
  const JobSpec split{CircuitKind::kSplit, 7, Fr::random(), 1024, Fr::random()};
  back = decode_job_spec(CircuitKind::kSplit, encode_job_spec(split));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, split);
}

TEST(JobSpec, MalformedSpecsAreCorruptionNotExceptions) {
  const std::string auth = "\"" + Fr::from_u64(5).to_hex() + "\"";
  const std::string r = "\"" + Fr::from_u64(6).to_hex() + "\"";
  struct Case {
    CircuitKind circuit;
    std::string json;
    const char* why;
  };
  const Case cases[] = {
      {CircuitKind::kSpend, "", "not a JSON object"},
      {CircuitKind::kSpend, "[1]", "not a JSON object"},
      {CircuitKind::kSpend, R"({"note_id":"1","auth":)" + auth + "}", "note_id is not a non-negative integer"},
      {CircuitKind::kSpend, R"({"note_id":-1,"auth":)" + auth + "}", "note_id is not a non-negative integer"},
      {CircuitKind::kSpend, R"({"note_id":1.5,"auth":)" + auth + "}", "note_id is not a non-negative integer"},
      {CircuitKind::kSpend, R"({"note_id":0,"auth":)" + auth + "}", "note_id out of range"},
      {CircuitKind::kSpend, R"({"note_id":1})", "no auth"},
      {CircuitKind::kSpend, R"({"note_id":1,"auth":5})", "auth is not a string"},
      {CircuitKind::kSpend, R"({"note_id":1,"auth":"0x05"})", "auth is not 0x and 64 hex digits"},
      {CircuitKind::kSpend, R"({"note_id":1,"auth":")" + std::string("0x") + std::string(64, 'f') + "\"}",
       "auth is not a field element"},
      {CircuitKind::kSpend, R"({"note_id":1,"recipient":)" + auth + "}", "no auth"},
      {CircuitKind::kSpend, R"({"note_id":1,"auth":)" + auth + R"(,"amount":3})", "members other than"},
      {CircuitKind::kSplit, R"({"note_id":1,"auth":)" + auth + "}", "no amount"},
      {CircuitKind::kSplit, R"({"note_id":1,"auth":)" + auth + R"(,"amount":0,"change_r":)" + r + "}", "amount is 0"},
      {CircuitKind::kSplit, R"({"note_id":1,"auth":)" + auth + R"(,"amount":true,"change_r":)" + r + "}",
       "amount is not"},
      {CircuitKind::kSplit,
       R"({"note_id":1,"auth":)" + auth + R"(,"amount":18446744073709551616,"change_r":)" + r + "}", "amount is not"},
  };
  for (const Case& c : cases) {
    auto spec = decode_job_spec(c.circuit, c.json);
    ASSERT_FALSE(spec.ok()) << c.json;
    EXPECT_EQ(spec.status().code(), StatusCode::kCorruption) << c.json;
    EXPECT_NE(spec.status().message().find(c.why), std::string::npos) << c.json << ": " << spec.status().message();
  }
}

}  // namespace
}  // namespace bucketpay
