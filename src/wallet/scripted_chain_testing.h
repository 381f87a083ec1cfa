// ScriptedChain: an eth::PoolChain for unit tests, on which a test plays the chain the wallet sees:
// blocks (each with a hash of its own fork and a timestamp: the test's clock when it was mined, or
// 12 s per block without one), the Pool's events per transaction, reorganisations,
// the wallet's sent transactions (mined with the outcome the test gives, left pending, or dropped),
// third parties' transactions, a node that lies (headers of another fork than its logs) and a node
// that stalls (a method that times out). Test code only: it evaluates nothing of the Pool; what a
// transaction does is what the test says it does.
//
// Thread safety: one thread at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/eth.h"
#include "bucketpay/pool_chain.h"

namespace bucketpay::testing {

// A transaction as the test scripts it: who sent it, with which nonce, whether it succeeded, and
// the Pool events it left (their block and transaction fields are filled in when it is mined).
struct ScriptedTx {
  eth::Hash32 hash{};
  eth::Address from;
  std::uint64_t nonce = 0;
  bool success = true;
  std::uint64_t gas_used = 100'000;
  std::vector<eth::PoolEvent> events;
  std::optional<std::string> revert_reason;  // a failed receipt's decoded reason
};

class ScriptedChain final : public eth::PoolChain {
 public:
  // A chain of `blocks` empty blocks (0 .. blocks-1) for the Pool at `pool`; transactions sent
  // through send_raw_transaction() are taken as sent by `sender` (the wallet's account).
  ScriptedChain(const eth::Address& pool, const eth::Address& sender, std::uint64_t blocks = 1, Clock* clock = nullptr)
      : pool_(pool), sender_(sender), clock_(clock) {
    for (std::uint64_t i = 0; i < blocks; ++i) mine();
  }

  // ---- building the chain

