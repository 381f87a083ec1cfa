#include "cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/field.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/poseidon2.h"
#include "conventions.h"
#include "deploy_command.h"
#include "engine_commands.h"
#include "relay_commands.h"
#include "wallet_commands.h"

namespace bucketpay::cli {
namespace {

using nlohmann::json;

// A failure reported to the user: its exit status follows from the Status code.
int fail(std::ostream& err, const Status& status) {
  err << "bucketpay: error: " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

Result<std::vector<Fr>> parse_fields(const std::vector<std::string>& texts) {
  std::vector<Fr> out;
  out.reserve(texts.size());
  for (const auto& t : texts) {
    auto f = Fr::from_string(t);
    if (!f.ok()) return f.status();
    out.push_back(*f);
  }
  return out;
}

struct Context {
  std::ostream& out;
  std::ostream& err;
};

int cmd_permute(Context& ctx, const std::vector<std::string>& args, bool as_json) {
  if (args.size() != 4) return fail(ctx.err, Status::invalid_argument("permute takes exactly 4 field elements"));
  auto in = parse_fields(args);
  if (!in.ok()) return fail(ctx.err, in.status());
  const auto state = poseidon2::permutation({(*in)[0], (*in)[1], (*in)[2], (*in)[3]});
  if (as_json) {
    json j = json::array();
    for (const auto& x : state) j.push_back(x.to_hex());
    ctx.out << json{{"state", j}}.dump() << "\n";
    return kExitOk;
  }
  for (const auto& x : state) ctx.out << x.to_hex() << "\n";
  return kExitOk;
}

int cmd_hash(Context& ctx, const std::vector<std::string>& args, bool as_json) {
  if (args.empty() || args.size() > 3) {
    return fail(ctx.err, Status::invalid_argument("hash takes 1 to 3 field elements"));
  }
  auto in = parse_fields(args);
  if (!in.ok()) return fail(ctx.err, in.status());
  const std::string hash = poseidon2::hash(*in).to_hex();
  if (as_json) {
    ctx.out << json{{"hash", hash}}.dump() << "\n";
  } else {
    ctx.out << hash << "\n";
  }
  return kExitOk;
}

int cmd_decompose(Context& ctx, const std::string& text, bool cents_unit, bool as_json) {
  auto amount = parse_amount(text, cents_unit ? AmountUnit::kCents : AmountUnit::kDollars);
  if (!amount.ok()) return fail(ctx.err, amount.status());
  const Decomposition d = decompose(*amount);
  if (as_json) {
    json j;
    j["amount"] = format_dollars(*amount);
    j["amount_cents"] = *amount;
    j["buckets"] = json::array();
    for (auto b : d) j["buckets"].push_back(b);
    ctx.out << j.dump() << "\n";
  } else {
    std::string line;
    for (auto b : d) line += (line.empty() ? "" : " ") + std::to_string(b);
    ctx.out << line << "\n";
  }
  return kExitOk;
}

int cmd_note(Context& ctx, const std::string& value_text, bool as_json) {
  auto value = parse_amount(value_text, AmountUnit::kDollars, kMaxNoteValue);
  if (!value.ok()) return fail(ctx.err, value.status());
  const SpendingKey sk = SpendingKey::generate();
  const Fr pk = owner_key(sk);
  const Note note = Note::create(pk, *value);
  const Fr cm = note.commitment();
  const Fr nf = nullifier(sk, cm);
  // The spending key and the blinding factor are secrets: they are never printed.
  if (as_json) {
    json j = {{"pk", pk.to_hex()}, {"value_cents", *value}, {"commitment", cm.to_hex()}, {"nullifier", nf.to_hex()}};
    ctx.out << j.dump() << "\n";
  } else {
    ctx.out << "owner key (pk)  " << pk.to_hex() << "\n"
            << "value           " << format_dollars(*value) << " (" << *value << " cents)\n"
            << "commitment (cm) " << cm.to_hex() << "\n"
            << "nullifier (nf)  " << nf.to_hex() << "\n";
  }
  return kExitOk;
}

int cmd_tree(Context& ctx, const std::vector<std::string>& leaf_texts, std::uint64_t index, bool as_json) {
  auto leaves = parse_fields(leaf_texts);
  if (!leaves.ok()) return fail(ctx.err, leaves.status());
  MerkleTree tree;
  if (auto appended = tree.append_many(*leaves); !appended.ok()) return fail(ctx.err, appended.status());
  if (index >= tree.size()) {
    return fail(ctx.err,
                Status::invalid_argument("--path " + std::to_string(index) + " is not a leaf index (the tree has " +
                                         std::to_string(tree.size()) + " leaves)"));
  }
  auto path = tree.path(index);
  if (!path.ok()) return fail(ctx.err, path.status());
  const bool valid = verify_path(tree.root(), (*leaves)[index], *path);
  if (as_json) {
    json j = {{"root", tree.root().to_hex()}, {"size", tree.size()}, {"index", index}, {"path_valid", valid}};
    j["siblings"] = json::array();
    j["positions"] = json::array();
    for (std::size_t level = 0; level < path->siblings.size(); ++level) {
      j["siblings"].push_back({path->siblings[level][0].to_hex(), path->siblings[level][1].to_hex()});
      j["positions"].push_back(path->positions[level]);
    }
    ctx.out << j.dump() << "\n";
  } else {
    ctx.out << "leaves " << tree.size() << "\nroot   " << tree.root().to_hex() << "\npath of leaf " << index
            << " (level: position, siblings)\n";
    for (std::size_t level = 0; level < path->siblings.size(); ++level) {
      ctx.out << "  " << (level < 10 ? " " : "") << level << ": " << int{path->positions[level]} << "  "
              << path->siblings[level][0].to_hex() << " " << path->siblings[level][1].to_hex() << "\n";
    }
    ctx.out << "path " << (valid ? "verifies" : "DOES NOT VERIFY") << " against the root\n";
  }
  return valid ? kExitOk : kExitFailure;
}

// A command's help; its usage line names the whole command (CLI11 names only the last word, and
// bucketpay itself by the path it was started with when it has no name).
std::string command_help(const CLI::App& command, const std::string& path) {
  std::string text = command.help();
  if (!path.empty()) {
    const std::string usage = "Usage: " + command.get_name();
    if (const auto at = text.find(usage); at != std::string::npos) {
      text.replace(at, usage.size(), "Usage: bucketpay " + path);
    }
  }
  return text;
}

// The subcommand of `parent` named `word`, or null.
CLI::App* find_command(CLI::App& parent, const std::string& word) {
  auto found = parent.get_subcommands([&](CLI::App* sub) { return sub->get_name() == word; });
  return found.empty() ? nullptr : found.front();
}

// Before CLI11 parses: `bucketpay help [COMMAND...]` prints that command's help, and a word
// where a command is expected that names none is an error naming it (CLI11 would only say that
// an argument was not expected). Returns the exit status when it answered.
std::optional<int> answer_command_words(CLI::App& app, int argc, const char* const* argv, Context& ctx) {
  CLI::App* current = &app;
  std::string path;
  int i = 1;
  const bool help = argc > 1 && std::string(argv[1]) == "help";
  if (help) ++i;
  for (; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (!word.empty() && word[0] == '-') {
      // An option of the command so far (`bucketpay --json frobnicate`); its value is no command.
      const CLI::Option* option = current->get_option_no_throw(word.substr(0, word.find('=')));
      if (option == nullptr) break;
      if (option->get_expected_max() > 0 && word.find('=') == std::string::npos) ++i;
      continue;
    }
    if (current->get_subcommands([](CLI::App*) { return true; }).empty()) break;
    CLI::App* next = find_command(*current, word);
    if (next == nullptr) {
      ctx.err << "bucketpay: error: unknown command '" << path << (path.empty() ? "" : " ") << word
              << "' (see bucketpay " << path << (path.empty() ? "" : " ") << "--help)\n";
      return kExitUsage;
    }
    path += (path.empty() ? "" : " ") + word;
    current = next;
  }
  if (!help) return std::nullopt;
  if (output_mode().json) {
    // The command table of this command and those under it, as completions are made from.
    nlohmann::json table = nlohmann::json::array();
    for (const auto& c : command_table(app)) {
      if (path.empty() || c.path == path || c.path.rfind(path + " ", 0) == 0)
        table.push_back(command_table_json({c})[0]);
    }
    ctx.out << table.dump() << "\n";
    return kExitOk;
  }
  ctx.out << command_help(*current, path);
  return kExitOk;
}

// After `--help`: the deepest command given and its words.
std::pair<CLI::App*, std::string> command_given(CLI::App& app) {
  CLI::App* current = &app;
  std::string path;
  for (;;) {
    const auto parsed = current->get_subcommands();
    if (parsed.empty()) break;
    current = parsed.front();
    path += (path.empty() ? "" : " ") + current->get_name();
  }
  return {current, path};
}

}  // namespace

namespace {

int run_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx{out, err};
  CLI::App app{"bucketpay: instant private payments from precomputed zero-knowledge proofs", "bucketpay"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "bucketpay 0.1.0");

