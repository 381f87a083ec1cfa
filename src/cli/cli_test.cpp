// Runs the real `bucketpay` binary and checks its output and exit status.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bucketpay/field.h"
#include "common/subprocess.h"

namespace bucketpay {
namespace {

struct CliRun {
  int status;
  std::string out;
  std::string err;
};

CliRun run_cli(std::vector<std::string> args) {
  const auto err_path =
      std::filesystem::temp_directory_path() / ("bucketpay-cli-test-" + std::to_string(::getpid()) + ".err");
  std::filesystem::remove(err_path);
  args.insert(args.begin(), BUCKETPAY_CLI_BINARY);
  auto child = Subprocess::spawn({.argv = args, .env = {}, .cwd = {}, .stderr_path = err_path});
  EXPECT_TRUE(child.ok()) << child.status().to_string();
  child->close_stdin();
  std::string out;
  std::uint8_t byte;
  while (child->read_exact({&byte, 1}, std::nullopt).is_ok()) out.push_back(static_cast<char>(byte));
  CliRun r{child->wait(), out, child->stderr_tail(100000)};
  std::filesystem::remove(err_path);
  return r;
}

// Independent vector: bb's Poseidon2Permutation([0,0,0,0])[0] (../shared/docs/TOOLCHAIN.md).
constexpr const char* kPermutationOfZeros0 = "0x18dfb8dc9b82229cff974efefc8df78b1ce96d9d844236b496785c698bc6732e";

TEST(Cli, PermutePrintsFourHexLines) {
  const CliRun r = run_cli({"permute", "0", "0", "0", "0x0"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.out.size(), 4U * 67U);
  EXPECT_EQ(r.out.substr(0, 66), kPermutationOfZeros0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.out[static_cast<std::size_t>(i * 67 + 66)], '\n');
}

TEST(Cli, HashMatchesPermutationDefinition) {
  // H(x) = P([x, 0, 0, 1 * 2^64])[0]: the CLI's two commands must agree with each other.
  const CliRun h = run_cli({"hash", "7"});
  const CliRun p = run_cli({"permute", "7", "0", "0", "18446744073709551616"});
  ASSERT_EQ(h.status, 0) << h.err;
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(h.out, p.out.substr(0, 67));
  const CliRun h3 = run_cli({"hash", "1", "0x2", "3"});
  const CliRun p3 = run_cli({"permute", "1", "2", "3", "55340232221128654848"});
  ASSERT_EQ(h3.status, 0);
  EXPECT_EQ(h3.out, p3.out.substr(0, 67));
}

TEST(Cli, DecomposePrintsBuckets) {
  CliRun r = run_cli({"decompose", "12.34"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2 16 64 128 1024\n");
  r = run_cli({"decompose", "--cents", "5"});
  EXPECT_EQ(r.out, "1 4\n");
  r = run_cli({"decompose", "1310.71", "--json"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"amount_cents\":131071"), std::string::npos);
  EXPECT_NE(r.out.find("65536]"), std::string::npos);
}

TEST(Cli, NoteNeverPrintsSecrets) {
  const CliRun r = run_cli({"new-note", "--value", "12.34", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"commitment\""), std::string::npos);
  EXPECT_EQ(r.out.find("sk"), std::string::npos);
  EXPECT_EQ(r.out.find("\"r\""), std::string::npos);
}

TEST(Cli, BadInputIsOneLineAndExitTwo) {
  const std::string p =
      "21888242871839275222246405745257275088548364400416034343698204186575808495617";  // the modulus itself
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"nonsense"},
      {"permute", "1", "2", "3"},
      {"permute", "1", "2", "3", "4", "5"},
      {"permute", "1", "2", "3", p},
      {"hash"},
      {"hash", "1", "2", "3", "4"},
      {"hash", "0xg"},
      {"hash", "-1"},
      {"hash", "1.5"},
      {"decompose", "-1"},
      {"decompose", "12.345"},
      {"decompose", "1e3"},
      {"decompose", "0"},
      {"decompose", "99999999999999999999999"},
      {"decompose", "1310.72"},
      {"decompose", ""},
      {"decompose", " 1"},
      {"decompose", "--cents", "1.5"},
      {"note", "--value", "-5"},
  };
  for (const auto& args : bad) {
    const CliRun r = run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << " -> " << r.err;
    EXPECT_TRUE(r.out.empty()) << joined;
    ASSERT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_EQ(r.err.rfind("bucketpay: error: ", 0), 0U) << r.err;
  }
}

// A file in the temporary directory, removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& text)
      : path(std::filesystem::temp_directory_path() /
             ("bucketpay-cli-test-" + std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

TEST(Cli, InventoryPlanSimulatesAPolicyOverAmounts) {
  // Default: 100 random amounts, the default policy.
  CliRun r = run_cli({"inventory", "plan"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* line : {"100 random amounts", "notes ", "splits ", "proofs ", "payment gas", "rebalancing gas",
                           "deposit gas", "all-in gas"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in " << r.out;
  }
  // Five-cent payments from a five-cent policy: one note each, no odd change.
  std::string fives;
  for (int i = 0; i < 200; ++i) fives += "0.05\n";
  const TempFile amounts("amounts", fives);
  r = run_cli({"inventory", "plan", "--amounts", amounts.path.string(), "--policy",
               "5=20,10=4,20=2,40=1,80=0,160=0,320=0,640=0", "--deposit", "20.00", "--split-fee", "3", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["paid"].get<int>(), 200);
  EXPECT_DOUBLE_EQ(j["notes_per_payment"].get<double>(), 1.0);
  EXPECT_EQ(j["odd_notes_made"].get<int>(), 0);
  EXPECT_GT(j["rebalancing_gas_per_payment"].get<double>(), 0.0);
}

TEST(Cli, InventoryPlanBadInputIsOneLineAndExitTwo) {
  const TempFile negative("negative", "1.00\n-1\n");
  const TempFile three_decimals("three", "12.345\n");
  const TempFile exponent("exponent", "1e3\n");
  const TempFile empty("empty", "");
  const TempFile blank("blank", "1.00\n\n2.00\n");
  const std::vector<std::vector<std::string>> bad = {
      {"inventory", "plan", "--amounts", negative.path.string()},
      {"inventory", "plan", "--amounts", three_decimals.path.string()},
      {"inventory", "plan", "--amounts", exponent.path.string()},
      {"inventory", "plan", "--amounts", empty.path.string()},
      {"inventory", "plan", "--amounts", blank.path.string()},
      {"inventory", "plan", "--amounts", "/nonexistent/amounts.txt"},
      {"inventory", "plan", "--amounts", std::filesystem::temp_directory_path().string()},  // a directory
      {"inventory", "plan", "--policy", "5=1,5=2"},
      {"inventory", "plan", "--policy", "0=1"},
      {"inventory", "plan", "--deposit", "-5"},
      {"inventory", "plan", "--rebalance", "sometimes"},
      {"inventory", "plan", "--fee", "-1"},
  };
  for (const auto& args : bad) {
    const CliRun r = run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << " -> " << r.err;
    EXPECT_TRUE(r.out.empty()) << joined << " printed " << r.out;
    ASSERT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_EQ(r.err.rfind("bucketpay: error: ", 0), 0U) << r.err;
  }
}

}  // namespace
}  // namespace bucketpay
