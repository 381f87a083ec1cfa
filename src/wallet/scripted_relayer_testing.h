// ScriptedRelayer: an eth::RelayerClient for unit tests, over a ScriptedChain: it quotes a fee, takes
// bundles after the checks a relayer makes (the wire format round trip, its chain and Pool, its fee
// recipient, a fee at least its quote, a deadline ahead, every signature by its proof's auth),
// keeps one transaction per digest pending until the test mines it, and answers the status of a
// digest. The test scripts the rest: a refusal, a relayer that takes a bundle and then times out,
// a transaction the node drops (handed over again, it is sent again, byte for byte the same
// payment), a third party replaying a bundle first. Test code only: it proves nothing and runs no
// Pool; what a mined transaction emits is what `events_for` says.
//
// Thread safety: one thread at a time.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/relay_api.h"
#include "bucketpay/relayer_client.h"
#include "scripted_chain_testing.h"

namespace bucketpay::testing {

class ScriptedRelayer final : public eth::RelayerClient {
 public:
  // The Pool events a bundle's transaction emits, computed when it is mined (a split's Inserted
  // events carry the root after its outputs: the test's model of the Pool's tree).
  using EventsFor =
      std::function<std::vector<eth::PoolEvent>(const eth::RelayBundle& bundle, const eth::Hash32& digest)>;

  ScriptedRelayer(ScriptedChain& chain, Clock& clock, eth::PaymentDomain domain, EventsFor events_for)
      : chain_(chain), clock_(clock), domain_(std::move(domain)), events_for_(std::move(events_for)) {}

