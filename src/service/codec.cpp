#include "codec.h"

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "bucketpay/service.h"

namespace bucketpay::service {
namespace {

using nlohmann::json;

// At most this much of an unknown name or value is echoed back in an error.
std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string q = "\"";
  q.append(s.substr(0, kMax));
  q.append(s.size() > kMax ? "...\"" : "\"");
  return q;
}

std::string_view type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return "a fractional number";
  return v.type_name();
}

Status wrong_type(std::string_view field, std::string_view expected, const json& v) {
  return Status::invalid_argument("field \"" + std::string(field) + "\" must be " + std::string(expected) + ", not " +
                                  std::string(type_name(v)));
}

// A positive integer that fits in int64.
Result<std::int64_t> positive_id(std::string_view field, const json& v) {
  if (!v.is_number_integer()) return wrong_type(field, "a positive integer", v);
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u == 0) return Status::invalid_argument("field \"" + std::string(field) + "\" must be positive");
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Status::invalid_argument("field \"" + std::string(field) + "\" is out of range");
    }
    return static_cast<std::int64_t>(u);
  }
  const auto i = v.get<std::int64_t>();
  if (i <= 0) return Status::invalid_argument("field \"" + std::string(field) + "\" must be positive");
  return i;
}

// A first pass over a body for what the DOM loses: a key given twice in one object (the DOM keeps
// the last, so `{"recipient": A, "recipient": B}` would be read as B while a proxy or a log shows
// A), and an integer too large for 64 bits (the DOM makes it a float, reported as "a fractional
// number"). Syntax errors are left to the DOM parse.
class RequestScan final : public nlohmann::json_sax<json> {
 public:
  Status problem = Status::ok();

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t& raw) override {
    const std::string_view digits = std::string_view(raw).substr(!raw.empty() && raw[0] == '-' ? 1 : 0);
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
      problem =
          Status::invalid_argument("field " + quote(field()) + " has an integer too large for 64 bits: " + quote(raw));
      return false;
    }
    return true;
  }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) {
      problem = Status::invalid_argument("field " + quote(k) + " is given twice");
      return false;
    }
    last_key_ = k;
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    in_array_.push_back(last_key_);
    return true;
  }
  bool end_array() override {
    in_array_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // The name an error gives a value: its key, or "key[]" inside that key's array.
  [[nodiscard]] std::string field() const {
    if (!in_array_.empty() && in_array_.back() == last_key_) return last_key_ + "[]";
    return last_key_;
  }

  std::vector<std::set<std::string>> keys_;
  std::vector<std::string> in_array_;
  std::string last_key_;
};

}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json error_json(std::string_view message) { return json{{"error", std::string(message)}}; }

Result<CreateJobRequest> parse_create_job(std::string_view body) {
  RequestScan scan;
  (void)json::sax_parse(body.begin(), body.end(), &scan);
  if (!scan.problem.is_ok()) return scan.problem;
  const json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("the body is not valid JSON");
  if (!j.is_object())
    return Status::invalid_argument("the body must be a JSON object, not " + std::string(type_name(j)));
  CreateJobRequest r;
  auto mode = j.find("mode");
  if (mode == j.end()) return Status::invalid_argument("field \"mode\" is required (\"inventory\" or \"seed\")");
  if (!mode->is_string()) return wrong_type("mode", "a string", *mode);
  std::set<std::string> allowed;
  if (*mode == "inventory") {
    r.mode = JobMode::kInventory;
    allowed = {"mode", "note_ids", "all"};
  } else if (*mode == "seed") {
    r.mode = JobMode::kSeed;
    allowed = {"mode", "note_id", "buckets"};
  } else {
    return Status::invalid_argument("field \"mode\" must be \"inventory\" or \"seed\", not " +
                                    quote(mode->get_ref<const std::string&>()));
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "recipient") {
      return Status::invalid_argument(
          "field \"recipient\" is not taken: protocol v2 proofs bind their note's auth key, and who is paid is "
          "decided when the payment is signed");
    }
    if (allowed.count(key) == 0) {
      return Status::invalid_argument("unknown field " + quote(key) + " for mode " + mode->get<std::string>());
    }
  }

  if (r.mode == JobMode::kInventory) {
    if (auto all = j.find("all"); all != j.end()) {
      if (!all->is_boolean()) return wrong_type("all", "a boolean", *all);
      r.all = all->get<bool>();
    }
    if (auto ids = j.find("note_ids"); ids != j.end()) {
      if (!ids->is_array()) return wrong_type("note_ids", "an array of note ids", *ids);
      if (ids->empty()) return Status::invalid_argument("field \"note_ids\" is empty");
      for (const auto& v : *ids) {
        auto id = positive_id("note_ids[]", v);
        if (!id.ok()) return id.status();
        r.note_ids.push_back(*id);
      }
    }
  } else {
    auto note = j.find("note_id");
    if (note == j.end()) return Status::invalid_argument("field \"note_id\" is required in seed mode");
    auto id = positive_id("note_id", *note);
    if (!id.ok()) return id.status();
    r.note_id = *id;
    if (auto buckets = j.find("buckets"); buckets != j.end()) {
      if (!buckets->is_array()) return wrong_type("buckets", "an array of amounts in cents", *buckets);
      for (const auto& v : *buckets) {
        if (!v.is_number_unsigned()) return wrong_type("buckets[]", "a positive integer (cents)", v);
        r.buckets.push_back(v.get<std::uint64_t>());
      }
    }
  }
  return r;
}

