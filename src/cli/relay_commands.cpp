#include "relay_commands.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bucketpay/relay.h"
#include "bucketpay/x402.h"
#include "cli.h"
#include "context.h"
#include "conventions.h"

namespace bucketpay::cli {
namespace {

using nlohmann::json;

struct RelayCliOptions {
  CommonOptions common;
  // init
  std::string rpc_url;
  std::string pool;
  std::string eth_price;
  std::uint32_t margin_bps = 0;
  std::string min_fee;
  std::int64_t quote_validity_s = 0;
  std::uint64_t gas_spend_base = 0;
  std::uint64_t gas_spend_per_note = 0;
  std::uint64_t gas_split = 0;
  // serve
  std::string host = "127.0.0.1";
  int port = 8090;
  std::int64_t poll_ms = 1000;
  std::int64_t deadline_margin_s = 60;
  std::uint64_t confirmations = 1;
  std::size_t max_body_bytes = std::size_t{1} << 20;
  bool quiet = false;
  bool x402 = false;
  std::string x402_base = "/x402";
  std::string public_url;
  std::int64_t settle_wait_ms = 30'000;
  // status
  std::string digest;
};

// The fee options given on the command line (the others keep their stored or default values).
struct FeeFlags {
  CLI::Option* eth_price = nullptr;
  CLI::Option* margin_bps = nullptr;
  CLI::Option* min_fee = nullptr;
  CLI::Option* quote_validity = nullptr;
  CLI::Option* gas_spend_base = nullptr;
  CLI::Option* gas_spend_per_note = nullptr;
  CLI::Option* gas_split = nullptr;
};

bool given(const CLI::Option* o) { return o != nullptr && o->count() > 0; }

class RelayRunner {
 public:
  RelayRunner(std::shared_ptr<RelayCliOptions> o, std::shared_ptr<FeeFlags> flags, std::ostream& out, std::ostream& err)
      : o_(std::move(o)), flags_(std::move(flags)), out_(out), err_(err) {}

  int fail(const Status& s) {
    std::string message = s.message();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    err_ << "bucketpay: error: " << message << "\n";
    return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }

  // Makes the relayer's account (once) and records its chain, Pool and fee policy.
  int init() {
    auto pool = eth::Address::from_string(o_->pool);
    if (!pool.ok()) return fail(Status::invalid_argument("--pool: " + pool.status().message()));
    if (o_->rpc_url.rfind("http://", 0) != 0 && o_->rpc_url.rfind("https://", 0) != 0) {
      return fail(Status::invalid_argument("--rpc-url must be an http:// or https:// URL"));
    }
    // Fee flags are checked before anything is opened or asked for.
    auto checked = fees(relay::FeePolicy{});
    if (!checked.ok()) return fail(checked.status());

    // The chain first: a node that does not answer, or an address without a Pool, makes no store.
    auto config = relay::read_chain_config(o_->rpc_url, *pool);
    if (!config.ok()) return fail(config.status());
    auto store = open_store(*o_, true);
    if (!store.ok()) return fail(store.status());
    std::optional<relay::RelayConfig> existing;
    if (auto c = relay::load_config(**store); c.ok()) {
      existing = *c;
      if (existing->pool != *pool) {
        return fail(Status::failed_precondition("this store's relayer is for Pool " + existing->pool.to_checksum() +
                                                " (its journal belongs to it): use another --db for " +
                                                pool->to_checksum()));
      }
    } else if (c.status().code() != StatusCode::kNotFound) {
      return fail(c.status());
    }
    if (existing && existing->chain_id != config->chain_id) {
      return fail(
          Status::failed_precondition("the node at " + o_->rpc_url + " is chain " + std::to_string(config->chain_id) +
                                      ", but this store's relayer is for chain " + std::to_string(existing->chain_id)));
    }
    auto policy = fees(existing ? existing->fees : relay::FeePolicy{});
    if (!policy.ok()) return fail(policy.status());
    config->fees = *policy;
    if (existing) config->start_block = existing->start_block;  // its journal's events begin there
    auto account = relay::create_account(**store);
    if (!account.ok()) return fail(account.status());
    if (Status st = relay::save_config(**store, *config); !st.is_ok()) return fail(st);
    print_config(*account, *config);
    return kExitOk;
  }