  std::vector<std::string> permute_args;
  auto* permute =
      app.add_subcommand("permute", "Print the Poseidon2 permutation of 4 field elements (0x-hex, one per line)");
  permute->add_option("inputs", permute_args, "4 field elements, decimal or 0x-hex")->required()->expected(4);
  bool as_json = false;  // --json of the commands defined here

  std::vector<std::string> hash_args;
  auto* hash = app.add_subcommand("hash", "Print H(X, Y, Z) of 1 to 3 field elements (0x-hex)");
  hash->add_option("inputs", hash_args, "1 to 3 field elements, decimal or 0x-hex")->required()->expected(1, 3);

  std::string amount_text;
  bool cents_unit = false;
  auto* decomp = app.add_subcommand("decompose", "Print the binary buckets (in cents) of an amount");
  decomp->add_option("amount", amount_text, "amount in dollars (12.34) or, with --cents, in cents")->required();
  decomp->add_flag("--cents", cents_unit, "the amount is in integer cents");
  decomp->add_flag("-j,--json", as_json, "print JSON");

  std::string note_value = "1.00";
  auto* note = app.add_subcommand("new-note",
                                  "Make a fresh note (random key and blinding) and print its commitment and nullifier");
  note->add_option("--value", note_value, "the note's value in dollars")->capture_default_str();
  note->add_flag("-j,--json", as_json, "print JSON");

