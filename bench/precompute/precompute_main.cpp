// precompute_bench: 17 bucket precomputes of one note, the seed's way and bucketpay's, side by side
// in one run on this machine (docs/engine.md has the method and the measured figures).
//
//   baseline     the seed's pipeline: per proof a temp dir, a fresh `node` for the witness, a
//                `bb prove` process; sequential and with 10 concurrent pipelines (WORKER_POOL_SIZE)
//   seed mode    Engine::generate_all_precomputes: a split proof per bucket, fresh SQLite store,
//                default pool (pool start-up timed separately: it is paid once per process)
//   inventory    Engine::generate_spend_precomputes: a spend proof for each of 17 notes
//   limits       the sum of bb's single-thread prove times for the same proofs / cores: what
//                perfect scheduling of the proving alone would take (no witness, verify or store)
//
// Every figure is the median over --repeat rounds; each round runs every pipeline once, in turn,
// so that they share the machine's load (other processes) as evenly as possible.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "baseline.h"
#include "bucketpay/bb.h"
#include "bucketpay/engine.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"
#include "engine/witness.h"
#include "fixture.h"
#include "testing/testing.h"
#include "timing_store.h"

namespace bucketpay::bench {
namespace {

// The circuits' artifact names.
const std::string kSplit(circuit_name(CircuitKind::kSplit));
const std::string kSpend(circuit_name(CircuitKind::kSpend));

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
  std::optional<fs::path> crs;
  std::optional<fs::path> bb;
  std::optional<fs::path> json_out;
  int repeat = 1;
  int baseline_workers = 10;
  bool skip_baseline = false;
  bool profile = false;
  bool warm_up = true;  // ProverConfig::warm_up of bucketpay's pools
  int workers = 0;      // ProverConfig::workers (0: the pool's choice)
  int threads = 0;      // ProverConfig::threads_per_worker (0: the pool's choice)
};

void usage(std::ostream& out) {
  out << "usage: precompute_bench [--crs DIR] [--bb FILE] [--repeat N] [--baseline-workers N] [--skip-baseline]\n"
         "                        [--profile] [--no-warm-up] [--workers N] [--threads N] [--json FILE]\n"
         "  --crs DIR             the CRS (default $BUCKETPAY_CRS, else ~/.bb-crs; never the network)\n"
         "  --repeat N            rounds; every figure is the median over them (default 1)\n"
         "  --baseline-workers N  concurrent pipelines of the parallel baseline (default 10, the seed's)\n"
         "  --skip-baseline       only bucketpay and the limits\n"
         "  --profile             first print each proof's phases on a freshly started pool\n"
         "  --no-warm-up          bucketpay's pools start their processes lazily (ProverConfig::warm_up)\n"
         "  --workers N, --threads N  bucketpay's pool shape (default 0: the pool chooses)\n"
         "  --json FILE           also write the figures as JSON\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return Status::invalid_argument(a + " needs a value");
      return std::string(argv[++i]);
    };
    auto number = [&](int lo) -> Result<int> {
      auto v = value();
      if (!v.ok()) return v.status();
      char* end = nullptr;
      const long n = std::strtol(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0' || n < lo || n > 1000) return Status::invalid_argument(a + ": bad number");
      return static_cast<int>(n);
    };
    if (a == "--crs" || a == "--bb" || a == "--json") {
      auto v = value();
      if (!v.ok()) return v.status();
      (a == "--crs" ? o.crs : a == "--bb" ? o.bb : o.json_out) = fs::path(*v);
    } else if (a == "--repeat" || a == "--baseline-workers") {
      auto n = number(1);
      if (!n.ok()) return n.status();
      (a == "--repeat" ? o.repeat : o.baseline_workers) = *n;
    } else if (a == "--workers" || a == "--threads") {
      auto n = number(0);
      if (!n.ok()) return n.status();
      (a == "--workers" ? o.workers : o.threads) = *n;
    } else if (a == "--no-warm-up") {
      o.warm_up = false;
    } else if (a == "--profile") {
      o.profile = true;
    } else if (a == "--skip-baseline") {
      o.skip_baseline = true;
    } else if (a == "-h" || a == "--help") {
      usage(std::cout);
      std::exit(0);
    } else {
      return Status::invalid_argument("unknown option " + a);
    }
  }
  return o;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Figures of one round, by name (seconds unless the name says otherwise).
using Round = std::map<std::string, double>;

struct Env {
  bool warm_up = true;
  int workers = 0;
  int threads = 0;
  fs::path root;
  fs::path bb;
  fs::path crs;
  fs::path circuits_dir;
  fs::path tmp;
  int cores = 1;
  std::map<std::string, fs::path> artifacts;
};

// ---- The limits: bb's single-thread prove time per proof, summed, over the cores.

struct Limits {
  std::unique_ptr<bb::Process> bb;
  std::map<std::string, bb::Circuit> circuits;
  std::map<std::string, std::vector<std::uint8_t>> vks;
  std::vector<std::vector<std::uint8_t>> split_witnesses;
  std::vector<std::vector<std::uint8_t>> spend_witnesses;

