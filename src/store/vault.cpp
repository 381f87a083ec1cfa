#include "bucketpay/vault.h"

#include <sodium.h>

#include <cassert>
#include <string>

namespace bucketpay {

static_assert(Vault::kSaltBytes == crypto_pwhash_SALTBYTES);
static_assert(Vault::kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(Vault::kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(Vault::kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(VaultParams::moderate().opslimit == crypto_pwhash_OPSLIMIT_MODERATE);
static_assert(VaultParams::moderate().memlimit == crypto_pwhash_MEMLIMIT_MODERATE);
static_assert(VaultParams::fast().opslimit == crypto_pwhash_OPSLIMIT_MIN);
static_assert(VaultParams::fast().memlimit == crypto_pwhash_MEMLIMIT_MIN);

namespace {

Status ensure_sodium() {
  if (sodium_init() < 0) {
    return Status::internal("libsodium failed to initialise");
  }
  return Status::ok();
}

// The associated data actually authenticated: the format version, then the caller's ad.
std::vector<std::uint8_t> full_ad(std::string_view ad) {
  std::vector<std::uint8_t> out;
  out.reserve(ad.size() + 1);
  out.push_back(Vault::kVersion);
  out.insert(out.end(), ad.begin(), ad.end());
  return out;
}

}  // namespace

void Vault::KeyDeleter::operator()(std::uint8_t* key) const { sodium_free(key); }  // wipes first

Vault::Vault(std::unique_ptr<std::uint8_t, KeyDeleter> key, std::vector<std::uint8_t> salt, VaultParams params)
    : key_(std::move(key)), salt_(std::move(salt)), params_(params) {}

Result<Vault> Vault::create(std::string_view passphrase, VaultParams params) {
  BUCKETPAY_RETURN_IF_ERROR(ensure_sodium());
  std::vector<std::uint8_t> salt(kSaltBytes);
  randombytes_buf(salt.data(), salt.size());
  return open(passphrase, salt, params);
}

Result<Vault> Vault::open(std::string_view passphrase, std::span<const std::uint8_t> salt, VaultParams params) {
  BUCKETPAY_RETURN_IF_ERROR(ensure_sodium());
  if (passphrase.empty()) {
    return Status::invalid_argument("vault: the passphrase is empty");
  }
  if (salt.size() != kSaltBytes) {
    return Status::invalid_argument("vault: salt must be " + std::to_string(kSaltBytes) + " bytes, got " +
                                    std::to_string(salt.size()));
  }
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return Status::invalid_argument("vault: Argon2id params out of range (opslimit " + std::to_string(params.opslimit) +
                                    ", memlimit " + std::to_string(params.memlimit) + ")");
  }
  std::unique_ptr<std::uint8_t, KeyDeleter> key(static_cast<std::uint8_t*>(sodium_malloc(kKeyBytes)));
  if (!key) {
    return Status::resource_exhausted("vault: cannot allocate secure memory for the key");
  }
  if (crypto_pwhash(key.get(), kKeyBytes, passphrase.data(), passphrase.size(), salt.data(), params.opslimit,
                    params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::resource_exhausted("vault: Argon2id key derivation failed (out of memory? memlimit " +
                                      std::to_string(params.memlimit) + " bytes)");
  }
  sodium_mprotect_readonly(key.get());
  return Vault(std::move(key), std::vector<std::uint8_t>(salt.begin(), salt.end()), params);
}

std::vector<std::uint8_t> Vault::seal(std::span<const std::uint8_t> plaintext, std::string_view ad) const {
  assert(key_ && "seal on a moved-from Vault");
  std::vector<std::uint8_t> out(plaintext.size() + kOverhead);
  out[0] = kVersion;
  std::uint8_t* nonce = out.data() + 1;
  randombytes_buf(nonce, kNonceBytes);
  const std::vector<std::uint8_t> aad = full_ad(ad);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 1 + kNonceBytes, &written, plaintext.data(), plaintext.size(),
                                             aad.data(), aad.size(), nullptr, nonce, key_.get());
  assert(written == plaintext.size() + kTagBytes);
  return out;
}

Result<std::vector<std::uint8_t>> Vault::unseal(std::span<const std::uint8_t> sealed, std::string_view ad) const {
  assert(key_ && "unseal on a moved-from Vault");
  if (sealed.size() < kOverhead) {
    return Status::corruption("vault: sealed value too short (" + std::to_string(sealed.size()) + " bytes)");
  }
  if (sealed[0] != kVersion) {
    return Status::corruption("vault: unknown sealed format version " + std::to_string(sealed[0]));
  }
  const std::uint8_t* nonce = sealed.data() + 1;
  const std::uint8_t* ciphertext = nonce + kNonceBytes;
  const std::size_t ciphertext_size = sealed.size() - 1 - kNonceBytes;
  std::vector<std::uint8_t> out(ciphertext_size - kTagBytes);
  const std::vector<std::uint8_t> aad = full_ad(ad);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext, ciphertext_size, aad.data(),
                                                 aad.size(), nonce, key_.get()) != 0) {
    return Status::corruption(
        "vault: cannot unseal (wrong passphrase, value moved from another record, or tampered bytes)");
  }
  return out;
}

}  // namespace bucketpay
