// ChainIndexer: follows the Pool's events into the store (the wallet's sync, without the journal).
//
// A sync reads the events of [cursor + 1, head - confirmations] in ranges of `log_range` blocks and
// applies each range in one store transaction (ChainUpdate): the leaves, checked against the root
// each Inserted event carries (the tree after the event's whole transaction); the wallet's pending
// notes whose commitment became a leaf, and the change note of one of the wallet's seed-mode split
// precomputes when it becomes a leaf (whoever sent the split: recorded as a pending note of the
// wallet just before the range is applied, so it lands with it); the wallet's notes whose nullifier
// a Spent event carries; the blocks seen,
// remembered to detect reorganisations; the new cursor. Nothing of a range is kept unless all of it is: an error leaves
// the store at the end of the last whole range and the tree equal to the store's leaves.
//
// Reorganisations. Below the cursor: the cursor's block hash differs from the node's; the indexer
// walks back through the remembered blocks (newest first, at most `reorg_search` of them) to the
// newest one still on the chain, or, when none is, to the block before start_block; rolls the store
// back to it (ChainIndexStore::rollback_chain) and reloads the tree. Above the cursor: a payment
// confirmed from its receipt in a block the sync has not reached yet, whose transaction left no
// event in the range holding its block, was reorganised away: it is reopened
// (PaymentJournal::reopen_payment) for the sender to look up again. Precomputes made under a root
// the store no longer knows are dropped.
//
// A chain that changes while it is read (the logs and the block hashes disagree, or the cursor's
// block is gone by the time a range is read: a reorganisation between two requests, or a node that
// answers from two forks) ends the pass; the next pass starts
// again from the cursor, at most `max_passes` in all, then the sync fails with kUnavailable. The
// report adds up every pass: what was applied, rolled back, dropped and reopened is all in it.
//
// Errors: the node's (kUnavailable, kTimeout with the call that timed out, ...), kCorruption for
// events that contradict the wallet's tree (a wrong root, a leaf out of order), the store's.
//
// Thread safety: one thread at a time; the tree is the wallet's (shared with its engine), not used
// by anyone else during a sync.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"

namespace bucketpay {

struct IndexerOptions {
  std::string wallet;               // whose notes and payments
  std::uint64_t start_block = 0;    // the Pool's deployment block: where the first sync starts
  std::uint64_t confirmations = 2;  // blocks on top of a block before it is read
  std::uint64_t log_range = 1000;   // blocks per events() request (at least 1)
  std::size_t reorg_search = 1024;  // remembered blocks searched for a fork point
  std::size_t max_passes = 4;       // passes over a chain that keeps changing before giving up
};

// The roles of the store the indexer uses: the leaves and the wallet's notes, the proofs it drops
// when their root is gone, the chain's view (cursor, blocks, roots), and the journal's payments it
// reopens. A whole Store converts to them.
struct IndexerStores {
  NoteStore& notes;
  ProofStore& proofs;
  ChainIndexStore& index;
  PaymentJournal& journal;

  IndexerStores(NoteStore& n, ProofStore& p, ChainIndexStore& i, PaymentJournal& j)
      : notes(n), proofs(p), index(i), journal(j) {}
  IndexerStores(Store& store) : IndexerStores(store, store, store, store) {}  // NOLINT(google-explicit-constructor)
};

class ChainIndexer {
 public:
  // `stores`, `chain` and `tree` outlive the indexer; `sk` derives the wallet's nullifiers.
  ChainIndexer(IndexerStores stores, eth::PoolChain& chain, MerkleTree& tree, const Fr& sk, IndexerOptions options);

  // Syncs up to head - confirmations (see above). Fills every field of the report but
  // payments_settled (the journal's).
  Result<SyncReport> sync();
  // Rebuilds the tree from the store's leaves.
  Status reload_tree();
  // Makes the tree equal the store's leaves when their count differs (another process synced or
  // rolled back): one query when nothing changed.
  Status refresh_tree();
  // The wallet's tree (the store's leaves), shared with its engine.
  [[nodiscard]] MerkleTree& tree() { return tree_; }

 private:
  enum class Pass : std::uint8_t { kDone, kChainChanged };
  // The wallet's unspent notes and payments, as one pass needs them.
  struct Watch {
    std::unordered_map<std::string, std::int64_t> pending_by_commitment;
    // The change notes the wallet's stored seed-mode splits would create, by commitment: alternatives
    // (one per bucket, at most one can land), recorded as a note only when one does.
    std::unordered_map<std::string, Note> seed_changes;
    std::unordered_map<std::string, std::int64_t> by_nullifier;
    std::vector<Payment> confirmed_ahead;  // confirmed in blocks the sync has not reached
  };

  Result<Pass> pass(SyncReport& report);
  // Rolls back to the fork point when the cursor's block is gone; the cursor afterwards.
  Result<std::optional<BlockRef>> follow_reorganisation(SyncReport& report);
  Result<BlockRef> fork_point();
  Result<std::size_t> drop_proofs_under_unknown_roots();
  Result<Watch> watch(std::uint64_t from);
  // One range on top of `previous` (the cursor so far; it moves to `to` when the range is applied).
  Result<Pass> index_range(std::uint64_t from, std::uint64_t to, std::optional<BlockRef>& previous, Watch& watch,
                           SyncReport& report);
  Status reopen_vanished(std::uint64_t from, std::uint64_t to, const std::vector<eth::PoolEvent>& events, Watch& watch,
                         SyncReport& report);
  // The range's leaves, landed and spent notes into `update`; the tree takes the leaves (the caller
  // reloads it when the range is not applied).
  Status collect(const std::vector<eth::PoolEvent>& events, Watch& watch, ChainUpdate& update);
  Status collect_inserted(const std::vector<eth::PoolEvent>& events, std::size_t i, std::vector<Fr>& tx_leaves,
                          Watch& watch, ChainUpdate& update);
  // The blocks of the events, checked against the node's headers, and the cursor `to`; false when
  // the logs and the headers describe different chains, or the chain no longer holds `previous`.
  Result<bool> collect_blocks(std::uint64_t to, const std::optional<BlockRef>& previous,
                              const std::vector<eth::PoolEvent>& events, ChainUpdate& update);
  // `st`, after putting the tree back to the store's leaves.
  Status fail(const Status& st);

  NoteStore& notes_;
  ProofStore& proofs_;
  ChainIndexStore& index_;
  PaymentJournal& journal_;
  eth::PoolChain& chain_;
  MerkleTree& tree_;
  Fr sk_;
  IndexerOptions options_;
};

}  // namespace bucketpay
