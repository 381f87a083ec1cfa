#include "bucketpay/eth.h"

#include <cryptopp/keccak.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>  // explicit_bzero
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bucketpay::eth {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool has_prefix(std::string_view s) { return s.size() >= 2 && s[0] == '0' && s[1] == 'x'; }

std::string describe(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out(1, '\'');
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) {
    out.append("...' (").append(std::to_string(s.size())).append(" chars)");
  } else {
    out.push_back('\'');
  }
  return out;
}

// The context is created once and only read afterwards (signing, recovery), which libsecp256k1
// allows from several threads at once.
const secp256k1_context* context() {
  static secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<std::uint8_t, 32> seed{};
    if (getrandom(seed.data(), seed.size(), 0) == static_cast<ssize_t>(seed.size())) {
      int randomized = secp256k1_context_randomize(c, seed.data());  // side-channel blinding only
      (void)randomized;
    }
    return c;
  }();
  return ctx;
}

void wipe(void* p, std::size_t n) { explicit_bzero(p, n); }

}  // namespace

// ------------------------------------------------------------------------------------------- hex

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out = "0x";
  out.reserve(2 + bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (!has_prefix(hex)) {
    return Status::invalid_argument("hex needs a 0x prefix: " + describe(hex));
  }
  std::string_view digits = hex.substr(2);
  if (digits.size() % 2 != 0) {
    return Status::invalid_argument("hex has an odd number of digits: " + describe(hex));
  }
  Bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(digits[2 * i]);
    int lo = hex_value(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::invalid_argument("not a hex digit in " + describe(hex));
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

Result<Hash32> hash_from_hex(std::string_view hex) {
  if (hex.size() != 66) {
    return Status::invalid_argument("expected 0x + 64 hex digits, got " + describe(hex));
  }
  Result<Bytes> b = from_hex(hex);
  if (!b) {
    return b.status();
  }
  Hash32 h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

// ---------------------------------------------------------------------------------------- keccak

Hash32 keccak256(std::span<const std::uint8_t> data) {
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash32 out{};
  k.Final(out.data());
  return out;
}

Hash32 keccak256(std::string_view data) {
  return keccak256(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

// ------------------------------------------------------------------------------------------ U256

namespace {
__extension__ using u128 = unsigned __int128;

// a * b (low 256 bits).
U256::Limbs mul_limbs(const U256::Limbs& a, const U256::Limbs& b, bool* overflow) {
  std::array<std::uint64_t, 8> r{};
  for (int i = 0; i < 4; ++i) {
    std::uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      u128 t = static_cast<u128>(a[i]) * b[j] + r[i + j] + carry;
      r[i + j] = static_cast<std::uint64_t>(t);
      carry = static_cast<std::uint64_t>(t >> 64);
    }
    r[i + 4] = carry;
  }
  if (overflow != nullptr) {
    *overflow = (r[4] | r[5] | r[6] | r[7]) != 0;
  }
  return {r[0], r[1], r[2], r[3]};
}

// Long division, bit by bit (amounts are rarely divided; simplicity wins).
void divmod(const U256& a, const U256& b, U256* q, U256* r) {
  if (b.is_zero()) {
    *q = U256();
    *r = U256();
    return;
  }
  U256::Limbs quot{};
  U256 rem;
  for (int bit = 255; bit >= 0; --bit) {
    // rem = rem << 1 | bit
    U256::Limbs l = rem.limbs();
    for (int i = 3; i > 0; --i) {
      l[i] = (l[i] << 1) | (l[i - 1] >> 63);
    }
    l[0] = (l[0] << 1) | ((a.limbs()[bit / 64] >> (bit % 64)) & 1);
    rem = U256::from_limbs(l);
    if (rem >= b) {
      rem = rem - b;
      quot[bit / 64] |= std::uint64_t{1} << (bit % 64);
    }
  }
  *q = U256::from_limbs(quot);
  *r = rem;
}
}  // namespace

U256 U256::max() { return from_limbs({~0ULL, ~0ULL, ~0ULL, ~0ULL}); }

U256 operator+(const U256& a, const U256& b) {
  U256::Limbs r{};
  std::uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) {
    u128 t = static_cast<u128>(a.limbs_[i]) + b.limbs_[i] + carry;
    r[i] = static_cast<std::uint64_t>(t);
    carry = static_cast<std::uint64_t>(t >> 64);
  }
  return U256::from_limbs(r);
}

U256 operator-(const U256& a, const U256& b) {
  U256::Limbs r{};
  std::uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    u128 t = static_cast<u128>(a.limbs_[i]) - b.limbs_[i] - borrow;
    r[i] = static_cast<std::uint64_t>(t);
    borrow = static_cast<std::uint64_t>(t >> 64) != 0 ? 1 : 0;
  }
  return U256::from_limbs(r);
}

U256 operator*(const U256& a, const U256& b) { return U256::from_limbs(mul_limbs(a.limbs_, b.limbs_, nullptr)); }

U256 operator/(const U256& a, const U256& b) {
  U256 q, r;
  divmod(a, b, &q, &r);
  return q;
}

U256 operator%(const U256& a, const U256& b) {
  U256 q, r;
  divmod(a, b, &q, &r);
  return r;
}

std::optional<U256> U256::checked_add(const U256& a, const U256& b) {
  U256 s = a + b;
  if (s < a) {
    return std::nullopt;
  }
  return s;
}

std::optional<U256> U256::checked_sub(const U256& a, const U256& b) {
  if (a < b) {
    return std::nullopt;
  }
  return a - b;
}

std::optional<U256> U256::checked_mul(const U256& a, const U256& b) {
  bool overflow = false;
  Limbs l = mul_limbs(a.limbs_, b.limbs_, &overflow);
  if (overflow) {
    return std::nullopt;
  }
  return from_limbs(l);
}

std::strong_ordering operator<=>(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.limbs_[i] != b.limbs_[i]) {
      return a.limbs_[i] <=> b.limbs_[i];
    }
  }
  return std::strong_ordering::equal;
}

