// Where the binaries find the files they run with (docs/install.md): the compiled circuits, the
// witness server and the Node modules it imports, the pinned bb, and the contracts' forge artifacts.
//
// They are in one directory, `share/bucketpay` beside the executable's `bin/`: the installed layout
// (<prefix>/bin/bucketpay reads <prefix>/share/bucketpay) and the build tree's (build/bin/bucketpay
// reads build/share/bucketpay, links into the checkout made at configure time). No source or build
// path is compiled in. $BUCKETPAY_RUNTIME_DIR, when set and not empty, names another directory of
// the same layout (the one override).
#pragma once

#include <filesystem>

namespace bucketpay::cli {

struct RuntimeFiles {
  std::filesystem::path dir;

  [[nodiscard]] std::filesystem::path circuits() const { return dir / "circuits"; }
  [[nodiscard]] std::filesystem::path witness_server() const { return dir / "witness_server.mjs"; }
  [[nodiscard]] std::filesystem::path bb() const { return dir / "bb"; }
  [[nodiscard]] std::filesystem::path contract_artifacts() const { return dir / "contracts"; }
};

// The runtime files of this process: $BUCKETPAY_RUNTIME_DIR, else <directory of the running
// executable>/../share/bucketpay (the executable from /proc/self/exe, symbolic links resolved).
// Whether the files are there is checked where each is used (their errors name the path).
RuntimeFiles runtime_files();

}  // namespace bucketpay::cli
