// payments_bench: N random payments ($0.01 to $200 by default) from one wallet on a real anvil with
// the real Pool, verifiers and prover, through a real relayer (`bucketpay relay`; protocol v2).
// Reports payment latency in two parts from the same call (the fee quote is fetched before it): the
// wallet's part, to the signed bundle journaled and ready for the relayer (planning, reserving,
// signing with each note's auth key, journaling), and the relayer's answer (its checks, its eth_call
// of the transaction, its send),
// proofs made per payment in inventory mode (the initial inventory, and the rebalancing splits and
// their spends when the inventory runs short) beside what the seed's mode needs for the same
// payments, the relayer's fees, and gas per payment (the relayer's transaction, from its receipt)
// beside the seed's one split transaction per bucket; and all in per payment (every transaction of
// the run read back from the chain: payment gas, rebalancing gas, the deposit's gas amortised,
// transactions, calldata bytes, proofs made) beside what `bucketpay inventory plan` predicts for
// the same amounts (simulate_inventory). Run by scripts/bench_payments.sh; it needs a build with
// `bucketpay relay` (testing/relay_testing.h).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bucketpay/deployment.h"
#include "bucketpay/inventory_plan.h"
#include "bucketpay/wallet.h"
#include "devnet/devnet_testing.h"
#include "testing/relay_testing.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

int fail(const std::string& what, const Status& st) {
  std::cerr << "payments_bench: " << what << ": " << st.to_string() << "\n";
  return 1;
}