  int serve() {
    if (o_->port < 0 || o_->port > 65535) return fail(Status::invalid_argument("--port must be 0..65535"));
    if (o_->poll_ms < 10) return fail(Status::invalid_argument("--poll-ms must be at least 10"));
    if (o_->deadline_margin_s < 0) return fail(Status::invalid_argument("--deadline-margin must be >= 0"));
    if (o_->confirmations < 1) return fail(Status::invalid_argument("--confirmations must be at least 1"));
    auto store = open_store(*o_, false);
    if (!store.ok()) return fail(store.status());
    auto config = relay::load_config(**store);
    if (!config.ok()) return fail(config.status());
    eth::RpcOptions ro;
    ro.url = config->rpc_url;
    ro.error_signatures = eth::pool_error_signatures();
    auto chain = eth::RpcPoolChain::connect(ro, config->pool);
    if (!chain.ok()) return fail(chain.status());
    relay::RelayOptions options;
    options.deadline_margin = std::chrono::seconds(o_->deadline_margin_s);
    options.confirmations = o_->confirmations;
    options.log = o_->quiet ? nullptr : &err_;
    auto relayer = relay::Relayer::open(**store, **chain, options);
    if (!relayer.ok()) return fail(relayer.status());
    relay::ServerOptions so;
    so.host = o_->host;
    so.port = o_->port;
    so.max_body_bytes = o_->max_body_bytes;
    so.poll_interval = std::chrono::milliseconds(o_->poll_ms);
    std::unique_ptr<relay::X402Facilitator> facilitator;
    if (o_->x402) {
      if (o_->settle_wait_ms < 0) return fail(Status::invalid_argument("--settle-wait-ms must be >= 0"));
      relay::X402Options xo;
      xo.base_path = o_->x402_base;
      xo.public_url = o_->public_url;
      xo.settle_wait = std::chrono::milliseconds(o_->settle_wait_ms);
      auto f = relay::X402Facilitator::create(**relayer, xo);
      if (!f.ok()) return fail(f.status());
      facilitator = std::move(f).value();
      so.x402 = facilitator.get();
    }
    JsonLines lines(out_, o_->common.json_out);
    std::ostream status_out(&lines);
    Status st = relay::serve_until_signal(**relayer, so, status_out);
    return st.is_ok() ? kExitOk : fail(st);
  }

  // One entry of the journal, or (without a digest) the account and the journal's counts.
  int status() {
    if (!o_->digest.empty() && !eth::hash_from_hex(o_->digest).ok()) {
      return fail(Status::invalid_argument("DIGEST must be 0x + 64 hex digits"));
    }
    auto store = open_store(*o_, false);
    if (!store.ok()) return fail(store.status());
    if (o_->digest.empty()) {
      auto key = relay::load_account(**store);
      if (!key.ok()) return fail(key.status());
      auto counts = (*store)->relay_counts();
      if (!counts.ok()) return fail(counts.status());
      const json j{
          {"account", key->address().to_checksum()}, {"received", counts->received}, {"signed", counts->signed_},
          {"submitted", counts->submitted},          {"mined", counts->mined},       {"failed", counts->failed}};
      if (o_->common.json_out) {
        out_ << j.dump() << "\n";
      } else {
        out_ << "relayer account " << key->address().to_checksum() << "\njournal: " << counts->received << " received, "
             << counts->signed_ << " signed, " << counts->submitted << " submitted, " << counts->mined << " mined, "
             << counts->failed << " failed\n";
      }
      return kExitOk;
    }
    auto h = eth::hash_from_hex(o_->digest);
    auto e = (*store)->get_relay(eth::to_hex(*h));
    if (!e.ok()) return fail(e.status());
    if (!*e) return fail(Status::not_found("no bundle with digest " + eth::to_hex(*h)));
    const RelayEntry& r = **e;
    json j{{"digest", r.digest},     {"state", relay_entry_state_name(r.state)},
           {"kind", r.kind},         {"fee", r.fee},
           {"tx_hash", r.tx_hash},   {"block", r.block},
           {"gas_used", r.gas_used}, {"reason", r.reason}};
    j["nonce"] = r.nonce ? json(*r.nonce) : json();
    if (o_->common.json_out) {
      out_ << j.dump() << "\n";
    } else {
      out_ << r.digest << " " << relay_entry_state_name(r.state) << (r.tx_hash.empty() ? "" : " " + r.tx_hash)
           << (r.block != 0 ? " block " + std::to_string(r.block) : "") << (r.reason.empty() ? "" : ": " + r.reason)
           << "\n";
    }
    return kExitOk;
  }

