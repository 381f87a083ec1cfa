#include "bucketpay/circuit_inputs.h"

#include <string.h>  // explicit_bzero

#include <cctype>
#include <nlohmann/json.hpp>

#include "bucketpay/payment.h"

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

eth::PrivateKey auth_key(const SpendingKey& sk, const Fr& cm) {
  Fr::Bytes secret = sk.reveal().to_bytes();
  // Canonical field elements: derive_auth_key cannot fail on them.
  eth::PrivateKey key = *eth::derive_auth_key(secret, cm.to_bytes());
  explicit_bzero(secret.data(), secret.size());
  return key;
}

eth::Address auth_address(const SpendingKey& sk, const Fr& cm) { return auth_key(sk, cm).address(); }

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

Fr address_to_field(const eth::Address& address) {
  // A 160-bit value is always below p.
  return *Fr::from_bytes(address.to_word());
}

namespace {

// A public input that must fit `bits` bits (64: a value; 160: an address), as its low 8 bytes or its
// last 20 bytes.
Status check_fits(const Fr& x, std::size_t bits, std::string_view what) {
  const Fr::Bytes b = x.to_bytes();
  const std::size_t free_bytes = 32 - bits / 8;
  for (std::size_t i = 0; i < free_bytes; ++i) {
    if (b[i] != 0) {
      return Status::invalid_argument(std::string(what) + " does not fit " + std::to_string(bits) + " bits");
    }
  }
  return Status::ok();
}

std::uint64_t low_u64(const Fr& x) { return x.to_canonical_limbs()[0]; }

eth::Address field_to_address(const Fr& x) {
  const Fr::Bytes b = x.to_bytes();
  eth::Address::Raw raw{};
  std::copy(b.end() - 20, b.end(), raw.begin());
  return eth::Address(raw);
}

}  // namespace

Result<SpendStatement> SpendStatement::from_public_inputs(std::span<const Fr> in) {
  if (in.size() != kPublicInputs) {
    return Status::invalid_argument("a spend statement has 4 public inputs, not " + std::to_string(in.size()));
  }
  BUCKETPAY_RETURN_IF_ERROR(check_fits(in[2], 64, "the spend's value"));
  BUCKETPAY_RETURN_IF_ERROR(check_fits(in[3], 160, "the spend's auth"));
  return SpendStatement{in[0], in[1], low_u64(in[2]), in[3]};
}

eth::Address SpendStatement::auth_address() const { return field_to_address(auth); }

Result<SplitStatement> SplitStatement::from_public_inputs(std::span<const Fr> in) {
  if (in.size() != kPublicInputs) {
    return Status::invalid_argument("a split statement has 12 public inputs, not " + std::to_string(in.size()));
  }
  BUCKETPAY_RETURN_IF_ERROR(check_fits(in[2], 64, "the split's amount"));
  BUCKETPAY_RETURN_IF_ERROR(check_fits(in[3], 160, "the split's auth"));
  SplitStatement s{in[0], in[1], low_u64(in[2]), in[3], {}};
  std::copy(in.begin() + 4, in.end(), s.out_cm.begin());
  return s;
}

eth::Address SplitStatement::auth_address() const { return field_to_address(auth); }

std::vector<Fr> SpendStatement::public_inputs() const { return {root, nullifier, Fr::from_u64(value), auth}; }

std::vector<Fr> SplitStatement::public_inputs() const {
  std::vector<Fr> out = {root, nullifier, Fr::from_u64(amount), auth};
  out.insert(out.end(), out_cm.begin(), out_cm.end());
  return out;
}

Fr output_commitment(const Note& out) { return out.value == 0 ? Fr::zero() : out.commitment(); }

Result<SplitOutputs> make_split_outputs(std::span<const Note> notes) {
  if (notes.size() > kSplitOutputs) {
    return Status::invalid_argument("a split has at most " + std::to_string(kSplitOutputs) + " outputs, not " +
                                    std::to_string(notes.size()));
  }
  SplitOutputs out{};  // absent: pk = 0, value = 0, r = 0
  std::copy(notes.begin(), notes.end(), out.begin());
  return out;
}

SpendStatement spend_statement(const OwnedNote& owned, const Fr& root) {
  return {root, owned.nullifier(), owned.note.value, address_to_field(owned.auth_address())};
}

std::string spend_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root) {
  const SpendStatement s = spend_statement(owned, root);
  json positions;
  json siblings = path_json(path, positions);
  json j = {
      {"root", hex(s.root)},
      {"nullifier", hex(s.nullifier)},
      {"value", hex(s.value)},
      {"auth", hex(s.auth)},
      {"sk", hex(owned.sk.reveal())},
      {"r", hex(owned.note.r)},
      {"siblings", std::move(siblings)},
      {"positions", std::move(positions)},
  };
  return j.dump();
}

SplitStatement split_statement(const OwnedNote& owned, const Fr& root, std::uint64_t amount,
                               const SplitOutputs& outputs) {
  SplitStatement s{root, owned.nullifier(), amount, address_to_field(owned.auth_address()), {}};
  for (std::size_t i = 0; i < kSplitOutputs; ++i) s.out_cm[i] = output_commitment(outputs[i]);
  return s;
}

std::string split_inputs_json(const OwnedNote& owned, const MerklePath& path, const Fr& root, std::uint64_t amount,
                              const SplitOutputs& outputs) {
  const SplitStatement s = split_statement(owned, root, amount, outputs);
  json positions;
  json siblings = path_json(path, positions);
  json out_cm = json::array();
  json out_owner = json::array();
  json out_value = json::array();
  for (std::size_t i = 0; i < kSplitOutputs; ++i) {
    out_cm.push_back(hex(s.out_cm[i]));
    out_owner.push_back(hex(outputs[i].owner()));
    out_value.push_back(hex(outputs[i].value));
  }
  json j = {
      {"root", hex(s.root)},
      {"nullifier", hex(s.nullifier)},
      {"amount", hex(amount)},
      {"auth", hex(s.auth)},
      {"out_cm", std::move(out_cm)},
      {"sk", hex(owned.sk.reveal())},
      {"v", hex(owned.note.value)},
      {"r", hex(owned.note.r)},
      {"siblings", std::move(siblings)},
      {"positions", std::move(positions)},
      {"out_owner", std::move(out_owner)},
      {"out_value", std::move(out_value)},
  };
  return j.dump();
}

}  // namespace bucketpay
