#include "engine_commands.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bucketpay/amount.h"
#include "bucketpay/bb.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "bucketpay/note.h"
#include "bucketpay/pg_store.h"
#include "bucketpay/service.h"
#include "bucketpay/store.h"
#include "cli.h"
#include "context.h"
#include "conventions.h"
#include "progress.h"
#include "worker.h"

namespace bucketpay::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Options : CommonOptions {
  // note add
  std::string value;
  int count = 1;
  // precompute
  std::int64_t note_id = 0;
  std::vector<std::int64_t> note_ids;
  bool all_notes = false;
  std::optional<std::string> recipient;  // protocol v1's: refused with a clear error
  std::vector<std::string> buckets;
  // serve
  std::string host = "127.0.0.1";
  std::vector<std::string> allowed_hosts;
  int port = 8080;
  // precompute --enqueue-only
  bool enqueue_only = false;
  // worker
  int lease_s = 30;
  int heartbeat_s = 5;
  int idle_exit_s = 0;  // 0: never
  // note list --reveal
  bool reveal = false;
  // token create --scope; token revoke ID
  std::string scope = "read";
  std::string token_id;
};

class Runner {
 public:
  Runner(std::shared_ptr<Options> o, std::ostream& out, std::ostream& err) : o_(std::move(o)), out_(out), err_(err) {}

  int fail(const Status& s) {
    err_ << "bucketpay: error: " << s.message() << "\n";
    return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }

  Result<std::unique_ptr<Store>> open_store(bool create) { return cli::open_store(*o_, create); }
  // The store, which must hold the wallet --wallet names.
  Result<std::unique_ptr<Store>> open_wallet_store() { return cli::open_wallet_store(*o_); }
  Result<std::unique_ptr<PgStore>> open_pg() { return cli::open_pg(*o_); }
  Result<std::unique_ptr<ProverPool>> start_pool() { return cli::start_pool(*o_); }

  // A note added to the local tree (the store's leaves), for proving without a chain.
  int note_add() {
    auto value = parse_amount(o_->value, AmountUnit::kDollars, kMaxNoteValue);
    if (!value.ok()) return fail(value.status());
    if (o_->count < 1 || o_->count > 100000) return fail(Status::invalid_argument("--count must be 1..100000"));
    auto store = open_wallet_store();
    if (!store.ok()) return fail(store.status());
    auto sk = (*store)->get_spending_key(o_->wallet);
    if (!sk.ok()) return fail(sk.status().with_context("wallet " + o_->wallet));
    const Fr pk = owner_key(SpendingKey::from_fr(*sk));
    json added = json::array();
    for (int i = 0; i < o_->count; ++i) {
      const Note note = Note::create(pk, *value);
      const Fr cm = note.commitment();
      auto index = (*store)->append_leaves(std::span(&cm, 1));
      if (!index.ok()) return fail(index.status());
      StoredNote sn;
      sn.wallet = o_->wallet;
      sn.pk = pk;
      sn.value = *value;
      sn.r = note.r;
      sn.leaf_index = *index;
      sn.state = NoteState::kOnChain;
      sn.commitment = cm;
      auto id = (*store)->insert_note(sn);
      if (!id.ok()) return fail(id.status());
      added.push_back(json{{"id", *id}, {"leaf_index", *index}, {"value_cents", *value}, {"commitment", cm.to_hex()}});
    }
    if (o_->json_out) {
      out_ << added.dump() << "\n";
    } else {
      for (const auto& n : added) {
        out_ << "note " << n["id"].get<std::int64_t>() << "  leaf " << n["leaf_index"].get<std::uint64_t>() << "  "
             << format_dollars(n["value_cents"].get<std::uint64_t>()) << "  " << n["commitment"].get<std::string>()
             << "\n";
      }
    }
    return kExitOk;
  }