 private:
  Result<std::unique_ptr<Store>> open_store(const RelayCliOptions& o, bool create) {
    return cli::open_store(o.common, create);
  }

  // `base` with the fee flags that were given applied; kInvalidArgument naming a bad one.
  Result<relay::FeePolicy> fees(relay::FeePolicy base) {
    if (given(flags_->eth_price)) base.eth_price = o_->eth_price;
    if (given(flags_->margin_bps)) base.margin_bps = o_->margin_bps;
    if (given(flags_->min_fee)) {
      const std::string& s = o_->min_fee;
      auto v = eth::U256::from_string(s);
      if (s.empty() || s.rfind("0x", 0) == 0 || !v.ok()) {
        return Status::invalid_argument("--min-fee must be a decimal number of token base units");
      }
      base.min_fee = *v;
    }
    if (given(flags_->quote_validity)) base.quote_validity = std::chrono::seconds(o_->quote_validity_s);
    if (given(flags_->gas_spend_base)) base.gas.spend_base = o_->gas_spend_base;
    if (given(flags_->gas_spend_per_note)) base.gas.spend_per_note = o_->gas_spend_per_note;
    if (given(flags_->gas_split)) base.gas.split = o_->gas_split;
    if (Status st = relay::validate_fee_policy(base); !st.is_ok()) return st;
    return base;
  }

  void print_config(const eth::Address& account, const relay::RelayConfig& c) {
    if (o_->common.json_out) {
      out_ << json{{"account", account.to_checksum()},
                   {"pool", c.pool.to_checksum()},
                   {"chain_id", c.chain_id},
                   {"token_decimals", c.token_decimals},
                   {"unit", c.unit.to_decimal()},
                   {"start_block", c.start_block},
                   {"eth_price", c.fees.eth_price},
                   {"margin_bps", c.fees.margin_bps},
                   {"min_fee", c.fees.min_fee.to_decimal()},
                   {"quote_validity_s", c.fees.quote_validity.count()},
                   {"gas_spend_base", c.fees.gas.spend_base},
                   {"gas_spend_per_note", c.fees.gas.spend_per_note},
                   {"gas_split", c.fees.gas.split}}
                  .dump()
           << "\n";
      return;
    }
    out_ << "relayer account " << account.to_checksum() << " (send it ETH for gas)\n"
         << "pool " << c.pool.to_checksum() << " on chain " << c.chain_id << " (token with " << c.token_decimals
         << " decimals, 1 cent = " << c.unit.to_decimal() << " base units)\n"
         << "fees: ETH at " << c.fees.eth_price << " tokens, margin " << c.fees.margin_bps << " bps, minimum "
         << c.fees.min_fee.to_decimal() << " base units, quotes valid " << c.fees.quote_validity.count() << " s\n"
         << "gas: spendBatch " << c.fees.gas.spend_base << " + " << c.fees.gas.spend_per_note << " per note, split "
         << c.fees.gas.split << "\n";
  }

