#include "passphrase.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace bucketpay::cli {
namespace {

// These tests change the environment; no other thread runs meanwhile.
// NOLINTBEGIN(concurrency-mt-unsafe)

// Restores BUCKETPAY_PASSPHRASE as it was.
class PassphraseEnv {
 public:
  PassphraseEnv() {
    if (const char* v = std::getenv("BUCKETPAY_PASSPHRASE")) {
      saved_ = v;
    }
  }
  ~PassphraseEnv() {
    if (saved_) {
      setenv("BUCKETPAY_PASSPHRASE", saved_->c_str(), 1);
    } else {
      unsetenv("BUCKETPAY_PASSPHRASE");
    }
  }
  PassphraseEnv(const PassphraseEnv&) = delete;
  PassphraseEnv& operator=(const PassphraseEnv&) = delete;

 private:
  std::optional<std::string> saved_;
};

TEST(ReadPassphraseTest, FromEnvironment) {
  const PassphraseEnv env;
  setenv("BUCKETPAY_PASSPHRASE", "from env", 1);
  Result<std::string> p = read_passphrase("unused: ");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(*p, "from env");

  setenv("BUCKETPAY_PASSPHRASE", "", 1);
  EXPECT_EQ(read_passphrase("unused: ").status().code(), StatusCode::kInvalidArgument);
}

TEST(ReadPassphraseTest, NoTerminalIsAClearError) {
  // A child in a new session has no controlling terminal, so /dev/tty cannot be opened.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setsid();
    unsetenv("BUCKETPAY_PASSPHRASE");
    Result<std::string> p = read_passphrase("passphrase: ");
    const bool ok = !p.ok() && p.status().code() == StatusCode::kFailedPrecondition &&
                    p.status().message().find("BUCKETPAY_PASSPHRASE") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

// NOLINTEND(concurrency-mt-unsafe)

}  // namespace
}  // namespace bucketpay::cli
