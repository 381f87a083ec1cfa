// SqlStore's PaymentJournal.
#include <algorithm>
#include <cctype>
#include <string>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kPaymentColumns =
    "id, wallet, kind, amount, recipient, state, tx_hash, raw_tx, nonce, gas_used, block, error, latency_ms, "
    "created_ms, updated_ms, settled_by, digest, deadline, fee, relayer, bundle, relayer_tx";

std::string payment_label(std::int64_t id) { return "payment " + std::to_string(id); }

bool is_hex_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; });
}

// A digest as stored: 0x and 64 lower-case hex digits; kInvalidArgument otherwise.
Result<std::string> canonical_digest(std::string_view digest) {
  if (digest.size() != 66 || digest.substr(0, 2) != "0x" || !is_hex_digits(digest.substr(2))) {
    return Status::invalid_argument("a payment digest is 0x and 64 hex digits");
  }
  std::string out(digest);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// A fee as stored: a decimal number of token base units, no sign, no leading zeros.
Status check_fee(std::string_view fee) {
  const bool digits = !fee.empty() && fee.size() <= 78 &&
                      std::all_of(fee.begin(), fee.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!digits || (fee.size() > 1 && fee[0] == '0')) {
    return Status::invalid_argument("a payment's fee is a decimal number of token base units, not \"" +
                                    std::string(fee.substr(0, 80)) + "\"");
  }
  return Status::ok();
}

// A bundle to journal: not empty, and JSON.
Status check_bundle(std::string_view bundle_json, const std::string& what) {
  if (bundle_json.empty()) return Status::invalid_argument(what + " is empty");
  return check_json(bundle_json, what);
}

}  // namespace

Status SqlStore::link_notes_in(Connection& c, std::int64_t payment, std::span<const std::int64_t> notes,
                               std::string_view role) {
  for (std::int64_t note : notes) {
    BUCKETPAY_RETURN_IF_ERROR(
        c.run("INSERT INTO payment_notes(payment_id, note_id, role) VALUES (?1, ?2, ?3)", {payment, note, role})
            .status());
  }
  return Status::ok();
}

// The payment's notes of `role`, in the order they were linked.
Result<std::vector<std::int64_t>> SqlStore::linked_notes_in(Connection& c, std::int64_t payment,
                                                            std::string_view role) {
  const std::string sql = "SELECT note_id FROM payment_notes WHERE payment_id = ?1 AND role = ?2 ORDER BY " +
                          std::string(dialect().payment_notes_order);
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, {payment, role}));
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (const sql::Row row : rows) out.push_back(row.int64(0));
  return out;
}

// The payment's state; `lock` holds its row until the transaction ends.
Result<std::string> SqlStore::payment_state_in(Connection& c, std::int64_t id, bool lock) {
  const std::string sql = "SELECT state FROM payments WHERE id = ?1" + std::string(lock ? dialect().for_update : "");
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(sql, {id}));
  if (r.empty()) return Status::not_found("no " + payment_label(id));
  return r[0].text(0);
}

Result<std::vector<Payment>> SqlStore::query_payments(Connection& c, std::string_view where, sql::Params params) {
  BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kRead));
  const std::string sql = "SELECT " + std::string(kPaymentColumns) + " FROM payments WHERE " + std::string(where);
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, params));
  std::vector<Payment> out;
  out.reserve(rows.size());
  for (const sql::Row row : rows) {
    Payment p;
    p.id = row.int64(0);
    p.wallet = row.text(1);
    BUCKETPAY_ASSIGN_OR_RETURN(p.kind, parse_kind(row.text(2), payment_label(p.id)));
    p.amount = from_db(row.int64(3));
    p.recipient = row.text(4);
    BUCKETPAY_ASSIGN_OR_RETURN(p.state, parse_payment_state(row.text(5)));
    p.tx_hash = row.text(6);
    p.raw_tx = row.blob(7);
    p.nonce = from_db(row.int64(8));
    p.gas_used = from_db(row.int64(9));
    p.block = from_db(row.int64(10));
    p.error = row.text(11);
    p.latency_ms = row.real(12);
    p.created_ms = row.int64(13);
    p.updated_ms = row.int64(14);
    p.settled_by = row.text(15);
    p.digest = row.text(16);
    p.deadline = from_db(row.int64(17));
    p.fee = row.text(18);
    p.relayer = row.text(19);
    p.bundle_json = row.text(20);
    p.relayer_tx = row.text(21);
    BUCKETPAY_ASSIGN_OR_RETURN(p.note_ids, linked_notes_in(c, p.id, "spend"));
    BUCKETPAY_ASSIGN_OR_RETURN(p.new_note_ids, linked_notes_in(c, p.id, "new"));
    out.push_back(std::move(p));
  }
  BUCKETPAY_RETURN_IF_ERROR(txn.commit());
  return out;
}

