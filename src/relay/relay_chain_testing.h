// TestChain: an eth::PoolChain for the relayer's unit tests, on which a test plays what the node and
// the chain do: blocks holding transactions with the outcome and Pool events the test gives, the
// relayer's sent transactions (kept pending until the test mines or drops them), third parties'
// transactions, a node that does not answer or refuses a send, scripted simulation and gas
// estimates, and the gas price. It evaluates nothing of the Pool. Test code only.
//
// Thread safety: every method takes one mutex (the relayer's HTTP threads and monitor share it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/pool_chain.h"

namespace bucketpay::testing {

// A mined transaction: who sent it, its nonce, its outcome and the Pool events it left.
struct TestTx {
  eth::Hash32 hash{};
  eth::Address from;
  std::uint64_t nonce = 0;
  bool success = true;
  std::uint64_t gas_used = 650'000;
  std::vector<eth::PoolEvent> events;        // block and transaction fields filled in when mined
  std::optional<std::string> revert_reason;  // a failed receipt's decoded reason
};

class TestChain final : public eth::PoolChain {
 public:
  // Transactions handed to send_raw_transaction() are taken as sent by `sender`.
  TestChain(const eth::Address& pool, const eth::Address& sender) : pool_(pool), sender_(sender) { mine({}); }

  // ---- the chain

