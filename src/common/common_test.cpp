// Status/Result, the clocks and Subprocess.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "bucketpay/clock.h"
#include "bucketpay/domain.h"
#include "bucketpay/status.h"
#include "bucketpay/subprocess.h"
#include "manual_clock_testing.h"

namespace bucketpay {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Status::invalid_argument(std::string("not a digit: ") + c);
  return c - '0';
}

// Two digits through BUCKETPAY_ASSIGN_OR_RETURN, a declaration and an lvalue.
Result<int> parse_two(const char* s) {
  BUCKETPAY_ASSIGN_OR_RETURN(const int tens, parse_digit(s[0]));
  int ones = 0;
  BUCKETPAY_ASSIGN_OR_RETURN(ones, parse_digit(s[1]));
  return tens * 10 + ones;
}

Status check_two(const char* s) {
  BUCKETPAY_ASSIGN_OR_RETURN(auto v, parse_two(s));
  return v > 50 ? Status::ok() : Status::failed_precondition("too small");
}

TEST(Status, AssignOrReturnPassesTheValueOrReturnsTheFirstFailure) {
  auto ok = parse_two("42");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  auto bad_first = parse_two("x2");
  EXPECT_EQ(bad_first.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_first.status().message(), "not a digit: x");
  auto bad_second = parse_two("4y");
  EXPECT_EQ(bad_second.status().message(), "not a digit: y");
  EXPECT_TRUE(check_two("77").is_ok());
  EXPECT_EQ(check_two("12").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(check_two("z").code(), StatusCode::kInvalidArgument);
}

TEST(Status, AssignOrReturnMovesTheValue) {
  auto make = []() -> Result<std::string> { return std::string(1000, 'a'); };
  auto use = [&]() -> Result<std::size_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(std::string s, make());
    return s.size();
  };
  EXPECT_EQ(*use(), 1000U);
}

TEST(StatusDeathTest, ValueOfAFailedResultIsACheckedFailureNamingTheStatus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Result<int> failed = Status::not_found("note 7 not found");
  EXPECT_DEATH({ (void)failed.value(); }, "Result::value\\(\\) on a failed Result: not found: note 7 not found");
  Result<std::string> failed_string = Status::timeout("the node did not answer");
  EXPECT_DEATH({ (void)failed_string->size(); }, "timeout: the node did not answer");
  EXPECT_DEATH({ (void)std::move(failed_string).value(); }, "timeout");
}

TEST(Clock, SystemClockMovesForward) {
  Clock& c = Clock::system();
  const auto t0 = c.steady_now();
  const std::int64_t u0 = c.unix_ms();
  c.sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(c.ms_since(t0), 5.0);
  EXPECT_GE(c.unix_ms(), u0);
  EXPECT_GT(u0, 1'600'000'000'000) << "Unix milliseconds";
}

TEST(Clock, ManualClockMovesOnlyWhenToldOrWaitedOn) {
  testing::ManualClock c(1'000'000);
  const auto t0 = c.steady_now();
  EXPECT_EQ(c.unix_ms(), 1'000'000);
  EXPECT_EQ(c.ms_since(t0), 0.0);
  c.advance(std::chrono::minutes(5));
  EXPECT_EQ(c.unix_ms(), 1'000'000 + 300'000);
  c.sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(c.ms_since(t0), 300'250.0);
  EXPECT_EQ(c.sleeps(), 1);
}

TEST(Subprocess, ReadToEndReturnsEverythingTheChildWroteAndRefusesMoreThanItsLimit) {
  const auto spawn = [](std::string script) {
    Subprocess::Options o;
    o.argv = {"/bin/sh", "-c", std::move(script)};
    return Subprocess::spawn(o);
  };
  auto hello = spawn("echo hello; echo world");
  ASSERT_TRUE(hello.ok()) << hello.status().to_string();
  EXPECT_EQ(*hello->read_to_end(), "hello\nworld\n");
  EXPECT_EQ(hello->wait(), 0);

  auto big = spawn("head -c 300000 /dev/zero");  // more than one pipe buffer and one read
  ASSERT_TRUE(big.ok());
  const Result<std::string> zeros = big->read_to_end();
  ASSERT_TRUE(zeros.ok()) << zeros.status().to_string();
  EXPECT_EQ(zeros->size(), 300000U);
  EXPECT_EQ(zeros->find_first_not_of('\0'), std::string::npos);
  EXPECT_EQ(big->wait(), 0);

  auto too_much = spawn("head -c 1000 /dev/zero");
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->read_to_end(std::nullopt, 100).status().code(), StatusCode::kResourceExhausted);

  auto silent = spawn("sleep 5");
  ASSERT_TRUE(silent.ok());
  EXPECT_EQ(silent->read_to_end(Subprocess::Clock::now() + std::chrono::milliseconds(100)).status().code(),
            StatusCode::kTimeout);
}

TEST(Subprocess, StderrIsAppendedToItsFileButNeverThroughASymlink) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bucketpay-subprocess-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto run = [](const fs::path& stderr_path) {
    Subprocess::Options o;
    o.argv = {"/bin/sh", "-c", "echo said >&2"};
    o.stderr_path = stderr_path;
    auto child = Subprocess::spawn(o);
    ASSERT_TRUE(child.ok()) << child.status().to_string();
    EXPECT_EQ(child->wait(), 0);
  };
  const auto contents = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  run(dir / "log");
  EXPECT_EQ(contents(dir / "log"), "said\n");
  // A symlink planted where a log goes (to a file of someone else's): the child's stderr goes nowhere.
  std::ofstream(dir / "theirs") << "theirs\n";
  fs::create_symlink(dir / "theirs", dir / "planted.log");
  run(dir / "planted.log");
  EXPECT_EQ(contents(dir / "theirs"), "theirs\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay

namespace bucketpay {
namespace {

TEST(Domain, EveryKindHasOneNameThatParsesBack) {
  for (CircuitKind k : kCircuitKinds) {
    auto back = parse_circuit_kind(circuit_name(k));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, k);
  }
  EXPECT_EQ(circuit_name(CircuitKind::kSpend), "spend");
  EXPECT_EQ(circuit_name(CircuitKind::kSplit), "split");
  for (PaymentKind k : kPaymentKinds) {
    auto back = parse_payment_kind(payment_kind_name(k));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, k);
  }
  EXPECT_EQ(payment_kind_name(PaymentKind::kRebalance), "rebalance");
  EXPECT_EQ(*circuit_of(PaymentKind::kPay), CircuitKind::kSpend);
  EXPECT_EQ(*circuit_of(PaymentKind::kRebalance), CircuitKind::kSplit);
  EXPECT_FALSE(circuit_of(PaymentKind::kDeposit).ok());
}

TEST(Domain, UnknownNamesAreErrorsNotDefaults) {
  for (const char* bad : {"", "Spend", "spend ", "withdraw"}) {
    auto c = parse_circuit_kind(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(parse_payment_kind("PAY").ok());
  EXPECT_FALSE(parse_payment_kind("transfer").ok());
}

}  // namespace
}  // namespace bucketpay