unsigned U256::bit_length() const {
  for (int i = 3; i >= 0; --i) {
    if (limbs_[i] != 0) {
      return static_cast<unsigned>(64 * i + 64 - __builtin_clzll(limbs_[i]));
    }
  }
  return 0;
}

Result<U256> U256::from_be_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > 32) {
    return Status::invalid_argument("integer of " + std::to_string(bytes.size()) + " bytes exceeds 256 bits");
  }
  Limbs l{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::size_t bit_pos = (bytes.size() - 1 - i) * 8;
    l[bit_pos / 64] |= static_cast<std::uint64_t>(bytes[i]) << (bit_pos % 64);
  }
  return from_limbs(l);
}

Hash32 U256::to_word() const {
  Hash32 out{};
  for (int i = 0; i < 32; ++i) {
    int bit_pos = (31 - i) * 8;
    out[i] = static_cast<std::uint8_t>(limbs_[bit_pos / 64] >> (bit_pos % 64));
  }
  return out;
}

Bytes U256::to_minimal_bytes() const {
  Hash32 w = to_word();
  auto first = std::find_if(w.begin(), w.end(), [](std::uint8_t b) { return b != 0; });
  return Bytes(first, w.end());
}

std::string U256::to_quantity() const {
  std::string h = to_hex(to_word()).substr(2);
  std::size_t nz = h.find_first_not_of('0');
  return "0x" + (nz == std::string::npos ? std::string("0") : h.substr(nz));
}

std::string U256::to_decimal() const {
  if (is_zero()) {
    return "0";
  }
  std::string out;
  U256 v = *this;
  const U256 ten19(10000000000000000000ULL);
  while (!v.is_zero()) {
    U256 q, r;
    divmod(v, ten19, &q, &r);
    std::string chunk = std::to_string(r.low_u64());
    if (!q.is_zero()) {
      chunk.insert(0, 19 - chunk.size(), '0');
    }
    out.insert(0, chunk);
    v = q;
  }
  return out;
}

Result<U256> U256::from_string(std::string_view s) {
  if (s.empty()) {
    return Status::invalid_argument("empty integer");
  }
  if (has_prefix(s)) {
    std::string_view d = s.substr(2);
    if (d.empty() || d.size() > 64) {
      return Status::invalid_argument("hex integer needs 1..64 digits: " + describe(s));
    }
    std::string padded = std::string(d.size() % 2, '0') + std::string(d);
    Result<Bytes> b = from_hex("0x" + padded);
    if (!b) {
      return Status::invalid_argument("not a hex integer: " + describe(s));
    }
    return from_be_bytes(*b);
  }
  if (s.size() > 1 && s[0] == '0') {
    return Status::invalid_argument("leading zero in " + describe(s));
  }
  U256 v;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return Status::invalid_argument("not a decimal integer: " + describe(s));
    }
    auto m = checked_mul(v, U256(10));
    if (!m) {
      return Status::invalid_argument("integer exceeds 2^256 - 1: " + describe(s));
    }
    auto a = checked_add(*m, U256(static_cast<std::uint64_t>(c - '0')));
    if (!a) {
      return Status::invalid_argument("integer exceeds 2^256 - 1: " + describe(s));
    }
    v = *a;
  }
  return v;
}

