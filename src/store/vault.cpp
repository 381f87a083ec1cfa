#include "bucketpay/vault.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

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

namespace {

// Restores the terminal's attributes however read_passphrase leaves.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) {
      return;
    }
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) {
      tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::string> read_passphrase(std::string_view prompt) {
  // Nothing in bucketpay calls setenv concurrently.
  if (const char* env = std::getenv("BUCKETPAY_PASSPHRASE"); env != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    std::string passphrase(env);
    if (passphrase.empty()) {
      return Status::invalid_argument("BUCKETPAY_PASSPHRASE is set but empty");
    }
    return passphrase;
  }
  return read_from_terminal(prompt,
                            "no passphrase: BUCKETPAY_PASSPHRASE is not set and there is no terminal to ask on");
}

Result<std::string> read_from_terminal(std::string_view prompt, std::string_view without_terminal) {
  const Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty.get() < 0 || !isatty(tty.get())) {
    return Status::failed_precondition(std::string(without_terminal));
  }
  std::string passphrase;
  passphrase.reserve(1024);  // no reallocation leaving copies behind for usual lengths
  bool got_newline = false;
  {
    // Echo off before the prompt: an answer typed as soon as it shows is neither echoed nor
    // flushed away by the change of mode.
    const EchoOff echo_off(tty.get());
    write_all(tty.get(), prompt);
    char c = 0;
    while (true) {
      const ssize_t n = ::read(tty.get(), &c, 1);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        sodium_memzero(passphrase.data(), passphrase.size());
        return Status::io_error("reading from the terminal: " + std::generic_category().message(errno));
      }
      if (n == 0) {
        break;
      }
      if (c == '\n') {
        got_newline = true;
        break;
      }
      passphrase.push_back(c);
    }
  }
  write_all(tty.get(), "\n");
  if (!passphrase.empty() && passphrase.back() == '\r') {
    passphrase.pop_back();
  }
  if (!got_newline && passphrase.empty()) {
    return Status::io_error("reading from the terminal: end of input");
  }
  if (passphrase.empty()) {
    return Status::invalid_argument("the answer is empty");
  }
  return passphrase;
}

Result<std::string> read_new_passphrase(std::string_view prompt, std::string_view again_prompt, std::size_t min_length,
                                        bool allow_short) {
  if (std::getenv("BUCKETPAY_PASSPHRASE") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    return read_passphrase(prompt);
  }
  auto first = read_passphrase(prompt);
  if (!first.ok()) {
    return first.status();
  }
  if (first->size() < min_length && !allow_short) {
    const std::size_t length = first->size();
    sodium_memzero(first->data(), first->size());
    return Status::invalid_argument("the passphrase has " + std::to_string(length) + " characters; a new one needs " +
                                    std::to_string(min_length) + " or more");
  }
  auto second = read_passphrase(again_prompt);
  if (!second.ok()) {
    sodium_memzero(first->data(), first->size());
    return second.status();
  }
  const bool same = first->size() == second->size() && sodium_memcmp(first->data(), second->data(), first->size()) == 0;
  sodium_memzero(second->data(), second->size());
  if (!same) {
    sodium_memzero(first->data(), first->size());
    return Status::invalid_argument("the two passphrases differ");
  }
  return first;
}

}  // namespace bucketpay
