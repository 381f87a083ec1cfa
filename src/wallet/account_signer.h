// AccountSigner: the wallet's Ethereum account, signing EIP-1559 transactions locally with nonces
// read from the chain (eth::PoolChain). It sends nothing: the payments journal records what it
// signs, then sends it.
//
// Nonces: the first sign() (or prefetch()) reads the account's pending count from the node; each
// signed transaction advances the local nonce. reset_nonce() forgets it, so that the next signature
// reads it afresh: taken with the sender lock (another process may have sent meanwhile), and after a
// transaction that was signed but not sent.
//
// Thread safety: one thread at a time (the wallet's).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "bucketpay/chain.h"
#include "bucketpay/pool_chain.h"

namespace bucketpay {

class AccountSigner {
 public:
  // `chain` outlives the signer.
  AccountSigner(eth::PoolChain& chain, const eth::PrivateKey& key);

  [[nodiscard]] const eth::Address& address() const { return address_; }
  // Reads the chain id and, unless known, the next nonce now, so that sign() makes no request (and
  // a payment's latency holds no chain time).
  Status prefetch();
  // A call to `to` with `data`, no value, the given gas limit and fees, and the next nonce; the
  // local nonce advances.
  Result<eth::SignedTransaction> sign(const eth::Address& to, std::span<const std::uint8_t> data,
                                      std::uint64_t gas_limit, const eth::Fees& fees);
  void reset_nonce() { next_nonce_.reset(); }

 private:
  eth::PoolChain& chain_;
  eth::PrivateKey key_;
  eth::Address address_;
  std::optional<std::uint64_t> chain_id_;
  std::optional<std::uint64_t> next_nonce_;
};

}  // namespace bucketpay