Result<U256> U256::from_quantity(std::string_view s) {
  if (!has_prefix(s) || s.size() < 3 || s.size() > 66) {
    return Status::invalid_argument("not a quantity (0x + 1..64 hex digits): " + describe(s));
  }
  if (s.size() > 3 && s[2] == '0') {
    return Status::invalid_argument("quantity with a leading zero: " + describe(s));
  }
  return from_string(s);
}

// --------------------------------------------------------------------------------------- Address

Result<Address> Address::from_string(std::string_view s) {
  if (s.size() != 42 || !has_prefix(s)) {
    return Status::invalid_argument("an address is 0x + 40 hex digits, got " + describe(s));
  }
  Result<Bytes> b = from_hex(s);
  if (!b) {
    return Status::invalid_argument("an address is 0x + 40 hex digits, got " + describe(s));
  }
  Raw raw{};
  std::copy(b->begin(), b->end(), raw.begin());
  Address a(raw);
  std::string_view digits = s.substr(2);
  bool has_lower = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  bool has_upper = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (has_lower && has_upper && a.to_checksum() != s) {
    return Status::invalid_argument("bad EIP-55 checksum in address " + describe(s) + " (expected " + a.to_checksum() +
                                    ")");
  }
  return a;
}

Result<Address> Address::from_word(const Hash32& word) {
  for (int i = 0; i < 12; ++i) {
    if (word[i] != 0) {
      return Status::invalid_argument("address word has non-zero high bytes: " + eth::to_hex(word));
    }
  }
  Raw raw{};
  std::copy(word.begin() + 12, word.end(), raw.begin());
  return Address(raw);
}

std::string Address::to_hex() const { return eth::to_hex(bytes_); }

std::string Address::to_checksum() const {
  std::string lower = to_hex().substr(2);
  Hash32 h = keccak256(lower);
  std::string out = "0x";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    char c = lower[i];
    int nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0xf);
    if (c >= 'a' && nibble >= 8) {
      c = static_cast<char>(c - 'a' + 'A');
    }
    out.push_back(c);
  }
  return out;
}

Hash32 Address::to_word() const {
  Hash32 w{};
  std::copy(bytes_.begin(), bytes_.end(), w.begin() + 12);
  return w;
}

bool Address::is_zero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

Address create_address(const Address& sender, std::uint64_t nonce) {
  std::array<Bytes, 2> items = {rlp::encode_bytes(sender.bytes()), rlp::encode_uint(U256(nonce))};
  Hash32 h = keccak256(rlp::encode_list(items));
  Address::Raw raw{};
  std::copy(h.begin() + 12, h.end(), raw.begin());
  return Address(raw);
}

// ------------------------------------------------------------------------------------------- RLP

namespace rlp {
namespace {
Bytes length_prefix(std::size_t len, std::uint8_t short_base, std::uint8_t long_base) {
  if (len <= 55) {
    return {static_cast<std::uint8_t>(short_base + len)};
  }
  Bytes len_bytes = U256(static_cast<std::uint64_t>(len)).to_minimal_bytes();
  Bytes out{static_cast<std::uint8_t>(long_base + len_bytes.size())};
  out.insert(out.end(), len_bytes.begin(), len_bytes.end());
  return out;
}
}  // namespace

Bytes encode_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) {
    return {bytes[0]};
  }
  Bytes out = length_prefix(bytes.size(), 0x80, 0xb7);
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

