#include "bucketpay/bb.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "testing/testing.h"

namespace bucketpay::bb {
namespace {

namespace fs = std::filesystem;

TEST(Crs, TheSharedCrsIsLargeEnough) {
  Status st = check_crs(testing::crs_dir(), 32769);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
}

TEST(Crs, TooSmallOrMissingNamesDirectoryAndPoints) {
  Status big = check_crs(testing::crs_dir(), 1U << 20);
  ASSERT_FALSE(big.is_ok());
  EXPECT_EQ(big.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(big.message().find(testing::crs_dir().string()), std::string::npos);
  EXPECT_NE(big.message().find("1048576"), std::string::npos) << big.message();
  Status missing = check_crs("/nonexistent/crs", 10);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("/nonexistent/crs"), std::string::npos);
}

TEST(Crs, DirectoryPrecedence) {
  const fs::path home = "/home/someone";
  EXPECT_EQ(crs_directory(fs::path("/from/option"), fs::path("/from/env"), home), fs::path("/from/option"));
  EXPECT_EQ(crs_directory(std::nullopt, fs::path("/from/env"), home), fs::path("/from/env"));
  EXPECT_EQ(crs_directory(std::nullopt, std::nullopt, home), fs::path("/home/someone/.bb-crs"));
  EXPECT_EQ(crs_directory(std::nullopt, fs::path(), home), fs::path("/home/someone/.bb-crs"));  // set but empty
  // Relative: from the current directory, made absolute (bb runs in a directory of its own).
  EXPECT_EQ(crs_directory(fs::path("rel/crs"), std::nullopt, home), fs::current_path() / "rel/crs");
  EXPECT_EQ(crs_directory(std::nullopt, fs::path("rel/env"), home), fs::current_path() / "rel/env");
}

TEST(Binary, TheFirstExecutableCandidateElseEveryPlaceNamed) {
  EXPECT_EQ(*locate_binary({fs::path("/no/such/bb"), testing::bb_binary()}), fs::absolute(testing::bb_binary()));
  const fs::path not_executable = fs::temp_directory_path() / ("bucketpay-bb-test-" + std::to_string(::getpid()));
  std::ofstream(not_executable) << "#!/bin/sh\n";
  fs::permissions(not_executable, fs::perms::owner_read | fs::perms::owner_write);
  auto bad = locate_binary({fs::path("/no/such/bb"), not_executable});
  fs::remove(not_executable);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/no/such/bb, " + not_executable.string()), std::string::npos)
      << bad.status().message();
}

TEST(Gzip, RoundTripsAndRejectsGarbage) {
  std::vector<std::uint8_t> data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 % 251);
  auto gz = gzip(data);
  ASSERT_TRUE(gz.ok());
  auto back = gunzip(*gz);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  const std::vector<std::uint8_t> junk = {1, 2, 3, 4, 5};
  EXPECT_FALSE(gunzip(junk).ok());
  auto truncated = *gz;
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(gunzip(truncated).ok());
}

TEST(Artifact, MalformedFilesAreErrors) {
  const fs::path dir = fs::temp_directory_path() / ("bb-artifact-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.json") << "{not json";
  std::ofstream(dir / "b.json") << R"({"bytecode": "!!!not base64"})";
  std::ofstream(dir / "c.json") << R"({"bytecode": "aGVsbG8="})";  // base64 of "hello", not gzip
  EXPECT_FALSE(load_circuit_artifact(dir / "a.json", "a").ok());
  EXPECT_FALSE(load_circuit_artifact(dir / "b.json", "b").ok());
  EXPECT_FALSE(load_circuit_artifact(dir / "c.json", "c").ok());
  EXPECT_FALSE(load_circuit_artifact(dir / "missing.json", "d").ok());
  fs::remove_all(dir);
}

TEST(Process, SizesCircuitsAndComputesKeys) {
  auto circuit = load_circuit_artifact(testing::circuit_artifact("spend"), "spend");
  ASSERT_TRUE(circuit.ok()) << circuit.status().to_string();
  auto p = Process::start({testing::bb_binary(), 1, {}, {}, testing::crs_dir()});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  auto info = (*p)->circuit_info(*circuit);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_GT(info->num_gates, 1000U);
  EXPECT_LE(info->num_gates, 2048U);
  auto vk = (*p)->compute_vk(*circuit);
  ASSERT_TRUE(vk.ok()) << vk.status().to_string();
  EXPECT_GT(vk->size(), 1000U);
  // A random proof does not verify (and the process survives the question).
  ProofData junk{{Fr::one(), Fr::one(), Fr::one(), Fr::one()}, std::vector<std::uint8_t>(32 * 100, 1)};
  auto v = (*p)->verify(*vk, junk);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_FALSE(*v);
  auto sol = (*p)->solidity_verifier(*vk, true);
  ASSERT_TRUE(sol.ok()) << sol.status().to_string();
  EXPECT_NE(sol->find("pragma solidity"), std::string::npos);
}

// A relative CRS directory (as `--crs ../shared/crs` gives) is this process's, not bb's: bb runs in a
// scratch directory of its own, where the same relative path names nothing.
TEST(Process, RelativeCrsDirFromAnotherWorkingDirectory) {
  auto circuit = load_circuit_artifact(testing::circuit_artifact("spend"), "spend");
  ASSERT_TRUE(circuit.ok()) << circuit.status().to_string();
  std::string tmpl = (fs::temp_directory_path() / "bucketpay-bb-cwd-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path root = tmpl;
  // Here: ours/crs is the CRS (a link to it); bb runs in theirs/, where "crs" is nothing.
  fs::create_directories(root / "ours");
  fs::create_directories(root / "theirs");
  fs::create_directory_symlink(fs::absolute(testing::crs_dir()), root / "ours" / "crs");
  const fs::path before = fs::current_path();
  fs::current_path(root / "ours");

  auto p = Process::start({testing::bb_binary(), 1, {}, root / "theirs", "crs"});
  fs::current_path(before);  // bb's environment is made; the rest needs no relative path
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  // The key needs the CRS. Without it bb looks on the network and waits there: give it a minute.
  auto vk = std::async(std::launch::async, [&] { return (*p)->compute_vk(*circuit); });
  if (vk.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ::kill((*p)->pid(), SIGKILL);
    ADD_FAILURE() << "bb did not find the CRS";
  }
  const auto key = vk.get();
  EXPECT_TRUE(key.ok()) << key.status().to_string();
  p->reset();
  fs::remove_all(root);
}

}  // namespace
}  // namespace bucketpay::bb
