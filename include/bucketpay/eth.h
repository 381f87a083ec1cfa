// Ethereum primitives: Keccak-256, 256-bit unsigned integers, hex, addresses (EIP-55), RLP, and
// secp256k1 keys and recoverable signatures.
//
// Keccak-256 is the original Keccak (padding 0x01), as Ethereum uses it, not NIST SHA3-256.
// Signatures come from libsecp256k1 with RFC 6979 deterministic nonces and are always low-s
// (EIP-2); the recovery id is 0 or 1.
//
// Parsing is strict everywhere: hex needs the "0x" prefix and only [0-9a-fA-F]; fixed-size values
// need exactly their size; anything else is an invalid-argument Status naming what was wrong.
//
// Secrets: a PrivateKey wipes its bytes on destruction and has no way to print itself. Never log a
// private key; errors never contain one.
//
// Thread safety: all types are plain values; all free functions are safe to call concurrently.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay::eth {

using Bytes = std::vector<std::uint8_t>;
using Hash32 = std::array<std::uint8_t, 32>;

// ------------------------------------------------------------------------------------------- hex

// "0x" + lowercase hex of the bytes ("0x" for none).
std::string to_hex(std::span<const std::uint8_t> bytes);
// Strict: "0x" prefix, an even number of hex digits (either case). "0x" is the empty byte string.
Result<Bytes> from_hex(std::string_view hex);
// Strict: "0x" + exactly 64 hex digits.
Result<Hash32> hash_from_hex(std::string_view hex);

// ---------------------------------------------------------------------------------------- keccak

Hash32 keccak256(std::span<const std::uint8_t> data);
Hash32 keccak256(std::string_view data);

// ------------------------------------------------------------------------------------------ U256

// An unsigned 256-bit integer (token amounts, wei, gas prices). Arithmetic wraps mod 2^256, like
// the EVM; use checked_add/checked_sub/checked_mul where overflow must be caught.
class U256 {
 public:
  using Limbs = std::array<std::uint64_t, 4>;  // little-endian 64-bit limbs