  // Proves every witness once on one thread; returns the summed prove and verify seconds.
  Result<std::pair<double, double>> measure(const std::string& circuit,
                                            const std::vector<std::vector<std::uint8_t>>& witnesses,
                                            const std::vector<ProofInputs>& expected) {
    double prove_s = 0;
    double verify_s = 0;
    for (std::size_t i = 0; i < witnesses.size(); ++i) {
      auto t0 = Clock::now();
      auto proof = bb->prove(circuits.at(circuit), vks.at(circuit), witnesses[i]);
      prove_s += seconds_since(t0);
      if (!proof.ok()) return proof.status().with_context("limit: proving " + circuit);
      if (proof->public_inputs != expected[i].public_inputs) return Status::internal("limit: unexpected public inputs");
      t0 = Clock::now();
      auto ok = bb->verify(vks.at(circuit), *proof);
      verify_s += seconds_since(t0);
      if (!ok.ok() || !*ok) return Status::internal("limit: a proof did not verify");
    }
    return std::pair{prove_s, verify_s};
  }

  Status check(const std::string& circuit, const std::vector<bb::ProofData>& proofs,
               const std::vector<ProofInputs>& expected) {
    for (std::size_t i = 0; i < proofs.size(); ++i) {
      if (proofs[i].public_inputs != expected[i].public_inputs) {
        return Status::internal("baseline proof " + std::to_string(i) + " has unexpected public inputs");
      }
      auto ok = bb->verify(vks.at(circuit), proofs[i]);
      if (!ok.ok()) return ok.status();
      if (!*ok) return Status::internal("baseline proof " + std::to_string(i) + " does not verify");
    }
    return Status::ok();
  }
};

Result<Limits> prepare_limits(const Env& env, const Fixture& fx) {
  Limits l;
  auto p = bb::Process::start({env.bb, 1, env.tmp / "limits-bb.log", {}, env.crs});
  if (!p.ok()) return p.status();
  l.bb = std::move(*p);
  for (const std::string& name : {kSplit, kSpend}) {
    auto c = bb::load_circuit_artifact(env.artifacts.at(name), name);
    if (!c.ok()) return c.status();
    auto vk = l.bb->compute_vk(*c);
    if (!vk.ok()) return vk.status();
    l.vks[name] = std::move(*vk);
    l.circuits[name] = std::move(*c);
  }
  // The witnesses, once, from bucketpay's witness server (witness time is not part of a limit).
  WitnessProcess::Options wo{"node",
                             env.root / "scripts" / "witness_server.mjs",
                             {{kSplit, env.artifacts.at(kSplit)}, {kSpend, env.artifacts.at(kSpend)}},
                             env.tmp / "limits-node.log"};
  auto wp = WitnessProcess::start(wo);
  if (!wp.ok()) return wp.status();
  for (const auto& in : fx.split_proofs()) {
    auto w = (*wp)->execute(kSplit, in.inputs_json, std::nullopt);
    if (!w.ok()) return w.status();
    l.split_witnesses.push_back(std::move(*w));
  }
  for (const auto& in : fx.spend_proofs()) {
    auto w = (*wp)->execute(kSpend, in.inputs_json, std::nullopt);
    if (!w.ok()) return w.status();
    l.spend_witnesses.push_back(std::move(*w));
  }
  // Warm-up: bb reads the CRS on its first proof; that is not proving time.
  auto warm = l.bb->prove(l.circuits.at(kSplit), l.vks.at(kSplit), l.split_witnesses[0]);
  if (!warm.ok()) return warm.status();
  return l;
}

// ---- bucketpay: one mode on a fresh store and a fresh pool with the default configuration.

struct EngineRun {
  double pool_start_s = 0;
  double call_s = 0;
  double store_s = 0;         // time inside Store calls during the call
  double complete_job_s = 0;  // of which: complete_job (commit of a verified proof)
  double warm_pool_s = 0;     // the same proofs again through the (now warm) pool alone, no store
  double witness_ms = 0;      // mean per proof, in the warm pool run
  double prove_ms = 0;
  double verify_ms = 0;
  int workers = 0;
  int threads = 0;
};

Result<EngineRun> run_engine(const Env& env, const Fixture& fx, bool seed_mode, int round) {
  EngineRun r;
  const fs::path dir = env.tmp / ((seed_mode ? "seed-" : "inventory-") + std::to_string(round));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "scratch", ec);
  StoreOptions so;
  so.passphrase = "bench passphrase";
  so.vault_params = VaultParams::fast();  // only the store's open (not timed) depends on it
  auto sqlite = open_sqlite_store(dir / "store.db", so);
  if (!sqlite.ok()) return sqlite.status();
  TimingStore store(std::move(*sqlite));
  auto ids = fx.populate(store, store);
  if (!ids.ok()) return ids.status();

