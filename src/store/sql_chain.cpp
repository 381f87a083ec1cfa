// SqlStore's ChainIndexStore: sync steps, the cursor, remembered blocks, rollback, known roots.
#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

namespace {

Result<BlockRef> read_block(const sql::Row& row) {
  BlockRef b;
  b.number = from_db(row.int64(0));
  const sql::Bytes h = row.blob(1);
  if (h.size() != b.hash.size()) return Status::corruption("a stored block hash is not 32 bytes");
  std::copy(h.begin(), h.end(), b.hash.begin());
  return b;
}

// Runs each statement with the one parameter `p`.
Status run_each(sql::Connection& c, std::initializer_list<std::string_view> statements, std::int64_t p) {
  for (std::string_view sql : statements) BUCKETPAY_RETURN_IF_ERROR(c.run(sql, {p}).status());
  return Status::ok();
}

}  // namespace

// -> spent (from any state; the first spent block is kept), its proofs and their jobs dropped.
Status SqlStore::mark_spent_in(Connection& c, std::int64_t note, std::uint64_t block) {
  BUCKETPAY_RETURN_IF_ERROR(
      c.run("UPDATE notes SET state = 'spent', spent_block = COALESCE(spent_block, ?2) WHERE id = ?1",
            {note, to_db(block)})
          .status());
  return run_each(c,
                  {"DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id = ?1)",
                   "DELETE FROM precomputes WHERE note_id = ?1"},
                  note);
}

Status SqlStore::remember_blocks_in(Connection& c, std::span<const BlockRef> blocks) {
  for (const BlockRef& b : blocks) {
    BUCKETPAY_RETURN_IF_ERROR(c.run("INSERT INTO chain_blocks(number, hash) VALUES (?1, ?2) "
                                    "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
                                    {to_db(b.number), b.hash})
                                  .status());
  }
  return Status::ok();
}

Status SqlStore::set_cursor_in(Connection& c, const BlockRef& b) {
  return c
      .run(
          "INSERT INTO sync_cursor(id, number, hash) VALUES (1, ?1, ?2) "
          "ON CONFLICT (id) DO UPDATE SET number = excluded.number, hash = excluded.hash",
          {to_db(b.number), b.hash})
      .status();
}

// Appends the update's new leaves; those below the stored count must equal the stored ones.
Status SqlStore::append_chain_leaves_in(Connection& c, std::span<const ChainLeaf> leaves) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::uint64_t count, leaf_count_in(c));
  for (const ChainLeaf& leaf : leaves) {
    const Fr::Bytes v = leaf.value.to_bytes();
    if (leaf.index < count) {
      BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                                 c.run("SELECT value FROM leaves WHERE idx = ?1", {to_db(leaf.index)}));
      if (r.empty() || r[0].blob(0) != sql::Bytes(v.begin(), v.end())) {
        return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " differs from the stored one");
      }
      continue;
    }
    if (leaf.index != count) {
      return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " would leave a gap after " +
                                         std::to_string(count) + " leaves");
    }
    const Fr::Bytes root = leaf.root.to_bytes();
    BUCKETPAY_RETURN_IF_ERROR(c.run("INSERT INTO leaves(idx, value, block, root) VALUES (?1, ?2, ?3, ?4)",
                                    {to_db(leaf.index), v, to_db(leaf.block), root})
                                  .status());
    ++count;
  }
  return Status::ok();
}

Status SqlStore::apply_chain_update(const ChainUpdate& u) {
  return run<Status>("apply_chain_update", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    if (!dialect().lock_leaves.empty()) BUCKETPAY_RETURN_IF_ERROR(c.run(dialect().lock_leaves).status());
    BUCKETPAY_RETURN_IF_ERROR(append_chain_leaves_in(c, u.leaves));
    for (const auto& nl : u.note_leaves) BUCKETPAY_RETURN_IF_ERROR(set_note_leaf_in(c, nl.note_id, nl.leaf_index));
    for (const auto& s : u.spent) BUCKETPAY_RETURN_IF_ERROR(mark_spent_in(c, s.note_id, s.block));
    BUCKETPAY_RETURN_IF_ERROR(remember_blocks_in(c, u.blocks));
    BUCKETPAY_RETURN_IF_ERROR(set_cursor_in(c, u.cursor));
    return txn.commit();
  });
}