  // ---- what the relayer charges
  std::string url_ = "http://relayer.test";
  eth::Address fee_recipient = *eth::Address::from_string("0x000000000000000000000000000000000000fee5");
  eth::U256 base_fee = eth::U256(25'000);  // base units (UNIT 10,000 a cent: 2.5 cents)
  eth::U256 fee_per_note = eth::U256(10'000);
  std::int64_t validity_s = 60;

  // ---- what the test scripts
  // Answered by submit() instead of taking the bundle (a refusal: kFailedPrecondition; a relayer
  // that cannot be reached: kUnavailable).
  std::optional<Status> refuse;
  // submit() takes the bundle (its transaction pending) and then answers kTimeout.
  bool time_out_after_taking = false;
  // status() answers this instead (a relayer that cannot be reached).
  std::optional<Status> status_failure;
  // Called at the start of quote() and submit() (e.g. to let the test's clock run: a slow relayer).
  std::function<void()> before_quote;
  std::function<void()> before_submit;

  // ---- what happened
  std::size_t quotes = 0;                  // quote() calls
  std::size_t posts = 0;                   // submit() calls
  std::vector<eth::RelayBundle> received;  // the bundles taken, in order (again when re-posted)

  // Mines the pending transactions (one block, in the order they were taken); the block's number,
  // or none when nothing was pending.
  std::optional<std::uint64_t> mine() {
    std::vector<ScriptedTx> txs;
    for (const eth::Hash32& digest : order_) {
      Entry& e = entries_.at(digest);
      if (!e.pending) continue;
      txs.push_back(ScriptedTx{e.tx_hash, fee_recipient, nonce_++, true, 400'000, events_for_(e.bundle, digest), {}});
      e.pending = false;
      e.mined = true;
    }
    if (txs.empty()) return std::nullopt;
    return chain_.mine(std::move(txs));
  }
  // After a reorganisation: every transaction of the relayer's that the chain no longer holds is
  // pending again (a relayer sends it again, byte for byte).
  void resend_lost() {
    for (auto& [digest, e] : entries_) {
      if (!e.mined) continue;
      auto r = chain_.receipt(e.tx_hash);
      if (r.ok() && !r->has_value()) {
        e.mined = false;
        e.pending = true;
      }
    }
  }
  // The node drops every pending transaction of the relayer (it has the bundles still).
  void drop_pending() {
    for (auto& [digest, e] : entries_) e.pending = false;
  }
  // A third party sends a copy of `bundle` from its own account, mined at once in a block.
  std::uint64_t replay(const eth::RelayBundle& bundle, const eth::Address& from) {
    const eth::Hash32 digest = bundle.digest();
    const eth::Hash32 hash = eth::keccak256("replay of " + eth::to_hex(digest));
    return chain_.mine({ScriptedTx{hash, from, 0, true, 400'000, events_for_(bundle, digest), {}}});
  }
  [[nodiscard]] bool knows(const eth::Hash32& digest) const { return entries_.count(digest) != 0; }
  // The relayer loses a payment it was handed (a restart without its journal): unknown from now on.
  void forget(const eth::Hash32& digest) {
    if (entries_.erase(digest) != 0) order_.erase(std::find(order_.begin(), order_.end(), digest));
  }

  // ---- eth::RelayerClient

  [[nodiscard]] const std::string& url() const override { return url_; }

  Result<eth::RelayQuote> quote(eth::BundleKind kind, std::uint32_t notes) override {
    ++quotes;
    if (before_quote) before_quote();
    eth::RelayQuote q;
    q.kind = kind;
    q.notes = notes;
    q.fee = fee_for(kind, notes);
    q.fee_recipient = fee_recipient;
    q.chain_id = domain_.chain_id.low_u64();
    q.pool = domain_.pool;
    q.gas = 400'000 * notes;
    q.gas_price = eth::U256(1'000'000'000);
    q.valid_until = clock_.unix_ms() / 1000 + validity_s;
    return q;
  }

  Result<eth::RelayStatus> submit(const eth::RelayBundle& sent, const eth::Hash32& digest) override {
    ++posts;
    if (before_submit) before_submit();
    if (refuse) return *refuse;
    // What goes over the wire, read back as the relayer reads it.
    BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayBundle bundle, eth::decode_bundle(eth::encode_bundle(sent)));
    if (bundle.digest() != digest) return Status::internal("the wallet's digest is not its bundle's");
    auto refused = [](const std::string& why) {
      return Status::failed_precondition("the relayer at http://relayer.test refused the payment (HTTP 422): " + why);
    };
    if (bundle.domain() != domain_) return refused("not this relayer's chain and Pool");
    if (bundle.payment.fee_recipient != fee_recipient) return refused("fee_recipient is not the relayer's");
    const std::uint32_t notes =
        bundle.kind == eth::BundleKind::kSpendBatch ? static_cast<std::uint32_t>(bundle.spends.size()) : 1;
    if (bundle.payment.fee < fee_for(bundle.kind, notes)) return refused("fee below the quote");
    if (bundle.payment.deadline <= eth::U256(static_cast<std::uint64_t>(clock_.unix_ms() / 1000))) {
      return refused("deadline passed");
    }
    if (Status st = eth::verify_bundle_signatures(bundle); !st.is_ok()) return refused(st.message());
    received.push_back(bundle);
    auto [it, fresh] = entries_.try_emplace(digest);
    Entry& e = it->second;
    if (fresh) {
      e.bundle = bundle;
      e.tx_hash = eth::keccak256("relayed " + eth::to_hex(digest));
      order_.push_back(digest);
    }
    // One transaction per digest ever: a dropped one is sent again, the same payment.
    if (!e.mined) e.pending = true;
    if (time_out_after_taking) return Status::timeout("no answer from the relayer at http://relayer.test");
    return status_of(digest, e);
  }

  Result<std::optional<eth::RelayStatus>> status(const eth::Hash32& digest) override {
    if (status_failure) return *status_failure;
    auto it = entries_.find(digest);
    if (it == entries_.end()) return std::optional<eth::RelayStatus>();
    return std::optional<eth::RelayStatus>(status_of(digest, it->second));
  }

 private:
  struct Entry {
    eth::RelayBundle bundle;
    eth::Hash32 tx_hash{};
    bool pending = false;
    bool mined = false;
  };

  eth::U256 fee_for(eth::BundleKind kind, std::uint32_t notes) const {
    return kind == eth::BundleKind::kSplit ? base_fee + fee_per_note * eth::U256(3)
                                           : base_fee + fee_per_note * eth::U256(notes);
  }
  static eth::RelayStatus status_of(const eth::Hash32& digest, const Entry& e) {
    eth::RelayStatus s;
    s.digest = digest;
    s.state = e.mined ? eth::RelayState::kMined : eth::RelayState::kSubmitted;
    s.tx_hash = e.tx_hash;
    return s;
  }

  ScriptedChain& chain_;
  Clock& clock_;
  eth::PaymentDomain domain_;
  EventsFor events_for_;
  std::map<eth::Hash32, Entry> entries_;
  std::vector<eth::Hash32> order_;
  std::uint64_t nonce_ = 0;
};

}  // namespace bucketpay::testing
