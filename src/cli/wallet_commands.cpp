#include "wallet_commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "bucketpay/amount.h"
#include "bucketpay/clock.h"
#include "bucketpay/deployment.h"
#include "bucketpay/inventory_plan.h"
#include "bucketpay/keeper_state.h"
#include "bucketpay/note.h"
#include "bucketpay/vault.h"
#include "bucketpay/wallet.h"
#include "cli.h"
#include "context.h"
#include "conventions.h"
#include "key_derivation.h"
#include "passphrase.h"
#include "progress.h"

namespace bucketpay::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::atomic<bool> g_keeper_stop{false};
void on_keeper_signal(int /*signal*/) { g_keeper_stop.store(true); }

// The largest deposit one command takes: $1,000,000.
constexpr Cents kMaxDepositCents = 100'000'000;

struct WalletFlags : CommonOptions {
  // init
  std::optional<std::string> rpc;      // init's --rpc (alias --rpc-url; default $ETH_RPC_URL)
  std::optional<std::string> rpc_url;  // other commands: this node instead of the wallet's
  std::string config_key;
  std::string config_value;
  std::optional<std::string> pool;
  std::optional<std::string> contracts;
  std::optional<std::string> payee;  // protocol v1's: refused with a clear error
  std::optional<std::string> relayer;
  std::uint64_t payment_deadline = 300;
  std::optional<std::uint64_t> confirmations;  // default: 2, or 0 on a chain that mines on demand
  std::optional<std::uint64_t> start_block;
  std::string policy = "default";
  // amounts and payments
  std::string amount;
  std::string to;
  std::string on_missing = "refuse";
  bool no_wait = false;
  int wait_timeout_s = 120;
  int rounds = 1;
  int interval_s = 10;
  bool once = false;
  // inventory plan
  std::optional<std::string> amounts_file;
  std::string plan_deposit = "12000.00";
  std::uint64_t seed = 20261123;
  Cents payment_fee = 0;
  Cents split_fee = 0;
  std::string rebalance_mode = "when-short";
  // keys
  std::string file;
  bool reveal = false;
};

std::string dollars(Cents c) { return "$" + format_dollars(c); }

// " (5 min ago)" after a synced block, from when the sync finished; nothing before a first sync.
std::string sync_age(const std::optional<std::int64_t>& synced_at_ms) {
  if (!synced_at_ms) return " (never synced)";
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const double age_s = static_cast<double>(std::max<std::int64_t>(0, now_ms - *synced_at_ms)) / 1000.0;
  return " (" + format_duration(age_s) + " ago)";
}

// Whether the node mines a block per transaction and none otherwise (anvil's and hardhat's
// auto-mining, without a block time): anvil_getAutomine / hardhat_getAutomine answer true. Any
// other answer (a public node: method not found) is no.
bool mines_on_demand(eth::Rpc& rpc) {
  for (const char* method : {"anvil_getAutomine", "hardhat_getAutomine"}) {
    auto answer = rpc.raw_request(method, "[]");
    if (answer.ok()) return *answer == "true";
  }
  return false;
}

// "waiting for 2 confirmations of block 120: block 121 of 122, 3.0 s elapsed (gives up after 2 min 00 s)"
std::string describe_wait(const WaitProgress& w) {
  std::string text = "waiting for ";
  if (w.want > 0) {
    text += count_of(w.want, "confirmation") + " of " + w.what.substr(w.what.find("block")) + ": block " +
            std::to_string(w.head) + " of " + std::to_string(w.target) + " (" + std::to_string(w.confirmations) +
            " of " + std::to_string(w.want) + ")";
  } else {
    text += w.what + ": chain at block " + std::to_string(w.head);
  }
  text += ", " + format_duration(w.elapsed_s) + " elapsed";
  if (!w.done) text += " (gives up after " + format_duration(w.timeout_s) + ")";
  return text;
}

class WalletRunner {
 public:
  WalletRunner(std::shared_ptr<WalletFlags> o, std::ostream& out, std::ostream& err)
      : o_(std::move(o)), out_(out), err_(err) {}

  int fail(const Status& s) {
    err_ << "bucketpay: error: " << s.message() << "\n";
    return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }

  // ---- init: a spending key; with --rpc and --pool (or --contracts), a wallet on a chain.
  int init() {
    if (o_->payee) {
      return fail(Status::invalid_argument(
          "--payee is gone (protocol v2): spend proofs bind each note's own auth key and pay anyone; name the "
          "relayer that sends payments with --relayer URL, and the recipient with `pay --to`"));
    }
    if (o_->relayer) {
      auto relayer = eth::connect_relayer(eth::RelayerOptions{*o_->relayer});
      if (!relayer.ok()) return fail(Status::invalid_argument("--relayer: " + relayer.status().message()));
    }
    if (o_->payment_deadline < 30 || o_->payment_deadline > 86'400) {
      return fail(Status::invalid_argument("--payment-deadline must be 30..86400 seconds"));
    }
    auto policy = InventoryPolicy::parse(o_->policy);
    if (!policy.ok()) return fail(Status::invalid_argument("--policy: " + policy.status().message()));
    const bool chain = o_->rpc.has_value() || o_->pool.has_value() || o_->contracts.has_value();
    if (chain && !o_->rpc) {
      // As Foundry's tools do: the node from $ETH_RPC_URL when no --rpc-url is given.
      if (const char* env = std::getenv("ETH_RPC_URL"); env != nullptr && *env != '\0') o_->rpc = env;
    }
    if (!chain && o_->relayer) return fail(Status::invalid_argument("--relayer needs a chain: --rpc and --pool"));
    WalletConfig config;
    if (chain) {
      if (!o_->rpc) {
        return fail(Status::invalid_argument("--rpc-url URL (or $ETH_RPC_URL) is needed with --pool/--contracts"));
      }
      config.rpc_url = *o_->rpc;
      if (o_->contracts) {
        std::ifstream in(*o_->contracts);
        if (!in) return fail(Status::invalid_argument("cannot read --contracts " + *o_->contracts));
        std::stringstream ss;
        ss << in.rdbuf();
        auto c = deployment::contracts_from_json(ss.str());
        if (!c.ok()) return fail(c.status().with_context(*o_->contracts));
        config.pool = c->pool;
        config.start_block = c->deploy_block;
      }
      if (o_->pool) {
        auto a = eth::Address::from_string(*o_->pool);
        if (!a.ok()) return fail(Status::invalid_argument("--pool: " + a.status().message()));
        config.pool = *a;
      }
      if (config.pool.is_zero()) return fail(Status::invalid_argument("--pool ADDRESS or --contracts FILE is needed"));
      config.relayer = o_->relayer.value_or("");
      config.payment_deadline = o_->payment_deadline;
      config.confirmations = o_->confirmations.value_or(2);
      if (o_->start_block) config.start_block = *o_->start_block;
      config.policy = *policy;
    }
    NewStoreGuard made(*o_);  // a failure below leaves no store behind
    auto store = open_store(*o_, true);
    if (!store.ok()) return fail(store.status());
    if ((*store)->get_spending_key(o_->wallet).ok()) {
      return fail(Status::already_exists("wallet \"" + o_->wallet + "\" already has a key in " + o_->db));
    }
    if (!chain) {
      // A key only: for proving notes of a local tree (`note add`, `precompute`), without a chain.
      const SpendingKey sk = SpendingKey::generate();
      if (Status st = (*store)->put_spending_key(o_->wallet, sk.reveal()); !st.is_ok()) return fail(st);
      const Fr pk = owner_key(sk);
      made.keep();
      if (o_->json_out) {
        out_ << json{{"wallet", o_->wallet}, {"pk", pk.to_hex()}, {"db", o_->db}}.dump() << "\n";
      } else {
        out_ << "wallet " << o_->wallet << " created in " << o_->db << "\nowner key (pk) " << pk.to_hex() << "\n";
      }
      return kExitOk;
    }
    // Check the node and the Pool before keeping anything.
    {
      eth::RpcOptions ro;
      ro.url = config.rpc_url;
      auto rpc = eth::Rpc::connect(ro);
      if (!rpc.ok()) return fail(rpc.status());
      auto code = (*rpc)->get_code(config.pool);
      if (!code.ok()) return fail(code.status().with_context("connecting to " + config.rpc_url));
      if (code->empty()) return fail(Status::failed_precondition("no contract at " + config.pool.to_hex()));
      if (!o_->confirmations && mines_on_demand(**rpc)) {
        // anvil and hardhat mine a block per transaction and none otherwise: a confirmation would
        // never come.
        config.confirmations = 0;
        automine_ = true;
      }
    }
    if (Status st = Wallet::create(**store, o_->wallet, config); !st.is_ok()) return fail(st);
    auto w = open_wallet(**store, false);
    if (!w.ok()) return fail(w.status());
    made.keep();
    if (o_->json_out) {
      out_ << json{{"wallet", o_->wallet},
                   {"pk", (*w)->owner_key().to_hex()},
                   {"account", (*w)->account().to_checksum()},
                   {"pool", config.pool.to_checksum()},
                   {"relayer", config.relayer},
                   {"payment_deadline_s", config.payment_deadline},
                   {"confirmations", config.confirmations},
                   {"db", o_->db}}
                  .dump()
           << "\n";
    } else {
      out_ << "wallet " << o_->wallet << " created in " << o_->db << "\n"
           << "owner key (pk)    " << (*w)->owner_key().to_hex() << "\n"
           << "account (deposits) " << (*w)->account().to_checksum() << "  (fund it with gas and tokens)\n"
           << "pool              " << config.pool.to_checksum() << "\n"
           << "relayer           " << (config.relayer.empty() ? "(none: give pay --relayer URL)" : config.relayer)
           << "\n"
           << "payment deadline  " << config.payment_deadline << " s\n"
           << "confirmations     " << config.confirmations
           << (automine_ ? "  (the node mines a block per transaction; --confirmations N to change)" : "") << "\n"
           << "policy            " << config.policy.to_string() << "  (" << dollars(config.policy.target_value())
           << ")\n";
    }
    return kExitOk;
  }

  int deposit() {
    auto amount = parse_amount(o_->amount, AmountUnit::kDollars, kMaxDepositCents);
    if (!amount.ok()) return fail(amount.status());
    return with_wallet(false, [&](Wallet& w) -> int {
      auto r = w.deposit(*amount, !o_->no_wait);
      if (!r.ok()) return fail(r.status());
      if (o_->json_out) {
        out_ << json{{"payment", r->payment_id},
                     {"amount_cents", r->amount},
                     {"notes", r->notes},
                     {"tx", r->tx_hash},
                     {"gas", r->gas_used}}
                    .dump()
             << "\n";
      } else {
        out_ << "deposited " << dollars(r->amount) << " as " << count_of(r->notes.size(), "note") << " (tx "
             << r->tx_hash << ", gas " << r->gas_used << ")\n";
      }
      return kExitOk;
    });
  }

  int sync() {
    return with_wallet(false, [&](Wallet& w) -> int {
      auto r = w.sync();
      if (!r.ok()) return fail(r.status());
      if (o_->json_out) {
        out_ << json{{"to_block", r->to_block},
                     {"leaves", r->leaves},
                     {"notes_landed", r->notes_landed},
                     {"notes_spent", r->notes_spent},
                     {"reorg_depth", r->reorg_depth},
                     {"precomputes_dropped", r->precomputes_dropped},
                     {"payments_settled", r->payments_settled},
                     {"payments_reopened", r->payments_reopened}}
                    .dump()
             << "\n";
      } else {
        if (r->reorg_depth > 0) {
          out_ << "reorganisation: rolled back " << count_of(r->reorg_depth, "block") << ", dropped "
               << count_of(r->precomputes_dropped, "proof") << " under vanished roots\n";
        }
        out_ << "synced to block " << r->to_block << ": " << count_of(r->leaves, "new leaf", "new leaves") << ", "
             << r->notes_landed << " of our notes landed, " << r->notes_spent << " spent";
        if (r->payments_reopened > 0) {
          out_ << ", " << count_of(r->payments_reopened, "payment") << " reorganised away and looked up again";
        }
        if (r->payments_settled > 0) {
          out_ << ", " << count_of(r->payments_settled, "journal entry", "journal entries") << " settled";
        }
        out_ << "\n";
      }
      return kExitOk;
    });
  }

  int balance() {
    return with_wallet_or_store([&](Wallet* w, Store& store) -> int {
      auto b = w != nullptr ? w->balance() : Wallet::stored_balance(store, o_->wallet);
      if (!b.ok()) return fail(b.status());
      if (o_->json_out) {
        json d = json::array();
        for (const auto& x : b->denominations) {
          d.push_back(json{{"cents", x.value}, {"target", x.target}, {"notes", x.notes}, {"ready", x.ready}});
        }
        out_ << json{{"on_chain_cents", b->on_chain},
                     {"ready_cents", b->ready},
                     {"pending_cents", b->pending},
                     {"reserved_cents", b->reserved},
                     {"other_notes", b->other_notes},
                     {"other_cents", b->other_value},
                     {"synced_block", b->synced_block},
                     {"denominations", d},
                     {"synced_at_ms", b->synced_at_ms ? json(*b->synced_at_ms) : json(nullptr)},
                     {"offline", w == nullptr}}
                    .dump()
             << "\n";
        return kExitOk;
      }
      out_ << "balance " << dollars(b->on_chain) << " on chain (" << dollars(b->ready) << " with ready proofs)";
      if (b->pending > 0) out_ << ", " << dollars(b->pending) << " pending";
      if (b->reserved > 0) out_ << ", " << dollars(b->reserved) << " in payments in flight";
      out_ << "; synced to block " << b->synced_block << sync_age(b->synced_at_ms) << "\n";
      out_ << "  denomination  target  notes  ready\n";
      for (const auto& x : b->denominations) {
        if (x.target == 0 && x.notes == 0) continue;
        out_ << "  " << std::setw(12) << dollars(x.value) << "  " << std::setw(6) << x.target << "  " << std::setw(5)
             << x.notes << "  " << std::setw(5) << x.ready << "\n";
      }
      if (b->other_notes > 0) {
        out_ << "  other notes (change): " << b->other_notes << " worth " << dollars(b->other_value) << "\n";
      }
      return kExitOk;
    });
  }

