// The conventions every `bucketpay` command follows, as Foundry's cast/forge and nargo do:
//   -j, --json       the answer as JSON on stdout; an error as one JSON object on stdout
//                    ({"error": "...", "exit_code": N}) and a non-zero exit status
//   --color WHEN     auto (colour on a terminal unless $NO_COLOR is set), always, never
//   -d --db, -w --wallet, -r --rpc-url   short forms of the common options
// and the command table those conventions, `bucketpay help --json` and `bucketpay completions`
// are generated from (the parser's own CLI::App, so they cannot drift from it).
//
// Not thread-safe: the output mode is set once per run() before any command runs.
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace bucketpay::cli {

inline constexpr std::array<const char*, 3> kColorChoices = {"auto", "always", "never"};
inline constexpr std::array<const char*, 3> kShellChoices = {"bash", "zsh", "fish"};

struct OutputMode {
  bool json = false;
  bool color_out = false;  // colour on stdout
  bool color_err = false;  // colour on stderr
};

// From the arguments (before a `--`): -j/--json, --color WHEN / --color=WHEN; with `auto` (the
// default), colour on a stream that is a terminal unless NO_COLOR is set and not empty
// (https://no-color.org). An unknown WHEN counts as auto here; the parser then refuses it.
OutputMode output_mode_from_args(int argc, const char* const* argv, bool out_tty, bool err_tty, const char* no_color);
// The mode of the current run (set by run()).
const OutputMode& output_mode();
void set_output_mode(const OutputMode& mode);

// "2026-12-02 03:59:54Z": a time the CLI prints (a journal entry's, a token's), in UTC.
std::string utc_time(std::int64_t unix_ms);

enum class Colour { kRed, kGreen, kYellow, kBold, kDim };
// `text` in `colour` when `on`, else `text` unchanged.
std::string paint(std::string_view text, Colour colour, bool on);
// paint() for stdout under the current run's mode.
std::string paint_out(std::string_view text, Colour colour);

// The error channel of a run. Every failure of the CLI is one line "bucketpay: error: MESSAGE" on
// stderr (the one rule all commands follow); this stream buffer sits between the commands and the
// real stderr and, line by line:
//   - under --json, keeps the first error line back; finish() writes it as one JSON object on stdout;
//   - with colour on stderr, paints "error:" red (and "warning:" yellow);
//   - passes everything else through at once (a progress bar redrawn with \r is not held back).
class ErrorChannel : public std::streambuf {
 public:
  ErrorChannel(std::streambuf* target, OutputMode mode);
  // After the command: under --json and when an error line was seen, writes
  // {"error": MESSAGE, "exit_code": exit_code} to out. Returns exit_code.
  int finish(std::ostream& out, int exit_code);
  bool saw_error() const { return !error_.empty(); }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void put(char c);
  void end_line();

  std::streambuf* target_;
  OutputMode mode_;
  std::string held_;  // the start of a line that may still become an error or warning line
  bool at_line_start_ = true;
  bool holding_message_ = false;  // inside an error line kept back for JSON
  std::string message_;
  std::string error_;
};

// Under --json, the status lines a long-running command prints on stdout ("listening on URL",
// "stopping") as JSON lines: {"event": "listening on http://127.0.0.1:8080", "url": "http://127.0.0.1:8080"}
// ("url" when the line holds one). Without --json, the lines pass unchanged.
class JsonLines : public std::streambuf {
 public:
  JsonLines(std::ostream& target, bool json) : target_(target), json_(json) {}
  ~JsonLines() override;

 protected:
  int_type overflow(int_type ch) override;
  int sync() override;

 private:
  std::ostream& target_;
  bool json_;
  std::string line_;
};

// Adds -j/--json (bound to `json` where a command has none of its own) and --color to `app` and
// every subcommand, and the short names of the common options are expected to be in place already.
void add_conventions(CLI::App& app, bool& json, std::string& color);

// The command table: for the command at `path` (words after `bucketpay`), its subcommands and options.
struct OptionInfo {
  std::vector<std::string> names;  // "-w", "--wallet"
  bool takes_value = false;
  std::vector<std::string> choices;  // known values (--color, the completions' shell), else empty
  std::string description;
};
struct CommandInfo {
  std::string path;  // "" for bucketpay itself, "inventory status"
  std::string description;
  std::vector<std::string> subcommands;
  std::vector<OptionInfo> options;
  std::vector<std::string> positional_choices;  // e.g. bash zsh fish for `completions`
};
std::vector<CommandInfo> command_table(const CLI::App& app);
nlohmann::json command_table_json(const std::vector<CommandInfo>& table);

// A completion script for `shell` (bash, zsh, fish) generated from the table.
std::string completion_script(const std::vector<CommandInfo>& table, std::string_view shell);

}  // namespace bucketpay::cli
