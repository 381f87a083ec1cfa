#include "chain_indexer.h"

#include <algorithm>
#include <map>
#include <set>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "wallet_util.h"

namespace bucketpay {

using wallet_util::fr_key;
using wallet_util::to_fr;

namespace {

// The root a precompute's statement names (zero when it states nothing readable: never known).
Fr root_of(const Precompute& p) {
  if (p.circuit == CircuitKind::kSpend) {
    auto s = SpendStatement::from_public_inputs(p.public_inputs);
    return s.ok() ? s->root : Fr::zero();
  }
  auto s = SplitStatement::from_public_inputs(p.public_inputs);
  return s.ok() ? s->root : Fr::zero();
}

}  // namespace

ChainIndexer::ChainIndexer(IndexerStores stores, eth::PoolChain& chain, MerkleTree& tree, const Fr& sk,
                           IndexerOptions options)
    : notes_(stores.notes),
      proofs_(stores.proofs),
      index_(stores.index),
      journal_(stores.journal),
      chain_(chain),
      tree_(tree),
      sk_(sk),
      options_(std::move(options)) {
  options_.log_range = std::max<std::uint64_t>(options_.log_range, 1);
  options_.max_passes = std::max<std::size_t>(options_.max_passes, 1);
}

Status ChainIndexer::reload_tree() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Fr> leaves, notes_.load_leaves());
  tree_ = MerkleTree();
  return tree_.append_many(leaves).status();
}

Status ChainIndexer::refresh_tree() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t count, notes_.leaf_count());
  return count == tree_.size() ? Status::ok() : reload_tree();
}

Status ChainIndexer::fail(const Status& st) {
  Status reload = reload_tree();
  return reload.is_ok() ? st : reload;
}

Result<SyncReport> ChainIndexer::sync() {
  SyncReport report;
  for (std::size_t attempt = 1; attempt <= options_.max_passes; ++attempt) {
    BUCKETPAY_ASSIGN_OR_RETURN(const Pass outcome, pass(report));
    if (outcome == Pass::kDone) return report;
  }
  return Status::unavailable("the node's logs and block hashes kept describing different chains (" +
                             std::to_string(options_.max_passes) +
                             " passes); nothing of the disputed range was kept: sync again later");
}

Result<ChainIndexer::Pass> ChainIndexer::pass(SyncReport& report) {
  BUCKETPAY_RETURN_IF_ERROR(refresh_tree());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t head, chain_.head());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<BlockRef> cursor, follow_reorganisation(report));
  // Proofs made under a root that is gone (a reorganisation; also one that a crash interrupted
  // after its rollback) can never be accepted: drop them, the next inventory run proves again.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::size_t dropped, drop_proofs_under_unknown_roots());
  report.precomputes_dropped += dropped;

  const std::uint64_t confirmed = head >= options_.confirmations ? head - options_.confirmations : 0;
  std::uint64_t from = cursor ? cursor->number + 1 : options_.start_block;
  report.to_block = cursor ? cursor->number : 0;
  if (from > confirmed) return Pass::kDone;
  if (report.from_block == 0) report.from_block = from;
  BUCKETPAY_ASSIGN_OR_RETURN(Watch w, watch(from));
  std::optional<BlockRef> previous = cursor;
  while (from <= confirmed) {
    const std::uint64_t to = std::min(confirmed, from + options_.log_range - 1);
    BUCKETPAY_ASSIGN_OR_RETURN(const Pass outcome, index_range(from, to, previous, w, report));
    if (outcome == Pass::kChainChanged) return outcome;
    from = to + 1;
  }
  return Pass::kDone;
}

Result<std::optional<BlockRef>> ChainIndexer::follow_reorganisation(SyncReport& report) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<BlockRef> cursor, index_.sync_cursor());
  if (!cursor) return cursor;
  auto header = chain_.header(cursor->number);
  if (!header.ok()) return header.status().with_context("reading block " + std::to_string(cursor->number));
  if (header->has_value() && (*header)->hash == cursor->hash) return cursor;
  // A reorganisation below the cursor.
  BUCKETPAY_ASSIGN_OR_RETURN(const BlockRef fork, fork_point());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t proofs_before, proofs_.count_precomputes());
  const Status rolled = index_.rollback_chain(fork);
  if (!rolled.is_ok()) return rolled.with_context("rolling back a reorganisation");
  report.reorg_depth += cursor->number - fork.number;
  BUCKETPAY_RETURN_IF_ERROR(reload_tree());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t proofs_after, proofs_.count_precomputes());
  report.precomputes_dropped += static_cast<std::size_t>(proofs_before - proofs_after);
  return index_.sync_cursor();
}

Result<BlockRef> ChainIndexer::fork_point() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<BlockRef> recent, index_.recent_blocks(options_.reorg_search));
  for (const BlockRef& b : recent) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::BlockHeader> h, chain_.header(b.number));
    if (h && h->hash == b.hash) return b;
  }
  // Nothing remembered survives: start over from before the Pool's deployment.
  const std::uint64_t n = options_.start_block > 0 ? options_.start_block - 1 : 0;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::BlockHeader> h, chain_.header(n));
  if (!h) return Status::failed_precondition("the node has no block " + std::to_string(n));
  return BlockRef{n, h->hash};
}

