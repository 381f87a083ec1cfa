#include "bucketpay/field.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

#include "bucketpay/montgomery.h"

namespace bucketpay {
namespace {

static_assert(mont::kP == Fr::kModulus);

using Limbs = Fr::Limbs;

// a < b as 256-bit integers.
bool less_than(const Limbs& a, const Limbs& b) {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

Limbs limbs_from_big_endian(std::span<const std::uint8_t, 32> bytes) {
  Limbs r{};
  for (int i = 0; i < 32; ++i) {
    r[3 - i / 8] = (r[3 - i / 8] << 8) | bytes[i];
  }
  return r;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Fr> parse_hex(std::string_view digits) {
  if (digits.empty() || digits.size() > 64) {
    return Status::invalid_argument("field element: 0x must be followed by 1 to 64 hex digits");
  }
  Limbs v{};
  for (char c : digits) {
    const int d = hex_digit(c);
    if (d < 0) return Status::invalid_argument("field element: invalid hex digit");
    v[3] = (v[3] << 4) | (v[2] >> 60);
    v[2] = (v[2] << 4) | (v[1] >> 60);
    v[1] = (v[1] << 4) | (v[0] >> 60);
    v[0] = (v[0] << 4) | static_cast<std::uint64_t>(d);
  }
  return Fr::from_canonical_limbs(v);
}

Result<Fr> parse_decimal(std::string_view s) {
  if (s.size() > 1 && s[0] == '0') {
    return Status::invalid_argument("field element: leading zeros are not allowed");
  }
  Limbs v{};
  for (char c : s) {
    if (c < '0' || c > '9') return Status::invalid_argument("field element: invalid decimal digit");
    // v = v * 10 + digit, failing when it leaves 256 bits.
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (auto& limb : v) {
      const mont::u128 x = mont::u128{limb} * 10 + carry;
      limb = static_cast<std::uint64_t>(x);
      carry = static_cast<std::uint64_t>(x >> 64);
    }
    if (carry != 0) return Status::invalid_argument("field element: value is not below the modulus");
  }
  return Fr::from_canonical_limbs(v);
}

}  // namespace

Fr Fr::one() { return from_montgomery_limbs(mont::kR); }

Fr Fr::from_u64(std::uint64_t v) { return from_montgomery_limbs(mont::to_montgomery({v, 0, 0, 0})); }

Result<Fr> Fr::from_canonical_limbs(const Limbs& limbs) {
  if (!less_than(limbs, kModulus)) {
    return Status::invalid_argument("field element: value is not below the modulus");
  }
  return from_montgomery_limbs(mont::to_montgomery(limbs));
}

Result<Fr> Fr::from_bytes(std::span<const std::uint8_t, 32> bytes) {
  return from_canonical_limbs(limbs_from_big_endian(bytes));
}

Fr Fr::from_bytes_reduce(std::span<const std::uint8_t, 32> bytes) {
  // to_montgomery accepts any 256-bit value (see mont::mul_lazy), so this is x*R mod p directly.
  return from_montgomery_limbs(mont::to_montgomery(limbs_from_big_endian(bytes)));
}

Result<Fr> Fr::from_string(std::string_view s) {
  if (s.empty()) return Status::invalid_argument("field element: empty string");
  if (s.starts_with("0x")) return parse_hex(s.substr(2));
  return parse_decimal(s);
}

Fr Fr::random() {
  static std::once_flag init;
  std::call_once(init, [] {
    if (sodium_init() < 0) std::abort();  // no secure randomness: nothing sensible to continue with
  });
  // p < 2^254: draw 254 bits and reject values >= p (acceptance probability p / 2^254 > 3/4).
  for (;;) {
    Limbs v;
    randombytes_buf(v.data(), sizeof v);
    v[3] &= (std::uint64_t{1} << 62) - 1;
    if (less_than(v, kModulus)) {
      Fr r = from_montgomery_limbs(mont::to_montgomery(v));
      sodium_memzero(v.data(), sizeof v);
      return r;
    }
  }
}

Fr::Limbs Fr::to_canonical_limbs() const { return mont::from_montgomery(m_); }

Fr::Bytes Fr::to_bytes() const {
  const Limbs v = to_canonical_limbs();
  Bytes out{};
  for (int i = 0; i < 32; ++i) {
    out[i] = static_cast<std::uint8_t>(v[3 - i / 8] >> (8 * (7 - i % 8)));
  }
  return out;
}

std::string Fr::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  const Bytes b = to_bytes();
  std::string s = "0x";
  s.reserve(66);
  for (std::uint8_t byte : b) {
    s.push_back(kDigits[byte >> 4]);
    s.push_back(kDigits[byte & 0xf]);
  }
  return s;
}

std::string Fr::to_decimal() const {
  Limbs v = to_canonical_limbs();
  if ((v[0] | v[1] | v[2] | v[3]) == 0) return std::string(1, '0');
  // Divide by 10^19 repeatedly; each remainder gives 19 digits.
  constexpr std::uint64_t kChunk = 10'000'000'000'000'000'000ULL;
  std::string out;
  while ((v[0] | v[1] | v[2] | v[3]) != 0) {
    std::uint64_t rem = 0;
    for (int i = 3; i >= 0; --i) {
      const mont::u128 cur = (mont::u128{rem} << 64) | v[i];
      v[i] = static_cast<std::uint64_t>(cur / kChunk);
      rem = static_cast<std::uint64_t>(cur % kChunk);
    }
    for (int d = 0; d < 19; ++d) {
      out.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
    }
  }
  while (out.back() == '0') out.pop_back();
  return {out.rbegin(), out.rend()};
}

Fr operator+(const Fr& a, const Fr& b) { return Fr::from_montgomery_limbs(mont::add(a.m_, b.m_)); }

Fr operator-(const Fr& a, const Fr& b) { return Fr::from_montgomery_limbs(mont::sub(a.m_, b.m_)); }

Fr operator*(const Fr& a, const Fr& b) { return Fr::from_montgomery_limbs(mont::mul(a.m_, b.m_)); }

Fr Fr::operator-() const { return from_montgomery_limbs(mont::sub(Limbs{}, m_)); }

Fr Fr::square() const { return from_montgomery_limbs(mont::canonical(mont::square_lazy(m_))); }

Fr Fr::pow(const Limbs& e) const {
  Limbs acc = mont::kR;
  bool started = false;
  for (int i = 255; i >= 0; --i) {
    if (started) acc = mont::canonical(mont::square_lazy(acc));
    if ((e[i / 64] >> (i % 64)) & 1) {
      acc = started ? mont::mul(acc, m_) : m_;
      started = true;
    }
  }
  return from_montgomery_limbs(acc);
}

Fr Fr::inverse() const {
  // Fermat: a^(p-2); zero maps to zero.
  Limbs e = kModulus;
  e[0] -= 2;
  return pow(e);
}

}  // namespace bucketpay