  ProverConfig config;
  config.bb_binary = env.bb;
  config.crs_dir = env.crs;
  config.circuits_dir = env.circuits_dir;
  config.witness_server = env.root / "scripts" / "witness_server.mjs";
  config.scratch_root = dir / "scratch";
  config.warm_up = env.warm_up;
  config.workers = env.workers;
  config.threads_per_worker = env.threads;
  auto t0 = Clock::now();
  auto pool = ProverPool::start(config);
  r.pool_start_s = seconds_since(t0);
  if (!pool.ok()) return pool.status();
  r.workers = (*pool)->workers();
  r.threads = (*pool)->threads_per_worker();
  {
    auto engine = Engine::open({store, store, store}, **pool, kWallet);
    if (!engine.ok()) return engine.status();
    store.reset_counters();
    const std::vector<std::int64_t> inventory(ids->begin() + 1, ids->end());
    t0 = Clock::now();
    auto report = seed_mode ? (*engine)->generate_all_precomputes((*ids)[0], kBuckets, {})
                            : (*engine)->generate_spend_precomputes(inventory, {});
    r.call_s = seconds_since(t0);
    r.store_s = store.seconds();
    r.complete_job_s = store.complete_job_seconds();
    if (!report.ok()) return report.status();
    if (report->proved != kBuckets.size() || report->failed != 0) {
      return Status::internal(std::string(seed_mode ? "seed" : "inventory") + " mode proved " +
                              std::to_string(report->proved) + ", failed " + std::to_string(report->failed) +
                              (report->errors.empty() ? "" : ": " + report->errors[0]));
    }
  }
  // Profile: the same proofs through the warm pool alone, with their phase times.
  const auto& proofs = seed_mode ? fx.split_proofs() : fx.spend_proofs();
  std::vector<ProofRequest> requests;
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    requests.push_back({"p" + std::to_string(i), proofs[i].circuit, proofs[i].inputs_json, proofs[i].public_inputs});
  }
  t0 = Clock::now();
  auto results = (*pool)->prove_all(requests);
  r.warm_pool_s = seconds_since(t0);
  for (const auto& res : results) {
    if (!res.proof.ok()) return res.proof.status().with_context("warm pool run");
    r.witness_ms += res.witness_ms / static_cast<double>(results.size());
    r.prove_ms += res.prove_ms / static_cast<double>(results.size());
    r.verify_ms += res.verify_ms / static_cast<double>(results.size());
  }
  pool->reset();
  fs::remove_all(dir, ec);
  return r;
}

// ---- --profile: each proof's phases on a cold pool (fresh processes), to see first-proof costs.

