// The chain indexer on a scripted chain (no node): ranges, reorganisations of depth 1, several and
// deeper than the blocks it remembers, a node that lies (a wrong root; logs and headers of different
// forks) or stalls, a chain that keeps changing, and a report that keeps every pass.
#include "chain_indexer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "parts_testing.h"

namespace bucketpay::testing {
namespace {

using ChainIndexerTest = WalletParts;

// The wallet's tree is the store's leaves and the Pool's tree on the chain as played.
void expect_trees_agree(Store& store, const MerkleTree& wallet_tree, const MerkleTree& pool_tree) {
  EXPECT_EQ(must(store.leaf_count()), wallet_tree.size());
  EXPECT_EQ(wallet_tree.size(), pool_tree.size());
  EXPECT_EQ(wallet_tree.root(), pool_tree.root());
}

TEST_F(ChainIndexerTest, SyncsLeavesNotesAndSpendsRangeByRange) {
  make_indexer({.log_range = 2});
  const std::vector<Note> first = {pending_note(4), pending_note(2)};
  chain_->mine({deposit_tx(first)});                                       // block 2
  chain_->mine({third_party_tx(inserted({Fr::random(), Fr::random()}))});  // 3: someone else's notes
  chain_->mine_empty(1);                                                   // 4
  const Note later = pending_note(1);
  chain_->mine({deposit_tx({later})});  // 5
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->from_block, kStartBlock);
  EXPECT_EQ(r->to_block, 5U);
  EXPECT_EQ(r->leaves, 5U);
  EXPECT_EQ(r->notes_landed, 3U);
  EXPECT_EQ(r->reorg_depth, 0U);
  EXPECT_EQ(chain_->calls("events"), 3U) << "blocks 1-2, 3-4, 5";
  expect_trees_agree(*store_, tree_, pool_tree_);
  EXPECT_EQ(stored(first[1]).leaf_index, std::optional<std::uint64_t>(1));
  EXPECT_EQ(stored(later).leaf_index, std::optional<std::uint64_t>(4));

  // The 4 is spent (by whoever holds its proof): the wallet sees its nullifier.
  chain_->mine({third_party_tx({spent(nullifier_of(first[0]), eth::keccak256("someone's payment"))})});
  r = indexer_->sync();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from_block, 6U);
  EXPECT_EQ(r->notes_spent, 1U);
  EXPECT_EQ(state_of(first[0]), NoteState::kSpent);
  EXPECT_EQ(state_of(first[1]), NoteState::kOnChain);
  // Up to date: nothing read.
  const std::size_t reads = chain_->calls("events");
  r = indexer_->sync();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from_block, 0U);
  EXPECT_EQ(chain_->calls("events"), reads);
}

