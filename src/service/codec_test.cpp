// The strict JSON parsing of API requests (no HTTP here; service_test drives it through HTTP).
#include "codec.h"

#include <gtest/gtest.h>

namespace bucketpay::service {
namespace {

constexpr const char* kAddress = "0x1111111111111111111111111111111111111111";

TEST(CodecTest, ParsesBothModes) {
  auto inv = parse_create_job(R"({"mode":"inventory","note_ids":[1,2,3]})");
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  EXPECT_EQ(inv->mode, JobMode::kInventory);
  EXPECT_EQ(inv->note_ids, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_FALSE(inv->all);
  auto all = parse_create_job(R"({"mode":"inventory","all":true})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all);
  auto seed = parse_create_job(R"({"mode":"seed","note_id":7,"buckets":[1,64]})");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->mode, JobMode::kSeed);
  EXPECT_EQ(seed->note_id, 7);
  EXPECT_EQ(seed->buckets, (std::vector<Cents>{1, 64}));
}

TEST(CodecTest, RefusesWhatIsNotExactlyARequest) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {"\"x\"", "must be a JSON object"},
      {R"({"all":true})", "\"mode\" is required"},
      {R"({"mode":7})", "\"mode\" must be a string"},
      {R"({"mode":"fast"})", "must be \"inventory\" or \"seed\""},
      {R"({"mode":"inventory","note_ids":[1],"recipient":")" + std::string(kAddress) + "\"}",
       "\"recipient\" is not taken"},
      {R"({"mode":"inventory","note_ids":[1],"extra":1})", "unknown field \"extra\""},
      {R"({"mode":"inventory","note_id":1})", "unknown field \"note_id\""},
      {R"({"mode":"seed","note_ids":[1]})", "unknown field \"note_ids\""},
      {R"({"mode":"inventory","note_ids":"1"})", "must be an array"},
      {R"({"mode":"inventory","note_ids":[]})", "is empty"},
      {R"({"mode":"inventory","note_ids":[1.5]})", "not a fractional number"},
      {R"({"mode":"inventory","note_ids":[0]})", "must be positive"},
      {R"({"mode":"inventory","note_ids":[-3]})", "must be positive"},
      {R"({"mode":"inventory","note_ids":[18446744073709551615]})", "out of range"},
      {R"({"mode":"inventory","note_ids":[1e3]})", "positive integer"},
      {R"({"mode":"inventory","all":"yes"})", "\"all\" must be a boolean"},
      {R"({"mode":"seed"})", "\"note_id\" is required"},
      {R"({"mode":"seed","note_id":"1"})", "not string"},
      {R"({"mode":"seed","note_id":1,"buckets":[-1]})", "positive integer (cents)"},
      {R"({"mode":"seed","note_id":1,"buckets":{}})", "must be an array"},
      // A key twice: nlohmann keeps the last silently (a proxy or a log may show the first).
      {R"({"mode":"inventory","note_ids":[1],"all":false,"all":true})", "field \"all\" is given twice"},
      {R"({"mode":"seed","mode":"inventory","note_ids":[1]})", "field \"mode\" is given twice"},
      // Beyond 64 bits nlohmann makes a float: it was "must be a positive integer, not a fractional number".
      {R"({"mode":"seed","note_id":123456789012345678901234})",
       "field \"note_id\" has an integer too large for 64 bits: \"123456789012345678901234\""},
      {R"({"mode":"inventory","note_ids":[1,-99999999999999999999999]})",
       "field \"note_ids[]\" has an integer too large"},
  };
  for (const auto& [body, message] : cases) {
    auto r = parse_create_job(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << body << " -> " << r.status().message();
  }
}

TEST(CodecTest, PlanParametersAreStrict) {
  using P = std::multimap<std::string, std::string>;
  auto ok = parse_plan(P{{"amount", "1.00"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->amount, "1.00");
  EXPECT_FALSE(parse_plan(P{}).ok());
  auto recipient = parse_plan(P{{"amount", "1"}, {"recipient", kAddress}});
  ASSERT_FALSE(recipient.ok());
  EXPECT_NE(recipient.status().message().find("spend proofs pay anyone"), std::string::npos);
  EXPECT_FALSE(parse_plan(P{{"amount", "1"}, {"amount", "2"}}).ok());
  EXPECT_FALSE(parse_plan(P{{"amount", "1"}, {"x", ""}}).ok());
}

TEST(CodecTest, ErrorsWithInvalidUtf8StillSerialise) {
  auto r = parse_create_job("{\"mode\":\"inventory\",\"\xff\xfe\":1}");
  if (!r.ok()) {
    const std::string s = dump(error_json(r.status().message()));
    EXPECT_TRUE(nlohmann::json::accept(s)) << s;
  }
  const std::string s = dump(error_json("bad \xc3 byte"));
  EXPECT_TRUE(nlohmann::json::accept(s));
}

}  // namespace
}  // namespace bucketpay::service
