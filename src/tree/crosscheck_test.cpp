// Checks keys, notes, nullifiers, Merkle paths and H against Noir: circuits/crosscheck executed by
// noir_js (scripts/noir_execute.mjs) on random inputs, an implementation independent of ours.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/poseidon2.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string node_binary() {
  const char* env = std::getenv("BUCKETPAY_NODE");
  return env != nullptr && *env != '\0' ? env : "node";
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct NodeRun {
  int exit_code = -1;  // -1: did not start or did not exit normally
  std::string stdout_text;
};

// Runs `node scripts/noir_execute.mjs build/circuits/crosscheck.json INPUTS` on `inputs`
// (stderr stays on the test's stderr, so Noir's error message shows up in the test log).
NodeRun run_crosscheck(const json& inputs) {
  static int counter = 0;
  const fs::path input_path = fs::temp_directory_path() / ("bucketpay-crosscheck-" + std::to_string(::getpid()) + "-" +
                                                           std::to_string(counter++) + ".json");
  {
    std::ofstream f(input_path);
    f << inputs.dump();
  }
  const fs::path artifact = testing::circuit_artifact("crosscheck");
  EXPECT_TRUE(fs::exists(artifact)) << artifact << " missing: build the `circuits` target";
  const std::string cmd = quoted(node_binary()) + " " +
                          quoted((testing::project_root() / "scripts" / "noir_execute.mjs").string()) + " " +
                          quoted(artifact.string()) + " " + quoted(input_path.string());
  NodeRun run;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << cmd;
  if (pipe != nullptr) {
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
      run.stdout_text.append(buf.data(), n);
    }
    const int status = ::pclose(pipe);
    if (status != -1 && WIFEXITED(status)) {
      run.exit_code = WEXITSTATUS(status);
    }
  }
  fs::remove(input_path);
  return run;
}

// The program's "return_value", or null (with a test failure) when the run failed.
json noir_execute(const json& inputs) {
  const NodeRun run = run_crosscheck(inputs);
  EXPECT_EQ(run.exit_code, 0);
  const json parsed = json::parse(run.stdout_text, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(!parsed.is_discarded() && parsed.contains("return_value")) << "bad output: " << run.stdout_text;
  if (parsed.is_discarded() || !parsed.contains("return_value")) {
    return json();
  }
  return parsed["return_value"];
}

// noir_execute.mjs prints fields as "0x" + 64 lowercase hex digits, the format of Fr::to_hex().
std::string hex(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

struct Case {
  std::uint64_t value;
  std::size_t tree_size;  // leaves besides the note's
};

TEST(CrosscheckTest, NotesPathsAndHashMatchNoir) {
  std::random_device rd;
  std::mt19937_64 rng((std::uint64_t{rd()} << 32) | rd());
  // Edge values and a larger tree, so the note's position is non-zero up to level 9.
  const std::vector<Case> cases = {
      {0, 250}, {std::numeric_limits<std::uint64_t>::max(), 300}, {rng(), 400}, {rng() % 131072, 500}, {rng(), 30000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("value " + std::to_string(c.value) + ", tree " + std::to_string(c.tree_size));
    const SpendingKey sk = SpendingKey::generate();
    const Note note = Note::create(owner_key(sk), c.value);
    const Fr cm = note.commitment();

    std::vector<Fr> leaves;
    for (std::size_t i = 0; i < c.tree_size; ++i) {
      leaves.push_back(Fr::random());
    }
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, c.tree_size)(rng);
    leaves.insert(leaves.begin() + static_cast<std::ptrdiff_t>(at), cm);
    MerkleTree tree;
    ASSERT_TRUE(tree.append_many(leaves).ok());
    auto path = tree.path(at);
    ASSERT_TRUE(path.ok());

    const std::array<Fr, 3> h_in = {Fr::random(), Fr::random(), Fr::random()};
    json siblings = json::array();
    json positions = json::array();
    for (std::size_t k = 0; k < MerkleTree::kDepth; ++k) {
      siblings.push_back({path->siblings[k][0].to_hex(), path->siblings[k][1].to_hex()});
      positions.push_back(path->positions[k]);
    }
    const json inputs = {
        {"sk", sk.reveal().to_hex()}, {"v", std::to_string(c.value)},
        {"r", note.r.to_hex()},       {"siblings", siblings},
        {"positions", positions},     {"h_in", {h_in[0].to_hex(), h_in[1].to_hex(), h_in[2].to_hex()}},
    };
    const json out = noir_execute(inputs);
    ASSERT_TRUE(out.is_object()) << out.dump();

    EXPECT_EQ(hex(out["pk"]), note.pk.to_hex());
    EXPECT_EQ(hex(out["owner"]), note.owner().to_hex());
    EXPECT_EQ(hex(out["cm"]), cm.to_hex());
    EXPECT_EQ(hex(out["nf"]), (nullifier(sk, cm)).to_hex());
    EXPECT_EQ(hex(out["root"]), tree.root().to_hex());
    EXPECT_EQ(hex(out["h1"]), (poseidon2::hash1(h_in[0])).to_hex());
    EXPECT_EQ(hex(out["h2"]), (poseidon2::hash2(h_in[0], h_in[1])).to_hex());
    EXPECT_EQ(hex(out["h3"]), (poseidon2::hash3(h_in[0], h_in[1], h_in[2])).to_hex());
  }
}

// The script must fail loudly (exit 1) on inputs the circuit rejects, or the test above could pass
// on an empty output: a position of 3 violates the circuit's range assertion.
TEST(CrosscheckTest, NoirRejectsBadPosition) {
  json siblings = json::array();
  json positions = json::array();
  for (int k = 0; k < 16; ++k) {
    siblings.push_back({"0x0", "0x0"});
    positions.push_back(k == 3 ? 3 : 0);
  }
  const json inputs = {{"sk", "0x1"},
                       {"v", "1"},
                       {"r", "0x2"},
                       {"siblings", siblings},
                       {"positions", positions},
                       {"h_in", {"0x0", "0x0", "0x0"}}};
  const NodeRun run = run_crosscheck(inputs);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.stdout_text, "");
}

}  // namespace
}  // namespace bucketpay
