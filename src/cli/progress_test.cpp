#include "progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace bucketpay::cli {
namespace {

TEST(Summaries, DurationsAreRounded) {
  EXPECT_EQ(format_duration(0.04321), "0.0 s");
  EXPECT_EQ(format_duration(3.14159), "3.1 s");
  EXPECT_EQ(format_duration(12.3456789), "12 s");
  EXPECT_EQ(format_duration(59.4), "59 s");
  EXPECT_EQ(format_duration(59.6), "1 min 00 s");
  EXPECT_EQ(format_duration(125.2), "2 min 05 s");
  EXPECT_EQ(format_duration(3725), "1 h 02 min");
}

TEST(Summaries, SingularAndPlural) {
  EXPECT_EQ(count_of(1, "proof"), "1 proof");
  EXPECT_EQ(count_of(0, "proof"), "0 proofs");
  EXPECT_EQ(count_of(2, "note"), "2 notes");
  EXPECT_EQ(count_of(1, "was", "were"), "1 was");
  EXPECT_EQ(count_of(3, "was", "were"), "3 were");
}

TEST(ProgressLines, ARunWithAFailureNeverShows100Percent) {
  std::ostringstream out;
  Progress p(out, "proving", /*tty=*/false);
  p.update(1, 3);
  p.fail();
  p.update(2, 3);
  p.update(3, 3);
  p.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.find("100.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("3/3 (1 failed)   66.6%"), std::string::npos) << text;
}

TEST(ProgressLines, ACompleteRunShows100PercentOnce) {
  std::ostringstream out;
  Progress p(out, "proving", /*tty=*/false, std::chrono::hours(1));
  p.update(1, 2);  // the first line waits for the interval
  p.update(2, 2);
  p.finish();
  EXPECT_EQ(out.str().find("proving: 2/2  100.0%"), 0U) << out.str();
  EXPECT_EQ(out.str().find('\n'), out.str().size() - 1) << out.str();
}

TEST(ProgressLines, FinishPrintsAStateThatWasNotPrinted) {
  std::ostringstream out;
  Progress p(out, "proving", /*tty=*/false, std::chrono::hours(1));
  p.update(1, 2);
  EXPECT_EQ(out.str(), "");
  p.finish();  // interrupted: the last state is shown
  EXPECT_EQ(out.str().find("proving: 1/2   50.0%"), 0U) << out.str();
}

TEST(StatusLines, PlainLinesAreThrottledAndTheLastAlwaysPrinted) {
  std::ostringstream out;
  StatusLine line(out, /*tty=*/false, std::chrono::hours(1));
  line.update("waiting: block 1 of 3", false);
  line.update("waiting: block 2 of 3", false);
  line.update("waiting: block 3 of 3", true);
  EXPECT_EQ(out.str(), "waiting: block 1 of 3\nwaiting: block 3 of 3\n");
}

TEST(StatusLines, ATerminalLineIsRedrawnAndEnded) {
  std::ostringstream out;
  StatusLine line(out, /*tty=*/true);
  line.update("a", false);
  line.update("b", true);
  EXPECT_EQ(out.str(), "\ra\x1b[K\rb\x1b[K\n");
}

}  // namespace
}  // namespace bucketpay::cli