  // A new block holding `txs`, in order; its number.
  std::uint64_t mine(std::vector<TestTx> txs) {
    std::lock_guard lock(mu_);
    return mine_locked(std::move(txs));
  }
  // Mines the pending transaction `hash` (sent through send_raw_transaction) in a new block.
  std::uint64_t mine_sent(const eth::Hash32& hash, bool success = true, std::vector<eth::PoolEvent> events = {},
                          std::optional<std::string> revert_reason = std::nullopt) {
    std::lock_guard lock(mu_);
    const Pending p = pending_.at(hash);
    return mine_locked({TestTx{hash, p.from, p.nonce, success, 650'000, std::move(events), std::move(revert_reason)}});
  }
  // The node forgets a pending transaction (as if it was never sent).
  void drop(const eth::Hash32& hash) {
    std::lock_guard lock(mu_);
    pending_.erase(hash);
  }
  // The account's nonce moves past `nonce` without any of the relayer's transactions (another
  // transaction of the same account, sent elsewhere, was mined).
  void use_nonce_elsewhere(std::uint64_t nonce) {
    std::lock_guard lock(mu_);
    TestTx tx;
    tx.hash = eth::keccak256("elsewhere " + std::to_string(nonce));
    tx.from = sender_;
    tx.nonce = nonce;
    mine_locked({tx});
  }

  // ---- what the relayer did

  [[nodiscard]] std::vector<eth::SignedTransaction> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  [[nodiscard]] bool is_pending(const eth::Hash32& hash) const {
    std::lock_guard lock(mu_);
    return pending_.count(hash) != 0;
  }
  [[nodiscard]] std::size_t calls(const std::string& method) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(method);
    return it == calls_.end() ? 0 : it->second;
  }

  // ---- what the node answers

  // The next send_raw_transaction answers this instead (once each); a refusal
  // (kFailedPrecondition) leaves the transaction out, any other failure keeps it when `keep`.
  void fail_next_send(Status why, bool keep = false) {
    std::lock_guard lock(mu_);
    send_failures_.push_back({std::move(why), keep});
  }
  // simulate() answers this for every call while set (a payment that would revert).
  void set_simulate_failure(std::optional<Status> failure) {
    std::lock_guard lock(mu_);
    simulate_failure_ = std::move(failure);
  }
  void set_gas_price(const eth::U256& base_fee, const eth::U256& priority_fee) {
    std::lock_guard lock(mu_);
    base_fee_ = base_fee;
    priority_fee_ = priority_fee;
  }
  // Every method answers this while set (a node that is down).
  void set_down(std::optional<Status> why) {
    std::lock_guard lock(mu_);
    down_ = std::move(why);
  }
  // Called after send_raw_transaction took a transaction into the pool (outside the mutex).
  std::function<void(const eth::SignedTransaction&)> on_sent;

  // ---- eth::PoolChain

  [[nodiscard]] const eth::Address& pool() const override { return pool_; }
  Result<std::uint64_t> chain_id() override {
    std::lock_guard lock(mu_);
    if (Status st = enter("chain_id"); !st.is_ok()) return st;
    return 31337;
  }
  Result<std::uint64_t> head() override {
    std::lock_guard lock(mu_);
    if (Status st = enter("head"); !st.is_ok()) return st;
    return blocks_.size() - 1;
  }
  Result<std::optional<eth::BlockHeader>> header(std::uint64_t number) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("header"); !st.is_ok()) return st;
    if (number >= blocks_.size()) return std::optional<eth::BlockHeader>();
    eth::BlockHeader h;
    h.number = number;
    h.hash = blocks_[number].hash;
    return std::optional<eth::BlockHeader>(h);
  }
  Result<std::vector<eth::PoolEvent>> events(std::uint64_t from, std::uint64_t to) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("events"); !st.is_ok()) return st;
    return events_in(from, to);
  }
  Result<std::vector<eth::PoolEvent>> spends_of(std::span<const eth::U256> nullifiers, std::uint64_t from) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("spends_of"); !st.is_ok()) return st;
    std::vector<eth::PoolEvent> out;
    for (const eth::PoolEvent& ev : events_in(from, blocks_.size() - 1)) {
      if (ev.kind != eth::PoolEvent::Kind::kSpent) continue;
      if (std::find(nullifiers.begin(), nullifiers.end(), ev.spent.nullifier) != nullifiers.end()) out.push_back(ev);
    }
    return out;
  }
  Result<std::optional<eth::Receipt>> receipt(const eth::Hash32& hash) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("receipt"); !st.is_ok()) return st;
    for (const Block& b : blocks_) {
      for (const TestTx& tx : b.txs) {
        if (tx.hash != hash) continue;
        eth::Receipt r;
        r.transaction_hash = hash;
        r.success = tx.success;
        r.block_number = b.number;
        r.block_hash = b.hash;
        r.from = tx.from;
        r.to = pool_;
        r.gas_used = tx.gas_used;
        r.effective_gas_price = base_fee_ + priority_fee_;
        if (!tx.success && tx.revert_reason) {
          abi::RevertReason reason;
          reason.kind = abi::RevertReason::Kind::kCustom;
          reason.message = *tx.revert_reason;
          r.revert_reason = reason;
        }
        return std::optional<eth::Receipt>(r);
      }
    }
    return std::optional<eth::Receipt>();
  }
  Result<std::optional<eth::Transaction>> transaction(const eth::Hash32& hash) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("transaction"); !st.is_ok()) return st;
    eth::Transaction t;
    t.hash = hash;
    if (auto it = pending_.find(hash); it != pending_.end()) {
      t.from = it->second.from;
      t.nonce = it->second.nonce;
      t.input = it->second.raw;
      return std::optional<eth::Transaction>(t);
    }
    for (const Block& b : blocks_) {
      for (const TestTx& tx : b.txs) {
        if (tx.hash != hash) continue;
        t.from = tx.from;
        t.nonce = tx.nonce;
        t.block_number = b.number;
        return std::optional<eth::Transaction>(t);
      }
    }
    return std::optional<eth::Transaction>();
  }
  Result<std::uint64_t> nonce(const eth::Address& account, NonceKind kind) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("nonce"); !st.is_ok()) return st;
    std::uint64_t n = mined_nonce(account);
    if (kind == NonceKind::kPending) {
      for (const auto& [hash, p] : pending_) {
        if (p.from == account) n = std::max(n, p.nonce + 1);
      }
    }
    return n;
  }
  Result<eth::Hash32> send_raw_transaction(const eth::SignedTransaction& tx) override {
    bool taken = false;
    Result<eth::Hash32> r = [&]() -> Result<eth::Hash32> {
      std::lock_guard lock(mu_);
      if (Status st = enter("send_raw_transaction"); !st.is_ok()) return st;
      sent_.push_back(tx);
      if (!send_failures_.empty()) {
        SendFailure f = send_failures_.front();
        send_failures_.erase(send_failures_.begin());
        if (f.keep) pending_[tx.hash] = Pending{sender_, tx.nonce, tx.raw};
        return f.why;
      }
      if (known(tx.hash) || pending_.count(tx.hash) != 0) return tx.hash;  // already has it: accepted
      if (tx.nonce < mined_nonce(sender_)) {
        return Status::failed_precondition("rpc error -32003: nonce too low (eth_sendRawTransaction)");
      }
      pending_[tx.hash] = Pending{sender_, tx.nonce, tx.raw};
      taken = true;
      return tx.hash;
    }();
    if (taken && on_sent) on_sent(tx);
    return r;
  }
  Result<eth::Fees> fees() override {
    std::lock_guard lock(mu_);
    if (Status st = enter("fees"); !st.is_ok()) return st;
    return eth::Fees{base_fee_ * eth::U256(2) + priority_fee_, priority_fee_, base_fee_};
  }
  Result<std::uint64_t> estimate_gas(const eth::Address&, const eth::Address&, std::span<const std::uint8_t>) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("estimate_gas"); !st.is_ok()) return st;
    if (simulate_failure_) return *simulate_failure_;
    return 800'000;
  }
  Status simulate(const eth::Address&, std::string_view, std::span<const std::uint8_t>) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("simulate"); !st.is_ok()) return st;
    return simulate_failure_ ? *simulate_failure_ : Status::ok();
  }
  Result<bool> is_spent(const eth::U256& nullifier) override {
    std::lock_guard lock(mu_);
    if (Status st = enter("is_spent"); !st.is_ok()) return st;
    for (const eth::PoolEvent& ev : events_in(0, blocks_.size() - 1)) {
      if (ev.kind == eth::PoolEvent::Kind::kSpent && ev.spent.nullifier == nullifier) return true;
    }
    return false;
  }
  Result<eth::U256> unit() override { return eth::U256(10'000'000'000'000'000ULL); }
  Result<eth::Address> token() override { return eth::Address(eth::Address::Raw{0x70}); }
  Result<eth::U256> token_balance(const eth::Address&) override { return eth::U256(0); }
  Result<eth::U256> token_allowance(const eth::Address&, const eth::Address&) override { return eth::U256(0); }

 private:
  struct Block {
    std::uint64_t number = 0;
    eth::Hash32 hash{};
    std::vector<TestTx> txs;
  };
  struct Pending {
    eth::Address from;
    std::uint64_t nonce = 0;
    eth::Bytes raw;
  };
  struct SendFailure {
    Status why;
    bool keep = false;
  };

  Status enter(const std::string& method) {
    ++calls_[method];
    return down_ ? *down_ : Status::ok();
  }
  std::uint64_t mine_locked(std::vector<TestTx> txs) {
    Block b;
    b.number = blocks_.size();
    b.hash = eth::keccak256("block " + std::to_string(b.number));
    std::uint64_t log_index = 0;
    for (TestTx& tx : txs) {
      pending_.erase(tx.hash);
      for (eth::PoolEvent& ev : tx.events) {
        ev.block_number = b.number;
        ev.block_hash = b.hash;
        ev.transaction_hash = tx.hash;
        ev.log_index = log_index++;
      }
      if (!tx.success) tx.events.clear();  // a reverted transaction leaves no logs
    }
    b.txs = std::move(txs);
    blocks_.push_back(std::move(b));
    return blocks_.back().number;
  }
  [[nodiscard]] bool known(const eth::Hash32& hash) const {
    for (const Block& b : blocks_) {
      for (const TestTx& tx : b.txs) {
        if (tx.hash == hash) return true;
      }
    }
    return false;
  }
  [[nodiscard]] std::uint64_t mined_nonce(const eth::Address& account) const {
    std::uint64_t n = 0;
    for (const Block& b : blocks_) {
      for (const TestTx& tx : b.txs) {
        if (tx.from == account) n = std::max(n, tx.nonce + 1);
      }
    }
    return n;
  }
  [[nodiscard]] std::vector<eth::PoolEvent> events_in(std::uint64_t from, std::uint64_t to) const {
    std::vector<eth::PoolEvent> out;
    for (std::uint64_t n = from; n <= to && n < blocks_.size(); ++n) {
      for (const TestTx& tx : blocks_[n].txs) out.insert(out.end(), tx.events.begin(), tx.events.end());
    }
    return out;
  }

  mutable std::mutex mu_;
  eth::Address pool_;
  eth::Address sender_;
  std::vector<Block> blocks_;
  std::map<eth::Hash32, Pending> pending_;
  std::vector<eth::SignedTransaction> sent_;
  std::map<std::string, std::size_t> calls_;
  std::vector<SendFailure> send_failures_;
  std::optional<Status> simulate_failure_;
  std::optional<Status> down_;
  eth::U256 base_fee_ = eth::U256(1'000'000'000);
  eth::U256 priority_fee_ = eth::U256(1'000'000'000);
};

}  // namespace bucketpay::testing