Result<std::size_t> ChainIndexer::drop_proofs_under_unknown_roots() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Fr> roots, index_.known_roots());
  std::set<std::string> known;
  for (const Fr& r : roots) known.insert(fr_key(r));
  std::size_t dropped = 0;
  for (const CircuitKind circuit : kCircuitKinds) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Precompute> pre, proofs_.list_precomputes_by_circuit(circuit));
    for (const Precompute& p : pre) {
      if (known.count(fr_key(root_of(p))) != 0) continue;
      BUCKETPAY_RETURN_IF_ERROR(proofs_.delete_precompute(p.key));
      ++dropped;
    }
  }
  return dropped;
}

Result<ChainIndexer::Watch> ChainIndexer::watch(std::uint64_t from) {
  Watch w;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, notes_.list_notes(options_.wallet, std::nullopt));
  for (const StoredNote& n : notes) {
    if (n.state == NoteState::kSpent) continue;
    if (n.state == NoteState::kPending) w.pending_by_commitment.emplace(fr_key(n.commitment), n.id);
    w.by_nullifier.emplace(fr_key(wallet_util::note_nullifier(sk_, n)), n.id);
  }
  // Seed mode's splits hold their change note only in the precompute (one per bucket, of which at
  // most one can land): watched for here, made a note of the wallet's when its leaf shows up.
  std::set<std::int64_t> unspent;
  for (const StoredNote& n : notes) {
    if (n.state != NoteState::kSpent) unspent.insert(n.id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Precompute> splits,
                             proofs_.list_precomputes_by_circuit(CircuitKind::kSplit));
  for (const Precompute& p : splits) {
    if (unspent.count(p.note_id) == 0) continue;  // another wallet's, or spent
    BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Note> outputs, split_precompute_outputs(p));
    for (const Note& change : outputs) {
      std::string key = fr_key(change.commitment());
      if (w.pending_by_commitment.count(key) == 0) w.seed_changes.emplace(std::move(key), change);
    }
  }
  // Payments confirmed from their receipt in blocks the sync has not reached yet: a reorganisation
  // that stays above the cursor can still take them away (see reopen_vanished).
  BUCKETPAY_ASSIGN_OR_RETURN(w.confirmed_ahead, journal_.list_payments(options_.wallet, PaymentState::kConfirmed));
  std::erase_if(w.confirmed_ahead, [&](const Payment& p) { return p.block < from; });
  return w;
}

Result<ChainIndexer::Pass> ChainIndexer::index_range(std::uint64_t from, std::uint64_t to,
                                                     std::optional<BlockRef>& previous, Watch& w, SyncReport& report) {
  auto events = chain_.events(from, to);
  if (!events.ok()) {
    return events.status().with_context("reading the Pool's events of blocks " + std::to_string(from) + "-" +
                                        std::to_string(to));
  }
  BUCKETPAY_RETURN_IF_ERROR(reopen_vanished(from, to, *events, w, report));
  ChainUpdate update;
  if (Status st = collect(*events, w, update); !st.is_ok()) return fail(st);
  auto consistent = collect_blocks(to, previous, *events, update);
  if (!consistent.ok()) return fail(consistent.status());
  if (!*consistent) {
    // The logs and the block hashes are of different chains: read the range again, next pass.
    BUCKETPAY_RETURN_IF_ERROR(reload_tree());
    return Pass::kChainChanged;
  }
  if (Status st = index_.apply_chain_update(update); !st.is_ok()) return fail(st);
  report.leaves += update.leaves.size();
  report.notes_landed += update.note_leaves.size();
  report.notes_spent += update.spent.size();
  report.to_block = to;
  previous = update.cursor;
  return Pass::kDone;
}

Status ChainIndexer::reopen_vanished(std::uint64_t from, std::uint64_t to, const std::vector<eth::PoolEvent>& events,
                                     Watch& w, SyncReport& report) {
  // Every Pool transaction leaves events: a payment without any in the range that should hold its
  // block was reorganised away. Reopened before the cursor moves past it (a crash in between reads
  // the range again), it is looked up, sent again or failed by the journal.
  std::set<std::string> tx_hashes;
  for (const eth::PoolEvent& ev : events) tx_hashes.insert(eth::to_hex(ev.transaction_hash));
  for (const Payment& p : w.confirmed_ahead) {
    if (p.block < from || p.block > to) continue;
    const std::string& hash = p.settled_by.empty() ? p.tx_hash : p.settled_by;
    if (tx_hashes.count(hash) != 0) continue;
    BUCKETPAY_RETURN_IF_ERROR(journal_.reopen_payment(p.id));
    ++report.payments_reopened;
  }
  std::erase_if(w.confirmed_ahead, [&](const Payment& p) { return p.block >= from && p.block <= to; });
  return Status::ok();
}