Result<std::optional<BlockRef>> SqlStore::sync_cursor() {
  using R = Result<std::optional<BlockRef>>;
  return run<R>("sync_cursor", [&](Connection& c) -> R {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT number, hash FROM sync_cursor WHERE id = 1"));
    if (r.empty()) return std::optional<BlockRef>();
    BUCKETPAY_ASSIGN_OR_RETURN(const BlockRef b, read_block(r[0]));
    return std::optional<BlockRef>(b);
  });
}

Result<std::vector<BlockRef>> SqlStore::recent_blocks(std::size_t limit) {
  return run<Result<std::vector<BlockRef>>>("recent_blocks", [&](Connection& c) -> Result<std::vector<BlockRef>> {
    const auto n = static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows,
                               c.run("SELECT number, hash FROM chain_blocks ORDER BY number DESC LIMIT ?1", {n}));
    std::vector<BlockRef> out;
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(const BlockRef b, read_block(row));
      out.push_back(b);
    }
    return out;
  });
}

Status SqlStore::rollback_chain(const BlockRef& cursor) {
  return run<Status>("rollback_chain", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    if (!dialect().lock_leaves.empty()) BUCKETPAY_RETURN_IF_ERROR(c.run(dialect().lock_leaves).status());
    const std::int64_t b = to_db(cursor.number);
    // The tree is cut at its first leaf from a vanished block (leaves stay contiguous even if an
    // unstamped leaf, block 0, was appended after it).
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows cut,
                               c.run("SELECT COALESCE((SELECT MIN(idx) FROM leaves WHERE block > ?1), "
                                     "(SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves))",
                                     {b}));
    const std::int64_t keep = cut.empty() ? 0 : cut[0].int64(0);
    // Payments mined after the fork point are in flight again, to be looked up.
    BUCKETPAY_RETURN_IF_ERROR(run_each(
        c,
        {"UPDATE payments SET state = 'submitted', block = 0, gas_used = 0, settled_by = '' WHERE state = 'confirmed' "
         "AND block > ?1"},
        b));
    // Notes on vanished leaves: pending again, without their proofs (and jobs, to prove again).
    BUCKETPAY_RETURN_IF_ERROR(
        run_each(c,
                 {"DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id IN "
                  "(SELECT id FROM notes WHERE leaf_index >= ?1))",
                  "DELETE FROM precomputes WHERE note_id IN (SELECT id FROM notes WHERE leaf_index >= ?1)",
                  "UPDATE notes SET leaf_index = NULL, state = 'pending', spent_block = NULL WHERE leaf_index >= ?1",
                  "DELETE FROM leaves WHERE idx >= ?1"},
                 keep));
    // Spent marks from vanished blocks (after the payments above went back in flight): reserved
    // again when a payment in flight holds the note.
    BUCKETPAY_RETURN_IF_ERROR(
        run_each(c,
                 {"UPDATE notes SET spent_block = NULL, state = CASE WHEN EXISTS (SELECT 1 FROM payment_notes pn "
                  "JOIN payments p ON p.id = pn.payment_id WHERE pn.note_id = notes.id AND pn.role = 'spend' "
                  "AND p.state IN ('signed', 'submitted')) THEN 'spending' ELSE 'on_chain' END "
                  "WHERE spent_block > ?1 AND leaf_index IS NOT NULL",
                  "DELETE FROM chain_blocks WHERE number > ?1"},
                 b));
    BUCKETPAY_RETURN_IF_ERROR(remember_blocks_in(c, std::span(&cursor, 1)));
    BUCKETPAY_RETURN_IF_ERROR(set_cursor_in(c, cursor));
    return txn.commit();
  });
}

Result<std::vector<Fr>> SqlStore::known_roots() {
  return run<Result<std::vector<Fr>>>("known_roots", [&](Connection& c) -> Result<std::vector<Fr>> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows,
                               c.run("SELECT root FROM leaves WHERE root IS NOT NULL ORDER BY idx"));
    std::vector<Fr> out;
    std::set<Fr::Bytes> seen;
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(const Fr r, decode_fr(row.blob(0), "leaf root"));
      if (seen.insert(r.to_bytes()).second) out.push_back(r);
    }
    return out;
  });
}

}  // namespace bucketpay
