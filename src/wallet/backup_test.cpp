// Backup files from outside: the bounds on their key derivation and malformed contents, read
// without a chain (backup.cpp). The round trip through a wallet on anvil is in tests/e2e/wallet_e2e_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backup_parse.h"
#include "bucketpay/note.h"
#include "bucketpay/store.h"
#include "bucketpay/vault.h"
#include "bucketpay/wallet.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kPass = "backup pass";

// A backup file as export_backup writes it, sealing `contents` (any text) under kPass, with the
// given key-derivation parameters written in the file (the sealing itself always uses fast()).
std::string backup_file(std::string_view contents, VaultParams written = VaultParams::fast()) {
  auto vault = Vault::create(kPass, VaultParams::fast());
  EXPECT_TRUE(vault.ok());
  const auto sealed = vault->seal(std::span(reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size()),
                                  "bucketpay-backup-1:w");
  return json{{"format", "bucketpay-backup-1"},
              {"wallet", "w"},
              {"kdf",
               {{"algorithm", "argon2id13"},
                {"salt", eth::to_hex(vault->salt())},
                {"opslimit", written.opslimit},
                {"memlimit", written.memlimit}}},
              {"cipher", "xchacha20poly1305-ietf"},
              {"sealed", eth::to_hex(sealed)}}
      .dump();
}

// Contents as export_backup writes them, for a fresh key and one note.
json good_contents() {
  const SpendingKey sk = SpendingKey::generate();
  const Note note = Note::create(owner_key(sk), 64);
  return json{{"wallet", "w"},
              {"sk", sk.reveal().to_hex()},
              {"eth_key", eth::to_hex(std::vector<std::uint8_t>(32, 7))},
              {"settings",
               {{"rpc_url", "http://127.0.0.1:8545"},
                {"pool", "0x" + std::string(40, '1')},
                {"payee", "0x" + std::string(40, '2')},
                {"confirmations", "2"},
                {"start_block", "0"},
                {"log_range", "1000"},
                {"policy", "1=2"}}},
              {"notes", json::array({json{{"pk", note.pk.to_hex()}, {"value", 64}, {"r", note.r.to_hex()}}})}};
}

class BackupFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-backup-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    StoreOptions so;
    so.passphrase = "store pass";
    so.vault_params = VaultParams::fast();
    auto s = open_sqlite_store(dir_ / "store.db", so);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(BackupFileTest, AGoodFileRestoresItsKeysSettingsAndNotes) {
  auto n = import_backup(*store_, backup_file(good_contents().dump()), kPass);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 1U);
  auto config = load_config(*store_, "w");
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->policy.to_string(), "1=2");
}

TEST_F(BackupFileTest, KeyDerivationAboveTheWalletsOwnIsRefusedBeforeDeriving) {
  // 1 GiB (4x what wallets use): without the bound the restore allocated it and ran Argon2 over it
  // before finding the passphrase wrong; 2^40 passes would have run for days.
  const VaultParams hostile[] = {
      {3, std::size_t{1} << 30}, {std::uint64_t{1} << 40, 8192}, {4, 8192}, {1, (std::size_t{256} << 20) + 1}};
  for (const VaultParams& p : hostile) {
    const std::string file = backup_file(good_contents().dump(), p);
    const auto t0 = std::chrono::steady_clock::now();
    auto n = import_backup(*store_, file, kPass);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(n.status().message().find("at most 3 passes over 268435456 bytes"), std::string::npos)
        << n.status().message();
    EXPECT_LT(elapsed, std::chrono::milliseconds(500));
    EXPECT_FALSE(parse_backup_file(file).ok());
  }
  // The wallet's own level is accepted (parsed; not derived here: that takes a second).
  auto moderate = parse_backup_file(backup_file("{}", VaultParams::moderate()));
  ASSERT_TRUE(moderate.ok()) << moderate.status().to_string();
  EXPECT_EQ(moderate->kdf, VaultParams::moderate());
}

TEST_F(BackupFileTest, ExportRefusesAKeyDerivationThatARestoreWouldRefuse) {
  auto out = export_backup(*store_, "w", kPass, VaultParams{4, std::size_t{256} << 20});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

// Fields of the wrong JSON type (found while writing backup_fuzzer): nlohmann's value() and get<std::string>()
// threw type_error out of import_backup (and killed `bucketpay wallet restore`) instead of an error.
TEST_F(BackupFileTest, FieldsOfTheWrongTypeAreErrorsNotExceptions) {
  for (
      const std::string file :
      {R"({"format":1})", R"({"format":"bucketpay-backup-1","wallet":"w","kdf":[],"sealed":1})",
       R"({"format":"bucketpay-backup-1","wallet":"w","kdf":{"salt":1,"opslimit":1,"memlimit":8192},"sealed":"0x"})"}) {
    auto n = import_backup(*store_, file, kPass);
    ASSERT_FALSE(n.ok()) << file;
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument) << file;
  }
  const auto with = [](const char* key, json value) {
    json c = good_contents();
    c[key] = std::move(value);
    return c;
  };
  json note_value_text = good_contents();
  note_value_text["notes"][0]["pk"] = 5;
  json setting_number = good_contents();
  setting_number["settings"]["pool"] = 5;
  for (const json& contents : {with("sk", 5), with("eth_key", json::array()), with("settings", "x"),
                               with("notes", json::object()), note_value_text, setting_number, json::array({1, 2})}) {
    auto n = import_backup(*store_, backup_file(contents.dump()), kPass);
    ASSERT_FALSE(n.ok()) << contents.dump();
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument) << contents.dump();
    EXPECT_NE(n.status().message().find("not a bucketpay backup"), std::string::npos) << n.status().message();
  }
  EXPECT_FALSE(store_->get_spending_key("w").ok()) << "nothing restored from a malformed file";
}

}  // namespace
}  // namespace bucketpay