Bytes encode_string(std::string_view s) {
  return encode_bytes(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

Bytes encode_uint(const U256& v) { return encode_bytes(v.to_minimal_bytes()); }

Bytes encode_list(std::span<const Bytes> encoded_items) {
  std::size_t total = 0;
  for (const Bytes& item : encoded_items) {
    total += item.size();
  }
  Bytes out = length_prefix(total, 0xc0, 0xf7);
  for (const Bytes& item : encoded_items) {
    out.insert(out.end(), item.begin(), item.end());
  }
  return out;
}
}  // namespace rlp

// ------------------------------------------------------------------------------------- secp256k1

Result<PrivateKey> PrivateKey::from_bytes(std::span<const std::uint8_t, 32> bytes) {
  if (secp256k1_ec_seckey_verify(context(), bytes.data()) != 1) {
    return Status::invalid_argument("not a valid secp256k1 private key (must be 0 < key < n)");
  }
  PrivateKey k;
  std::copy(bytes.begin(), bytes.end(), k.secret_.begin());
  return k;
}

Result<PrivateKey> PrivateKey::from_hex(std::string_view hex) {
  // Never echo the input: it is a secret.
  if (hex.size() != 66 || !has_prefix(hex)) {
    return Status::invalid_argument("a private key is 0x + 64 hex digits");
  }
  std::array<std::uint8_t, 32> raw{};
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 + 2 * i]);
    int lo = hex_value(hex[3 + 2 * i]);
    if (hi < 0 || lo < 0) {
      wipe(raw.data(), raw.size());
      return Status::invalid_argument("a private key is 0x + 64 hex digits");
    }
    raw[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  Result<PrivateKey> k = from_bytes(raw);
  wipe(raw.data(), raw.size());
  return k;
}

PrivateKey PrivateKey::random() {
  std::array<std::uint8_t, 32> raw{};
  for (;;) {
    std::size_t got = 0;
    while (got < raw.size()) {
      ssize_t n = getrandom(raw.data() + got, raw.size() - got, 0);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (errno != EINTR) {
        std::abort();  // no secure randomness: nothing sensible to do
      }
    }
    Result<PrivateKey> k = from_bytes(raw);
    if (k) {
      wipe(raw.data(), raw.size());
      return std::move(k).value();
    }
  }
}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  if (this != &other) {
    secret_ = other.secret_;
  }
  return *this;
}

PrivateKey::~PrivateKey() { wipe(secret_.data(), secret_.size()); }

std::array<std::uint8_t, 64> PrivateKey::public_key() const {
  secp256k1_pubkey pub;
  int ok = secp256k1_ec_pubkey_create(context(), &pub, secret_.data());
  assert(ok == 1 && "validated at construction");
  (void)ok;
  std::array<std::uint8_t, 65> ser{};
  std::size_t len = ser.size();
  secp256k1_ec_pubkey_serialize(context(), ser.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  std::array<std::uint8_t, 64> out{};
  std::copy(ser.begin() + 1, ser.end(), out.begin());
  return out;
}

Address PrivateKey::address() const {
  auto pub = public_key();
  Hash32 h = keccak256(pub);
  Address::Raw raw{};
  std::copy(h.begin() + 12, h.end(), raw.begin());
  return Address(raw);
}

Signature PrivateKey::sign(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // nullptr nonce function = secp256k1_nonce_function_rfc6979.
  int ok = secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_.data(), nullptr, nullptr);
  assert(ok == 1 && "RFC 6979 signing with a valid key cannot fail");
  (void)ok;
  std::array<std::uint8_t, 64> compact{};
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact.data(), &recid, &sig);
  Signature out;
  std::copy(compact.begin(), compact.begin() + 32, out.r.begin());
  std::copy(compact.begin() + 32, compact.end(), out.s.begin());
  out.recovery_id = static_cast<std::uint8_t>(recid);
  return out;
}

Result<Address> recover_address(const Hash32& digest, const Signature& signature) {
  if (signature.recovery_id > 3) {
    return Status::invalid_argument("recovery id must be 0..3");
  }
  std::array<std::uint8_t, 64> compact{};
  std::copy(signature.r.begin(), signature.r.end(), compact.begin());
  std::copy(signature.s.begin(), signature.s.end(), compact.begin() + 32);
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, compact.data(), signature.recovery_id) !=
      1) {
    return Status::invalid_argument("malformed signature (r or s out of range)");
  }
  secp256k1_pubkey pub;
  if (secp256k1_ecdsa_recover(context(), &pub, &sig, digest.data()) != 1) {
    return Status::invalid_argument("signature does not recover to a public key");
  }
  std::array<std::uint8_t, 65> ser{};
  std::size_t len = ser.size();
  secp256k1_ec_pubkey_serialize(context(), ser.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  Hash32 h = keccak256(std::span(ser).subspan(1));
  Address::Raw raw{};
  std::copy(h.begin() + 12, h.end(), raw.begin());
  return Address(raw);
}

}  // namespace bucketpay::eth