  int history() {
    return with_wallet_or_store([&](Wallet* w, Store& store) -> int {
      auto h = w != nullptr ? w->history() : store.list_payments(o_->wallet, std::nullopt);
      if (!h.ok()) return fail(h.status());
      json list = json::array();
      // The values of the notes an entry spent and made: what a rebalance moved.
      const auto values_of = [&](const std::vector<std::int64_t>& ids) -> Result<json> {
        json values = json::array();
        for (std::int64_t id : ids) {
          auto note = store.get_note(id);
          if (!note.ok()) return note.status();
          values.push_back(note->value);
        }
        return values;
      };
      for (const Payment& p : *h) {
        auto spent = values_of(p.note_ids);
        if (!spent.ok()) return fail(spent.status());
        auto made = values_of(p.new_note_ids);
        if (!made.ok()) return fail(made.status());
        std::string recipient = p.recipient;
        if (auto a = eth::Address::from_string(p.recipient); a.ok()) recipient = a->to_checksum();
        list.push_back(json{{"id", p.id},
                            {"kind", std::string(payment_kind_name(p.kind))},
                            {"amount_cents", p.amount},
                            {"recipient", recipient},
                            {"created_ms", p.created_ms},
                            {"updated_ms", p.updated_ms},
                            {"spent_cents", *spent},
                            {"made_cents", *made},
                            {"state", std::string(payment_state_name(p.state))},
                            {"notes", p.note_ids.size()},
                            {"digest", p.digest},
                            {"fee", p.fee},
                            {"deadline", p.deadline},
                            {"relayer", p.relayer},
                            {"relayer_tx", p.relayer_tx},
                            {"tx", p.settled_by.empty() ? p.tx_hash : p.settled_by},
                            {"gas", p.gas_used},
                            {"block", p.block},
                            {"latency_ms", p.latency_ms},
                            {"error", p.error}});
      }
      if (o_->json_out) {
        out_ << list.dump() << "\n";
        return kExitOk;
      }
      for (const auto& p : list) {
        const std::string state = p["state"].get<std::string>();
        std::ostringstream state_column;  // padded before it is painted
        state_column << std::left << std::setw(9) << state;
        const std::string painted = state == "failed"      ? paint_out(state_column.str(), Colour::kRed)
                                    : state == "confirmed" ? paint_out(state_column.str(), Colour::kGreen)
                                                           : state_column.str();
        out_ << utc_time(p["created_ms"].get<std::int64_t>()) << "  #" << p["id"].get<std::int64_t>() << "  "
             << std::left << std::setw(9) << p["kind"].get<std::string>() << std::right << std::setw(11)
             << dollars(p["amount_cents"].get<Cents>()) << "  " << painted;
        if (p["kind"] == "rebalance" || p["kind"] == "split") {
          // What moved: the notes split, and the notes made.
          const auto sum = [](const json& values) {
            std::string text;
            for (const auto& v : values) text += (text.empty() ? "" : " + ") + dollars(v.get<Cents>());
            return text.empty() ? std::string("nothing") : text;
          };
          out_ << "  split " << sum(p["spent_cents"]) << " into " << sum(p["made_cents"]);
        }
        if (!p["recipient"].get<std::string>().empty()) out_ << "  to " << p["recipient"].get<std::string>();
        if (!p["tx"].get<std::string>().empty()) out_ << "  tx " << p["tx"].get<std::string>();
        if (p["gas"].get<std::uint64_t>() > 0) out_ << "  gas " << p["gas"].get<std::uint64_t>();
        if (!p["error"].get<std::string>().empty()) out_ << "  (" << p["error"].get<std::string>() << ")";
        out_ << "\n";
      }
      return kExitOk;
    });
  }

  int inventory() {
    return with_wallet(true, [&](Wallet& w) -> int {
      auto synced = w.sync();
      if (!synced.ok()) return fail(synced.status());
      auto r = w.build_inventory();
      finish_progress();
      if (!r.ok()) return fail(r.status());
      if (o_->json_out) {
        out_
            << json{{"proved", r->proved}, {"cached", r->cached}, {"failed", r->failed}, {"seconds", r->seconds}}.dump()
            << "\n";
      } else {
        out_ << "inventory: " << count_of(r->proved, "spend proof") << " made, " << count_of(r->cached, "was", "were")
             << " ready";
        if (r->failed > 0) out_ << ", " << r->failed << " failed";
        if (r->proved > 0 || r->failed > 0) out_ << " (" << format_duration(r->seconds) << ")";
        out_ << "\n";
        for (const auto& e : r->errors) out_ << "  failed: " << e << "\n";
        if (r->failed > 0) out_ << "  `bucketpay inventory` tries the failed proofs again\n";
      }
      return r->failed == 0 ? kExitOk : kExitFailure;
    });
  }

  // The inventory against the policy, from the store alone (no node, no prover).
  int inventory_status() {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    if (Status st = require_chain(**store); !st.is_ok()) return fail(st);
    auto b = Wallet::stored_balance(**store, o_->wallet);
    if (!b.ok()) return fail(b.status());
    auto jobs = (*store)->job_counts(std::nullopt);
    if (!jobs.ok()) return fail(jobs.status());
    if (o_->json_out) {
      json d = json::array();
      for (const auto& x : b->denominations) {
        d.push_back(json{{"cents", x.value}, {"target", x.target}, {"notes", x.notes}, {"ready", x.ready}});
      }
      out_ << json{{"denominations", d},
                   {"ready_cents", b->ready},
                   {"on_chain_cents", b->on_chain},
                   {"jobs", {{"pending", jobs->pending}, {"running", jobs->running}, {"failed", jobs->failed}}},
                   {"synced_block", b->synced_block},
                   {"synced_at_ms", b->synced_at_ms ? json(*b->synced_at_ms) : json(nullptr)}}
                  .dump()
           << "\n";
      return kExitOk;
    }
    out_ << "inventory as of block " << b->synced_block << sync_age(b->synced_at_ms) << ": " << dollars(b->ready)
         << " of " << dollars(b->on_chain) << " with ready proofs\n";
    out_ << "  denomination  target  notes  ready  short\n";
    for (const auto& x : b->denominations) {
      if (x.target == 0 && x.notes == 0) continue;
      const std::uint32_t short_by = x.ready < x.target ? x.target - x.ready : 0;
      std::ostringstream short_column;  // padded before it is painted: escapes take no columns
      short_column << std::setw(5) << (short_by > 0 ? std::to_string(short_by) : "");
      out_ << "  " << std::setw(12) << dollars(x.value) << "  " << std::setw(6) << x.target << "  " << std::setw(5)
           << x.notes << "  " << std::setw(5) << x.ready << "  "
           << (short_by > 0 ? paint_out(short_column.str(), Colour::kRed) : short_column.str()) << "\n";
    }
    out_ << "proof jobs: " << jobs->pending << " pending, " << jobs->running << " running, " << jobs->failed
         << " failed";
    if (jobs->pending + jobs->failed > 0) out_ << " (`bucketpay inventory` proves them)";
    out_ << "\n";
    return kExitOk;
  }

