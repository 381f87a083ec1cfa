// TokenStore against a real SQLite file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "bucketpay/service.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-token-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TokenStoreTest, PathIsBesideTheStore) {
  EXPECT_EQ(TokenStore::path_for_store("/x/y/bucketpay.db"), fs::path("/x/y/bucketpay.db.tokens"));
}

TEST_F(TokenStoreTest, CreatedTokensAuthenticateToTheirWalletOnly) {
  auto tokens = TokenStore::open(dir_ / "t.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status().to_string();
  auto alice = (*tokens)->create("alice");
  auto bob = (*tokens)->create("bob");
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_NE(alice->token, bob->token);
  EXPECT_EQ(alice->token.size(), 85U);
  EXPECT_EQ(alice->token.rfind("bpt_" + alice->id + "_", 0), 0U);
  EXPECT_EQ(*(*tokens)->authenticate(alice->token), "alice");
  EXPECT_EQ(*(*tokens)->authenticate(bob->token), "bob");

  // Any change to the secret, the id, or the shape is refused, with one message for all.
  std::string tampered = alice->token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  std::string swapped = "bpt_" + bob->id + alice->token.substr(4 + 16);  // bob's id, alice's secret
  for (const std::string& bad : {tampered, swapped, std::string(), std::string("bpt_"), alice->token + "0",
                                 alice->token.substr(0, 84), std::string(85, 'x')}) {
    auto r = (*tokens)->authenticate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(r.status().message(), "unknown or revoked token");
  }
  EXPECT_FALSE((*tokens)->create("").ok());
}

TEST_F(TokenStoreTest, OnlyAHashIsStoredAndTokensSurviveReopening) {
  std::string token;
  std::string id;
  {
    auto tokens = TokenStore::open(dir_ / "t.tokens");
    ASSERT_TRUE(tokens.ok());
    auto c = (*tokens)->create("alice");
    ASSERT_TRUE(c.ok());
    token = c->token;
    id = c->id;
  }
  // Neither the secret's hex nor its bytes appear in the files.
  const std::string secret_hex = token.substr(4 + 16 + 1);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(secret_hex), std::string::npos) << entry.path();
  }
  auto tokens = TokenStore::open(dir_ / "t.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*(*tokens)->authenticate(token), "alice");
  auto list = (*tokens)->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].id, id);
  EXPECT_FALSE((*list)[0].revoked);

  ASSERT_TRUE((*tokens)->revoke(id).is_ok());
  EXPECT_FALSE((*tokens)->authenticate(token).ok());
  EXPECT_TRUE((*(*tokens)->list())[0].revoked);
  EXPECT_EQ((*tokens)->revoke("0000000000000000").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bucketpay
