#include "engine/witness.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace bucketpay