Status ChainIndexer::collect(const std::vector<eth::PoolEvent>& events, Watch& w, ChainUpdate& update) {
  std::vector<Fr> tx_leaves;  // the current transaction's leaves, not yet in the tree
  for (std::size_t i = 0; i < events.size(); ++i) {
    const eth::PoolEvent& ev = events[i];
    if (ev.kind == eth::PoolEvent::Kind::kInserted) {
      BUCKETPAY_RETURN_IF_ERROR(collect_inserted(events, i, tx_leaves, w, update));
      continue;
    }
    if (ev.kind != eth::PoolEvent::Kind::kSpent) continue;  // Paid: the payment's total, nothing of a note
    auto f = to_fr(ev.spent.nullifier);
    if (!f.ok()) continue;  // not a nullifier of ours
    if (auto it = w.by_nullifier.find(fr_key(*f)); it != w.by_nullifier.end()) {
      update.spent.push_back({it->second, ev.block_number});
      w.by_nullifier.erase(it);
    }
  }
  return Status::ok();
}

Status ChainIndexer::collect_inserted(const std::vector<eth::PoolEvent>& events, std::size_t i,
                                      std::vector<Fr>& tx_leaves, Watch& w, ChainUpdate& update) {
  const eth::PoolEvent& ev = events[i];
  const std::uint64_t expected = tree_.size() + tx_leaves.size();
  if (ev.inserted.leaf_index != expected) {
    return Status::corruption("Pool event: leaf " + std::to_string(ev.inserted.leaf_index) +
                              " inserted, the wallet expected leaf " + std::to_string(expected));
  }
  auto leaf = to_fr(ev.inserted.commitment);
  auto root = to_fr(ev.inserted.root);
  if (!leaf.ok() || !root.ok()) return Status::corruption("Pool event: a value is not a field element");
  tx_leaves.push_back(*leaf);
  update.leaves.push_back(ChainLeaf{expected, *leaf, ev.block_number, *root});
  if (auto change = w.seed_changes.find(fr_key(*leaf)); change != w.seed_changes.end()) {
    // A seed-mode split landed: its change becomes the wallet's pending note now (kept if the range
    // is not applied: it is on its way), and lands with the range like any other.
    Result<std::int64_t> id = wallet_util::insert_pending_note(notes_, options_.wallet, change->second);
    if (!id.ok() && id.status().code() != StatusCode::kAlreadyExists) {
      return id.status().with_context("recording the change of a seed-mode split");
    }
    if (id.ok()) w.pending_by_commitment.emplace(change->first, *id);
    if (!id.ok()) {
      BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> same, notes_.find_notes_by_commitment(*leaf));
      for (const StoredNote& n : same) {
        if (!n.leaf_index && n.wallet == options_.wallet) w.pending_by_commitment.emplace(change->first, n.id);
      }
    }
    w.seed_changes.erase(change);
  }
  if (auto it = w.pending_by_commitment.find(fr_key(*leaf)); it != w.pending_by_commitment.end()) {
    update.note_leaves.push_back({it->second, expected});
    w.pending_by_commitment.erase(it);
  }
  // The event's root is the root after its whole transaction: checked at the transaction's last
  // insert, after its leaves go in together (the tree hashes each level of them in one batch).
  const bool last_of_tx = i + 1 == events.size() || events[i + 1].kind != eth::PoolEvent::Kind::kInserted ||
                          events[i + 1].transaction_hash != ev.transaction_hash;
  if (!last_of_tx) return Status::ok();
  BUCKETPAY_RETURN_IF_ERROR(tree_.append_many(tx_leaves).status());
  tx_leaves.clear();
  if (tree_.root() != *root) {
    return Status::corruption("the Pool's root after leaf " + std::to_string(expected) +
                              " differs from the wallet's tree");
  }
  return Status::ok();
}

Result<bool> ChainIndexer::collect_blocks(std::uint64_t to, const std::optional<BlockRef>& previous,
                                          const std::vector<eth::PoolEvent>& events, ChainUpdate& update) {
  // The logs and the block hashes must describe one chain, the one that holds the cursor: a
  // reorganisation between the requests shows as a hash that differs.
  if (previous) {
    auto b = chain_.header(previous->number);
    if (!b.ok()) return b.status().with_context("reading block " + std::to_string(previous->number));
    if (!b->has_value() || (*b)->hash != previous->hash) return false;
  }
  std::map<std::uint64_t, eth::Hash32> event_blocks;
  for (const eth::PoolEvent& ev : events) event_blocks.emplace(ev.block_number, ev.block_hash);
  bool consistent = true;
  for (const auto& [number, hash] : event_blocks) {
    auto b = chain_.header(number);
    if (!b.ok()) return b.status().with_context("reading block " + std::to_string(number));
    if (!b->has_value() || (*b)->hash != hash) consistent = false;
    update.blocks.push_back(BlockRef{number, hash});
  }
  auto last = chain_.header(to);
  if (!last.ok()) return last.status().with_context("reading block " + std::to_string(to));
  if (!last->has_value()) return Status::failed_precondition("the node lost block " + std::to_string(to));
  update.cursor = BlockRef{to, (*last)->hash};
  if (event_blocks.count(to) == 0) update.blocks.push_back(update.cursor);
  return consistent;
}

}  // namespace bucketpay