int run(int argc, char** argv) {
  CLI::App app("payments_bench");
  int payments = 100;
  Cents min_cents = 1;
  Cents max_cents = 20'000;
  std::string deposit = "12000.00";
  std::uint64_t seed = 20261123;
  std::string crs = testing::crs_dir().string();
  std::string json_out;
  int workers = 0;
  app.add_option("--payments", payments)->capture_default_str();
  app.add_option("--min-cents", min_cents)->capture_default_str();
  app.add_option("--max-cents", max_cents)->capture_default_str();
  app.add_option("--deposit", deposit, "dollars deposited first")->capture_default_str();
  app.add_option("--seed", seed, "random amounts' seed")->capture_default_str();
  app.add_option("--crs", crs)->capture_default_str();
  app.add_option("--workers", workers, "prover workers (0: one per core)")->capture_default_str();
  app.add_option("--json", json_out, "write the results here");
  CLI11_PARSE(app, argc, argv);
  auto deposit_cents = parse_amount(deposit, AmountUnit::kDollars, 100'000'000);
  if (!deposit_cents.ok()) return fail("--deposit", deposit_cents.status());
  if (payments < 1 || min_cents < 1 || max_cents < min_cents || max_cents > kMaxPaymentCents) {
    return fail("arguments", Status::invalid_argument("need payments >= 1 and 1 <= min <= max <= 131071 cents"));
  }

  auto chain = testing::DevChain::start();
  if (!chain.ok()) return fail("anvil and contracts", chain.status());
  const deployment::Contracts contracts = (*chain)->contracts();

  std::string tmpl = (fs::temp_directory_path() / "bucketpay-payments-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail("mkdtemp", Status::io_error(tmpl));
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  StoreOptions so;
  so.passphrase = "payments bench (not secret)";
  so.vault_params = VaultParams::fast();
  auto store = open_sqlite_store(dir / "wallet.db", so);
  if (!store.ok()) return fail("store", store.status());
  const eth::Address payee = *eth::Address::from_string("0x00000000000000000000000000000000C0FFEE01");
  auto relay = testing::RelayProcess::start((*chain)->url(), contracts.pool, dir / "relay");
  if (!relay.ok()) return fail("bucketpay relay", relay.status());
  WalletConfig config;
  config.rpc_url = (*chain)->url();
  config.pool = contracts.pool;
  config.relayer = (*relay)->url();
  config.confirmations = 0;
  config.start_block = contracts.deploy_block;
  if (Status st = Wallet::create(**store, "bench", config); !st.is_ok()) return fail("wallet", st);
  std::size_t proofs_done = 0;
  WalletOptions wo;
  wo.start_prover = [&]() -> Result<std::unique_ptr<ProverPool>> {
    ProverConfig pc;
    pc.bb_binary = testing::bb_binary();
    pc.crs_dir = crs;
    pc.circuits_dir = testing::build_dir() / "circuits";
    pc.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
    pc.workers = workers;
    pc.warm_up = false;
    return ProverPool::start(pc);
  };
  auto wallet = Wallet::open(**store, "bench", wo);
  if (!wallet.ok()) return fail("open", wallet.status());
  Wallet& w = **wallet;
  if (Status st = (*chain)->fund(w.account(), *deposit_cents); !st.is_ok()) return fail("fund", st);

  const auto t0 = std::chrono::steady_clock::now();
  auto dep = w.deposit(*deposit_cents);
  if (!dep.ok()) return fail("deposit", dep.status());
  auto inv = w.build_inventory();
  if (!inv.ok()) return fail("inventory", inv.status());
  const std::size_t initial_proofs = inv->proved;
  proofs_done += inv->proved;
  std::cerr << "deposited $" << format_dollars(*deposit_cents) << " as " << dep->notes.size() << " notes; "
            << inv->proved << " spend proofs in " << inv->seconds << " s\n";

  // The amounts `bucketpay inventory plan` simulates by default (the same generator).
  const std::vector<Cents> amounts =
      random_payment_amounts(static_cast<std::size_t>(payments), min_cents, max_cents, seed);
  std::vector<double> latency;          // the wallet's part: the call to the signed, journaled bundle
  std::vector<double> relayer_latency;  // the call to the relayer's answer
  std::vector<double> gas;
  std::vector<double> seed_gas;
  std::size_t rebalance_proofs = 0;
  std::size_t split_proofs = 0;  // rebalancing and on-demand splits (the rest are spend proofs)
  std::size_t rebalancing_splits = 0;
  Cents rebalancing_fees = 0;
  std::size_t rebalances = 0;
  std::size_t notes_used = 0;
  std::size_t seed_proofs = 0;
  std::size_t on_demand = 0;
  std::vector<bool> on_demand_flags;
  std::uint64_t split_gas_sample = 0;
  Cents fees = 0;
  // Pays and waits until the payment is on chain (its notes spent), so that the next plan sees them.
  auto pay = [&](Cents amount, const eth::Address& to, MissingPolicy policy) -> Result<PaymentReport> {
    BUCKETPAY_ASSIGN_OR_RETURN(const PaymentReport handed, w.pay(amount, to, policy));
    BUCKETPAY_ASSIGN_OR_RETURN(PaymentReport settled, w.wait_settled(handed));
    if (settled.state != PaymentState::kConfirmed) return Status::internal("not paid: " + settled.error);
    return settled;
  };
  // The gas of the transaction that paid it (the relayer's, usually).
  auto gas_of = [&](const PaymentReport& r) -> std::uint64_t {
    auto hash = eth::hash_from_hex(r.settled_by);
    if (!hash.ok()) return 0;
    auto receipt = (*chain)->rpc().get_transaction_receipt(*hash);
    return receipt.ok() && receipt->has_value() ? (*receipt)->gas_used : 0;
  };
  for (int i = 0; i < payments; ++i) {
    const Cents amount = amounts[static_cast<std::size_t>(i)];
    auto paid = pay(amount, payee, MissingPolicy::kRefuse);
    for (int round = 0; !paid.ok() && paid.status().code() == StatusCode::kNotFound && round < 2; ++round) {
      // The inventory cannot make it: a rebalance round (split proofs), then the new notes' spends.
      auto r = w.rebalance();
      if (!r.ok()) return fail("rebalance", r.status());
      auto more = w.build_inventory();
      if (!more.ok()) return fail("inventory", more.status());
      ++rebalances;
      rebalance_proofs += r->splits + more->proved;
      proofs_done += r->splits + more->proved;
      split_proofs += r->splits;
      rebalancing_splits += r->splits;
      rebalancing_fees += r->fees;
      paid = pay(amount, payee, MissingPolicy::kRefuse);
    }
    if (!paid.ok() && paid.status().code() == StatusCode::kNotFound) {
      // The notes left cannot make it exactly: the on-demand policy (a split proved now).
      paid = pay(amount, payee, MissingPolicy::kSplit);
      if (paid.ok()) {
        ++proofs_done;
        ++split_proofs;
      }
    }
    if (!paid.ok()) return fail("payment " + std::to_string(i) + " of $" + format_dollars(amount), paid.status());
    latency.push_back(paid->bundle_ready_ms);
    relayer_latency.push_back(paid->latency_ms);
    const std::uint64_t paid_gas = gas_of(*paid);
    gas.push_back(static_cast<double>(paid_gas));
    fees += paid->fee;
    notes_used += paid->notes.size();
    if (paid->proved_on_demand) ++on_demand;
    on_demand_flags.push_back(paid->proved_on_demand);
    // The seed's mode: one note per bucket of the amount, each with 17 split proofs made for it
    // (one per bucket; one is used), and one split transaction per bucket.
    seed_proofs += static_cast<std::size_t>(std::popcount(amount)) * kBucketCount;
    seed_gas.push_back(static_cast<double>(std::popcount(amount)));
    std::fprintf(stderr, "payment %3d/%d  $%9s  %2zu notes  fee $%s  bundle %7.2f ms  relayer %8.2f ms  gas %8llu\n",
                 i + 1, payments, format_dollars(amount).c_str(), paid->notes.size(), format_dollars(paid->fee).c_str(),
                 paid->bundle_ready_ms, paid->latency_ms, static_cast<unsigned long long>(paid_gas));
  }
  // All in: every transaction of the run so far (the approval and the deposit, the payments, the
  // rebalancing and on-demand splits) read back from the chain: gas from its receipt, calldata from
  // the transaction. (The seed-style split below is not part of it.)
  struct Cost {
    std::uint64_t gas = 0;
    std::size_t transactions = 0;
    std::size_t calldata_bytes = 0;
  };
  Cost paying;
  Cost rebalancing;
  Cost depositing;
  {
    auto history = w.history();
    if (!history.ok()) return fail("history", history.status());
    std::uint64_t deposit_receipts = 0;
    for (const Payment& p : *history) {
      if (p.state != PaymentState::kConfirmed) continue;
      auto hash = eth::hash_from_hex(p.settled_by.empty() ? p.tx_hash : p.settled_by);
      if (!hash.ok()) return fail("payment " + std::to_string(p.id) + "'s transaction", hash.status());
      auto receipt = (*chain)->rpc().get_transaction_receipt(*hash);
      auto tx = (*chain)->rpc().get_transaction(*hash);
      if (!receipt.ok() || !receipt->has_value() || !tx.ok() || !tx->has_value()) {
        return fail("payment " + std::to_string(p.id), Status::not_found("its transaction is not on the chain"));
      }
      Cost& cost = p.kind == PaymentKind::kDeposit     ? depositing
                   : p.kind == PaymentKind::kRebalance ? rebalancing
                                                       : paying;
      cost.gas += (*receipt)->gas_used;
      cost.transactions += 1;
      cost.calldata_bytes += (*tx)->input.size();
      if (p.kind == PaymentKind::kDeposit) deposit_receipts += (*receipt)->gas_used;
    }
    // The token approval before the first deposit: its gas is in the deposit's report; its calldata
    // is approve(address, uint256): 4 + 32 + 32 bytes.
    if (dep->gas_used > deposit_receipts) {
      depositing.gas += dep->gas_used - deposit_receipts;
      depositing.transactions += 1;
      depositing.calldata_bytes += 68;
    }
  }
  // What `bucketpay inventory plan` predicts for the same amounts, policy and deposit, with the
  // relayer's mean fees of this run (rounded up to cents).
  InventoryPlanOptions plan_options;
  plan_options.deposit = *deposit_cents;
  plan_options.payment_fee = (fees + static_cast<Cents>(payments) - 1) / static_cast<Cents>(payments);
  plan_options.split_fee =
      rebalancing_splits == 0 ? 0 : (rebalancing_fees + rebalancing_splits - 1) / rebalancing_splits;
  auto predicted = simulate_inventory(amounts, plan_options);
  if (!predicted.ok()) return fail("inventory plan", predicted.status());

  // The seed's withdrawal of one bucket is a split paying the bucket out with the change back: one
  // made on demand here gives its gas.
  {
    const eth::Address other = *eth::Address::from_string("0x00000000000000000000000000000000000B0B00");
    // Half the largest note, so the split has change outputs, as the seed's withdrawals do.
    auto notes = (*store)->list_notes("bench", NoteState::kOnChain);
    if (!notes.ok() || notes->empty())
      return fail("notes", notes.ok() ? Status::not_found("no notes") : notes.status());
    Cents largest = 0;
    for (const StoredNote& note : *notes) largest = std::max<Cents>(largest, note.value);
    auto seed_style = pay(largest / 2, other, MissingPolicy::kAlwaysSplit);
    if (!seed_style.ok()) return fail("seed-style split", seed_style.status());
    if (!seed_style->proved_on_demand) return fail("seed-style split", Status::internal("paid without a split"));
    split_gas_sample = gas_of(*seed_style);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double n = payments;
  auto summary = [&](const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x / n;
    return json{{"p50", percentile(v, 0.5)},
                {"p99", percentile(v, 0.99)},
                {"mean", mean},
                {"max", *std::max_element(v.begin(), v.end())}};
  };
  double mean_gas = 0;
  for (double g : gas) mean_gas += g / n;
  double mean_buckets = 0;
  for (double b : seed_gas) mean_buckets += b / n;
  json out{{"payments", payments},
           {"amount_range_cents", {min_cents, max_cents}},
           {"seed", seed},
           {"latency_ms", summary(latency)},
           {"relayer_answer_ms", summary(relayer_latency)},
           {"inventory_mode",
            {{"proofs_total", proofs_done},
             {"initial_inventory_proofs", initial_proofs},
             {"rebalance_proofs", rebalance_proofs},
             {"rebalance_rounds", rebalances},
             {"proofs_per_payment", static_cast<double>(proofs_done) / n},
             {"proofs_per_payment_after_initial", static_cast<double>(rebalance_proofs) / n},
             {"notes_per_payment", static_cast<double>(notes_used) / n},
             {"on_demand_splits", on_demand},
             {"latency_ms_without_on_demand",
              [&] {
                std::vector<double> l;
                for (std::size_t k = 0; k < latency.size(); ++k) {
                  if (!on_demand_flags[k]) l.push_back(latency[k]);
                }
                return json{{"p50", percentile(l, 0.5)}, {"p99", percentile(l, 0.99)}};
              }()},
             {"gas_per_payment", mean_gas},
             {"relayer_fees_cents_per_payment", static_cast<double>(fees) / n},
             {"gas_p50", percentile(gas, 0.5)},
             {"gas_max", *std::max_element(gas.begin(), gas.end())}}},
           {"seed_mode",
            {{"proofs_per_payment", static_cast<double>(seed_proofs) / n},
             {"split_transactions_per_payment", mean_buckets},
             {"gas_per_payment", mean_buckets * static_cast<double>(split_gas_sample)},
             {"split_gas_measured", split_gas_sample}}},
           {"all_in_per_payment",
            {{"payment_gas", static_cast<double>(paying.gas) / n},
             {"rebalancing_gas", static_cast<double>(rebalancing.gas) / n},
             {"deposit_gas_amortised", static_cast<double>(depositing.gas) / n},
             {"gas", static_cast<double>(paying.gas + rebalancing.gas + depositing.gas) / n},
             {"transactions",
              static_cast<double>(paying.transactions + rebalancing.transactions + depositing.transactions) / n},
             {"calldata_bytes",
              static_cast<double>(paying.calldata_bytes + rebalancing.calldata_bytes + depositing.calldata_bytes) / n},
             {"proofs", static_cast<double>(proofs_done) / n},
             {"spend_proofs", static_cast<double>(proofs_done - split_proofs) / n},
             {"split_proofs", static_cast<double>(split_proofs) / n},
             {"rebalancing_splits", static_cast<double>(rebalancing_splits) / n}}},
           {"inventory_plan_prediction",
            {{"payment_fee_cents", plan_options.payment_fee},
             {"split_fee_cents", plan_options.split_fee},
             {"notes_per_payment", predicted->notes_per_payment()},
             {"splits_per_payment", predicted->splits_per_payment()},
             {"proofs_per_payment_after_deposit", predicted->proofs_per_payment()},
             {"proofs_per_payment", predicted->per_payment(static_cast<double>(
                                        predicted->spend_proofs + predicted->split_proofs + predicted->deposit_notes))},
             {"payment_gas", predicted->per_payment(static_cast<double>(predicted->payment_gas))},
             {"rebalancing_gas", predicted->per_payment(static_cast<double>(predicted->rebalancing_gas))},
             {"deposit_gas_amortised", predicted->per_payment(static_cast<double>(predicted->deposit_gas))},
             {"on_demand_splits", predicted->payments_by_split}}},
           {"wall_seconds", seconds}};
  std::cout << out.dump(2) << "\n";
  if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace bucketpay

int main(int argc, char** argv) { return bucketpay::run(argc, argv); }
