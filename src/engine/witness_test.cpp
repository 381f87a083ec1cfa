// The witness server's answers without a process: its frames (parse_witness_response) and what
// Node printed reduced to one line (witness_error_line); then a real witness process (Node and
// noir_js) given inputs its circuit must reject.
#include "witness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "testing/testing.h"

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

// A spend witness for a note that is not in the tree (every input zero, so the Merkle root does not
// match): the failure is kInvalidArgument, one line naming the circuit (no Node stack trace), and
// the process is still there for the next request.
TEST(WitnessProcessTest, InputsTheCircuitRejectsAreAOneLineError) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("bucketpay-witness-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  WitnessProcess::Options o;
  o.script = testing::project_root() / "scripts" / "witness_server.mjs";
  o.circuits = {{"spend", testing::circuit_artifact("spend")}};
  o.stderr_path = dir / "witness.stderr";
  auto process = WitnessProcess::start(o);
  ASSERT_TRUE(process.ok()) << process.status().to_string();
  constexpr int kDepth = 16;  // circuits/lib/bucketpay/src/lib.nr
  std::string siblings;
  std::string positions;
  for (int i = 0; i < kDepth; ++i) {
    siblings += std::string(i == 0 ? "" : ",") + R"(["0x1","0x2"])";
    positions += std::string(i == 0 ? "" : ",") + R"("0x0")";
  }
  const std::string inputs = R"({"root":"0x1","nullifier":"0x2","value":"0x3","auth":"0x4","sk":"0x5","r":"0x6",)"
                             R"("siblings":[)" +
                             siblings + R"(],"positions":[)" + positions + "]}";
  const auto deadline = Subprocess::Clock::now() + std::chrono::seconds(120);
  auto witness = (*process)->execute("spend", inputs, deadline);
  ASSERT_FALSE(witness.ok());
  EXPECT_EQ(witness.status().code(), StatusCode::kInvalidArgument) << witness.status().to_string();
  const std::string message = witness.status().message();
  EXPECT_EQ(message.rfind("witness for spend: ", 0), 0U) << message;
  EXPECT_NE(message.find("note not in tree"), std::string::npos) << message;  // the circuit's assertion
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find("    at "), std::string::npos) << message;
  EXPECT_TRUE((*process)->alive());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay
