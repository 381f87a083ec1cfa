// Vault: seals secrets at rest (spending keys, blinding factors, split outputs) with a key derived
// from a passphrase.
//
//   key    = Argon2id(passphrase, salt, params)       libsodium crypto_pwhash, 32-byte key
//   sealed = version(1) || nonce(24) || XChaCha20-Poly1305(key, nonce, plaintext, ad') || tag(16)
//   ad'    = version(1) || ad
//
// The salt (16 random bytes, made by create()) and the params are not secret: the store keeps them
// beside the data (with a sealed check value, so a wrong passphrase is refused at open). The nonce
// is random per message (192 bits: no counter to keep, no collision risk). The associated data `ad`
// names the record a value belongs to (e.g. "note.r:<commitment>"): unseal with any other ad fails,
// so a sealed value cannot be copied into another record. unseal never returns unauthenticated
// bytes: a wrong key (passphrase) or tampered bytes give an error, never garbage.
//
// Key material lives in sodium_malloc'd memory (guard pages, mlock'd where the OS allows, read-only
// after derivation) and is wiped when the Vault is destroyed. The passphrase itself is the caller's:
// wipe it (sodium_memzero) when done if it matters.
//
// Thread safety: seal and unseal are const and may run concurrently on one Vault. A moved-from
// Vault may only be destroyed or assigned to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay {

// Argon2id cost. Values are libsodium's crypto_pwhash_{OPS,MEM}LIMIT_* constants.
struct VaultParams {
  std::uint64_t opslimit = 0;  // passes over memory
  std::size_t memlimit = 0;    // bytes

  // The default for real wallets: libsodium's "moderate" level, 3 passes over 256 MiB, about 0.5 to
  // 1 s on one core. Slows an offline guessing attack on a stolen database file by that much per guess.
  static constexpr VaultParams moderate() { return {3, std::size_t{256} << 20}; }
  // For tests only: libsodium's minimums (1 pass, 8 KiB). Derivation is instantaneous and offers no
  // protection against guessing; never use it for real keys.
  static constexpr VaultParams fast() { return {1, 8192}; }

  friend bool operator==(const VaultParams&, const VaultParams&) = default;
};

class Vault {
 public:
  static constexpr std::size_t kSaltBytes = 16;   // crypto_pwhash_SALTBYTES
  static constexpr std::size_t kKeyBytes = 32;    // crypto_aead_xchacha20poly1305_ietf_KEYBYTES
  static constexpr std::size_t kNonceBytes = 24;  // crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
  static constexpr std::size_t kTagBytes = 16;    // crypto_aead_xchacha20poly1305_ietf_ABYTES
  static constexpr std::uint8_t kVersion = 1;     // first byte of every sealed value
  // Bytes a sealed value adds to its plaintext.
  static constexpr std::size_t kOverhead = 1 + kNonceBytes + kTagBytes;

  // A new vault with a fresh random salt. Errors: empty passphrase or params outside libsodium's
  // bounds (invalid argument); not enough memory for Argon2id (resource exhausted).
  static Result<Vault> create(std::string_view passphrase, VaultParams params = VaultParams::moderate());
  // Re-derives the key of an existing vault from its salt and params. Any passphrase "works" here:
  // a wrong one is detected by unsealing a known value (the store does that at open).
  static Result<Vault> open(std::string_view passphrase, std::span<const std::uint8_t> salt, VaultParams params);

  Vault(Vault&&) noexcept = default;
  Vault& operator=(Vault&&) noexcept = default;
  ~Vault() = default;

  [[nodiscard]] const std::vector<std::uint8_t>& salt() const { return salt_; }
  [[nodiscard]] VaultParams params() const { return params_; }

  // Encrypts and authenticates `plaintext`, binding it to `ad`. Result: plaintext.size() + kOverhead
  // bytes. Cannot fail.
  [[nodiscard]] std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plaintext, std::string_view ad) const;
  // The plaintext, or kCorruption when the bytes are malformed, were sealed under another key or
  // another ad, or were modified. Wipe the result (sodium_memzero) once used if it is a secret.
  [[nodiscard]] Result<std::vector<std::uint8_t>> unseal(std::span<const std::uint8_t> sealed,
                                                         std::string_view ad) const;

 private:
  struct KeyDeleter {
    void operator()(std::uint8_t* key) const;
  };
  Vault(std::unique_ptr<std::uint8_t, KeyDeleter> key, std::vector<std::uint8_t> salt, VaultParams params);

  std::unique_ptr<std::uint8_t, KeyDeleter> key_;  // kKeyBytes in sodium_malloc'd, read-only memory
  std::vector<std::uint8_t> salt_;
  VaultParams params_;
};

}  // namespace bucketpay
