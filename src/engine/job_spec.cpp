#include "bucketpay/job_spec.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>

namespace bucketpay {

namespace {

using nlohmann::json;

Status malformed(std::string_view why) { return Status::corruption("malformed job spec: " + std::string(why)); }

Result<Fr> field_member(const json& j, const char* name) {
  const json& v = j.at(name);
  if (!v.is_string()) return malformed(std::string(name) + " is not a string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 66 || s.rfind("0x", 0) != 0) return malformed(std::string(name) + " is not 0x and 64 hex digits");
  Result<Fr> f = Fr::from_string(s);
  if (!f.ok()) return malformed(std::string(name) + " is not a field element");
  return f;
}

Result<std::uint64_t> unsigned_member(const json& j, const char* name) {
  const json& v = j.at(name);
  if (!v.is_number_unsigned()) return malformed(std::string(name) + " is not a non-negative integer");
  return v.get<std::uint64_t>();
}

}  // namespace

std::string encode_job_spec(const JobSpec& spec) {
  json j = {{"note_id", spec.note_id}, {"auth", spec.auth.to_hex()}};
  if (spec.circuit == CircuitKind::kSplit) {
    j["amount"] = spec.amount;
    j["change_r"] = spec.change_r.to_hex();
  }
  return j.dump();
}

Result<JobSpec> decode_job_spec(CircuitKind circuit, std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return malformed("not a JSON object");
  static constexpr std::array<const char*, 2> kSpendMembers = {"note_id", "auth"};
  static constexpr std::array<const char*, 4> kSplitMembers = {"note_id", "auth", "amount", "change_r"};
  const std::span<const char* const> members =
      circuit == CircuitKind::kSpend ? std::span<const char* const>(kSpendMembers) : kSplitMembers;
  for (const char* name : members) {
    if (!j.contains(name)) return malformed(std::string("no ") + name + " for a " + std::string(circuit_name(circuit)));
  }
  if (j.size() != members.size()) {
    return malformed("members other than those of a " + std::string(circuit_name(circuit)));
  }
  JobSpec spec;
  spec.circuit = circuit;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t note_id, unsigned_member(j, "note_id"));
  if (note_id == 0 || note_id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return malformed("note_id out of range");
  }
  spec.note_id = static_cast<std::int64_t>(note_id);
  BUCKETPAY_ASSIGN_OR_RETURN(spec.auth, field_member(j, "auth"));
  if (circuit == CircuitKind::kSplit) {
    BUCKETPAY_ASSIGN_OR_RETURN(spec.amount, unsigned_member(j, "amount"));
    if (spec.amount == 0) return malformed("a split's amount is 0");
    BUCKETPAY_ASSIGN_OR_RETURN(spec.change_r, field_member(j, "change_r"));
  }
  return spec;
}

}  // namespace bucketpay
