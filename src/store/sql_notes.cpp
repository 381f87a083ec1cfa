// SqlStore's NoteStore: the tree's leaves and the wallet's notes.
#include <limits>
#include <string>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kNoteColumns = "id, wallet, pk, value, r, leaf_index, state, commitment, created_ms";

// Leaves go in with one statement per chunk of this many (then halves of it for the rest): few round
// trips on PostgreSQL, few distinct statements for SQLite's statement cache.
constexpr std::size_t kLeafChunk = 256;

std::string leaf_insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO leaves(idx, value) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    sql += (i == 0 ? "(?" : ", (?") + std::to_string(2 * i + 1) + ", ?" + std::to_string(2 * i + 2) + ")";
  }
  return sql;
}

}  // namespace

Result<std::uint64_t> SqlStore::leaf_count_in(Connection& c) {
  // MAX on the key is a lookup, COUNT(*) a scan; leaves are contiguous from 0.
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves"));
  return r.empty() ? 0 : from_db(r[0].int64(0));
}

Result<std::uint64_t> SqlStore::append_leaves(std::span<const Fr> leaves) {
  return run<Result<std::uint64_t>>("append_leaves", [&](Connection& c) -> Result<std::uint64_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    if (!dialect().lock_leaves.empty()) BUCKETPAY_RETURN_IF_ERROR(c.run(dialect().lock_leaves).status());
    BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t first, leaf_count_in(c));
    std::vector<Fr::Bytes> bytes;
    bytes.reserve(leaves.size());
    for (const Fr& leaf : leaves) bytes.push_back(leaf.to_bytes());
    std::vector<std::int64_t> indices;
    indices.reserve(leaves.size());
    for (std::size_t i = 0; i < leaves.size(); ++i) indices.push_back(to_db(first + i));
    std::size_t done = 0;
    for (std::size_t chunk = kLeafChunk; done < leaves.size(); chunk = std::max<std::size_t>(1, chunk / 2)) {
      while (leaves.size() - done >= chunk) {
        std::vector<sql::Value> params;
        params.reserve(2 * chunk);
        for (std::size_t i = done; i < done + chunk; ++i) {
          params.emplace_back(indices[i]);
          params.emplace_back(bytes[i]);
        }
        BUCKETPAY_RETURN_IF_ERROR(c.run(leaf_insert_sql(chunk), params).status());
        done += chunk;
      }
    }
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return first;
  });
}

Result<std::vector<Fr>> SqlStore::load_leaves() {
  return run<Result<std::vector<Fr>>>("load_leaves", [&](Connection& c) -> Result<std::vector<Fr>> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run("SELECT idx, value FROM leaves ORDER BY idx"));
    std::vector<Fr> out;
    out.reserve(rows.size());
    for (const sql::Row row : rows) {
      if (from_db(row.int64(0)) != out.size()) {
        return Status::corruption("leaves are not contiguous at index " + std::to_string(out.size()));
      }
      BUCKETPAY_ASSIGN_OR_RETURN(const Fr leaf, decode_fr(row.blob(1), "leaf"));
      out.push_back(leaf);
    }
    return out;
  });
}

Result<std::uint64_t> SqlStore::leaf_count() {
  return run<Result<std::uint64_t>>("leaf_count", [&](Connection& c) { return leaf_count_in(c); });
}

// ---- Notes.

Result<std::int64_t> SqlStore::insert_note(const StoredNote& note) {
  return run<Result<std::int64_t>>("insert_note", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_RETURN_IF_ERROR(validate_note(note));
    Fr::Bytes r = note.r.to_bytes();
    sql::Bytes sealed_r = seal_secret(r, note_r_ad(note.commitment));
    wipe(r);
    const Fr::Bytes pk = note.pk.to_bytes();
    const Fr::Bytes cm = note.commitment.to_bytes();
    const std::optional<std::int64_t> leaf =
        note.leaf_index ? std::optional<std::int64_t>(to_db(*note.leaf_index)) : std::nullopt;
    // A taken leaf index or a second pending note with this commitment: no row, no error.
    Result<sql::Rows> rows = c.run(
        "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING RETURNING id",
        {note.wallet, pk, to_db(note.value), sealed_r, leaf, note_state_name(note.state), cm,
         note.created_ms != 0 ? note.created_ms : now_ms()});
    wipe(sealed_r);  // plaintext r when there is no vault
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return Status::already_exists(note.leaf_index
                                        ? "leaf index " + std::to_string(*note.leaf_index) + " holds a note"
                                        : "a pending note with commitment " + note.commitment.to_hex() + " exists");
    }
    return (*rows)[0].int64(0);
  });
}

Result<StoredNote> SqlStore::read_note(const sql::Row& row) const {
  StoredNote n;
  n.id = row.int64(0);
  n.wallet = row.text(1);
  BUCKETPAY_ASSIGN_OR_RETURN(n.pk, decode_fr(row.blob(2), "note pk"));
  n.value = from_db(row.int64(3));
  if (!row.is_null(5)) n.leaf_index = from_db(row.int64(5));
  BUCKETPAY_ASSIGN_OR_RETURN(n.state, parse_note_state(row.text(6)));
  BUCKETPAY_ASSIGN_OR_RETURN(n.commitment, decode_fr(row.blob(7), "note commitment"));
  n.created_ms = row.int64(8);
  Result<sql::Bytes> r = open_secret(row.blob(4), note_r_ad(n.commitment));
  if (!r.ok()) return r.status().with_context("note " + std::to_string(n.id) + " r");
  Result<Fr> fr = decode_fr(*r, "note r");
  wipe(*r);
  if (!fr.ok()) return fr.status();
  n.r = *fr;
  return n;
}