  const auto engine_commands = add_engine_commands(app, out, err);
  const auto wallet_commands = add_wallet_commands(app, out, err);
  const auto relay_commands = add_relay_commands(app, out, err);
  const auto deploy_commands = add_deploy_command(app, out, err);

  std::vector<std::string> tree_leaves;
  std::uint64_t tree_index = 0;
  auto* tree_cmd = app.add_subcommand(
      "tree", "Build a 3-ary depth-16 Poseidon2 tree from leaves; print its root and a membership path");
  tree_cmd->add_option("--leaves", tree_leaves, "leaves (field elements), comma-separated")->required()->delimiter(',');
  tree_cmd->add_option("--path", tree_index, "the leaf whose path to print")->capture_default_str();
  tree_cmd->add_flag("-j,--json", as_json, "print JSON");

  // `help` is answered before parsing; it is in the table for completions and `help help`.
  std::vector<std::string> help_words;
  app.add_subcommand("help", "Print the help of a command (with --json: the command table)")
      ->add_option("command", help_words, "the command's words, e.g. inventory status");
  std::string shell;
  auto* completions = app.add_subcommand(
      "completions", "Print a completion script for bash, zsh or fish (from the same command table as the parser)");
  completions->add_option("shell", shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(kShellChoices.begin(), kShellChoices.end())));

  // Every command takes -j/--json and --color (those without a --json of their own share this one).
  bool shared_json = false;
  std::string color = "auto";
  add_conventions(app, shared_json, color);

  if (auto answered = answer_command_words(app, argc, argv, ctx)) return *answered;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    const auto [command, path] = command_given(app);
    out << command_help(*command, path);
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << (output_mode().json ? json{{"version", "0.1.0"}}.dump() : "bucketpay 0.1.0") << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    for (auto& c : message) {
      if (c == '\n') c = ' ';
    }
    err << "bucketpay: error: " << message << " (see bucketpay --help)\n";
    return kExitUsage;
  }
  try {
    const bool json_out = output_mode().json;
    if (permute->parsed()) return cmd_permute(ctx, permute_args, json_out);
    if (hash->parsed()) return cmd_hash(ctx, hash_args, json_out);
    if (completions->parsed()) {
      const std::string script = completion_script(command_table(app), shell);
      if (json_out) {
        out << json{{"shell", shell}, {"script", script}}.dump() << "\n";
      } else {
        out << script;
      }
      return kExitOk;
    }
    if (decomp->parsed()) return cmd_decompose(ctx, amount_text, cents_unit, as_json);
    if (note->parsed()) return cmd_note(ctx, note_value, as_json);
    if (tree_cmd->parsed()) return cmd_tree(ctx, tree_leaves, tree_index, as_json);
    for (const auto* commands : {&engine_commands, &wallet_commands, &relay_commands, &deploy_commands}) {
      for (const auto& [sub, handler] : *commands) {
        // The deepest command given (`inventory status`, not `inventory`).
        if (sub->parsed() && sub->get_subcommands().empty()) return handler();
      }
    }
  } catch (const std::exception& e) {
    // Nothing below should throw; this keeps a bug from becoming a crash with a core dump.
    err << "bucketpay: error: internal: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  const OutputMode mode = output_mode_from_args(argc, argv, ::isatty(STDOUT_FILENO) == 1, ::isatty(STDERR_FILENO) == 1,
                                                std::getenv("NO_COLOR"));
  set_output_mode(mode);
  ErrorChannel channel(err.rdbuf(), mode);
  std::ostream errors(&channel);
  const int code = run_command(argc, argv, out, errors);
  errors.flush();
  return channel.finish(out, code);
}

}  // namespace bucketpay::cli