// A seed-mode split precompute keeps its change note (the rest of the note, back to the owner) in its
// outputs only, one per bucket. Whoever sends one of them, its change lands as the wallet's note,
// spendable; the other buckets' changes, which can no longer land, never become notes.
TEST_F(ChainIndexerTest, TheChangeOfALandedSeedSplitBecomesTheWalletsNote) {
  const Note seeded = deposited({64})[0];
  std::vector<Note> changes;
  for (const Cents bucket : {16, 32}) {
    const Note change = Note::create(pk_, 64 - bucket);
    changes.push_back(change);
    Precompute p;  // as the engine stores a seed split: the change as its one output, sealed
    p.key = "split:" + nullifier_of(seeded).to_hex() + ":" + std::to_string(bucket);
    p.note_id = id_of(seeded);
    p.circuit = CircuitKind::kSplit;
    p.amount = bucket;
    // Its statement under the wallet's root (the sync keeps proofs under roots it knows); the
    // proof's bytes are not checked by anything here.
    const OwnedNote owned{seeded, SpendingKey::from_fr(sk_), *stored(seeded).leaf_index};
    const SplitStatement st =
        split_statement(owned, tree_.root(), bucket, must(make_split_outputs(std::span(&change, 1))));
    p.auth = st.auth;
    p.public_inputs = st.public_inputs();
    p.proof = std::vector<std::uint8_t>(64, 0x5a);
    p.outputs_json =
        nlohmann::json::array({{{"pk", change.pk.to_hex()}, {"value", change.value}, {"r", change.r.to_hex()}}}).dump();
    must(store_->insert_precompute(p));
  }
  // Nothing is a note before it lands (so nothing counts as coming).
  EXPECT_TRUE(must(store_->find_notes_by_commitment(changes[0].commitment())).empty());

  // Someone sends the 16-cent bucket's split: its change is inserted, the seeded note spent.
  std::vector<eth::PoolEvent> events = inserted({changes[0].commitment()});
  events.push_back(spent(nullifier_of(seeded), eth::keccak256("a seed split")));
  chain_->mine({third_party_tx(events)});
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->notes_landed, 1U);
  EXPECT_EQ(r->notes_spent, 1U);
  EXPECT_EQ(state_of(seeded), NoteState::kSpent);
  const std::vector<StoredNote> landed = must(store_->find_notes_by_commitment(changes[0].commitment()));
  ASSERT_EQ(landed.size(), 1U);
  EXPECT_EQ(landed[0].wallet, kWallet);
  EXPECT_EQ(landed[0].state, NoteState::kOnChain);
  EXPECT_EQ(landed[0].value, 48U);
  EXPECT_EQ(landed[0].pk, pk_);
  EXPECT_EQ(landed[0].r, changes[0].r);  // what spending it needs
  EXPECT_EQ(landed[0].leaf_index, std::optional<std::uint64_t>(pool_tree_.size() - 1));
  EXPECT_TRUE(must(store_->find_notes_by_commitment(changes[1].commitment())).empty());
  EXPECT_EQ(must(store_->list_notes(kWallet, NoteState::kOnChain)).size(), 1U);
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, ReorganisationOfOneBlock) {
  const std::vector<Note> kept = deposited({8});  // block 2
  const MerkleTree before = pool_tree_;
  const Note lost = pending_note(2);
  chain_->mine({deposit_tx({lost})});  // block 3
  ASSERT_TRUE(indexer_->sync().ok());
  ASSERT_EQ(state_of(lost), NoteState::kOnChain);

  // Block 3 is replaced by one holding another of the wallet's deposits.
  pool_tree_ = before;
  chain_->reorg(3, 0);
  const Note other = pending_note(1);
  chain_->mine({deposit_tx({other})});
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->reorg_depth, 1U);
  EXPECT_EQ(r->to_block, 3U);
  EXPECT_EQ(state_of(kept[0]), NoteState::kOnChain);
  EXPECT_EQ(state_of(lost), NoteState::kPending) << "its leaf vanished: pending again";
  EXPECT_EQ(state_of(other), NoteState::kOnChain);
  EXPECT_EQ(stored(other).leaf_index, std::optional<std::uint64_t>(1));
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, ReorganisationOfSeveralBlocksDropsProofsUnderVanishedRoots) {
  std::vector<Note> notes;
  MerkleTree at_block_4;
  for (int i = 0; i < 6; ++i) {  // blocks 2..7, one deposit each
    notes.push_back(pending_note(Cents{1} << i));
    chain_->mine({deposit_tx({notes.back()})});
    if (i == 2) at_block_4 = pool_tree_;
  }
  ASSERT_TRUE(indexer_->sync().ok());
  // A proof made under the latest root: a reorganisation from block 5 takes that root away.
  Precompute p = store_testing::make_precompute("spend:under-vanished-root", id_of(notes[1]));
  p.public_inputs = {pool_tree_.root(), Fr::random(), Fr::from_u64(2), Fr::from_u64(0xA2)};
  ASSERT_TRUE(store_->insert_precompute(p).ok());
  Precompute q = store_testing::make_precompute("spend:under-kept-root", id_of(notes[0]));
  q.public_inputs = {at_block_4.root(), Fr::random(), Fr::from_u64(1), Fr::from_u64(0xA1)};
  ASSERT_TRUE(store_->insert_precompute(q).ok());

  pool_tree_ = at_block_4;
  chain_->reorg(5, 4);  // blocks 5..8, empty
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->reorg_depth, 3U) << "cursor 7, fork point 4";
  EXPECT_EQ(r->precomputes_dropped, 1U);
  EXPECT_FALSE(must(store_->find_precompute(p.key)).has_value());
  EXPECT_TRUE(must(store_->find_precompute(q.key)).has_value());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(state_of(notes[i]), i < 3 ? NoteState::kOnChain : NoteState::kPending) << i;
  }
  EXPECT_EQ(r->to_block, 8U);
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, ReorganisationDeeperThanTheRememberedBlocksStartsOver) {
  make_indexer({.reorg_search = 2});
  std::vector<Note> notes;
  for (int i = 0; i < 5; ++i) {  // blocks 2..6
    notes.push_back(pending_note(Cents{1} << i));
    chain_->mine({deposit_tx({notes.back()})});
  }
  ASSERT_TRUE(indexer_->sync().ok());
  // Everything from block 3 changes; the two newest remembered blocks (5, 6) are both gone.
  pool_tree_ = MerkleTree();
  chain_->reorg(2, 0);
  next_nonce_ = 0;
  chain_->mine({deposit_tx({notes[0]})});  // 2: the first deposit again
  chain_->mine({deposit_tx({notes[4]})});  // 3: then the last
  chain_->mine_empty(4);
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->reorg_depth, 6U) << "back to block 0, before the Pool's start block";
  EXPECT_EQ(r->from_block, kStartBlock);
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
  EXPECT_EQ(stored(notes[4]).leaf_index, std::optional<std::uint64_t>(1));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(state_of(notes[i]), NoteState::kPending) << i;
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, AWrongRootIsRefusedAndNothingOfTheRangeIsKept) {
  deposited({1});
  const auto cursor = must(store_->sync_cursor());
  const Note note = pending_note(2);
  ScriptedTx lie = deposit_tx({note});
  lie.events[0].inserted.root = eth::U256(12345);  // not the root after this leaf
  chain_->mine({lie});
  auto r = indexer_->sync();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("differs from the wallet's tree"), std::string::npos) << r.status().message();
  EXPECT_EQ(must(store_->sync_cursor()), cursor);
  EXPECT_EQ(must(store_->leaf_count()), 1U);
  EXPECT_EQ(tree_.size(), 1U) << "the tree is put back to the store's leaves";
  EXPECT_EQ(state_of(note), NoteState::kPending);
}

