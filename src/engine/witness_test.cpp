// The witness server's answers without a process: its frames (parse_witness_response) and what
// Node printed reduced to one line (witness_error_line).
#include "engine/witness.h"

#include <gtest/gtest.h>

#include <string_view>

namespace bucketpay {
namespace {

// What Node prints when the witness server dies of an uncaught error (node 20's format).
constexpr const char* kNodeCrash = R"(witness_server: ready (spend, split, crosscheck)
file:///work/scripts/witness_server.mjs:91
    const { witness, returnValue } = await noir.execute(req.inputs);
                                                ^

TypeError: Cannot read properties of undefined (reading 'execute')
    at handle (file:///work/scripts/witness_server.mjs:91:49)
    at async pump (file:///work/scripts/witness_server.mjs:140:7)

Node.js v20.19.2
)";

TEST(WitnessErrorLine, ANodeStackTraceBecomesTheLineNamingTheError) {
  EXPECT_EQ(witness_error_line(kNodeCrash), "TypeError: Cannot read properties of undefined (reading 'execute')");
}

TEST(WitnessErrorLine, AMessageKeepsItsFirstLine) {
  EXPECT_EQ(witness_error_line("Circuit execution failed: Cannot satisfy constraint\n    at execute (x.js:1:2)\n"),
            "Circuit execution failed: Cannot satisfy constraint");
  EXPECT_EQ(witness_error_line("  one   line  "), "one line");
  EXPECT_EQ(witness_error_line("witness_server: ready\nwitness_server: stdin ended inside a frame (4 bytes pending)"),
            "witness_server: stdin ended inside a frame (4 bytes pending)");
  EXPECT_EQ(witness_error_line(std::string(500, 'x'), 20), std::string(17, 'x') + "...");
  EXPECT_EQ(witness_error_line(""), "");
}

Result<std::vector<std::uint8_t>> parse(std::string_view frame, std::uint64_t id = 1,
                                        std::string_view circuit = "spend") {
  return parse_witness_response(std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()), id,
                                circuit);
}

TEST(WitnessResponse, AWitnessAFailureAndAPing) {
  auto ok = parse(R"({"id":1,"ok":true,"witness":"AQID"})");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(*ok, (std::vector<std::uint8_t>{1, 2, 3}));
  auto failed = parse(R"({"id":1,"ok":false,"error":"Cannot satisfy constraint"})");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), "witness for spend: Cannot satisfy constraint");
  auto pong = parse(R"({"id":7,"ok":true})", 7, "__ping");
  ASSERT_TRUE(pong.ok());
  EXPECT_TRUE(pong->empty());
}

TEST(WitnessResponse, OutOfStepOrMalformedIsCorruption) {
  for (std::string_view frame :
       {"", "[]", "{", R"({"id":2,"ok":true,"witness":"AQID"})", R"({"ok":true})", R"({"id":1,"ok":true})",
        R"({"id":1,"ok":true,"witness":"!!"})", R"({"id":1,"ok":true,"witness":5})"}) {
    auto r = parse(frame);
    ASSERT_FALSE(r.ok()) << frame;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << frame;
  }
}

// Fields of another JSON type (found while writing witness_fuzzer): nlohmann's value() threw
// type_error out of WitnessProcess::execute, through the prover's worker thread, ending the process.
TEST(WitnessResponse, FieldsOfTheWrongTypeAreErrorsNotExceptions) {
  for (std::string_view frame : {R"({"id":"1","ok":true,"witness":"AQID"})", R"({"id":1,"ok":"yes"})",
                                 R"({"id":-1,"ok":true})", R"({"id":1.5,"ok":true})"}) {
    auto r = parse(frame);
    ASSERT_FALSE(r.ok()) << frame;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << frame;
  }
  auto error_number = parse(R"({"id":1,"ok":false,"error":5})");
  ASSERT_FALSE(error_number.ok());
  EXPECT_EQ(error_number.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bucketpay