Result<std::vector<StoredNote>> SqlStore::query_notes(Connection& c, std::string_view where, sql::Params params) {
  const std::string sql = "SELECT " + std::string(kNoteColumns) + " FROM notes WHERE " + std::string(where);
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, params));
  std::vector<StoredNote> out;
  out.reserve(rows.size());
  for (const sql::Row row : rows) {
    BUCKETPAY_ASSIGN_OR_RETURN(StoredNote n, read_note(row));
    out.push_back(std::move(n));
  }
  return out;
}

Result<StoredNote> SqlStore::get_note_in(Connection& c, std::int64_t id) {
  const sql::Value params[] = {id};
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<StoredNote> found, query_notes(c, "id = ?1", params));
  if (found.empty()) return Status::not_found("no note " + std::to_string(id));
  return std::move(found.front());
}

Result<StoredNote> SqlStore::get_note(std::int64_t id) {
  return run<Result<StoredNote>>("get_note", [&](Connection& c) { return get_note_in(c, id); });
}

Result<std::vector<StoredNote>> SqlStore::find_notes_by_commitment(const Fr& commitment) {
  return run<Result<std::vector<StoredNote>>>("find_notes_by_commitment", [&](Connection& c) {
    const Fr::Bytes cm = commitment.to_bytes();
    const sql::Value params[] = {cm};
    return query_notes(c, "commitment = ?1 ORDER BY id", params);
  });
}

Result<std::vector<StoredNote>> SqlStore::list_notes(std::string_view wallet, std::optional<NoteState> state) {
  return run<Result<std::vector<StoredNote>>>("list_notes", [&](Connection& c) {
    if (!state) {
      const sql::Value params[] = {wallet};
      return query_notes(c, "wallet = ?1 ORDER BY id", params);
    }
    const sql::Value params[] = {wallet, note_state_name(*state)};
    return query_notes(c, "wallet = ?1 AND state = ?2 ORDER BY id", params);
  });
}

Status SqlStore::set_note_state_in(Connection& c, std::int64_t id, std::optional<NoteState> from, NoteState to) {
  BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
  const std::string select = "SELECT state, CASE WHEN leaf_index IS NULL THEN 0 ELSE 1 END FROM notes WHERE id = ?1" +
                             std::string(dialect().for_update);
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(select, {id}));
  if (r.empty()) return Status::not_found("no note " + std::to_string(id));
  const std::string current = r[0].text(0);
  const bool has_leaf = r[0].int64(1) != 0;
  const std::string note = "note " + std::to_string(id);
  if (from && current != note_state_name(*from)) {
    return Status::failed_precondition(note + " is " + current + ", not " + std::string(note_state_name(*from)));
  }
  if (to == NoteState::kOnChain && !has_leaf) {
    return Status::failed_precondition(note + " has no leaf index: it cannot be on_chain");
  }
  if (to == NoteState::kPending && has_leaf) {
    return Status::failed_precondition(note + " has a leaf index: it cannot be pending");
  }
  BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE notes SET state = ?2 WHERE id = ?1", {id, note_state_name(to)}).status());
  return txn.commit();
}

Status SqlStore::set_note_state(std::int64_t id, NoteState state) {
  return run<Status>("set_note_state", [&](Connection& c) { return set_note_state_in(c, id, std::nullopt, state); });
}

Status SqlStore::transition_note_state(std::int64_t id, NoteState from, NoteState to) {
  return run<Status>("transition_note_state", [&](Connection& c) { return set_note_state_in(c, id, from, to); });
}

// Sets the note's leaf index (a pending note goes on chain) unless it has another one; a leaf
// index held by another note is a unique violation: kAlreadyExists.
Status SqlStore::set_note_leaf_in(Connection& c, std::int64_t id, std::uint64_t leaf_index) {
  if (leaf_index > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Status::invalid_argument("leaf index out of range");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                             c.run("UPDATE notes SET leaf_index = ?2, "
                                   "state = CASE state WHEN 'pending' THEN 'on_chain' ELSE state END "
                                   "WHERE id = ?1 AND (leaf_index IS NULL OR leaf_index = ?2)",
                                   {id, to_db(leaf_index)}));
  if (r.affected() == 1) return Status::ok();
  return Status::failed_precondition("note " + std::to_string(id) + " is missing or at another leaf");
}

Status SqlStore::set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) {
  return run<Status>("set_note_leaf_index", [&](Connection& c) -> Status {
    Status s = set_note_leaf_in(c, id, leaf_index);
    if (s.code() != StatusCode::kFailedPrecondition) return s;
    BUCKETPAY_ASSIGN_OR_RETURN(const StoredNote note, get_note_in(c, id));
    return Status::failed_precondition("note " + std::to_string(id) + " is already at leaf " +
                                       std::to_string(note.leaf_index.value_or(0)));
  });
}

}  // namespace bucketpay