Result<std::int64_t> SqlStore::begin_payment_in(Connection& c, const Payment& p) {
  const std::string fee = p.fee.empty() ? "0" : p.fee;
  const std::int64_t now = p.created_ms != 0 ? p.created_ms : now_ms();
  BUCKETPAY_ASSIGN_OR_RETURN(
      const sql::Rows r,
      c.run(
          "INSERT INTO payments(wallet, kind, amount, recipient, state, tx_hash, nonce, gas_used, "
          "block, error, latency_ms, created_ms, updated_ms, deadline, fee, relayer) "
          "VALUES (?1, ?2, ?3, ?4, 'prepared', '', 0, 0, 0, '', 0, ?5, ?5, ?6, ?7, ?8) RETURNING id",
          {p.wallet, payment_kind_name(p.kind), to_db(p.amount), p.recipient, now, to_db(p.deadline), fee, p.relayer}));
  const std::int64_t id = r[0].int64(0);
  // Row locks in id order first: two payments reserving overlapping notes in different orders
  // wait for each other instead of deadlocking.
  if (!dialect().for_update.empty()) {
    std::vector<std::int64_t> ordered(p.note_ids.begin(), p.note_ids.end());
    std::sort(ordered.begin(), ordered.end());
    const std::string lock = "SELECT 1 FROM notes WHERE id = ?1" + std::string(dialect().for_update);
    for (std::int64_t note : ordered) BUCKETPAY_RETURN_IF_ERROR(c.run(lock, {note}).status());
  }
  for (std::int64_t note : p.note_ids) {
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows reserved,
        c.run("UPDATE notes SET state = 'spending' WHERE id = ?1 AND state = 'on_chain'", {note}));
    if (reserved.affected() != 1) {
      return Status::failed_precondition("note " + std::to_string(note) +
                                         " is not on chain and unreserved: it cannot be spent now");
    }
  }
  BUCKETPAY_RETURN_IF_ERROR(link_notes_in(c, id, p.note_ids, "spend"));
  BUCKETPAY_RETURN_IF_ERROR(link_notes_in(c, id, p.new_note_ids, "new"));
  return id;
}

Result<std::int64_t> SqlStore::begin_payment(const Payment& p) {
  return run<Result<std::int64_t>>("begin_payment", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_RETURN_IF_ERROR(check_fee(p.fee.empty() ? "0" : p.fee));
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, begin_payment_in(c, p));
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return id;
  });
}

Result<std::int64_t> SqlStore::begin_signed_payment(const Payment& p, std::string_view digest, std::uint64_t deadline,
                                                    std::string_view bundle_json) {
  return run<Result<std::int64_t>>("begin_signed_payment", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_RETURN_IF_ERROR(check_fee(p.fee.empty() ? "0" : p.fee));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string canonical, canonical_digest(digest));
    BUCKETPAY_RETURN_IF_ERROR(check_bundle(bundle_json, "the bundle of payment " + canonical));
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, begin_payment_in(c, p));
    BUCKETPAY_RETURN_IF_ERROR(record_bundle_in(c, id, canonical, deadline, bundle_json));
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return id;
  });
}

Status SqlStore::record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                                       std::uint64_t nonce, double latency_ms) {
  return run<Status>("record_payment_signed", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("UPDATE payments SET state = 'signed', tx_hash = ?2, raw_tx = ?3, "
                                     "nonce = ?4, latency_ms = ?5, updated_ms = ?6 "
                                     "WHERE id = ?1 AND state = 'prepared'",
                                     {id, tx_hash, raw_tx, to_db(nonce), latency_ms, now_ms()}));
    if (r.affected() == 1) return Status::ok();
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, false));
    return Status::failed_precondition(payment_label(id) + " is " + state + ": it cannot become signed");
  });
}

Status SqlStore::mark_payment_submitted(std::int64_t id) {
  return run<Status>("mark_payment_submitted", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("UPDATE payments SET state = 'submitted', updated_ms = ?2 "
                                                        "WHERE id = ?1 AND state IN ('signed', 'submitted')",
                                                        {id, now_ms()}));
    if (r.affected() == 1) return Status::ok();
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, false));
    return Status::failed_precondition(payment_label(id) + " is " + state + ": it cannot become submitted");
  });
}