  std::shared_ptr<RelayCliOptions> o_;
  std::shared_ptr<FeeFlags> flags_;
  std::ostream& out_;
  std::ostream& err_;
};

void add_db_option(CLI::App* cmd, RelayCliOptions& o) {
  cmd->add_option("-d,--db", o.common.db,
                  "the relayer's store: a SQLite file or a PostgreSQL URL (postgresql://...); default $BUCKETPAY_DB "
                  "or ~/.bucketpay/bucketpay.db");
  cmd->add_flag("-j,--json", o.common.json_out, "print JSON");
}

}  // namespace

CommandList add_relay_subcommands(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto o = std::make_shared<RelayCliOptions>();
  auto flags = std::make_shared<FeeFlags>();
  auto runner = std::make_shared<RelayRunner>(o, flags, out, err);
  CommandList list;

  auto* init = app.add_subcommand(
      "init", "Make the relayer's account (printed: fund it with ETH) and record its chain, Pool and fees");
  add_db_option(init, *o);
  init->add_option("-r,--rpc-url", o->rpc_url, "the Ethereum node (http://...)")->required();
  init->add_option("--pool", o->pool, "the Pool contract's address")->required();
  flags->eth_price = init->add_option("--eth-price", o->eth_price, "whole tokens per ETH (default 3000)");
  flags->margin_bps =
      init->add_option("--margin-bps", o->margin_bps, "fee margin over cost, basis points (default 2000)");
  flags->min_fee = init->add_option("--min-fee", o->min_fee, "the least fee, token base units (default 0)");
  flags->quote_validity =
      init->add_option("--quote-validity", o->quote_validity_s, "seconds a quote is honoured (default 60)");
  flags->gas_spend_base =
      init->add_option("--gas-spend-base", o->gas_spend_base, "spendBatch gas: fixed part (default 340000)");
  flags->gas_spend_per_note =
      init->add_option("--gas-spend-per-note", o->gas_spend_per_note, "spendBatch gas per note (default 390000)");
  flags->gas_split = init->add_option("--gas-split", o->gas_split, "split gas (default 1120000)");
  list.emplace_back(init, [runner] { return runner->init(); });

  auto* serve = app.add_subcommand("serve", "Serve the relayer's HTTP API until SIGINT/SIGTERM");
  add_db_option(serve, *o);
  serve->add_option("--host", o->host, "the address to bind")->capture_default_str();
  serve->add_option("--port", o->port, "the port (0: any free one, printed)")->capture_default_str();
  serve->add_option("--poll-ms", o->poll_ms, "how often in-flight transactions are looked at")->capture_default_str();
  serve->add_option("--deadline-margin", o->deadline_margin_s, "seconds a payment's deadline must be away")
      ->capture_default_str();
  serve->add_option("--confirmations", o->confirmations, "blocks before a transaction counts as mined")
      ->capture_default_str();
  serve->add_option("--max-body-bytes", o->max_body_bytes, "the largest bundle accepted")->capture_default_str();
  serve->add_flag("--quiet", o->quiet, "no journal log lines on stderr");
  serve->add_flag("--x402", o->x402, "also serve the x402 facilitator of bucketpay-exact (docs/x402.md)");
  serve->add_option("--x402-base", o->x402_base, "the facilitator's path (its URL is http://HOST:PORT + this)")
      ->capture_default_str();
  serve
      ->add_option("--public-url", o->public_url,
                   "how payers reach this server (http://HOST:PORT), advertised in /supported; default: --host/--port")
      ->capture_default_str();
  serve->add_option("--settle-wait-ms", o->settle_wait_ms, "how long /settle waits for the receipt")
      ->capture_default_str();
  list.emplace_back(serve, [runner] { return runner->serve(); });

  auto* status = app.add_subcommand("status", "A bundle's journal entry, or the account and the journal's counts");
  add_db_option(status, *o);
  status->add_option("digest", o->digest, "the payment digest (0x + 64 hex digits)");
  list.emplace_back(status, [runner] { return runner->status(); });
  return list;
}

CommandList add_relay_commands(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto* relay = app.add_subcommand("relay", "The relayer: sends wallets' signed payments for a fee (docs/relay.md)");
  relay->require_subcommand(1);
  return add_relay_subcommands(*relay, out, err);
}

namespace {

int run_relay_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  // Named, so that the usage line says bucketpay-relay and not the path it was started by.
  CLI::App app{"bucketpay-relay: the relayer alone (the commands of `bucketpay relay`)", "bucketpay-relay"};
  app.require_subcommand(1);
  const CommandList commands = add_relay_subcommands(app, out, err);
  bool shared_json = false;
  std::string color = "auto";
  add_conventions(app, shared_json, color);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    err << "bucketpay: error: " << message << " (see bucketpay-relay --help)\n";
    return kExitUsage;
  }
  try {
    for (const auto& [sub, handler] : commands) {
      if (sub->parsed()) return handler();
    }
  } catch (const std::exception& e) {
    err << "bucketpay: error: internal: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace

int run_relay_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  const OutputMode mode = output_mode_from_args(argc, argv, ::isatty(STDOUT_FILENO) == 1, ::isatty(STDERR_FILENO) == 1,
                                                std::getenv("NO_COLOR"));
  set_output_mode(mode);
  ErrorChannel channel(err.rdbuf(), mode);
  std::ostream errors(&channel);
  const int code = run_relay_command(argc, argv, out, errors);
  errors.flush();
  return channel.finish(out, code);
}

}  // namespace bucketpay::cli