  // A new block on the head holding `txs` in order; its number.
  std::uint64_t mine(std::vector<ScriptedTx> txs = {}) {
    Block b;
    b.number = blocks_.size();
    b.hash = fresh_hash();
    b.timestamp =
        clock_ != nullptr ? static_cast<std::uint64_t>(clock_->unix_ms() / 1000) : 1'700'000'000 + 12 * b.number;
    if (!blocks_.empty()) b.timestamp = std::max(b.timestamp, blocks_.back().timestamp);
    b.txs = std::move(txs);
    for (const ScriptedTx& tx : b.txs) pending_.erase(tx.hash);
    blocks_.push_back(std::move(b));
    return blocks_.back().number;
  }
  void mine_empty(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) mine();
  }
  // Mines the pending transaction `hash` (sent by the wallet) alone in a new block, with `events`.
  std::uint64_t mine_sent(const eth::Hash32& hash, std::vector<eth::PoolEvent> events, bool success = true,
                          std::optional<std::string> revert_reason = std::nullopt) {
    const PendingTx& p = pending_.at(hash);
    ScriptedTx tx{hash, p.from, p.nonce, success, 100'000, std::move(events), std::move(revert_reason)};
    return mine({std::move(tx)});
  }
  // A reorganisation: the blocks from `number` on are replaced by `fresh` new empty blocks (new
  // hashes). The transactions of the replaced blocks are forgotten (not back in the node's pool).
  void reorg(std::uint64_t number, std::size_t fresh) {
    blocks_.resize(number);
    mine_empty(fresh);
  }
  // The node forgets a pending transaction.
  void drop(const eth::Hash32& hash) { pending_.erase(hash); }

  // ---- what the wallet did

  // Every signed transaction handed to send_raw_transaction(), in order (resends included).
  [[nodiscard]] const std::vector<eth::SignedTransaction>& sent() const { return sent_; }
  [[nodiscard]] bool is_pending(const eth::Hash32& hash) const { return pending_.count(hash) != 0; }
  // How many times a method was called.
  [[nodiscard]] std::size_t calls(const std::string& method) const {
    auto it = calls_.find(method);
    return it == calls_.end() ? 0 : it->second;
  }

  // ---- a node that misbehaves

  // Called at the start of every method with its name; a Status other than OK is answered instead
  // (a stalling node: Status::timeout). The hook may also change the chain (a reorganisation while
  // the wallet reads it). Not called again while it runs.
  std::function<Status(const std::string& method)> before_call;
  // Called after a transaction is taken into the pool by send_raw_transaction (the test mines it,
  // drops it, or lets a third party go first).
  std::function<void(const eth::SignedTransaction& tx)> on_sent;
  // The next `count` events() answers carry block hashes of another fork than header() gives.
  void answer_logs_from_another_fork(std::size_t count) { forked_logs_ = count; }
  // simulate() answers this failure (a payment that would revert).
  std::optional<Status> simulate_failure;
  // Token state for deposits.
  eth::U256 token_balance_ = eth::U256(0);
  eth::U256 token_allowance_ = eth::U256(0);

  // ---- eth::PoolChain

  [[nodiscard]] const eth::Address& pool() const override { return pool_; }
  Result<std::uint64_t> chain_id() override {
    return enter("chain_id", [&]() -> Result<std::uint64_t> { return 31337; });
  }
  Result<std::uint64_t> head() override {
    return enter("head", [&]() -> Result<std::uint64_t> { return blocks_.size() - 1; });
  }
  Result<std::optional<eth::BlockHeader>> header(std::uint64_t number) override {
    return enter("header", [&]() -> Result<std::optional<eth::BlockHeader>> {
      if (number >= blocks_.size()) return std::optional<eth::BlockHeader>();
      eth::BlockHeader h;
      h.number = number;
      h.hash = blocks_[number].hash;
      h.timestamp = blocks_[number].timestamp;
      if (number > 0) h.parent_hash = blocks_[number - 1].hash;
      return std::optional<eth::BlockHeader>(h);
    });
  }
  Result<std::vector<eth::PoolEvent>> events(std::uint64_t from, std::uint64_t to) override {
    return enter("events", [&]() -> Result<std::vector<eth::PoolEvent>> {
      std::vector<eth::PoolEvent> out = events_in(from, to);
      if (forked_logs_ > 0) {
        --forked_logs_;
        for (eth::PoolEvent& ev : out) ev.block_hash = eth::keccak256(std::span<const std::uint8_t>(ev.block_hash));
      }
      return out;
    });
  }
  Result<std::vector<eth::PoolEvent>> spends_of(std::span<const eth::U256> nullifiers, std::uint64_t from) override {
    return enter("spends_of", [&]() -> Result<std::vector<eth::PoolEvent>> {
      std::vector<eth::PoolEvent> out;
      for (const eth::PoolEvent& ev : events_in(from, blocks_.size() - 1)) {
        if (ev.kind != eth::PoolEvent::Kind::kSpent) continue;
        if (std::find(nullifiers.begin(), nullifiers.end(), ev.spent.nullifier) != nullifiers.end()) out.push_back(ev);
      }
      return out;
    });
  }
  Result<std::optional<eth::Receipt>> receipt(const eth::Hash32& hash) override {
    return enter("receipt", [&]() -> Result<std::optional<eth::Receipt>> {
      const Found f = find(hash);
      if (f.tx == nullptr) return std::optional<eth::Receipt>();
      eth::Receipt r;
      r.transaction_hash = hash;
      r.success = f.tx->success;
      r.block_number = f.block->number;
      r.block_hash = f.block->hash;
      r.from = f.tx->from;
      r.to = pool_;
      r.gas_used = f.tx->gas_used;
      if (!f.tx->success && f.tx->revert_reason) {
        abi::RevertReason reason;
        reason.kind = abi::RevertReason::Kind::kCustom;
        reason.message = *f.tx->revert_reason;
        r.revert_reason = reason;
      }
      return std::optional<eth::Receipt>(r);
    });
  }
  Result<std::optional<eth::Transaction>> transaction(const eth::Hash32& hash) override {
    return enter("transaction", [&]() -> Result<std::optional<eth::Transaction>> {
      eth::Transaction t;
      t.hash = hash;
      if (auto it = pending_.find(hash); it != pending_.end()) {
        t.from = it->second.from;
        t.nonce = it->second.nonce;
        return std::optional<eth::Transaction>(t);
      }
      const Found f = find(hash);
      if (f.tx == nullptr) return std::optional<eth::Transaction>();
      t.from = f.tx->from;
      t.nonce = f.tx->nonce;
      t.block_number = f.block->number;
      return std::optional<eth::Transaction>(t);
    });
  }
  Result<std::uint64_t> nonce(const eth::Address& account, NonceKind kind) override {
    return enter("nonce", [&]() -> Result<std::uint64_t> {
      std::uint64_t n = mined_nonce(account);
      if (kind == NonceKind::kPending) {
        for (const auto& [hash, p] : pending_) {
          if (p.from == account) n = std::max(n, p.nonce + 1);
        }
      }
      return n;
    });
  }
  Result<eth::Hash32> send_raw_transaction(const eth::SignedTransaction& tx) override {
    Result<eth::Hash32> r = enter("send_raw_transaction", [&]() -> Result<eth::Hash32> {
      sent_.push_back(tx);
      if (find(tx.hash).tx != nullptr || pending_.count(tx.hash) != 0) return tx.hash;  // known: accepted
      if (tx.nonce < mined_nonce(sender_)) {
        return Status::failed_precondition("rpc error -32003: nonce too low (eth_sendRawTransaction)");
      }
      pending_[tx.hash] = PendingTx{sender_, tx.nonce};
      return tx.hash;
    });
    if (r.ok() && on_sent && pending_.count(tx.hash) != 0) on_sent(tx);
    return r;
  }
  Result<eth::Fees> fees() override {
    return enter("fees", [&]() -> Result<eth::Fees> {
      return eth::Fees{eth::U256(3'000'000'000), eth::U256(1'000'000'000), eth::U256(1'000'000'000)};
    });
  }
  Result<std::uint64_t> estimate_gas(const eth::Address&, const eth::Address&, std::span<const std::uint8_t>) override {
    return enter("estimate_gas", [&]() -> Result<std::uint64_t> { return 200'000; });
  }
  Status simulate(const eth::Address&, std::string_view function, std::span<const std::uint8_t>) override {
    return enter("simulate",
                 [&]() -> Result<bool> {
                   if (simulate_failure) {
                     return Status(simulate_failure->code(),
                                   "Pool." + std::string(function) + " reverted: " + simulate_failure->message());
                   }
                   return true;
                 })
        .status();
  }
  Result<bool> is_spent(const eth::U256& nullifier) override {
    return enter("is_spent", [&]() -> Result<bool> {
      for (const eth::PoolEvent& ev : events_in(0, blocks_.size() - 1)) {
        if (ev.kind == eth::PoolEvent::Kind::kSpent && ev.spent.nullifier == nullifier) return true;
      }
      return false;
    });
  }
  Result<eth::U256> unit() override {
    return enter("unit", [&]() -> Result<eth::U256> { return eth::U256(10'000); });
  }
  Result<eth::Address> token() override {
    return enter("token", [&]() -> Result<eth::Address> { return eth::Address(eth::Address::Raw{0x70}); });
  }
  Result<eth::U256> token_balance(const eth::Address&) override {
    return enter("token_balance", [&]() -> Result<eth::U256> { return token_balance_; });
  }
  Result<eth::U256> token_allowance(const eth::Address&, const eth::Address&) override {
    return enter("token_allowance", [&]() -> Result<eth::U256> { return token_allowance_; });
  }

 private:
  struct Block {
    std::uint64_t number = 0;
    eth::Hash32 hash{};
    std::uint64_t timestamp = 0;
    std::vector<ScriptedTx> txs;
  };
  struct PendingTx {
    eth::Address from;
    std::uint64_t nonce = 0;
  };
  struct Found {
    const Block* block = nullptr;
    const ScriptedTx* tx = nullptr;
  };

  template <typename F>
  auto enter(const std::string& method, F&& body) -> decltype(body()) {
    ++calls_[method];
    if (before_call && !in_hook_) {
      in_hook_ = true;
      Status st = before_call(method);
      in_hook_ = false;
      if (!st.is_ok()) return st;
    }
    return body();
  }

  eth::Hash32 fresh_hash() {
    ++hashes_;
    const std::string seed = "scripted block " + std::to_string(hashes_);
    return eth::keccak256(seed);
  }

  [[nodiscard]] Found find(const eth::Hash32& hash) const {
    for (const Block& b : blocks_) {
      for (const ScriptedTx& tx : b.txs) {
        if (tx.hash == hash) return Found{&b, &tx};
      }
    }
    return {};
  }

  [[nodiscard]] std::uint64_t mined_nonce(const eth::Address& account) const {
    std::uint64_t n = 0;
    for (const Block& b : blocks_) {
      for (const ScriptedTx& tx : b.txs) {
        if (tx.from == account) n = std::max(n, tx.nonce + 1);
      }
    }
    return n;
  }

  [[nodiscard]] std::vector<eth::PoolEvent> events_in(std::uint64_t from, std::uint64_t to) const {
    std::vector<eth::PoolEvent> out;
    for (std::uint64_t n = from; n <= to && n < blocks_.size(); ++n) {
      std::uint64_t log_index = 0;
      for (const ScriptedTx& tx : blocks_[n].txs) {
        if (!tx.success) continue;  // a reverted transaction leaves no logs
        for (eth::PoolEvent ev : tx.events) {
          ev.block_number = n;
          ev.block_hash = blocks_[n].hash;
          ev.transaction_hash = tx.hash;
          ev.log_index = log_index++;
          ev.inserted.block_number = n;
          ev.inserted.transaction_hash = tx.hash;
          ev.inserted.log_index = ev.log_index;
          out.push_back(ev);
        }
      }
    }
    return out;
  }

  eth::Address pool_;
  eth::Address sender_;
  Clock* clock_;
  std::vector<Block> blocks_;
  std::map<eth::Hash32, PendingTx> pending_;
  std::vector<eth::SignedTransaction> sent_;
  std::map<std::string, std::size_t> calls_;
  std::size_t forked_logs_ = 0;
  std::uint64_t hashes_ = 0;
  bool in_hook_ = false;
};

}  // namespace bucketpay::testing
