// Protocol v2's payment authorization (docs/protocol.md, "Spend authorization" and "Payments"):
// each note's one-time secp256k1 spend authorization key, the EIP-712 Payment message its key signs,
// and those signatures in the 65-byte form the Pool takes.
//
//   auth key   a = 1 + (k mod (n - 1)),  k = keccak256("bucketpay.auth.v2" || be32(sk) || be32(cm))
//              (n the secp256k1 group order), so 1 <= a <= n - 1 with no retry loop; its address A
//              is the spend or split proof's public input `auth` (as uint160(A)).
//   domain     EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
//              {name "bucketpay", version "2", chainId, verifyingContract = the Pool}
//   message    Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,
//              uint256 deadline), the array encoded as keccak256 of its 32-byte words (EIP-712)
//   digest     keccak256(0x19 0x01 || domainSeparator || structHash): the "payment digest", which
//              identifies a payment everywhere (the Pool's Spent and Paid events, journals)
//   signature  r || s || v, 65 bytes, v = 27 + recovery id, s in the lower half of the order
//
// Field elements (sk, cm, nullifiers) are taken as 32-byte big-endian words or U256 so that this
// header depends only on the chain layer; callers convert (Fr::to_bytes()).
//
// Secrets: the auth key is as secret as sk for the note it guards; it is a PrivateKey (wiped on
// destruction, never printable). Errors never contain a key or sk.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

// ------------------------------------------------------------------------------------- auth keys

// The domain tag hashed before sk and cm.
inline constexpr std::string_view kAuthKeyTag = "bucketpay.auth.v2";

// The note's spend authorization key, from its owner's spending key sk and its commitment cm, each
// a canonical field element (< p) as 32 big-endian bytes; kInvalidArgument otherwise (without
// echoing the values).
Result<PrivateKey> derive_auth_key(std::span<const std::uint8_t, 32> sk, std::span<const std::uint8_t, 32> cm);
// Its address (what the proofs bind as `auth`).
Result<Address> derive_auth_address(std::span<const std::uint8_t, 32> sk, std::span<const std::uint8_t, 32> cm);

namespace detail {
// 1 + (k mod (n - 1)) for any 256-bit k, big-endian: the last step of derive_auth_key (exposed for
// its tests: keccak outputs at and above n - 1 are too rare to reach through the hash).
Hash32 auth_scalar(const Hash32& k);
}  // namespace detail

// ---------------------------------------------------------------------------------------- EIP-712

inline constexpr std::string_view kEip712DomainType =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
inline constexpr std::string_view kPaymentType =
    "Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,uint256 deadline)";
inline constexpr std::string_view kPaymentDomainName = "bucketpay";
inline constexpr std::string_view kPaymentDomainVersion = "2";

// keccak256(abi.encode(keccak256(kEip712DomainType), keccak256(name), keccak256(version), chainId,
// verifyingContract)): any EIP-712 domain of these four fields.
Hash32 eip712_domain_separator(std::string_view name, std::string_view version, const U256& chain_id,
                               const Address& verifying_contract);
// keccak256(0x19 0x01 || domain_separator || struct_hash).
Hash32 eip712_digest(const Hash32& domain_separator, const Hash32& struct_hash);

// A payment: what a spendBatch or split pays (Pool.Payment).
struct Payment {
  std::vector<U256> nullifiers;  // the spent notes' nullifiers, in the order of the proofs
  Address recipient;             // receives sum(values) * UNIT - fee
  U256 fee;                      // token base units, to fee_recipient
  Address fee_recipient;         // must be non-zero when fee > 0
  U256 deadline;                 // Unix seconds; the Pool refuses it when block.timestamp > deadline

  friend bool operator==(const Payment&, const Payment&) = default;
};

// The bucketpay domain of one Pool on one chain.
struct PaymentDomain {
  U256 chain_id;
  Address pool;

  [[nodiscard]] Hash32 separator() const;
  friend bool operator==(const PaymentDomain&, const PaymentDomain&) = default;
};

// keccak256(abi.encode(keccak256(kPaymentType), keccak256(nullifiers as words), recipient, fee,
// feeRecipient, deadline)).
Hash32 payment_struct_hash(const Payment& payment);
// The payment digest: what every spent note's auth key signs.
Hash32 payment_digest(const PaymentDomain& domain, const Payment& payment);

// ------------------------------------------------------------------------------------- signatures

// A signature as the Pool takes it: r || s || v, v = 27 + recovery id.
using RsvSignature = std::array<std::uint8_t, 65>;
RsvSignature to_rsv(const Signature& signature);
// Strict: exactly 65 bytes, v 27 or 28, 0 < r < n, 0 < s <= n / 2 (no malleable twin), else
// kInvalidArgument naming what is wrong.
Result<Signature> from_rsv(std::span<const std::uint8_t> rsv);

// Signs a digest (RFC 6979, low s) in the Pool's form.
RsvSignature sign_digest(const PrivateKey& key, const Hash32& digest);
// The address that signed `digest` with `rsv` (strict as from_rsv); kInvalidArgument when the
// signature is malformed or recovers no key. The Pool accepts exactly these signatures.
Result<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> rsv);

}  // namespace bucketpay::eth