  int note_list() {
    auto store = open_wallet_store();
    if (!store.ok()) return fail(store.status());
    auto notes = (*store)->list_notes(o_->wallet, std::nullopt);
    if (!notes.ok()) return fail(notes.status());
    json list = json::array();
    for (const auto& n : *notes) {
      list.push_back(json{{"id", n.id},
                          {"value_cents", n.value},
                          {"state", std::string(note_state_name(n.state))},
                          {"leaf_index", n.leaf_index ? json(*n.leaf_index) : json(nullptr)},
                          {"commitment", n.commitment.to_hex()}});
      if (o_->reveal) {
        // Only on request, and only to this command's standard output.
        list.back()["pk"] = n.pk.to_hex();
        list.back()["r"] = n.r.to_hex();
      }
    }
    if (o_->reveal) {
      err_ << "bucketpay: warning: the output holds each note's blinding factor r, which links the note to the "
              "wallet's owner key\n";
    }
    if (o_->json_out) {
      out_ << list.dump() << "\n";
    } else {
      for (const auto& n : list) {
        out_ << "note " << n["id"] << "  " << format_dollars(n["value_cents"].get<std::uint64_t>()) << "  "
             << n["state"].get<std::string>() << "  leaf " << n["leaf_index"];
        if (o_->reveal) out_ << "  pk " << n["pk"].get<std::string>() << "  r " << n["r"].get<std::string>();
        out_ << "\n";
      }
    }
    return kExitOk;
  }

