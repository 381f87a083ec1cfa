#include "testing.h"

#include <cstdlib>
#include <string>

namespace bucketpay::testing {
namespace {

std::filesystem::path from_env(const char* name, const std::filesystem::path& fallback) {
  const char* value = std::getenv(name);
  if (value != nullptr && *value != '\0') return value;
  return fallback;
}

}  // namespace

std::filesystem::path project_root() { return from_env("BUCKETPAY_ROOT", BUCKETPAY_DEFAULT_ROOT); }

std::filesystem::path build_dir() { return from_env("BUCKETPAY_BUILD_DIR", BUCKETPAY_DEFAULT_BUILD_DIR); }

std::filesystem::path crs_dir() { return from_env("BUCKETPAY_CRS", project_root().parent_path() / "shared" / "crs"); }

std::filesystem::path node_modules() { return project_root() / "node_modules"; }

std::filesystem::path bb_binary() {
  return from_env("BUCKETPAY_BB", node_modules() / "@aztec/bb.js/build/amd64-linux/bb");
}

std::filesystem::path circuit_artifact(std::string_view name) {
  return build_dir() / "circuits" / (std::string(name) + ".json");
}

ProcessOutput run_to_end(const Subprocess::Options& options) {
  Result<Subprocess> child = Subprocess::spawn(options);
  if (!child.ok()) return {-1, child.status().to_string(), ""};
  child->close_stdin();
  Result<std::string> out = child->read_to_end();
  if (!out.ok()) return {-1, out.status().to_string(), ""};
  const int status = child->wait();
  return {status, std::move(*out), child->stderr_tail(std::size_t{1} << 20)};
}

}  // namespace bucketpay::testing
