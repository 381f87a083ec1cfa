#include "conventions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace bucketpay::cli {
namespace {

OutputMode mode_of(std::vector<const char*> args, bool tty, const char* no_color) {
  args.insert(args.begin(), "bucketpay");
  return output_mode_from_args(static_cast<int>(args.size()), args.data(), tty, tty, no_color);
}

TEST(OutputMode, ColourOnATerminalUnlessNoColorOrNever) {
  EXPECT_TRUE(mode_of({"balance"}, true, nullptr).color_out);
  EXPECT_TRUE(mode_of({"balance"}, true, "").color_err);  // NO_COLOR only counts when not empty
  EXPECT_FALSE(mode_of({"balance"}, true, "1").color_out);
  EXPECT_FALSE(mode_of({"balance"}, false, nullptr).color_err);
  EXPECT_FALSE(mode_of({"balance", "--color", "never"}, true, nullptr).color_out);
  EXPECT_FALSE(mode_of({"balance", "--color=never"}, true, nullptr).color_err);
  // An explicit --color always wins over NO_COLOR and a pipe.
  EXPECT_TRUE(mode_of({"balance", "--color", "always"}, false, "1").color_out);
  EXPECT_TRUE(mode_of({"balance", "--color=always"}, false, nullptr).color_err);
  // After `--` nothing is an option.
  EXPECT_FALSE(mode_of({"balance", "--", "--color=always"}, false, nullptr).color_out);
}

TEST(OutputMode, JsonFromEitherSpelling) {
  EXPECT_TRUE(mode_of({"balance", "--json"}, false, nullptr).json);
  EXPECT_TRUE(mode_of({"-j", "balance"}, false, nullptr).json);
  EXPECT_FALSE(mode_of({"balance", "--jsonx"}, false, nullptr).json);
  EXPECT_FALSE(mode_of({"balance", "--", "-j"}, false, nullptr).json);
}

TEST(ErrorChannel, UnderJsonTheErrorLineBecomesOneObjectOnStdout) {
  std::ostringstream err_target;
  std::ostringstream out;
  ErrorChannel channel(err_target.rdbuf(), OutputMode{.json = true});
  std::ostream err(&channel);
  err << "\rproving 3/4" << std::flush;  // a redrawn progress line passes at once
  EXPECT_EQ(err_target.str(), "\rproving 3/4");
  err << "\nbucketpay: offline (node down): from the store\n";
  err << "bucketpay: error: no wallet 'bob' in w.db\n";
  err << "bucketpay: error: a second one is not a second object\n";
  EXPECT_EQ(channel.finish(out, 1), 1);
  EXPECT_EQ(err_target.str(), "\rproving 3/4\nbucketpay: offline (node down): from the store\n");
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["error"], "no wallet 'bob' in w.db");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(out.str().find('\n'), out.str().size() - 1);
}

TEST(ErrorChannel, WithoutJsonErrorsStayOnStderrPaintedWhenAsked) {
  std::ostringstream plain_target;
  std::ostringstream out;
  {
    ErrorChannel channel(plain_target.rdbuf(), OutputMode{});
    std::ostream err(&channel);
    err << "bucketpay: error: bad\n";
    EXPECT_EQ(channel.finish(out, 2), 2);
  }
  EXPECT_EQ(plain_target.str(), "bucketpay: error: bad\n");
  EXPECT_TRUE(out.str().empty());

  std::ostringstream colour_target;
  ErrorChannel channel(colour_target.rdbuf(), OutputMode{.color_err = true});
  std::ostream err(&channel);
  err << "bucketpay: error: bad\nbucketpay: warning: careful\nbucketpay: note\n";
  channel.finish(out, 2);
  EXPECT_EQ(colour_target.str(),
            "bucketpay: \x1b[31merror:\x1b[0m bad\nbucketpay: \x1b[33mwarning:\x1b[0m careful\nbucketpay: note\n");
}

TEST(ErrorChannel, AnErrorWithoutExitStatusStillExitsNonZero) {
  std::ostringstream target;
  std::ostringstream out;
  ErrorChannel channel(target.rdbuf(), OutputMode{.json = true});
  std::ostream err(&channel);
  err << "bucketpay: error: cut short";  // no newline
  EXPECT_EQ(channel.finish(out, 0), 1);
  EXPECT_EQ(nlohmann::json::parse(out.str())["error"], "cut short");
}

TEST(JsonLines, ServerStatusLinesBecomeJsonLines) {
  std::ostringstream out;
  {
    JsonLines lines(out, true);
    std::ostream s(&lines);
    s << "listening on http://127.0.0.1:8080" << std::endl << "stopping" << std::endl;
  }
  EXPECT_EQ(out.str(),
            "{\"event\":\"listening on http://127.0.0.1:8080\",\"url\":\"http://127.0.0.1:8080\"}\n"
            "{\"event\":\"stopping\"}\n");
  std::ostringstream plain;
  {
    JsonLines lines(plain, false);
    std::ostream s(&lines);
    s << "listening on http://127.0.0.1:8080" << std::endl;
  }
  EXPECT_EQ(plain.str(), "listening on http://127.0.0.1:8080\n");
}

}  // namespace
}  // namespace bucketpay::cli
