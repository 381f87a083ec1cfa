#include "runtime_files.h"

#include <cstdlib>
#include <system_error>

namespace bucketpay::cli {

namespace fs = std::filesystem;

RuntimeFiles runtime_files() {
  if (const char* env = std::getenv("BUCKETPAY_RUNTIME_DIR"); env != nullptr && *env != '\0') {
    return RuntimeFiles{fs::absolute(env)};
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::current_path(ec) / "bucketpay";  // no /proc: the files are then looked for from here
  return RuntimeFiles{(exe.parent_path().parent_path() / "share" / "bucketpay").lexically_normal()};
}

}  // namespace bucketpay::cli