  int precompute(const std::string& mode) {
    if (o_->recipient) {
      return fail(Status::invalid_argument(
          "--recipient is gone (protocol v2): a proof binds its note's own auth key, and who is paid is decided "
          "when the payment is signed"));
    }
    std::vector<Cents> buckets;
    if (mode == "seed") {
      if (o_->buckets.empty()) {
        buckets.assign(kBuckets.begin(), kBuckets.end());
      } else {
        for (const auto& b : o_->buckets) {
          auto c = parse_amount(b, AmountUnit::kCents, kMaxPaymentCents);
          if (!c.ok()) return fail(c.status());
          if ((*c & (*c - 1)) != 0) return fail(Status::invalid_argument("bucket " + b + " is not a power of two"));
          buckets.push_back(*c);
        }
      }
    }
    auto store = open_wallet_store();
    if (!store.ok()) return fail(store.status());
    std::vector<std::int64_t> ids = o_->note_ids;
    if (mode == "inventory" && o_->all_notes) {
      auto notes = (*store)->list_notes(o_->wallet, NoteState::kOnChain);
      if (!notes.ok()) return fail(notes.status());
      for (const auto& n : *notes) ids.push_back(n.id);
    }
    if (mode == "inventory" && ids.empty())
      return fail(Status::invalid_argument("no notes given (use --note ID or --all)"));
    if (o_->enqueue_only) return enqueue(mode, **store, ids, buckets);
    auto pool = start_pool();
    if (!pool.ok()) return fail(pool.status());
    auto engine = Engine::open(**store, **pool, o_->wallet);
    if (!engine.ok()) return fail(engine.status());

    Progress progress(err_, "proving", Progress::is_terminal(STDERR_FILENO));
    PrecomputeOptions po;
    po.parallel = !o_->sequential;
    po.batch_size = o_->batch_size;
    po.on_progress = [&](std::size_t done, std::size_t total) { progress.update(done, total); };
    po.on_failed = [&] { progress.fail(); };
    if (mode == "retry") {
      auto retried = (*store)->retry_failed_jobs({});
      if (!retried.ok()) return fail(retried.status());
      if (!o_->json_out)
        err_ << "bucketpay: " << count_of(static_cast<std::size_t>(*retried), "failed job") << " to try again\n";
    }
    const auto t0 = std::chrono::steady_clock::now();
    Result<PrecomputeReport> report = Status::internal("no mode");
    if (mode == "seed") {
      report = (*engine)->generate_all_precomputes(o_->note_id, buckets, po);
    } else if (mode == "inventory") {
      report = (*engine)->generate_spend_precomputes(ids, po);
    } else {  // resume, retry
      report = (*engine)->resume(po);
    }
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!report.ok()) return fail(report.status());
    std::optional<std::int64_t> in_store;
    if (mode == "resume" || mode == "retry") {
      // What was interrupted may be partly proved already: the count that matters is the store's.
      auto counted = (*store)->count_precomputes();
      if (!counted.ok()) return fail(counted.status());
      in_store = *counted;
    }
    print_report(*report, seconds, **pool, in_store);
    return report->failed == 0 ? kExitOk : kExitFailure;
  }

  // The jobs in the store only, for `bucketpay worker`s to prove.
  int enqueue(const std::string& mode, Store& store, const std::vector<std::int64_t>& ids,
              const std::vector<Cents>& buckets) {
    auto engine = Engine::open_without_prover(store, o_->wallet);
    if (!engine.ok()) return fail(engine.status());
    auto report = mode == "seed" ? (*engine)->enqueue_all_precomputes(o_->note_id, buckets)
                                 : (*engine)->enqueue_spend_precomputes(ids);
    if (!report.ok()) return fail(report.status());
    if (o_->json_out) {
      out_ << json{{"batch", report->batch}, {"jobs", report->enqueued}, {"cached", report->cached}}.dump() << "\n";
    } else {
      out_ << "batch " << report->batch << ": " << count_of(report->enqueued, "job") << " enqueued ("
           << count_of(report->cached, "precompute") << " already stored)\n";
    }
    return kExitOk;
  }

  // A fleet worker: proves the jobs of a PostgreSQL store until SIGTERM (or idle).
  int worker() {
    if (o_->heartbeat_s >= o_->lease_s) {
      return fail(Status::invalid_argument("--heartbeat must be shorter than --lease"));
    }
    auto store = open_pg();
    if (!store.ok()) return fail(store.status());
    auto pool = start_pool();
    if (!pool.ok()) return fail(pool.status());
    WorkerOptions wo;
    wo.loops = (*pool)->workers();
    wo.lease = std::chrono::seconds(o_->lease_s);
    wo.heartbeat = std::chrono::seconds(o_->heartbeat_s);
    if (o_->idle_exit_s > 0) wo.idle_exit = std::chrono::seconds(o_->idle_exit_s);
    const int code = run_worker(**store, **store, **pool, wo, err_);
    if (o_->json_out) out_ << json{{"event", "stopped"}, {"exit_code", code}}.dump() << "\n";
    return code;
  }

  // `in_store`: after resume/retry, the precomputes the store holds (every wallet's), said as the
  // ready count; this run's own work is said beside it.
  void print_report(const PrecomputeReport& r, double seconds, const ProverPool& pool,
                    std::optional<std::int64_t> in_store) {
    const auto stats = pool.stats();
    if (o_->json_out) {
      json j = {{"batch", r.batch},          {"proved", r.proved},
                {"cached", r.cached},        {"failed", r.failed},
                {"seconds", seconds},        {"errors", r.errors},
                {"workers", pool.workers()}, {"threads_per_worker", pool.threads_per_worker()}};
      j["precomputes"] = json::array();
      for (const auto& p : r.precomputes) {
        j["precomputes"].push_back(json{{"key", p.key},
                                        {"circuit", circuit_name(p.circuit)},
                                        {"note_id", p.note_id},
                                        {"amount_cents", p.amount},
                                        {"proof_bytes", p.proof.size()},
                                        {"prove_ms", p.prove_ms},
                                        {"worker", p.worker}});
      }
      j["worker_stats"] = worker_stats_json(stats);  // as GET /v1/workers answers
      if (in_store) j["ready_in_store"] = *in_store;
      out_ << j.dump() << "\n";
      return;
    }
    if (in_store) {
      out_ << "precomputes ready: " << *in_store << " in the store (this run proved " << r.proved << ", failed "
           << r.failed << ") in " << format_duration(seconds) << " with ";
    } else {
      out_ << "precomputes ready: " << r.precomputes.size() << " (proved " << r.proved << ", from cache " << r.cached
           << ", failed " << r.failed << ") in " << format_duration(seconds) << " with ";
    }
    out_ << count_of(static_cast<std::size_t>(pool.workers()), "worker") << " x "
         << count_of(static_cast<std::size_t>(pool.threads_per_worker()), "thread") << "\n";
    if (r.failed > 0) {
      out_ << "  " << count_of(r.failed, "proof") << " failed; `bucketpay precompute retry` tries "
           << (r.failed == 1 ? "it" : "them") << " again\n";
    }
    for (const auto& e : r.errors) out_ << "  failed: " << e << "\n";
    if (o_->stats) print_stats(stats);
  }

  void print_stats(const std::vector<WorkerStats>& stats) {
    out_ << "worker  threads  proofs  errors  restarts  total_s  mean_ms\n";
    for (const auto& s : stats) {
      char line[128];
      std::snprintf(line, sizeof line, "%4d%s  %7d  %6llu  %6llu  %8llu  %7.2f  %7.1f\n", s.worker,
                    s.urgent ? "u" : " ", s.threads, static_cast<unsigned long long>(s.proofs),
                    static_cast<unsigned long long>(s.errors), static_cast<unsigned long long>(s.restarts),
                    s.total_ms / 1000, s.mean_ms());
      out_ << line;
    }
  }

  // The HTTP service (src/service): this store (its notes, proofs and API tokens) and a proving pool.
  int serve() {
    auto store = open_store(false);
    if (!store.ok()) return fail(store.status());
    if (auto note = legacy_tokens_note(*o_)) err_ << "bucketpay: note: " << *note << "\n";
    auto pool = start_pool();
    if (!pool.ok()) return fail(pool.status());
    ServiceOptions so;
    so.host = o_->host;
    so.allowed_hosts = o_->allowed_hosts;
    so.port = o_->port;
    if (const char* t = std::getenv("BUCKETPAY_METRICS_TOKEN"); t != nullptr && *t != '\0') so.metrics_token = t;
    so.wallet_store = store->get();  // POST /v1/x402/pay: the store's wallets pay x402 requirements
    JsonLines lines(out_, o_->json_out);
    std::ostream status_out(&lines);
    Status st = serve_until_signal(**store, **pool, so, status_out);
    return st.is_ok() ? kExitOk : fail(st);
  }

  // A new API token for the wallet, printed once (only its hash is kept, in the store). Its scope is
  // read unless --scope spend: a token for a dashboard or a monitor should not be able to pay.
  int token_create() {
    const std::optional<TokenScope> scope = parse_token_scope(o_->scope);
    if (!scope) {
      return fail(
          Status::invalid_argument("--scope must be read (the dashboard, job status, plans) or spend (also "
                                   "proof jobs and payments), not '" +
                                   o_->scope + "'"));
    }
    auto store = open_wallet_store();
    if (!store.ok()) return fail(store.status());
    if (auto sk = (*store)->get_spending_key(o_->wallet); !sk.ok())
      return fail(sk.status().with_context("wallet " + o_->wallet));
    if (auto note = legacy_tokens_note(*o_)) err_ << "bucketpay: note: " << *note << "\n";
    auto created = (*store)->create_token(o_->wallet, *scope);
    if (!created.ok()) return fail(created.status());
    if (o_->json_out) {
      out_ << json{{"wallet", o_->wallet},
                   {"id", created->id},
                   {"scope", token_scope_name(*scope)},
                   {"token", created->token}}
                  .dump()
           << "\n";
    } else {
      out_ << created->token << "\n";
    }
    return kExitOk;
  }

  // Every API token of the store (all wallets), oldest first: id, wallet, scope, creation, state.
  // Never a secret: the store has none.
  int token_list() {
    auto store = open_store(false);
    if (!store.ok()) return fail(store.status());
    auto tokens = (*store)->list_tokens();
    if (!tokens.ok()) return fail(tokens.status());
    if (o_->json_out) {
      json list = json::array();
      for (const auto& t : *tokens) {
        list.push_back(json{{"id", t.id},
                            {"wallet", t.wallet},
                            {"scope", token_scope_name(t.scope)},
                            {"created_ms", t.created_ms},
                            {"revoked", t.revoked}});
      }
      out_ << list.dump() << "\n";
      return kExitOk;
    }
    if (tokens->empty()) {
      out_ << "no API tokens (`bucketpay token create --wallet NAME [--scope read|spend]` makes one)\n";
      return kExitOk;
    }
    for (const auto& t : *tokens) {
      out_ << t.id << "  " << utc_time(t.created_ms) << "  " << std::left << std::setw(5) << token_scope_name(t.scope)
           << "  " << (t.revoked ? paint_out("revoked", Colour::kRed) : std::string("active ")) << "  wallet "
           << t.wallet << "\n";
    }
    return kExitOk;
  }

  // Revokes a token by its id (the public part, as `token list` shows it); the service refuses it
  // from its next request on.
  int token_revoke() {
    auto store = open_store(false);
    if (!store.ok()) return fail(store.status());
    if (Status s = (*store)->revoke_token(o_->token_id); !s.is_ok()) return fail(s);
    if (o_->json_out) {
      out_ << json{{"id", o_->token_id}, {"revoked", true}}.dump() << "\n";
    } else {
      out_ << "revoked token " << o_->token_id << "\n";
    }
    return kExitOk;
  }

  int status() {
    auto store = open_wallet_store();
    if (!store.ok()) return fail(store.status());
    auto counts = (*store)->job_counts(std::nullopt);
    if (!counts.ok()) return fail(counts.status());
    auto precomputes = (*store)->count_precomputes();
    if (!precomputes.ok()) return fail(precomputes.status());
    auto leaves = (*store)->leaf_count();
    if (!leaves.ok()) return fail(leaves.status());
    auto notes = (*store)->list_notes(o_->wallet, std::nullopt);
    if (!notes.ok()) return fail(notes.status());
    if (o_->json_out) {
      out_ << json{{"precomputes", *precomputes},
                   {"jobs",
                    {{"pending", counts->pending},
                     {"running", counts->running},
                     {"done", counts->done},
                     {"failed", counts->failed}}},
                   {"notes", notes->size()},
                   {"leaves", *leaves}}
                  .dump()
           << "\n";
    } else {
      // Precomputes and jobs are the store's (every wallet's); notes are this wallet's.
      out_ << "precomputes " << *precomputes << " (all wallets of the store)\njobs (all wallets): pending "
           << counts->pending << ", running " << counts->running << ", done " << counts->done << ", failed "
           << counts->failed;
      if (counts->failed > 0) out_ << " (`bucketpay precompute retry` tries them again)";
      out_ << "\nnotes of wallet " << o_->wallet << ": " << notes->size() << "; tree leaves " << *leaves << "\n";
    }
    return kExitOk;
  }

 private:
  std::shared_ptr<Options> o_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

