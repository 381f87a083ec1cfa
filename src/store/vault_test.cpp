#include "bucketpay/vault.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bucketpay {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

Vault make_vault(std::string_view passphrase) {
  Result<Vault> v = Vault::create(passphrase, VaultParams::fast());
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return std::move(v).value();
}

TEST(VaultTest, SealUnsealRoundTrip) {
  const Vault vault = make_vault("correct horse");
  for (const std::string& plain : {std::string(), std::string("x"), std::string(1000, 'q')}) {
    const Bytes sealed = vault.seal(bytes_of(plain), "ad");
    EXPECT_EQ(sealed.size(), plain.size() + Vault::kOverhead);
    Result<Bytes> opened = vault.unseal(sealed, "ad");
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    EXPECT_EQ(*opened, bytes_of(plain));
  }
}

TEST(VaultTest, FreshNoncePerMessage) {
  const Vault vault = make_vault("pw");
  const Bytes a = vault.seal(bytes_of("same"), "ad");
  const Bytes b = vault.seal(bytes_of("same"), "ad");
  EXPECT_NE(a, b);
}

TEST(VaultTest, OpenWithSameSaltDerivesSameKey) {
  const Vault first = make_vault("pw");
  Result<Vault> second = Vault::open("pw", first.salt(), first.params());
  ASSERT_TRUE(second.ok());
  Result<Bytes> opened = second->unseal(first.seal(bytes_of("secret"), "ad"), "ad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, bytes_of("secret"));
}

TEST(VaultTest, WrongPassphraseRefused) {
  const Vault right = make_vault("right");
  Result<Vault> wrong = Vault::open("wrong", right.salt(), right.params());
  ASSERT_TRUE(wrong.ok());
  Result<Bytes> opened = wrong->unseal(right.seal(bytes_of("secret"), "ad"), "ad");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("wrong passphrase"), std::string::npos);
}

TEST(VaultTest, DifferentSaltDifferentKey) {
  const Vault a = make_vault("pw");
  const Vault b = make_vault("pw");
  EXPECT_NE(a.salt(), b.salt());
  EXPECT_FALSE(b.unseal(a.seal(bytes_of("secret"), "ad"), "ad").ok());
}

TEST(VaultTest, AssociatedDataBindsTheRecord) {
  const Vault vault = make_vault("pw");
  const Bytes sealed = vault.seal(bytes_of("r of note 1"), "note.r:1");
  EXPECT_TRUE(vault.unseal(sealed, "note.r:1").ok());
  EXPECT_FALSE(vault.unseal(sealed, "note.r:2").ok());
  EXPECT_FALSE(vault.unseal(sealed, "").ok());
}

TEST(VaultTest, EveryTamperedByteRefused) {
  const Vault vault = make_vault("pw");
  const Bytes sealed = vault.seal(bytes_of("sixteen byte msg"), "ad");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    Result<Bytes> opened = vault.unseal(tampered, "ad");
    EXPECT_FALSE(opened.ok()) << "byte " << i;
    if (!opened.ok()) {
      EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
    }
  }
  EXPECT_FALSE(vault.unseal(std::span(sealed).first(sealed.size() - 1), "ad").ok());
  EXPECT_FALSE(vault.unseal(std::span(sealed).first(Vault::kOverhead - 1), "ad").ok());
  EXPECT_FALSE(vault.unseal({}, "ad").ok());
  Bytes appended = sealed;
  appended.push_back(0);
  EXPECT_FALSE(vault.unseal(appended, "ad").ok());
}

TEST(VaultTest, RejectsBadInputs) {
  EXPECT_EQ(Vault::create("", VaultParams::fast()).status().code(), StatusCode::kInvalidArgument);
  const Bytes short_salt(Vault::kSaltBytes - 1, 0);
  EXPECT_EQ(Vault::open("pw", short_salt, VaultParams::fast()).status().code(), StatusCode::kInvalidArgument);
  const Bytes salt(Vault::kSaltBytes, 0);
  EXPECT_EQ(Vault::open("pw", salt, VaultParams{0, 8192}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Vault::open("pw", salt, VaultParams{1, 1024}).status().code(), StatusCode::kInvalidArgument);
}

TEST(VaultTest, ParamsAreLibsodiumLevels) {
  EXPECT_EQ(VaultParams::moderate().opslimit, 3U);
  EXPECT_EQ(VaultParams::moderate().memlimit, std::size_t{256} << 20);
  EXPECT_EQ(VaultParams::fast(), (VaultParams{1, 8192}));
  const Vault vault = make_vault("pw");
  EXPECT_EQ(vault.params(), VaultParams::fast());
  EXPECT_EQ(vault.salt().size(), Vault::kSaltBytes);
}

TEST(VaultTest, MovedVaultKeepsWorking) {
  Vault a = make_vault("pw");
  const Bytes sealed = a.seal(bytes_of("secret"), "ad");
  const Vault b = std::move(a);
  EXPECT_TRUE(b.unseal(sealed, "ad").ok());
}

}  // namespace
}  // namespace bucketpay