Status profile_cold_pool(const Env& env, const Fixture& fx) {
  ProverConfig config;
  config.bb_binary = env.bb;
  config.crs_dir = env.crs;
  config.circuits_dir = env.circuits_dir;
  config.witness_server = env.root / "scripts" / "witness_server.mjs";
  config.scratch_root = env.tmp;
  config.warm_up = env.warm_up;
  config.workers = env.workers;
  config.threads_per_worker = env.threads;
  auto t0 = Clock::now();
  auto pool = ProverPool::start(config);
  if (!pool.ok()) return pool.status();
  std::printf("cold pool: start %.3f s\n", seconds_since(t0));
  std::vector<ProofRequest> requests;
  for (const auto& p : fx.spend_proofs()) {
    requests.push_back({"p" + std::to_string(requests.size()), p.circuit, p.inputs_json, p.public_inputs});
  }
  BatchOptions bo;
  bo.on_result = [&](const ProofResult& r, std::size_t done, std::size_t) {
    std::printf("  %5.3f s  done %2zu  worker %d  witness %7.1f ms  prove %7.1f ms  verify %6.1f ms\n",
                seconds_since(t0), done, r.worker, r.witness_ms, r.prove_ms, r.verify_ms);
  };
  t0 = Clock::now();
  auto results = (*pool)->prove_all(requests, bo);
  std::printf("cold pool: 17 spend proofs %.3f s\n", seconds_since(t0));
  return Status::ok();
}

// ---- One round: every pipeline once.

Result<Round> run_round(const Env& env, const Fixture& fx, Limits& limits, const std::optional<Baseline>& baseline,
                        const Options& opt, int round) {
  Round r;
  const double n = static_cast<double>(kBuckets.size());
  std::cerr << "round " << round + 1 << ": limits" << std::flush;
  auto split = limits.measure(kSplit, limits.split_witnesses, fx.split_proofs());
  if (!split.ok()) return split.status();
  auto spend = limits.measure(kSpend, limits.spend_witnesses, fx.spend_proofs());
  if (!spend.ok()) return spend.status();
  r["split_prove_1t_sum_s"] = split->first;
  r["split_verify_1t_sum_s"] = split->second;
  r["spend_prove_1t_sum_s"] = spend->first;
  r["spend_verify_1t_sum_s"] = spend->second;
  r["seed_mode_limit_s"] = split->first / env.cores;
  r["inventory_mode_limit_s"] = spend->first / env.cores;

  if (baseline) {
    std::cerr << ", baseline sequential" << std::flush;
    auto seq = baseline->run(fx.split_proofs(), 1);
    if (!seq.ok()) return seq.status().with_context("baseline");
    BUCKETPAY_RETURN_IF_ERROR(limits.check(kSplit, seq->proofs, fx.split_proofs()));
    r["baseline_sequential_s"] = seq->seconds;
    r["baseline_witness_process_mean_s"] = seq->witness_process_s / n;
    r["baseline_prove_process_mean_s"] = seq->prove_process_s / n;
    std::cerr << ", baseline " << opt.baseline_workers << " workers" << std::flush;
    auto par = baseline->run(fx.split_proofs(), opt.baseline_workers);
    if (!par.ok()) return par.status().with_context("baseline");
    BUCKETPAY_RETURN_IF_ERROR(limits.check(kSplit, par->proofs, fx.split_proofs()));
    r["baseline_parallel_s"] = par->seconds;
  }

  for (bool seed : {true, false}) {
    std::cerr << (seed ? ", seed mode" : ", inventory mode") << std::flush;
    auto e = run_engine(env, fx, seed, round);
    if (!e.ok()) return e.status().with_context(seed ? "seed mode" : "inventory mode");
    const std::string m = seed ? "seed_mode" : "inventory_mode";
    r[m + "_s"] = e->call_s;
    r[m + "_pool_start_s"] = e->pool_start_s;
    r[m + "_store_s"] = e->store_s;
    r[m + "_complete_job_s"] = e->complete_job_s;
    r[m + "_warm_pool_s"] = e->warm_pool_s;
    r[m + "_witness_ms"] = e->witness_ms;
    r[m + "_prove_ms"] = e->prove_ms;
    r[m + "_verify_ms"] = e->verify_ms;
    r["workers"] = e->workers;
    r["threads"] = e->threads;
  }
  std::cerr << "\n";
  return r;
}