Status SqlStore::confirm_payment_in(Connection& c, std::int64_t id, std::uint64_t gas_used, std::uint64_t block,
                                    std::string_view settled_by) {
  BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE payments SET state = 'confirmed', gas_used = ?2, block = ?3, "
                                  "settled_by = ?4, updated_ms = ?5 WHERE id = ?1",
                                  {id, to_db(gas_used), to_db(block), settled_by, now_ms()})
                                .status());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<std::int64_t> notes, linked_notes_in(c, id, "spend"));
  for (std::int64_t note : notes) BUCKETPAY_RETURN_IF_ERROR(mark_spent_in(c, note, block));
  return Status::ok();
}

Status SqlStore::confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) {
  return run<Status>("confirm_payment", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state == "confirmed") return Status::ok();
    if (state != "signed" && state != "submitted") {
      return Status::failed_precondition(payment_label(id) + " is " + state + ", not in flight");
    }
    BUCKETPAY_RETURN_IF_ERROR(confirm_payment_in(c, id, gas_used, block, /*settled_by=*/""));
    return txn.commit();
  });
}

Status SqlStore::settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                                   std::uint64_t block) {
  return run<Status>("settle_payment_by", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state != payment_state_name(expected) || (state != "signed" && state != "submitted")) {
      return Status::failed_precondition(payment_label(id) + " is " + state + ", not " +
                                         std::string(payment_state_name(expected)) + " in flight");
    }
    BUCKETPAY_RETURN_IF_ERROR(confirm_payment_in(c, id, /*gas_used=*/0, block, settled_by));
    return txn.commit();
  });
}

Status SqlStore::reopen_payment(std::int64_t id) {
  return run<Status>("reopen_payment", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state == "submitted") return Status::ok();
    if (state != "confirmed")
      return Status::failed_precondition(payment_label(id) + " is " + state + ", not confirmed");
    BUCKETPAY_RETURN_IF_ERROR(
        c.run("UPDATE payments SET state = 'submitted', block = 0, gas_used = 0, settled_by = '', updated_ms = ?2 "
              "WHERE id = ?1",
              {id, now_ms()})
            .status());
    BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE notes SET state = 'spending', spent_block = NULL WHERE state = 'spent' "
                                    "AND id IN (SELECT note_id FROM payment_notes WHERE payment_id = ?1 "
                                    "AND role = 'spend')",
                                    {id})
                                  .status());
    return txn.commit();
  });
}

Status SqlStore::record_bundle_in(Connection& c, std::int64_t id, const std::string& canonical, std::uint64_t deadline,
                                  std::string_view bundle_json) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows taken,
                             c.run("SELECT id FROM payments WHERE digest = ?1 AND id <> ?2", {canonical, id}));
  if (!taken.empty()) {
    return Status::already_exists("payment digest " + canonical + " is " + payment_label(taken[0].int64(0)) + "'s");
  }
  return c
      .run(
          "UPDATE payments SET state = 'signed', digest = ?2, deadline = ?3, bundle = ?4, updated_ms = ?5 "
          "WHERE id = ?1",
          {id, canonical, to_db(deadline), bundle_json, now_ms()})
      .status();
}

Status SqlStore::record_payment_bundle(std::int64_t id, std::string_view digest, std::uint64_t deadline,
                                       std::string_view bundle_json) {
  return run<Status>("record_payment_bundle", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string canonical, canonical_digest(digest));
    BUCKETPAY_RETURN_IF_ERROR(check_bundle(bundle_json, "the bundle of " + payment_label(id)));
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state != "prepared") {
      return Status::failed_precondition(payment_label(id) + " is " + state + ": it cannot become signed");
    }
    BUCKETPAY_RETURN_IF_ERROR(record_bundle_in(c, id, canonical, deadline, bundle_json));
    return txn.commit();
  });
}

Status SqlStore::record_payment_relayed(std::int64_t id, std::string_view relayer_tx, double latency_ms) {
  return run<Status>("record_payment_relayed", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state != "signed" && state != "submitted") {
      return Status::failed_precondition(payment_label(id) + " is " + state + ": it cannot become submitted");
    }
    // The first handover's latency is the payment's; a later one (a re-post) keeps it.
    BUCKETPAY_RETURN_IF_ERROR(
        c.run("UPDATE payments SET state = 'submitted', updated_ms = ?2 WHERE id = ?1", {id, now_ms()}).status());
    if (state == "signed" && latency_ms > 0) {
      BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE payments SET latency_ms = ?2 WHERE id = ?1", {id, latency_ms}).status());
    }
    if (!relayer_tx.empty()) {
      BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE payments SET relayer_tx = ?2 WHERE id = ?1", {id, relayer_tx}).status());
    }
    return txn.commit();
  });
}

