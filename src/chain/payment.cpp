#include "bucketpay/payment.h"

#include <string.h>  // explicit_bzero

#include <algorithm>

namespace bucketpay::eth {
namespace {

using Word = std::array<std::uint8_t, 32>;

// The BN254 scalar field modulus p (field elements must be below it) and the secp256k1 group
// order n, big-endian.
constexpr Word kFieldModulus = {0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45,
                                0xb6, 0x81, 0x81, 0x58, 0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9,
                                0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x01};
constexpr Word kSecpOrder = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                             0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
// n / 2 (rounded down): the largest s a non-malleable signature may have.
constexpr Word kSecpHalfOrder = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
                                 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

bool less_than(std::span<const std::uint8_t, 32> a, const Word& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

bool is_zero(std::span<const std::uint8_t, 32> a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t x) { return x == 0; });
}

// out = a - b (big-endian, mod 2^256); returns the final borrow (1 when a < b).
unsigned subtract(const Word& a, const Word& b, Word& out) {
  unsigned borrow = 0;
  for (std::size_t i = 32; i-- > 0;) {
    const unsigned d = unsigned{a[i]} - unsigned{b[i]} - borrow;
    out[i] = static_cast<std::uint8_t>(d);
    borrow = (d >> 8) & 1U;
  }
  return borrow;
}

// a += 1 (big-endian, mod 2^256).
void increment(Word& a) {
  unsigned carry = 1;
  for (std::size_t i = 32; i-- > 0;) {
    const unsigned s = unsigned{a[i]} + carry;
    a[i] = static_cast<std::uint8_t>(s);
    carry = s >> 8;
  }
}

Hash32 keccak_words(std::span<const Hash32> words) {
  Bytes buf;
  buf.reserve(words.size() * 32);
  for (const Hash32& w : words) buf.insert(buf.end(), w.begin(), w.end());
  return keccak256(buf);
}

Hash32 keccak_string(std::string_view s) { return keccak256(s); }

}  // namespace

// ------------------------------------------------------------------------------------- auth keys

Hash32 detail::auth_scalar(const Hash32& k) {
  // k mod (n - 1) with one conditional subtraction (k < 2^256 < 2 (n - 1)), selected without a
  // branch on the secret; then + 1, so the result is in [1, n - 1].
  Word n_minus_1 = kSecpOrder;
  n_minus_1[31] -= 1;  // n ends in 0x41: no borrow
  Word reduced{};
  const unsigned below = subtract(k, n_minus_1, reduced);
  const auto keep_k = static_cast<std::uint8_t>(0U - below);  // 0xff when k < n - 1
  for (std::size_t i = 0; i < 32; ++i) {
    reduced[i] = static_cast<std::uint8_t>((k[i] & keep_k) | (reduced[i] & static_cast<std::uint8_t>(~keep_k)));
  }
  increment(reduced);
  return reduced;
}

Result<PrivateKey> derive_auth_key(std::span<const std::uint8_t, 32> sk, std::span<const std::uint8_t, 32> cm) {
  if (!less_than(sk, kFieldModulus)) return Status::invalid_argument("auth key: sk is not a canonical field element");
  if (!less_than(cm, kFieldModulus)) return Status::invalid_argument("auth key: cm is not a canonical field element");
  Bytes preimage(kAuthKeyTag.begin(), kAuthKeyTag.end());
  preimage.insert(preimage.end(), sk.begin(), sk.end());
  preimage.insert(preimage.end(), cm.begin(), cm.end());
  Word k = keccak256(preimage);
  explicit_bzero(preimage.data(), preimage.size());
  Word reduced = detail::auth_scalar(k);
  Result<PrivateKey> key = PrivateKey::from_bytes(reduced);
  explicit_bzero(k.data(), k.size());
  explicit_bzero(reduced.data(), reduced.size());
  if (!key.ok()) return Status::internal("auth key: derived a key outside [1, n - 1]");  // unreachable
  return key;
}

Result<Address> derive_auth_address(std::span<const std::uint8_t, 32> sk, std::span<const std::uint8_t, 32> cm) {
  Result<PrivateKey> key = derive_auth_key(sk, cm);
  if (!key.ok()) return key.status();
  return key->address();
}

// ---------------------------------------------------------------------------------------- EIP-712

Hash32 eip712_domain_separator(std::string_view name, std::string_view version, const U256& chain_id,
                               const Address& verifying_contract) {
  const std::array<Hash32, 5> words = {keccak_string(kEip712DomainType), keccak_string(name), keccak_string(version),
                                       chain_id.to_word(), verifying_contract.to_word()};
  return keccak_words(words);
}

Hash32 eip712_digest(const Hash32& domain_separator, const Hash32& struct_hash) {
  Bytes buf = {0x19, 0x01};
  buf.insert(buf.end(), domain_separator.begin(), domain_separator.end());
  buf.insert(buf.end(), struct_hash.begin(), struct_hash.end());
  return keccak256(buf);
}

Hash32 PaymentDomain::separator() const {
  return eip712_domain_separator(kPaymentDomainName, kPaymentDomainVersion, chain_id, pool);
}

Hash32 payment_struct_hash(const Payment& payment) {
  std::vector<Hash32> nullifiers;
  nullifiers.reserve(payment.nullifiers.size());
  for (const U256& nf : payment.nullifiers) nullifiers.push_back(nf.to_word());
  const std::array<Hash32, 6> words = {keccak_string(kPaymentType),     keccak_words(nullifiers),
                                       payment.recipient.to_word(),     payment.fee.to_word(),
                                       payment.fee_recipient.to_word(), payment.deadline.to_word()};
  return keccak_words(words);
}

Hash32 payment_digest(const PaymentDomain& domain, const Payment& payment) {
  return eip712_digest(domain.separator(), payment_struct_hash(payment));
}

// ------------------------------------------------------------------------------------- signatures

RsvSignature to_rsv(const Signature& signature) {
  RsvSignature out{};
  std::copy(signature.r.begin(), signature.r.end(), out.begin());
  std::copy(signature.s.begin(), signature.s.end(), out.begin() + 32);
  out[64] = static_cast<std::uint8_t>(27 + signature.recovery_id);
  return out;
}

Result<Signature> from_rsv(std::span<const std::uint8_t> rsv) {
  if (rsv.size() != 65) {
    return Status::invalid_argument("a signature is 65 bytes r || s || v, got " + std::to_string(rsv.size()));
  }
  Signature sig;
  std::copy(rsv.begin(), rsv.begin() + 32, sig.r.begin());
  std::copy(rsv.begin() + 32, rsv.begin() + 64, sig.s.begin());
  const std::uint8_t v = rsv[64];
  if (v != 27 && v != 28) return Status::invalid_argument("signature v must be 27 or 28, got " + std::to_string(v));
  sig.recovery_id = static_cast<std::uint8_t>(v - 27);
  if (is_zero(sig.r) || !less_than(sig.r, kSecpOrder)) return Status::invalid_argument("signature r out of range");
  if (is_zero(sig.s)) return Status::invalid_argument("signature s is zero");
  if (less_than(kSecpHalfOrder, sig.s)) {
    return Status::invalid_argument("signature s is in the upper half of the order (malleable)");
  }
  return sig;
}

RsvSignature sign_digest(const PrivateKey& key, const Hash32& digest) { return to_rsv(key.sign(digest)); }

Result<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> rsv) {
  Result<Signature> sig = from_rsv(rsv);
  if (!sig.ok()) return sig.status();
  return recover_address(digest, *sig);
}

}  // namespace bucketpay::eth