  // ---- inventory plan: the policy's cost over payment amounts, simulated (no store, no chain).
  int inventory_plan() {
    std::vector<Cents> amounts;
    std::string source;
    if (o_->amounts_file) {
      std::error_code ec;
      if (fs::is_directory(*o_->amounts_file, ec)) {
        return fail(Status::invalid_argument("cannot read --amounts " + *o_->amounts_file + ": it is a directory"));
      }
      std::ifstream in(*o_->amounts_file, std::ios::binary);
      if (!in) {
        return fail(
            Status::invalid_argument("cannot read --amounts " + *o_->amounts_file + ": " + std::strerror(errno)));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      if (in.bad()) return fail(Status::invalid_argument("cannot read --amounts " + *o_->amounts_file));
      auto parsed = parse_payment_amounts(ss.str());
      if (!parsed.ok()) return fail(parsed.status().with_context(*o_->amounts_file));
      amounts = std::move(*parsed);
      source = *o_->amounts_file;
    } else {
      amounts = random_payment_amounts(100, 1, 20'000, o_->seed);
      source = "100 random amounts $0.01-$200.00, seed " + std::to_string(o_->seed);
    }
    InventoryPlanOptions options;
    auto policy = InventoryPolicy::parse(o_->policy);
    if (!policy.ok()) return fail(policy.status().with_context("--policy"));
    options.policy = *policy;
    auto deposit = parse_amount(o_->plan_deposit, AmountUnit::kDollars, kMaxDepositCents);
    if (!deposit.ok()) return fail(deposit.status().with_context("--deposit"));
    options.deposit = *deposit;
    options.payment_fee = o_->payment_fee;
    options.split_fee = o_->split_fee;
    if (o_->rebalance_mode != "when-short" && o_->rebalance_mode != "after-each") {
      return fail(Status::invalid_argument("--rebalance must be when-short or after-each, not " + o_->rebalance_mode));
    }
    options.rebalance_after_each = o_->rebalance_mode == "after-each";
    auto r = simulate_inventory(amounts, options);
    if (!r.ok()) return fail(r.status());
    const double all_in_gas = r->per_payment(static_cast<double>(r->payment_gas + r->rebalancing_gas + r->deposit_gas));
    if (o_->json_out) {
      out_ << json{{"amounts", source},
                   {"policy", options.policy.to_string()},
                   {"deposit_cents", options.deposit},
                   {"payment_fee_cents", options.payment_fee},
                   {"split_fee_cents", options.split_fee},
                   {"rebalance", o_->rebalance_mode},
                   {"payments", r->payments},
                   {"paid", r->paid},
                   {"refused", r->refused},
                   {"deposit_notes", r->deposit_notes},
                   {"notes_per_payment", r->notes_per_payment()},
                   {"splits_per_payment", r->splits_per_payment()},
                   {"rebalancing_splits_per_payment", r->per_payment(static_cast<double>(r->rebalancing_splits))},
                   {"on_demand_splits", r->payments_by_split},
                   {"proofs_per_payment", r->proofs_per_payment()},
                   {"spend_proofs_per_payment", r->per_payment(static_cast<double>(r->spend_proofs))},
                   {"split_proofs_per_payment", r->per_payment(static_cast<double>(r->split_proofs))},
                   {"initial_proofs", r->deposit_notes},
                   {"payment_gas_per_payment", r->per_payment(static_cast<double>(r->payment_gas))},
                   {"rebalancing_gas_per_payment", r->per_payment(static_cast<double>(r->rebalancing_gas))},
                   {"deposit_gas_per_payment", r->per_payment(static_cast<double>(r->deposit_gas))},
                   {"all_in_gas_per_payment", all_in_gas},
                   {"fees_cents", r->fees},
                   {"odd_notes_made", r->odd_notes_made},
                   {"odd_notes_left", r->odd_notes_left},
                   {"notes_left", r->notes_left}}
                  .dump()
           << "\n";
      return kExitOk;
    }
    auto gas = [](double g) {  // 1,234,567
      const std::string digits = std::to_string(static_cast<std::uint64_t>(std::llround(g)));
      std::string s;
      for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
        s.push_back(digits[i]);
      }
      return s;
    };
    auto fixed = [](double v) {
      std::ostringstream s;
      s << std::fixed << std::setprecision(2) << v;
      return s.str();
    };
    out_ << "inventory plan: " << source << "\n"
         << "policy " << options.policy.to_string() << " (" << dollars(options.policy.target_value())
         << " of targets); deposit " << dollars(options.deposit) << " as " << count_of(r->deposit_notes, "note")
         << "; relayer fees " << options.payment_fee << " cents a payment, " << options.split_fee
         << " a split; rebalancing " << o_->rebalance_mode << "\n"
         << "per payment (" << r->paid << " paid, " << r->refused << " refused):\n"
         << "  notes              " << fixed(r->notes_per_payment()) << "\n"
         << "  splits             " << fixed(r->splits_per_payment()) << " (rebalancing "
         << fixed(r->per_payment(static_cast<double>(r->rebalancing_splits))) << "; on demand " << r->payments_by_split
         << " in all)\n"
         << "  proofs             " << fixed(r->proofs_per_payment()) << " (spend "
         << fixed(r->per_payment(static_cast<double>(r->spend_proofs))) << ", split "
         << fixed(r->per_payment(static_cast<double>(r->split_proofs))) << "; the deposit's " << r->deposit_notes
         << " spend proofs besides)\n"
         << "  payment gas        " << gas(r->per_payment(static_cast<double>(r->payment_gas))) << "\n"
         << "  rebalancing gas    " << gas(r->per_payment(static_cast<double>(r->rebalancing_gas))) << "\n"
         << "  deposit gas        " << gas(r->per_payment(static_cast<double>(r->deposit_gas))) << " (amortised)\n"
         << "  all-in gas         " << gas(all_in_gas) << "\n"
         << "odd notes: " << r->odd_notes_made << " made, " << r->odd_notes_left << " left; " << r->notes_left
         << " notes left; relayer fees " << dollars(r->fees) << " in all\n";
    return kExitOk;
  }

  int rebalance() {
    if (o_->rounds < 1 || o_->rounds > 64) return fail(Status::invalid_argument("--rounds must be 1..64"));
    return with_wallet(true, [&](Wallet& w) -> int {
      std::size_t splits = 0;
      std::size_t settled = 0;
      json made = json::array();
      for (int round = 0; round < o_->rounds; ++round) {
        auto r = w.rebalance(!o_->no_wait);
        finish_progress();
        if (!r.ok()) return fail(r.status());
        for (const auto& m : r->made) {
          made.push_back(m);
          if (!o_->json_out) out_ << "split " << m << "\n";
        }
        if (!o_->no_wait && r->settled < r->splits) {
          err_ << "bucketpay: " << r->splits - r->settled
               << " of the splits did not land; `bucketpay sync` settles them\n";
        }
        splits += r->splits;
        settled += r->settled;
        if (r->splits == 0) break;
      }
      std::optional<std::size_t> proved;
      if (!o_->no_wait) {
        auto inv = w.build_inventory();
        finish_progress();
        if (!inv.ok()) return fail(inv.status());
        proved = inv->proved;
      }
      if (o_->json_out) {
        out_ << json{{"splits", splits},
                     {"settled", settled},
                     {"made", made},
                     {"spend_proofs_made", proved ? json(*proved) : json(nullptr)}}
                    .dump()
             << "\n";
        return kExitOk;
      }
      if (splits == 0) out_ << "rebalance: the inventory meets its targets (or no larger note can be split)\n";
      if (proved) out_ << "inventory: " << count_of(*proved, "spend proof") << " made\n";
      return kExitOk;
    });
  }

  // The background rebalancer: until SIGINT/SIGTERM (or once), sync, split larger notes towards
  // the policy's targets, and prove the spend of every new note as soon as it is on chain.
  int keeper() {
    if (o_->interval_s < 1 || o_->interval_s > 86400) {
      return fail(Status::invalid_argument("--interval must be 1..86400"));
    }
    g_keeper_stop.store(false);
    struct sigaction sa = {};
    sa.sa_handler = on_keeper_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_term = {};
    struct sigaction old_int = {};
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    const int code = with_wallet_and_store(true, [&](Wallet& w, Store& store) -> int {
      err_ << "bucketpay keeper: every " << o_->interval_s << " s: sync, rebalance, prove new notes\n" << std::flush;
      bool failed = false;
      // What it does, in the store for other processes (the dashboard of `bucketpay serve`).
      KeeperState state;
      state.started_ms = Clock::system().unix_ms();
      state.interval_s = o_->interval_s;
      const auto record = [&] {
        if (Status st = save_keeper_state(store, o_->wallet, state); !st.is_ok()) {
          err_ << "bucketpay keeper: recording its state: " << st.message() << "\n" << std::flush;
        }
      };
      record();
      const auto stopped = [&](int exit_code) {
        state.stopped_ms = Clock::system().unix_ms();
        record();
        return exit_code;
      };
      while (!g_keeper_stop.load()) {
        // Under --json, one object per round (JSON lines).
        json round{{"splits", json::array()}, {"spend_proofs_made", 0}, {"errors", json::array()}};
        auto r = w.rebalance(true);  // syncs first
        finish_progress();
        if (!r.ok()) {
          err_ << "bucketpay keeper: rebalance: " << r.status().message() << "\n" << std::flush;
          round["errors"].push_back("rebalance: " + r.status().message());
          failed = true;
        } else {
          for (const auto& m : r->made) {
            round["splits"].push_back(m);
            if (!o_->json_out) out_ << "split " << m << "\n" << std::flush;
          }
        }
        auto inv = w.build_inventory();
        finish_progress();
        if (!inv.ok()) {
          err_ << "bucketpay keeper: inventory: " << inv.status().message() << "\n" << std::flush;
          round["errors"].push_back("inventory: " + inv.status().message());
          failed = true;
        } else {
          round["spend_proofs_made"] = inv->proved;
          if (inv->proved > 0 && !o_->json_out) {
            out_ << "inventory: " << count_of(inv->proved, "spend proof") << " made\n" << std::flush;
          }
        }
        if (o_->json_out) out_ << round.dump() << "\n" << std::flush;
        state.last_round_ms = Clock::system().unix_ms();
        ++state.rounds;
        state.splits = round["splits"].size();
        state.proofs = round["spend_proofs_made"].get<std::uint64_t>();
        state.errors = round["errors"].get<std::vector<std::string>>();
        record();
        if (o_->once) return stopped(failed ? kExitFailure : kExitOk);
        Clock& clock = Clock::system();
        const auto until = clock.steady_now() + std::chrono::seconds(o_->interval_s);
        while (!g_keeper_stop.load() && clock.steady_now() < until) clock.sleep_for(std::chrono::milliseconds(50));
      }
      return stopped(kExitOk);
    });
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGINT, &old_int, nullptr);
    return code;
  }

