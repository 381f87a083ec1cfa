// Paths to the toolchain and build outputs, and running a program to its end, for tests and
// benchmarks only.
//
// Each reads its environment variable (set by CTest, see BUCKETPAY_TEST_ENV in CMakeLists.txt) and
// falls back to the source and build directories this binary was configured with.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "bucketpay/subprocess.h"

namespace bucketpay::testing {

// The project's source root (BUCKETPAY_ROOT).
std::filesystem::path project_root();
// The CMake build directory (BUCKETPAY_BUILD_DIR).
std::filesystem::path build_dir();
// The CRS used by tests: ../shared/crs beside the project (BUCKETPAY_CRS). Never the network.
std::filesystem::path crs_dir();
// The pinned native bb (BUCKETPAY_BB).
std::filesystem::path bb_binary();
// The project's node_modules.
std::filesystem::path node_modules();
// A compiled circuit artifact made by the build: build/circuits/<name>.json.
std::filesystem::path circuit_artifact(std::string_view name);

// A program run to its end with its stdin closed: its exit status (Subprocess::wait: 128 + signal
// when killed), everything it wrote to stdout, and the last megabyte of its stderr file (empty
// without Options::stderr_path). A program that cannot start, or whose output cannot be read, has
// status -1 and the reason as `out`.
struct ProcessOutput {
  int status = -1;
  std::string out;
  std::string err;
};
ProcessOutput run_to_end(const Subprocess::Options& options);

}  // namespace bucketpay::testing