TEST_F(ChainIndexerTest, LogsAndHeadersOfDifferentForksAreReadAgain) {
  const Note note = pending_note(4);
  chain_->mine({deposit_tx({note})});
  chain_->answer_logs_from_another_fork(1);
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(chain_->calls("events"), 2U) << "the range, read again";
  EXPECT_EQ(r->leaves, 1U);
  EXPECT_EQ(r->notes_landed, 1U);
  EXPECT_EQ(state_of(note), NoteState::kOnChain);
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, AChainThatKeepsChangingFailsAfterTheBoundWithNothingKept) {
  make_indexer({.max_passes = 3});
  const Note note = pending_note(4);
  chain_->mine({deposit_tx({note})});
  chain_->answer_logs_from_another_fork(1000);
  auto r = indexer_->sync();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("3 passes"), std::string::npos) << r.status().message();
  EXPECT_EQ(chain_->calls("events"), 3U);
  EXPECT_FALSE(must(store_->sync_cursor()).has_value());
  EXPECT_EQ(must(store_->leaf_count()), 0U);
  EXPECT_EQ(tree_.size(), 0U);
  EXPECT_EQ(state_of(note), NoteState::kPending);
}

TEST_F(ChainIndexerTest, TheReportKeepsEveryPass) {
  // Synced to block 4; a payment confirmed from its receipt in block 6, ahead of the cursor.
  const std::vector<Note> notes = deposited({4, 2});
  chain_->mine_empty(4);  // blocks 3..6
  make_indexer({}, /*confirmations=*/2);
  ASSERT_TRUE(indexer_->sync().ok());
  ASSERT_EQ(must(store_->sync_cursor())->number, 4U);
  const std::int64_t id = must(store_->begin_payment(store_testing::make_payment({id_of(notes[1])})));
  const std::vector<std::uint8_t> raw = {2, 1};
  ASSERT_TRUE(store_->record_payment_signed(id, "0x" + std::string(64, 'a'), raw, 0, 1).is_ok());
  ASSERT_TRUE(store_->confirm_payment(id, 90'000, 6).is_ok());
  chain_->mine_empty(2);  // blocks 7, 8: block 6 is two deep

  // While the first pass reads the range holding the payment's block, the chain reorganises under
  // the cursor: the pass finds no event of the payment there (reopened), then that its cursor's
  // block is gone; the second pass rolls back to the fork point.
  bool reorganised = false;
  chain_->before_call = [&](const std::string& method) {
    if (method == "events" && !reorganised) {
      reorganised = true;
      chain_->reorg(4, 5);  // 4..8
    }
    return Status::ok();
  };
  const std::size_t reads = chain_->calls("events");
  auto r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(chain_->calls("events"), reads + 2) << "a pass that saw the chain change, then one that did not";
  EXPECT_EQ(r->payments_reopened, 1U) << "from the first pass";
  EXPECT_EQ(r->reorg_depth, 2U) << "from the second pass: cursor 4, fork point 2";
  EXPECT_EQ(r->to_block, 6U);
  EXPECT_EQ(payment(id).state, PaymentState::kSubmitted);
  EXPECT_EQ(state_of(notes[1]), NoteState::kSpending) << "back in flight, for the journal to look up";
  EXPECT_EQ(state_of(notes[0]), NoteState::kOnChain);
  expect_trees_agree(*store_, tree_, pool_tree_);
}

TEST_F(ChainIndexerTest, AStallingNodeTimesOutWithNothingHalfApplied) {
  make_indexer({.log_range = 2});
  const Note a = pending_note(1);
  chain_->mine({deposit_tx({a})});  // block 2: range 1-2
  const Note b = pending_note(2);
  chain_->mine({deposit_tx({b})});  // block 3: range 3-4
  chain_->mine_empty(1);
  const MerkleTree after_a = [&] {
    MerkleTree t;
    EXPECT_TRUE(t.append(a.commitment()).ok());
    return t;
  }();
  // The node stops answering block headers once the second range is read.
  chain_->before_call = [&](const std::string& method) {
    if (method == "header" && chain_->calls("events") >= 2) {
      return Status::timeout("scripted node: eth_getBlockByNumber timed out after 10000 ms");
    }
    return Status::ok();
  };
  auto r = indexer_->sync();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_NE(r.status().message().find("reading block 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  // The first range is kept whole, the second not at all.
  EXPECT_EQ(must(store_->sync_cursor())->number, 2U);
  EXPECT_EQ(must(store_->leaf_count()), 1U);
  EXPECT_EQ(tree_.root(), after_a.root());
  EXPECT_EQ(state_of(a), NoteState::kOnChain);
  EXPECT_EQ(state_of(b), NoteState::kPending);
  // The node recovers: the sync goes on from there.
  chain_->before_call = nullptr;
  r = indexer_->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->from_block, 3U);
  EXPECT_EQ(state_of(b), NoteState::kOnChain);
  expect_trees_agree(*store_, tree_, pool_tree_);
}

}  // namespace
}  // namespace bucketpay::testing