  int pay() {
    auto amount = parse_amount(o_->amount, AmountUnit::kDollars, kMaxPaymentCents);
    if (!amount.ok()) return fail(amount.status());
    auto to = eth::Address::from_string(o_->to);
    if (!to.ok()) return fail(Status::invalid_argument("--to: " + to.status().message()));
    if (to->is_zero()) return fail(Status::invalid_argument("--to must not be the zero address"));
    MissingPolicy policy = MissingPolicy::kRefuse;
    if (o_->on_missing == "split") {
      policy = MissingPolicy::kSplit;
    } else if (o_->on_missing != "refuse") {
      return fail(Status::invalid_argument("--on-missing must be refuse or split"));
    }
    if (o_->relayer) {
      auto relayer = eth::connect_relayer(eth::RelayerOptions{*o_->relayer});
      if (!relayer.ok()) return fail(Status::invalid_argument("--relayer: " + relayer.status().message()));
    }
    return with_wallet(policy == MissingPolicy::kSplit, [&](Wallet& w) -> int {
      auto handed = w.pay(*amount, *to, policy, o_->relayer.value_or(""));
      if (!handed.ok()) return fail(handed.status());
      Result<PaymentReport> r = handed;
      if (!o_->no_wait) r = w.wait_settled(*handed);
      if (!r.ok()) {
        err_ << "bucketpay: handed to the relayer in " << std::fixed << std::setprecision(2) << handed->latency_ms
             << " ms (payment " << handed->payment_id << ", digest " << handed->digest << ")\n";
        return fail(r.status());
      }
      json notes = json::array();
      for (Cents v : r->notes) notes.push_back(v);
      if (o_->json_out) {
        out_ << json{{"payment", r->payment_id},
                     {"amount_cents", r->amount},
                     {"fee_cents", r->fee},
                     {"to", r->recipient.to_checksum()},
                     {"notes", notes},
                     {"proved_on_demand", r->proved_on_demand},
                     {"bundle_ready_ms", r->bundle_ready_ms},
                     {"latency_ms", r->latency_ms},
                     {"prove_ms", r->prove_ms},
                     {"digest", r->digest},
                     {"deadline", r->deadline},
                     {"relayer", r->relayer},
                     {"relayer_tx", r->relayer_tx},
                     {"state", std::string(payment_state_name(r->state))},
                     {"tx", r->settled_by},
                     {"block", r->block},
                     {"error", r->error}}
                    .dump()
             << "\n";
      } else {
        out_ << (r->state == PaymentState::kFailed      ? "not paid: "
                 : r->state == PaymentState::kConfirmed ? "paid "
                                                        : "handed over: ")
             << dollars(r->amount) << " to " << r->recipient.to_checksum() << " (relayer fee " << dollars(r->fee)
             << ") with " << r->notes.size()
             << (r->proved_on_demand ? " note (split proved on demand)" : " precomputed notes")
             << "; signed and journaled in " << std::fixed << std::setprecision(2) << r->bundle_ready_ms
             << " ms, handed to " << r->relayer << " (its answer at " << r->latency_ms << " ms)";
        if (r->state == PaymentState::kConfirmed)
          out_ << "; on chain in tx " << r->settled_by << " (block " << r->block << ")";
        if (r->state == PaymentState::kFailed) out_ << ": " << r->error;
        out_ << "\n";
      }
      return r->state == PaymentState::kFailed ? kExitFailure : kExitOk;
    });
  }