void print_table(const Round& m, const Env& env, const Options& opt) {
  const double n = static_cast<double>(kBuckets.size());
  const auto has = [&](const std::string& k) { return m.count(k) != 0; };
  const double base = has("baseline_parallel_s") ? m.at("baseline_parallel_s") : 0;
  std::printf(
      "\n17 precomputes of one note; %d cores; median of %d round%s; bucketpay pool: %d workers x %d threads%s\n\n",
      env.cores, opt.repeat, opt.repeat == 1 ? "" : "s", static_cast<int>(m.at("workers")),
      static_cast<int>(m.at("threads")), env.warm_up ? ", warmed up at start" : ", no warm-up");
  std::printf("%-44s %9s %9s %12s %9s\n", "pipeline", "seconds", "proofs/s", "vs baseline", "vs limit");
  const auto row = [&](const char* name, double s, double limit) {
    std::printf("%-44s %9.3f %9.2f ", name, s, n / s);
    if (base > 0)
      std::printf("%11.2fx ", base / s);
    else
      std::printf("%12s ", "-");
    if (limit > 0)
      std::printf("%8.2fx\n", s / limit);
    else
      std::printf("%9s\n", "-");
  };
  const double seed_limit = m.at("seed_mode_limit_s");
  const double inv_limit = m.at("inventory_mode_limit_s");
  if (has("baseline_sequential_s")) {
    row("baseline (seed), sequential", m.at("baseline_sequential_s"), seed_limit);
    char name[64];
    std::snprintf(name, sizeof name, "baseline (seed), %d workers", opt.baseline_workers);
    row(name, base, seed_limit);
  }
  row("bucketpay seed mode (split proofs)", m.at("seed_mode_s"), seed_limit);
  row("  + pool start-up (cold process)", m.at("seed_mode_s") + m.at("seed_mode_pool_start_s"), seed_limit);
  row("bucketpay inventory mode (spend proofs)", m.at("inventory_mode_s"), inv_limit);
  row("  + pool start-up (cold process)", m.at("inventory_mode_s") + m.at("inventory_mode_pool_start_s"), inv_limit);
  row("limit: split, 1-thread prove sum / cores", seed_limit, seed_limit);
  row("limit: spend, 1-thread prove sum / cores", inv_limit, inv_limit);

  std::printf(
      "\nprofile (per proof, ms)                       witness     prove    verify   | store in call  pool start\n");
  for (const char* mode : {"seed_mode", "inventory_mode"}) {
    const std::string k = mode;
    std::printf("%-44s %9.1f %9.1f %9.1f   | %9.3f s %9.3f s\n",
                (k + ": warm pool, " + std::to_string(static_cast<int>(m.at("threads"))) + " thread(s)").c_str(),
                m.at(k + "_witness_ms"), m.at(k + "_prove_ms"), m.at(k + "_verify_ms"), m.at(k + "_store_s"),
                m.at(k + "_pool_start_s"));
  }
  std::printf("%-44s %9s %9.1f %9.1f\n", "split: bb alone, 1 thread", "-", 1e3 * m.at("split_prove_1t_sum_s") / n,
              1e3 * m.at("split_verify_1t_sum_s") / n);
  std::printf("%-44s %9s %9.1f %9.1f\n", "spend: bb alone, 1 thread", "-", 1e3 * m.at("spend_prove_1t_sum_s") / n,
              1e3 * m.at("spend_verify_1t_sum_s") / n);
  if (has("baseline_witness_process_mean_s")) {
    std::printf("%-44s %9.1f %9.1f %9s\n", "baseline, sequential: node / bb prove process",
                1e3 * m.at("baseline_witness_process_mean_s"), 1e3 * m.at("baseline_prove_process_mean_s"), "-");
  }
  std::printf("warm pool, same proofs, no store: seed %.3f s, inventory %.3f s\n", m.at("seed_mode_warm_pool_s"),
              m.at("inventory_mode_warm_pool_s"));
  std::printf("\nmedians of the per-round ratios (robust to load changing between rounds):\n");
  if (has("seed_mode_speedup_vs_baseline_parallel")) {
    std::printf("  seed mode vs %d-worker baseline: %.2fx faster (goal >= 8x); inventory mode: %.2fx\n",
                opt.baseline_workers, m.at("seed_mode_speedup_vs_baseline_parallel"),
                m.at("inventory_mode_speedup_vs_baseline_parallel"));
  }
  std::printf("  seed mode / its limit: %.2fx; inventory mode / its limit: %.2fx (goal <= 1.25x)\n",
              m.at("seed_mode_ratio_to_limit"), m.at("inventory_mode_ratio_to_limit"));
}