Result<PlanRequest> parse_plan(const std::multimap<std::string, std::string>& params) {
  PlanRequest r;
  bool has_amount = false;
  for (const auto& [name, value] : params) {
    if (name == "amount") {
      if (has_amount) return Status::invalid_argument("parameter \"amount\" is given twice");
      has_amount = true;
      r.amount = value;
    } else if (name == "recipient") {
      return Status::invalid_argument(
          "parameter \"recipient\" is not taken: protocol v2 spend proofs pay anyone (the payment names the "
          "recipient when it is signed)");
    } else {
      return Status::invalid_argument("unknown parameter " + quote(name));
    }
  }
  if (!has_amount) return Status::invalid_argument("parameter \"amount\" is required (dollars, e.g. 12.34)");
  return r;
}

json to_json(const CreateJobResponse& r) { return json{{"job", r.job}, {"total", r.total}}; }

json to_json(const JobRecord& r) {
  json j = {{"job", r.id},
            {"mode", r.spec.mode == JobMode::kInventory ? "inventory" : "seed"},
            {"state", r.state},
            {"done", r.done},
            {"total", r.total},
            {"proved", r.proved},
            {"cached", r.cached},
            {"failed", r.failed},
            {"errors", r.errors},
            {"created_ms", r.created_ms},
            {"started_ms", r.started_ms},
            {"finished_ms", r.finished_ms}};
  if (!r.error.empty()) j["error"] = r.error;
  if (r.spec.mode == JobMode::kInventory) {
    j["note_ids"] = r.spec.note_ids;
  } else {
    j["note_id"] = r.spec.note_id;
    j["buckets"] = r.spec.buckets;
  }
  return j;
}

json to_json(const PlanResponse& r) {
  json notes = json::array();
  Cents total = 0;
  for (const auto& n : r.notes) {
    total += n.value;
    json inputs = json::array();
    for (const auto& f : n.precompute.public_inputs) inputs.push_back(f.to_hex());
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string proof = "0x";
    proof.reserve(2 + 2 * n.precompute.proof.size());
    for (std::uint8_t b : n.precompute.proof) {
      proof.push_back(kDigits[b >> 4]);
      proof.push_back(kDigits[b & 15]);
    }
    notes.push_back(json{{"note_id", n.note_id},
                         {"value_cents", n.value},
                         {"precompute_key", n.precompute.key},
                         {"circuit", circuit_name(n.precompute.circuit)},
                         {"public_inputs", std::move(inputs)},
                         {"proof", std::move(proof)}});
  }
  return json{{"amount", format_dollars(r.amount)},
              {"amount_cents", r.amount},
              {"total_cents", total},
              {"notes", std::move(notes)}};
}

json to_json(const std::vector<WorkerStats>& stats) {
  json a = json::array();
  for (const auto& s : stats) {
    a.push_back(json{{"worker", s.worker},
                     {"urgent", s.urgent},
                     {"threads", s.threads},
                     {"proofs", s.proofs},
                     {"errors", s.errors},
                     {"restarts", s.restarts},
                     {"total_ms", s.total_ms},
                     {"mean_ms", s.mean_ms()}});
  }
  return a;
}