  // ---- settings
  // `config set rpc-url URL`: the wallet's node from now on, checked first (it answers and has the
  // wallet's Pool).
  int config_set() {
    if (o_->config_key == "spend-limits") return config_set_spend_limits();
    if (o_->config_key != "rpc-url") {
      return fail(
          Status::invalid_argument("unknown setting '" + o_->config_key + "' (settable: rpc-url, spend-limits)"));
    }
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto config = load_config(**store, o_->wallet);
    if (!config.ok())
      return fail(config.status().with_context("wallet " + o_->wallet + " (made by init without a chain?)"));
    eth::RpcOptions ro;
    ro.url = o_->config_value;
    auto rpc = eth::Rpc::connect(ro);
    if (!rpc.ok()) return fail(Status::invalid_argument("rpc-url: " + rpc.status().message()));
    auto code = (*rpc)->get_code(config->pool);
    if (!code.ok()) return fail(code.status().with_context("connecting to " + o_->config_value));
    if (code->empty()) {
      return fail(Status::failed_precondition("the node at " + o_->config_value +
                                              " has no contract at the wallet's Pool " + config->pool.to_checksum() +
                                              " (another chain?)"));
    }
    const std::string old = config->rpc_url;
    config->rpc_url = o_->config_value;
    if (Status st = save_config(**store, o_->wallet, *config); !st.is_ok()) return fail(st);
    if (o_->json_out) {
      out_ << json{{"setting", "rpc-url"}, {"value", config->rpc_url}, {"was", old}}.dump() << "\n";
    } else {
      out_ << "rpc-url " << config->rpc_url << " (was " << old << ")\n";
    }
    return kExitOk;
  }

  // Spending limits (docs/x402.md): "none" or payment=CENTS,payee=CENTS,period=CENTS,period_s=SECONDS.
  int config_set_spend_limits() {
    auto limits = SpendLimits::parse(o_->config_value);
    if (!limits.ok()) return fail(limits.status());
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto config = load_config(**store, o_->wallet);
    if (!config.ok()) return fail(config.status().with_context("wallet " + o_->wallet));
    const std::string old = config->limits.to_string();
    config->limits = *limits;
    if (Status st = save_config(**store, o_->wallet, *config); !st.is_ok()) return fail(st);
    out_ << "spend-limits " << config->limits.to_string() << " (was " << old << ")\n";
    return kExitOk;
  }

  // ---- keys
  int key_show() {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto sk = (*store)->get_spending_key(o_->wallet);
    if (!sk.ok()) return fail(sk.status().with_context("wallet " + o_->wallet));
    const Fr pk = owner_key(SpendingKey::from_fr(*sk));
    json j{{"wallet", o_->wallet}, {"pk", pk.to_hex()}};
    auto account = (*store)->get_secret(o_->wallet, "eth_key");
    std::optional<eth::PrivateKey> key;
    if (account.ok() && account->size() == 32) {
      auto k = eth::PrivateKey::from_bytes(std::span<const std::uint8_t, 32>(account->data(), 32));
      if (k.ok()) {
        key = *k;
        j["account"] = k->address().to_checksum();
      }
    }
    if (o_->reveal) {
      // Only on request, and only to this command's standard output.
      j["spending_key"] = sk->to_hex();
      if (account.ok()) j["account_key"] = eth::to_hex(*account);
      err_ << "bucketpay: warning: the output holds secret keys; anyone who sees them can spend the wallet\n";
    }
    if (account.ok()) sodium_memzero(account->data(), account->size());
    if (o_->json_out) {
      out_ << j.dump() << "\n";
    } else {
      for (const auto& [k, v] : j.items()) out_ << std::left << std::setw(14) << k << v.get<std::string>() << "\n";
    }
    return kExitOk;
  }