CommandList add_engine_commands(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto o = std::make_shared<Options>();
  auto runner = std::make_shared<Runner>(o, out, err);
  CommandList list;

  auto* note = app.add_subcommand("note", "The wallet's notes");
  note->require_subcommand(1);
  auto* note_add = note->add_subcommand("add", "Add notes of a value to the local tree (proving without a chain)");
  add_store_options(note_add, *o);
  note_add->add_option("--value", o->value, "the value in dollars")->required();
  note_add->add_option("--count", o->count, "how many notes")->capture_default_str();
  list.emplace_back(note_add, [runner] { return runner->note_add(); });
  auto* note_list = note->add_subcommand("list", "List the wallet's notes");
  add_store_options(note_list, *o);
  note_list->add_flag("--reveal", o->reveal, "also print each note's owner key pk and blinding factor r (secret)");
  list.emplace_back(note_list, [runner] { return runner->note_list(); });

  auto* pre = app.add_subcommand("precompute", "Make the proofs that turn payments into lookups");
  pre->require_subcommand(1);
  auto* seed = pre->add_subcommand(
      "seed", "Seed mode: a split proof per bucket <= the note's value (the change back to the owner as an output)");
  add_store_options(seed, *o);
  add_engine_options(seed, *o);
  seed->add_option("--note", o->note_id, "the note's id")->required();
  seed->add_option("--recipient", o->recipient)->group("");  // protocol v1's: refused
  seed->add_option("--buckets", o->buckets, "buckets in cents (default: all 17)")->delimiter(',');
  seed->add_flag("--enqueue-only", o->enqueue_only, "only put the jobs in the store, for `bucketpay worker`s");
  list.emplace_back(seed, [runner] { return runner->precompute("seed"); });
  auto* inv = pre->add_subcommand("inventory", "Inventory mode: a spend proof per note");
  add_store_options(inv, *o);
  add_engine_options(inv, *o);
  inv->add_option("--note", o->note_ids, "note ids")->delimiter(',');
  inv->add_flag("--all", o->all_notes, "every unspent note of the wallet");
  inv->add_option("--recipient", o->recipient)->group("");  // protocol v1's: refused
  inv->add_flag("--enqueue-only", o->enqueue_only, "only put the jobs in the store, for `bucketpay worker`s");
  list.emplace_back(inv, [runner] { return runner->precompute("inventory"); });
  auto* resume = pre->add_subcommand("resume", "Prove the jobs a crash left unfinished");
  add_store_options(resume, *o);
  add_engine_options(resume, *o);
  list.emplace_back(resume, [runner] { return runner->precompute("resume"); });
  auto* retry = pre->add_subcommand("retry", "Try the failed jobs again (fresh tries), with the unfinished ones");
  add_store_options(retry, *o);
  add_engine_options(retry, *o);
  list.emplace_back(retry, [runner] { return runner->precompute("retry"); });
  auto* status = pre->add_subcommand("status", "Jobs, precomputes and notes in the store");
  add_store_options(status, *o);
  list.emplace_back(status, [runner] { return runner->status(); });

  auto* serve = app.add_subcommand("serve",
                                   "Serve the HTTP/JSON API and dashboard (docs/api.md) until SIGINT/SIGTERM; "
                                   "$BUCKETPAY_METRICS_TOKEN, when set, guards /metrics");
  add_store_options(serve, *o);
  add_engine_options(serve, *o);
  serve->add_option("--host", o->host, "the address to bind")->capture_default_str();
  serve->add_option("--port", o->port, "the port (0: any free one, printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--allow-host", o->allowed_hosts,
                    "a Host name to answer besides IP addresses and localhost (the name a proxy forwards; "
                    "repeatable); other names get 403, against DNS rebinding");
  list.emplace_back(serve, [runner] { return runner->serve(); });
  auto* worker = app.add_subcommand("worker",
                                    "Prove the queued jobs of a PostgreSQL store, as one of a fleet, until "
                                    "SIGINT/SIGTERM (leased claims, heartbeats, exactly-once completion)");
  add_store_options(worker, *o);
  add_engine_options(worker, *o);
  worker->add_option("--lease", o->lease_s, "seconds a claimed job is held without a heartbeat")
      ->check(CLI::Range(2, 86400))
      ->capture_default_str();
  worker->add_option("--heartbeat", o->heartbeat_s, "seconds between heartbeats while proving")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  worker->add_option("--idle-exit", o->idle_exit_s, "exit after this many seconds with no pending or running job")
      ->check(CLI::Range(1, 86400));
  list.emplace_back(worker, [runner] { return runner->worker(); });
  auto* token = app.add_subcommand("token", "API tokens for `bucketpay serve`");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token bound to a wallet; it is printed once");
  add_store_options(token_create, *o);
  token_create
      ->add_option("--scope", o->scope,
                   "read (the dashboard, job status, plans) or spend (also proof jobs and payments)")
      ->capture_default_str();
  list.emplace_back(token_create, [runner] { return runner->token_create(); });
  auto* token_list = token->add_subcommand("list", "List the store's API tokens (every wallet's): id, scope, state");
  add_store_options(token_list, *o);
  list.emplace_back(token_list, [runner] { return runner->token_list(); });
  auto* token_revoke = token->add_subcommand("revoke", "Revoke an API token by its id (as `token list` shows it)");
  add_store_options(token_revoke, *o);
  token_revoke->add_option("id", o->token_id, "the token's id (16 hex digits)")->required();
  list.emplace_back(token_revoke, [runner] { return runner->token_revoke(); });
  return list;
}

}  // namespace bucketpay::cli
