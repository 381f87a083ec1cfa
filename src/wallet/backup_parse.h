// Reading a backup file (backup.cpp): the outer JSON, and the sealed contents once opened. Internal
// to src/wallet; exposed for the unit tests and the fuzzer (backup_fuzzer.cpp), since a backup file
// is outside input that is read before any passphrase check.
//
// Errors: kInvalidArgument "not a bucketpay backup: <why>" for anything malformed, and for Argon2
// parameters above kMaxBackupKdf (a hostile file must not make the restore allocate gigabytes or
// run for hours before the passphrase is even checked). Never throws. Pure; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/vault.h"
#include "bucketpay/wallet.h"

namespace bucketpay {

// The most a backup may ask of the key derivation: what wallets use (VaultParams::moderate(), the
// default of export_backup and the CLI). export_backup refuses more, so every backup it wrote reads back.
inline constexpr VaultParams kMaxBackupKdf = VaultParams::moderate();

struct BackupFile {
  std::string wallet;
  std::vector<std::uint8_t> salt;  // Vault::kSaltBytes
  VaultParams kdf;                 // within kMaxBackupKdf
  std::vector<std::uint8_t> sealed;
};
Result<BackupFile> parse_backup_file(std::string_view text);

struct BackupNote {
  Fr pk;
  std::uint64_t value = 0;
  Fr r;
};
struct BackupContents {
  Fr sk;
  std::vector<std::uint8_t> eth_key;  // 32 bytes; wipe once used
  WalletConfig config;
  std::vector<BackupNote> notes;  // each owned by sk
};
// The opened contents (JSON text) of a backup.
Result<BackupContents> parse_backup_contents(std::string_view plain);

}  // namespace bucketpay