  int key_backup() {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto pass = read_passphrase("backup passphrase: ");
    if (!pass.ok()) return fail(pass.status());
    auto backup = export_backup(**store, o_->wallet, *pass, key_derivation_params());
    sodium_memzero(pass->data(), pass->size());
    if (!backup.ok()) return fail(backup.status());
    // Never overwrite a file (it may be an older backup still needed); private to its owner.
    const int fd = ::open(o_->file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return fail(Status::io_error("cannot create " + o_->file + ": " + std::strerror(errno)));
    const std::string& text = *backup;
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) {
        ::close(fd);
        ::unlink(o_->file.c_str());
        return fail(Status::io_error("writing " + o_->file));
      }
      done += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) return fail(Status::io_error("fsync " + o_->file));
    if (o_->json_out) {
      out_ << json{{"wallet", o_->wallet}, {"backup", o_->file}}.dump() << "\n";
    } else {
      out_ << "backup of wallet " << o_->wallet << " written to " << o_->file
           << " (sealed with the passphrase; keep both safe)\n";
    }
    return kExitOk;
  }

  int key_restore() {
    std::ifstream in(o_->file);
    if (!in) return fail(Status::invalid_argument("cannot read " + o_->file));
    std::stringstream ss;
    ss << in.rdbuf();
    NewStoreGuard made(*o_);  // a failure below leaves no store behind
    auto store = open_store(*o_, true);
    if (!store.ok()) return fail(store.status());
    auto pass = read_passphrase("backup passphrase: ");
    if (!pass.ok()) return fail(pass.status());
    auto n = import_backup(**store, ss.str(), *pass);
    sodium_memzero(pass->data(), pass->size());
    if (!n.ok()) return fail(n.status());
    made.keep();
    if (o_->json_out) {
      out_ << json{{"notes", *n}, {"db", o_->db}}.dump() << "\n";
    } else {
      out_ << "restored the wallet's keys and " << count_of(*n, "note") << " into " << o_->db
           << "; `bucketpay sync` finds them on the chain\n";
    }
    return kExitOk;
  }

 private:
  // kFailedPrecondition saying so when the wallet has no chain (made by `init` without one).
  Status require_chain(Store& store) {
    auto rpc_url = store.get_setting(o_->wallet, "rpc_url");
    if (!rpc_url.ok()) return rpc_url.status();
    if (!rpc_url->has_value()) {
      return Status::failed_precondition("wallet " + o_->wallet +
                                         " has no chain (it was made by `init` without --rpc-url): it only proves "
                                         "notes of the local tree; make a wallet on a chain with `bucketpay init "
                                         "--wallet NAME --rpc-url URL --pool ADDRESS`");
    }
    return Status::ok();
  }

  Result<std::unique_ptr<Wallet>> open_wallet(Store& store, bool with_prover) {
    if (Status st = require_chain(store); !st.is_ok()) return st;
    WalletOptions wo;
    wo.rpc_url = o_->rpc_url.value_or("");
    wo.receipt_timeout = std::chrono::seconds(o_->wait_timeout_s);
    // Every wait says what it waits for (on stderr: stdout stays the command's answer).
    wait_line_ = std::make_shared<StatusLine>(err_, Progress::is_terminal(STDERR_FILENO));
    wo.on_wait = [line = wait_line_](const WaitProgress& w) { line->update(describe_wait(w), w.done); };
    if (with_prover) {
      auto flags = o_;
      wo.start_prover = [flags] { return start_pool(*flags); };
      progress_ = std::make_shared<Progress>(err_, "proving", Progress::is_terminal(STDERR_FILENO));
      wo.on_progress = [this](std::size_t done, std::size_t total) { progress_->update(done, total); };
      wo.on_failed = [this] { progress_->fail(); };
    }
    return Wallet::open(store, o_->wallet, std::move(wo));
  }

  // Ends this phase's bar; the next phase gets a fresh one (its own rate and elapsed time).
  void finish_progress() {
    if (!progress_) return;
    progress_->finish();
    progress_ = std::make_shared<Progress>(err_, "proving", Progress::is_terminal(STDERR_FILENO));
  }

  // For reports the store can answer alone: the wallet on its node when the node answers (the
  // journal settled first), else the store as the last sync left it (body gets a null wallet), with
  // a note on stderr saying so.
  template <typename F>
  int with_wallet_or_store(F&& body) {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto w = open_wallet(**store, false);
    if (w.ok()) return body(w->get(), **store);
    const StatusCode code = w.status().code();
    if (code != StatusCode::kUnavailable && code != StatusCode::kTimeout) return fail(w.status());
    err_ << "bucketpay: offline (" << w.status().message() << "): from the store, as of the last sync\n";
    return body(nullptr, **store);
  }

  template <typename F>
  int with_wallet_and_store(bool with_prover, F&& body) {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto w = open_wallet(**store, with_prover);
    if (!w.ok()) return fail(w.status());
    return body(**w, **store);
  }

  template <typename F>
  int with_wallet(bool with_prover, F&& body) {
    auto store = open_wallet_store(*o_);
    if (!store.ok()) return fail(store.status());
    auto w = open_wallet(**store, with_prover);
    if (!w.ok()) return fail(w.status());
    return body(**w);
  }

  std::shared_ptr<WalletFlags> o_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<Progress> progress_;
  std::shared_ptr<StatusLine> wait_line_;
  bool automine_ = false;
};

// --rpc-url: another node than the wallet's for this command (`config set rpc-url` keeps one).
void add_rpc_url_option(CLI::App* cmd, WalletFlags& o) {
  cmd->add_option("-r,--rpc-url", o.rpc_url,
                  "the node's JSON-RPC URL for this command (default: the wallet's; `bucketpay config set rpc-url "
                  "URL` changes it)");
}

}  // namespace