Status SqlStore::expire_payment(std::int64_t id, PaymentState expected, std::string_view error,
                                std::span<const std::int64_t> spent_note_ids, std::uint64_t block) {
  return run<Status>("expire_payment", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state != payment_state_name(expected) || (state != "signed" && state != "submitted")) {
      return Status::failed_precondition(payment_label(id) + " is " + state + ", not " +
                                         std::string(payment_state_name(expected)) + " in flight: it cannot expire");
    }
    // Past its deadline nothing of it can land: its outputs go with it.
    BUCKETPAY_RETURN_IF_ERROR(fail_payment_in(c, id, error, spent_note_ids, block, /*delete_new_notes=*/true));
    return txn.commit();
  });
}

Result<std::optional<Payment>> SqlStore::find_payment_by_digest(std::string_view digest) {
  using R = Result<std::optional<Payment>>;
  return run<R>("find_payment_by_digest", [&](Connection& c) -> R {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string canonical, canonical_digest(digest));
    const sql::Value params[] = {canonical};
    BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Payment> found, query_payments(c, "digest = ?1", params));
    if (found.empty()) return std::optional<Payment>();
    return std::optional<Payment>(std::move(found.front()));
  });
}

Status SqlStore::fail_payment_in(Connection& c, std::int64_t id, std::string_view error,
                                 std::span<const std::int64_t> spent_note_ids, std::uint64_t block,
                                 bool delete_new_notes) {
  BUCKETPAY_RETURN_IF_ERROR(
      c.run("UPDATE payments SET state = 'failed', error = ?2, block = ?3, updated_ms = ?4 WHERE id = ?1",
            {id, error, to_db(block), now_ms()})
          .status());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<std::int64_t> notes, linked_notes_in(c, id, "spend"));
  for (std::int64_t note : notes) {
    if (std::find(spent_note_ids.begin(), spent_note_ids.end(), note) != spent_note_ids.end()) {
      BUCKETPAY_RETURN_IF_ERROR(mark_spent_in(c, note, block));
    } else {
      BUCKETPAY_RETURN_IF_ERROR(
          c.run("UPDATE notes SET state = 'on_chain' WHERE id = ?1 AND state = 'spending'", {note}).status());
    }
  }
  if (!delete_new_notes) return Status::ok();
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<std::int64_t> created, linked_notes_in(c, id, "new"));
  for (std::int64_t note : created) {
    BUCKETPAY_RETURN_IF_ERROR(
        c.run("DELETE FROM notes WHERE id = ?1 AND state = 'pending' AND leaf_index IS NULL", {note}).status());
  }
  return Status::ok();
}

Status SqlStore::fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                              std::uint64_t block) {
  return run<Status>("fail_payment", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state == "failed") return Status::ok();
    if (state == "confirmed") return Status::failed_precondition(payment_label(id) + " is confirmed");
    BUCKETPAY_RETURN_IF_ERROR(fail_payment_in(c, id, error, spent_note_ids, block, /*delete_new_notes=*/true));
    return txn.commit();
  });
}

Status SqlStore::fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                                 std::span<const std::int64_t> spent_note_ids, std::uint64_t block) {
  return run<Status>("fail_payment_if", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, payment_state_in(c, id, true));
    if (state != payment_state_name(expected) || state == "confirmed" || state == "failed") {
      return Status::failed_precondition(payment_label(id) + " is " + state + ", not " +
                                         std::string(payment_state_name(expected)) + ": it cannot become failed");
    }
    // Only a payment never signed cannot land: a signed one's outputs stay pending.
    const bool never_signed = expected == PaymentState::kPrepared;
    BUCKETPAY_RETURN_IF_ERROR(fail_payment_in(c, id, error, spent_note_ids, block, never_signed));
    return txn.commit();
  });
}

Result<Payment> SqlStore::get_payment(std::int64_t id) {
  return run<Result<Payment>>("get_payment", [&](Connection& c) -> Result<Payment> {
    const sql::Value params[] = {id};
    BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Payment> found, query_payments(c, "id = ?1", params));
    if (found.empty()) return Status::not_found("no " + payment_label(id));
    return std::move(found.front());
  });
}

Result<std::vector<Payment>> SqlStore::list_payments(std::string_view wallet, std::optional<PaymentState> state) {
  return run<Result<std::vector<Payment>>>("list_payments", [&](Connection& c) {
    if (!state) {
      const sql::Value params[] = {wallet};
      return query_payments(c, "wallet = ?1 ORDER BY id", params);
    }
    const sql::Value params[] = {wallet, payment_state_name(*state)};
    return query_payments(c, "wallet = ?1 AND state = ?2 ORDER BY id", params);
  });
}

}  // namespace bucketpay