  constexpr U256() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): small integers convert, as in `U256 wei = 5`.
  constexpr U256(std::uint64_t v) : limbs_{v, 0, 0, 0} {}
  static constexpr U256 from_limbs(const Limbs& limbs) {
    U256 r;
    r.limbs_ = limbs;
    return r;
  }
  static U256 max();

  // Decimal ("0", no leading zeros, no sign) or "0x" + 1..64 hex digits (leading zeros allowed).
  static Result<U256> from_string(std::string_view s);
  // A JSON-RPC QUANTITY: "0x" + hex without leading zeros ("0x0" for zero). Strict.
  static Result<U256> from_quantity(std::string_view s);
  // Big-endian bytes, at most 32 (fewer are left-padded with zeros).
  static Result<U256> from_be_bytes(std::span<const std::uint8_t> bytes);
  static U256 from_word(const Hash32& word) { return *from_be_bytes(word); }

  [[nodiscard]] Hash32 to_word() const;           // 32 big-endian bytes
  [[nodiscard]] Bytes to_minimal_bytes() const;   // big-endian, no leading zeros (zero: empty)
  [[nodiscard]] std::string to_quantity() const;  // "0x" + hex, no leading zeros
  [[nodiscard]] std::string to_decimal() const;
  [[nodiscard]] const Limbs& limbs() const { return limbs_; }
  [[nodiscard]] bool is_zero() const { return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
  [[nodiscard]] bool fits_u64() const { return (limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
  [[nodiscard]] std::uint64_t low_u64() const { return limbs_[0]; }
  [[nodiscard]] unsigned bit_length() const;

  friend U256 operator+(const U256& a, const U256& b);
  friend U256 operator-(const U256& a, const U256& b);
  friend U256 operator*(const U256& a, const U256& b);
  // Division by zero gives zero (as in the EVM).
  friend U256 operator/(const U256& a, const U256& b);
  friend U256 operator%(const U256& a, const U256& b);
  U256& operator+=(const U256& b) { return *this = *this + b; }
  U256& operator-=(const U256& b) { return *this = *this - b; }
  static std::optional<U256> checked_add(const U256& a, const U256& b);
  static std::optional<U256> checked_sub(const U256& a, const U256& b);
  static std::optional<U256> checked_mul(const U256& a, const U256& b);

  friend bool operator==(const U256& a, const U256& b) = default;
  friend std::strong_ordering operator<=>(const U256& a, const U256& b);

 private:
  Limbs limbs_{};
};

// --------------------------------------------------------------------------------------- Address

// A 20-byte account address.
class Address {
 public:
  using Raw = std::array<std::uint8_t, 20>;

  constexpr Address() = default;  // the zero address
  explicit constexpr Address(const Raw& bytes) : bytes_(bytes) {}

  // "0x" + 40 hex digits. All-lowercase or all-uppercase digits are accepted as they are; mixed case
  // must be the exact EIP-55 checksum, else an invalid-argument error ("bad EIP-55 checksum").
  static Result<Address> from_string(std::string_view s);
  // The low 20 bytes of a 32-byte ABI word; fails unless the high 12 bytes are zero.
  static Result<Address> from_word(const Hash32& word);

  [[nodiscard]] std::string to_checksum() const;  // EIP-55 mixed case
  [[nodiscard]] std::string to_hex() const;       // lowercase
  [[nodiscard]] Hash32 to_word() const;           // left-padded to 32 bytes
  [[nodiscard]] const Raw& bytes() const { return bytes_; }
  [[nodiscard]] bool is_zero() const;

  friend bool operator==(const Address& a, const Address& b) = default;
  friend auto operator<=>(const Address& a, const Address& b) = default;

 private:
  Raw bytes_{};
};

// The address of a contract created by `sender` with the given account nonce (CREATE):
// keccak256(rlp([sender, nonce]))[12:].
Address create_address(const Address& sender, std::uint64_t nonce);

// ------------------------------------------------------------------------------------------- RLP

// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B). Items are encoded one at a
// time; a list takes its items already encoded.
namespace rlp {
Bytes encode_bytes(std::span<const std::uint8_t> bytes);
Bytes encode_string(std::string_view s);
// An integer as its minimal big-endian bytes (zero is the empty string, 0x80).
Bytes encode_uint(const U256& v);
// A list of already-encoded items.
Bytes encode_list(std::span<const Bytes> encoded_items);
}  // namespace rlp

// ------------------------------------------------------------------------------------- secp256k1

// A recoverable ECDSA signature over secp256k1: r, s (low-s) and the recovery id (0 or 1), which
// is EIP-1559's y_parity.
struct Signature {
  Hash32 r{};
  Hash32 s{};
  std::uint8_t recovery_id = 0;
  friend bool operator==(const Signature&, const Signature&) = default;
};

// A secp256k1 private key. Holds the secret in memory and wipes it on destruction (and when moved
// from, the source keeps a copy until it is destroyed). Deliberately not printable.
class PrivateKey {
 public:
  // Fails unless 0 < key < n (the group order).
  static Result<PrivateKey> from_bytes(std::span<const std::uint8_t, 32> bytes);
  // "0x" + 64 hex digits. The error message never echoes the input.
  static Result<PrivateKey> from_hex(std::string_view hex);
  // A fresh key from the OS's secure random source.
  static PrivateKey random();

  PrivateKey(const PrivateKey& other) = default;
  PrivateKey& operator=(const PrivateKey& other);
  ~PrivateKey();

  // The 64-byte uncompressed public key (x || y, without the 0x04 prefix).
  [[nodiscard]] std::array<std::uint8_t, 64> public_key() const;
  // keccak256(public_key)[12:].
  [[nodiscard]] Address address() const;
  // Signs a 32-byte digest (RFC 6979 nonce, low-s).
  [[nodiscard]] Signature sign(const Hash32& digest) const;

 private:
  PrivateKey() = default;
  std::array<std::uint8_t, 32> secret_{};
};

// The address that signed `digest`; fails for an invalid signature or recovery id.
Result<Address> recover_address(const Hash32& digest, const Signature& signature);

}  // namespace bucketpay::eth