CommandList add_wallet_commands(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto o = std::make_shared<WalletFlags>();
  auto runner = std::make_shared<WalletRunner>(o, out, err);
  CommandList list;

  auto* init =
      app.add_subcommand("init",
                         "Create a wallet: a spending key and an account key sealed in the store with a passphrase "
                         "($BUCKETPAY_PASSPHRASE or a prompt); with --rpc and --pool (or --contracts), on that chain");
  add_store_options(init, *o);
  init->add_option("-r,--rpc,--rpc-url", o->rpc,
                   "the node's JSON-RPC URL, e.g. http://127.0.0.1:8545 (default with --pool/--contracts: "
                   "$ETH_RPC_URL)");
  auto* pool_option = init->add_option("--pool", o->pool, "the Pool contract's address");
  init->add_option("--contracts", o->contracts, "a bucketpay-devnet deployment file (Pool address, start block)")
      ->excludes(pool_option);
  init->add_option("--relayer", o->relayer, "the relayer's URL (bucketpay relay), e.g. http://127.0.0.1:8646");
  init->add_option("--payment-deadline", o->payment_deadline, "seconds a signed payment may land in")
      ->capture_default_str();
  // Protocol v1's; refused with an explanation (not listed).
  init->add_option("--payee", o->payee)->group("");
  init->add_option("--confirmations", o->confirmations,
                   "blocks on top of a block before the wallet believes it (default: 2; 0 on a node that mines a "
                   "block per transaction, as anvil and hardhat do by default)")
      ->check(CLI::Range(0, 1000));
  init->add_option("--start-block", o->start_block, "where sync starts (default: the Pool's deployment, or 0)");
  init->add_flag("--allow-weak-passphrase", o->allow_short_passphrase,
                 "take a passphrase under 12 characters typed on the terminal");
  init->add_option("--policy", o->policy,
                   "the denominations and how many notes of each to keep: default, or CENTS=COUNT,... (any cents; "
                   "powers of two only: the binary ladder)")
      ->capture_default_str();
  list.emplace_back(init, [runner] { return runner->init(); });

  auto* deposit = app.add_subcommand("deposit", "Deposit an amount (dollars) as denomination notes");
  add_store_options(deposit, *o);
  add_rpc_url_option(deposit, *o);
  deposit->add_option("amount", o->amount, "dollars, e.g. 1000.00")->required();
  deposit->add_flag("--no-wait", o->no_wait, "do not wait for the notes to be confirmed");
  deposit->add_option("--wait-timeout", o->wait_timeout_s, "seconds to wait for the receipt and the confirmations")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  list.emplace_back(deposit, [runner] { return runner->deposit(); });

  auto* sync = app.add_subcommand("sync", "Read the Pool's events up to the confirmation depth; settle the journal");
  add_store_options(sync, *o);
  add_rpc_url_option(sync, *o);
  list.emplace_back(sync, [runner] { return runner->sync(); });

  auto* balance = app.add_subcommand("balance", "The balance, and the inventory per denomination");
  add_store_options(balance, *o);
  add_rpc_url_option(balance, *o);
  list.emplace_back(balance, [runner] { return runner->balance(); });

  auto* history = app.add_subcommand("history", "Deposits, payments and splits, from the journal");
  add_store_options(history, *o);
  add_rpc_url_option(history, *o);
  list.emplace_back(history, [runner] { return runner->history(); });

  auto* inventory = app.add_subcommand("inventory", "Prove the spend of every note that has no ready proof");
  add_store_options(inventory, *o);
  add_rpc_url_option(inventory, *o);
  add_engine_options(inventory, *o);
  auto* plan = inventory->add_subcommand(
      "plan",
      "Simulate the planner and rebalancer over payment amounts (no store, no chain): notes, splits, proofs and gas "
      "per payment for a policy");
  plan->add_option("--amounts", o->amounts_file, "a file of amounts in dollars, one per line (default: 100 random)");
  plan->add_option("--policy", o->policy, "default, or CENTS=COUNT,... (bucketpay init --policy)")
      ->capture_default_str();
  plan->add_option("--deposit", o->plan_deposit, "dollars deposited first")->capture_default_str();
  plan->add_option("--seed", o->seed, "the random amounts' seed (without --amounts)")->capture_default_str();
  plan->add_option("--fee", o->payment_fee, "the relayer's fee for a payment, cents")
      ->check(CLI::Range(0, 100'000))
      ->capture_default_str();
  plan->add_option("--split-fee", o->split_fee, "the relayer's fee for a split, cents")
      ->check(CLI::Range(0, 100'000))
      ->capture_default_str();
  plan->add_option("--rebalance", o->rebalance_mode,
                   "when-short (as bench/payments: rounds when a payment cannot be made) or after-each (the keeper)")
      ->capture_default_str();
  plan->add_flag("-j,--json", o->json_out, "print JSON");
  // Before `inventory`: both are parsed when `inventory plan` is given.
  list.emplace_back(plan, [runner] { return runner->inventory_plan(); });
  list.emplace_back(inventory, [runner] { return runner->inventory(); });
  auto* inventory_status = inventory->add_subcommand(
      "status", "The inventory against the policy and the proof jobs, from the store alone (works offline)");
  add_store_options(inventory_status, *o);
  list.emplace_back(inventory_status, [runner] { return runner->inventory_status(); });

  auto* rebalance = app.add_subcommand("rebalance", "Split larger notes into the denominations short of their targets");
  add_store_options(rebalance, *o);
  add_rpc_url_option(rebalance, *o);
  add_engine_options(rebalance, *o);
  rebalance->add_option("--rounds", o->rounds, "rounds of splits (each waits for the last)")->capture_default_str();
  rebalance->add_flag("--no-wait", o->no_wait, "hand the splits to the relayer and return");
  list.emplace_back(rebalance, [runner] { return runner->rebalance(); });

  auto* keeper = app.add_subcommand(
      "keeper", "The background rebalancer: sync, split towards the targets, prove new notes, until SIGINT/SIGTERM");
  add_store_options(keeper, *o);
  add_rpc_url_option(keeper, *o);
  add_engine_options(keeper, *o);
  keeper->add_option("--interval", o->interval_s, "seconds between rounds")->capture_default_str();
  keeper->add_flag("--once", o->once, "one round, then exit");
  list.emplace_back(keeper, [runner] { return runner->keeper(); });

  auto* pay = app.add_subcommand(
      "pay",
      "Pay an amount from precomputed proofs through a relayer: plan with its fee, sign, hand over, wait until it is "
      "on chain");
  add_store_options(pay, *o);
  add_rpc_url_option(pay, *o);
  add_engine_options(pay, *o);
  pay->add_option("amount", o->amount, "dollars, e.g. 12.34")->required();
  pay->add_option("--to", o->to, "the recipient's address")->required();
  pay->add_option("--relayer", o->relayer, "the relayer's URL (default: the wallet's, from init --relayer)");
  pay->add_option("--on-missing", o->on_missing,
                  "when ready proofs cannot make the amount and the fee: refuse, or split (prove a split now)")
      ->capture_default_str();
  pay->add_flag("--no-wait", o->no_wait, "return once the relayer has the payment (`bucketpay sync` settles it)");
  pay->add_option("--wait-timeout", o->wait_timeout_s, "seconds to wait for the payment to land")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  list.emplace_back(pay, [runner] { return runner->pay(); });

  auto* config = app.add_subcommand("config", "The wallet's settings");
  config->require_subcommand(1);
  auto* config_set = config->add_subcommand(
      "set", "Change a setting: rpc-url URL (the node), spend-limits payment=,payee=,period= CENTS,period_s=S|none");
  add_store_options(config_set, *o);
  config_set->add_option("setting", o->config_key, "rpc-url or spend-limits")->required();
  config_set->add_option("value", o->config_value, "its new value")->required();
  list.emplace_back(config_set, [runner] { return runner->config_set(); });

  auto* key = app.add_subcommand("key", "The wallet's keys: show, backup, restore");
  key->require_subcommand(1);
  auto* show = key->add_subcommand("show", "Print the public keys (--reveal: the secret ones too)");
  add_store_options(show, *o);
  show->add_flag("--reveal", o->reveal, "also print the spending key and the account key");
  list.emplace_back(show, [runner] { return runner->key_show(); });
  auto* backup = key->add_subcommand("backup", "Write the keys and notes to a file sealed with a passphrase");
  add_store_options(backup, *o);
  backup->add_option("--out", o->file, "the backup file (never overwritten)")->required();
  list.emplace_back(backup, [runner] { return runner->key_backup(); });
  auto* restore = key->add_subcommand("restore", "Restore a wallet from a backup into the store");
  add_store_options(restore, *o);
  restore->add_option("file", o->file, "the backup file")->required();
  list.emplace_back(restore, [runner] { return runner->key_restore(); });
  return list;
}

}  // namespace bucketpay::cli
