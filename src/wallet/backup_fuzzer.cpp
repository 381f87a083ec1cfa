// libFuzzer harness: a backup file as `bucketpay wallet restore` reads it, before any passphrase
// (parse_backup_file), and the contents found inside once opened (parse_backup_contents).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backup_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto file = parse_backup_file(text); file.ok()) {
    if (file->kdf.opslimit > kMaxBackupKdf.opslimit || file->kdf.memlimit > kMaxBackupKdf.memlimit) std::abort();
  }
  (void)parse_backup_contents(text);
  return 0;
}
