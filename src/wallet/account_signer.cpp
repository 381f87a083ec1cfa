#include "account_signer.h"

namespace bucketpay {

AccountSigner::AccountSigner(eth::PoolChain& chain, const eth::PrivateKey& key)
    : chain_(chain), key_(key), address_(key.address()) {}

Status AccountSigner::prefetch() {
  if (!chain_id_) {
    BUCKETPAY_ASSIGN_OR_RETURN(chain_id_, chain_.chain_id());
  }
  if (!next_nonce_) {
    auto n = chain_.nonce(address_, eth::PoolChain::NonceKind::kPending);
    if (!n.ok()) return n.status().with_context("reading the nonce");
    next_nonce_ = *n;
  }
  return Status::ok();
}

Result<eth::SignedTransaction> AccountSigner::sign(const eth::Address& to, std::span<const std::uint8_t> data,
                                                   std::uint64_t gas_limit, const eth::Fees& fees) {
  BUCKETPAY_RETURN_IF_ERROR(prefetch());
  eth::Eip1559Tx tx;
  tx.chain_id = *chain_id_;
  tx.nonce = *next_nonce_;
  tx.max_priority_fee_per_gas = fees.max_priority_fee_per_gas;
  tx.max_fee_per_gas = fees.max_fee_per_gas;
  tx.gas_limit = gas_limit;
  tx.to = to;
  tx.data.assign(data.begin(), data.end());
  eth::SignedTransaction out;
  out.raw = eth::sign_transaction(tx, key_);
  out.hash = eth::keccak256(out.raw);
  out.nonce = tx.nonce;
  out.gas_limit = gas_limit;
  next_nonce_ = tx.nonce + 1;
  return out;
}

}  // namespace bucketpay