int run(int argc, char** argv) {
  auto opt = parse_options(argc, argv);
  if (!opt.ok()) {
    std::cerr << "precompute_bench: " << opt.status().message() << "\n";
    usage(std::cerr);
    return 2;
  }
  Env env;
  env.warm_up = opt->warm_up;
  env.workers = opt->workers;
  env.threads = opt->threads;
  env.root = testing::project_root();
  env.circuits_dir = testing::build_dir() / "circuits";
  env.cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto bb_path = bb::locate_binary({opt->bb.value_or(testing::bb_binary())});
  if (!bb_path.ok()) {
    std::cerr << "precompute_bench: " << bb_path.status().message() << "\n";
    return 1;
  }
  env.bb = *bb_path;
  env.crs = bb::crs_directory(opt->crs, testing::crs_dir(), testing::project_root());
  if (Status st = bb::check_crs(env.crs, 2); !st.is_ok()) {
    std::cerr << "precompute_bench: " << st.message() << "\n";
    return 1;
  }
  for (const std::string& c : {kSplit, kSpend}) env.artifacts[c] = env.circuits_dir / (c + ".json");
  env.tmp = fs::temp_directory_path() / ("bucketpay-precompute-bench-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(env.tmp, ec);

  const Fixture fx = Fixture::make();
  auto fail = [&](const Status& st) {
    std::cerr << "precompute_bench: " << st.to_string() << "\n";
    fs::remove_all(env.tmp, ec);
    return 1;
  };
  if (opt->profile) {
    if (Status st = profile_cold_pool(env, fx); !st.is_ok()) return fail(st);
  }
  auto limits = prepare_limits(env, fx);
  if (!limits.ok()) return fail(limits.status());
  std::optional<Baseline> baseline;
  if (!opt->skip_baseline) {
    BaselineConfig bc{
        "node", env.root / "scripts" / "baseline_witness.mjs", env.bb, env.crs, env.artifacts, env.tmp / "baseline"};
    auto b = Baseline::prepare(bc);
    if (!b.ok()) return fail(b.status());
    baseline = std::move(*b);
  }

  std::vector<Round> rounds;
  for (int i = 0; i < opt->repeat; ++i) {
    auto r = run_round(env, fx, *limits, baseline, *opt, i);
    if (!r.ok()) return fail(r.status());
    rounds.push_back(std::move(*r));
  }
  // Ratios within each round (the pipelines of a round share the machine's load), then medians.
  for (auto& r : rounds) {
    if (r.count("baseline_parallel_s") != 0) {
      r["seed_mode_speedup_vs_baseline_parallel"] = r.at("baseline_parallel_s") / r.at("seed_mode_s");
      r["inventory_mode_speedup_vs_baseline_parallel"] = r.at("baseline_parallel_s") / r.at("inventory_mode_s");
    }
    r["seed_mode_ratio_to_limit"] = r.at("seed_mode_s") / r.at("seed_mode_limit_s");
    r["inventory_mode_ratio_to_limit"] = r.at("inventory_mode_s") / r.at("inventory_mode_limit_s");
  }
  Round med;
  for (const auto& [k, v] : rounds[0]) {
    std::vector<double> xs;
    for (const auto& r : rounds) xs.push_back(r.at(k));
    med[k] = median(xs);
  }
  print_table(med, env, *opt);

  if (opt->json_out) {
    json j;
    for (const auto& [k, v] : med) j[k] = v;
    j["cores"] = env.cores;
    j["workers"] = static_cast<int>(med.at("workers"));
    j["threads"] = static_cast<int>(med.at("threads"));
    j["pool_start_s"] = median({med.at("seed_mode_pool_start_s"), med.at("inventory_mode_pool_start_s")});
    j["proofs"] = kBuckets.size();
    j["repeat"] = opt->repeat;
    j["statistic"] = "median";
    j["warm_up"] = env.warm_up;
    j["baseline_workers"] = opt->baseline_workers;
    j["rounds"] = json::array();
    for (const auto& r : rounds) j["rounds"].push_back(json(r));
    std::ofstream out(*opt->json_out);
    out << j.dump(2) << "\n";
    if (!out) return fail(Status::io_error("cannot write " + opt->json_out->string()));
  }
  fs::remove_all(env.tmp, ec);
  return 0;
}

}  // namespace
}  // namespace bucketpay::bench

int main(int argc, char** argv) { return bucketpay::bench::run(argc, argv); }
