#include "bucketpay/circuit_inputs.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace bucketpay {
namespace {

using nlohmann::json;

std::string hex(const Fr& x) { return x.to_hex(); }
std::string hex(std::uint64_t v) { return Fr::from_u64(v).to_hex(); }

json path_json(const MerklePath& path, json& positions) {
  json siblings = json::array();
  positions = json::array();
  for (std::size_t level = 0; level < path.siblings.size(); ++level) {
    siblings.push_back(json::array({hex(path.siblings[level][0]), hex(path.siblings[level][1])}));
    positions.push_back(hex(std::uint64_t{path.positions[level]}));
  }
  return siblings;
}

}  // namespace

Result<Fr> address_to_field(std::string_view a) {
  if (a.size() != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X')) {
    return Status::invalid_argument("invalid address \"" + std::string(a) + "\": expected 0x and 40 hex digits");
  }
  for (char c : a.substr(2)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return Status::invalid_argument("invalid address \"" + std::string(a) + "\": not hex");
    }
  }
  return Fr::from_string(std::string("0x") + std::string(a.substr(2)));
}

std::vector<Fr> SpendStatement::public_inputs() const { return {root, nullifier, Fr::from_u64(value), recipient}; }

std::vector<Fr> SplitStatement::public_inputs() const {
  return {root, nullifier, Fr::from_u64(amount), recipient, out_cm1, out_cm2};
}

Fr output_commitment(const Note& out) { return out.value == 0 ? Fr::zero() : out.commitment(); }

SpendStatement spend_statement(const OwnedNote& owned, const Fr& root, const Fr& recipient) {
  return {root, owned.nullifier(), owned.note.value, recipient};
}

std::string spend_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, const Fr& recipient) {
  json positions;
  json siblings = path_json(path, positions);
  json j = {
      {"root", hex(root)},
      {"nullifier", hex(owned.nullifier())},
      {"value", hex(owned.note.value)},
      {"recipient", hex(recipient)},
      {"sk", hex(owned.sk.reveal())},
      {"r", hex(owned.note.r)},
      {"siblings", std::move(siblings)},
      {"positions", std::move(positions)},
  };
  return j.dump();
}

SplitStatement split_statement(const OwnedNote& owned, const Fr& root, std::uint64_t amount, const Fr& recipient,
                               const SplitOutputs& outputs) {
  return {root, owned.nullifier(), amount, recipient, output_commitment(outputs.out1),
          output_commitment(outputs.out2)};
}

std::string split_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, std::uint64_t amount,
                              const Fr& recipient, const SplitOutputs& outputs) {
  const SplitStatement s = split_statement(owned, root, amount, recipient, outputs);
  json positions;
  json siblings = path_json(path, positions);
  json j = {
      {"root", hex(s.root)},
      {"nullifier", hex(s.nullifier)},
      {"amount", hex(amount)},
      {"recipient", hex(recipient)},
      {"out_cm1", hex(s.out_cm1)},
      {"out_cm2", hex(s.out_cm2)},
      {"sk", hex(owned.sk.reveal())},
      {"v", hex(owned.note.value)},
      {"r", hex(owned.note.r)},
      {"siblings", std::move(siblings)},
      {"positions", std::move(positions)},
      {"pk1", hex(outputs.out1.pk)},
      {"v1", hex(outputs.out1.value)},
      {"r1", hex(outputs.out1.r)},
      {"pk2", hex(outputs.out2.pk)},
      {"v2", hex(outputs.out2.value)},
      {"r2", hex(outputs.out2.r)},
  };
  return j.dump();
}

}  // namespace bucketpay