namespace {

json counts_json(const JobCounts& c) {
  return json{{"pending", c.pending}, {"running", c.running}, {"done", c.done}, {"failed", c.failed}};
}

json stored_json(const StoredWalletFigures& f) {
  json denominations = json::array();
  for (const auto& d : f.denominations) {
    denominations.push_back(json{{"value_cents", d.value},
                                 {"target", d.target},
                                 {"notes", d.notes},
                                 {"ready", d.ready},
                                 {"short", d.ready < d.target ? d.target - d.ready : 0}});
  }
  json payments = json::array();
  for (const Payment& p : f.payments) {
    payments.push_back(json{{"id", p.id},
                            {"kind", std::string(payment_kind_name(p.kind))},
                            {"amount_cents", p.amount},
                            {"state", std::string(payment_state_name(p.state))},
                            {"latency_ms", p.latency_ms},
                            {"created_ms", p.created_ms},
                            {"updated_ms", p.updated_ms},
                            {"to", p.recipient},
                            {"block", p.block},
                            {"error", p.error}});
  }
  json batches = json::array();
  for (const auto& b : f.batches) {
    json row = counts_json(b.counts);
    row["batch"] = b.batch;
    row["updated_ms"] = b.updated_ms;
    batches.push_back(std::move(row));
  }
  json keeper = nullptr;
  if (f.keeper) {
    const KeeperState& k = *f.keeper;
    keeper = json{{"state", f.keeper_state},
                  {"started_ms", k.started_ms},
                  {"last_round_ms", k.last_round_ms},
                  {"interval_s", k.interval_s},
                  {"rounds", k.rounds},
                  {"splits", k.splits},
                  {"proofs", k.proofs},
                  {"errors", k.errors},
                  {"stopped_ms", k.stopped_ms ? json(*k.stopped_ms) : json(nullptr)}};
  }
  return json{
      {"on_chain", f.on_chain},
      {"balance",
       {{"on_chain_cents", f.on_chain_cents},
        {"ready_cents", f.ready_cents},
        {"pending_cents", f.pending_cents},
        {"reserved_cents", f.reserved_cents}}},
      {"denominations", std::move(denominations)},
      {"sync", {{"block", f.synced_block}, {"synced_at_ms", f.synced_at_ms ? json(*f.synced_at_ms) : json(nullptr)}}},
      {"node", f.on_chain ? json{{"ok", f.node_ok},
                                 {"head", f.node_head ? json(*f.node_head) : json(nullptr)},
                                 {"error", f.node_error}}
                          : json(nullptr)},
      {"keeper", std::move(keeper)},
      {"payments", std::move(payments)},
      {"proof_jobs", counts_json(f.jobs)},
      {"job_batches", std::move(batches)}};
}

}  // namespace

json to_json(const DashboardResponse& r) {
  json inventory = json::array();
  for (const auto& row : r.inventory) {
    inventory.push_back(json{{"value_cents", row.value}, {"notes", row.notes}, {"ready", row.ready}});
  }
  json jobs = json::array();
  for (const auto& job : r.jobs) jobs.push_back(to_json(job));
  return json{{"wallet", r.wallet},
              {"inventory", std::move(inventory)},
              {"notes_on_chain", r.notes_on_chain},
              {"ready_precomputes", r.ready_precomputes},
              {"ready_cents", r.ready_cents},
              {"workers", to_json(r.workers)},
              {"workers_busy", r.workers_busy},
              {"queue_depth", r.queue_depth},
              {"proofs_ok", r.proofs_ok},
              {"proofs_failed", r.proofs_failed},
              {"throughput", {{"bucket_seconds", r.throughput_bucket_seconds}, {"proofs", r.throughput}}},
              {"jobs", std::move(jobs)},
              {"stored", r.stored ? stored_json(*r.stored) : json(nullptr)}};
}

json to_json(const HealthResponse& r) {
  return json{{"status", "ok"},         {"version", r.version}, {"api", kApiVersion}, {"protocol", kProtocolVersion},
              {"uptime_s", r.uptime_s}, {"workers", r.workers}};
}

}  // namespace bucketpay::service

namespace bucketpay {

nlohmann::json worker_stats_json(const std::vector<WorkerStats>& stats) { return service::to_json(stats); }

}  // namespace bucketpay
