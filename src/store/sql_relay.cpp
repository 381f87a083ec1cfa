// SqlStore's RelayJournal: every transition a single compare-and-set UPDATE on the entry's state.
#include <string>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

std::string_view relay_entry_state_name(RelayEntryState state) {
  switch (state) {
    case RelayEntryState::kReceived:
      return "received";
    case RelayEntryState::kSigned:
      return "signed";
    case RelayEntryState::kSubmitted:
      return "submitted";
    case RelayEntryState::kMined:
      return "mined";
    case RelayEntryState::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kRelayColumns =
    "digest, kind, bundle, fee, sender, deadline, state, tx_hash, raw_tx, nonce, block, gas_used, reason, "
    "created_ms, updated_ms";
constexpr std::string_view kOldestFirst = " ORDER BY created_ms, digest";

std::string entry_label(std::string_view digest) { return "relay entry " + std::string(digest); }

Result<RelayEntryState> parse_relay_state(std::string_view s) {
  for (RelayEntryState st : {RelayEntryState::kReceived, RelayEntryState::kSigned, RelayEntryState::kSubmitted,
                             RelayEntryState::kMined, RelayEntryState::kFailed}) {
    if (relay_entry_state_name(st) == s) return st;
  }
  return Status::corruption("unknown relay state '" + std::string(s) + "'");
}

Result<RelayEntry> read_relay(const sql::Row& row) {
  RelayEntry e;
  e.digest = row.text(0);
  e.kind = row.text(1);
  e.bundle = row.text(2);
  e.fee = row.text(3);
  e.sender = row.text(4);
  e.deadline = from_db(row.int64(5));
  BUCKETPAY_ASSIGN_OR_RETURN(e.state, parse_relay_state(row.text(6)));
  e.tx_hash = row.text(7);
  e.raw_tx = row.blob(8);
  if (!row.is_null(9)) e.nonce = from_db(row.int64(9));
  e.block = from_db(row.int64(10));
  e.gas_used = from_db(row.int64(11));
  e.reason = row.text(12);
  e.created_ms = row.int64(13);
  e.updated_ms = row.int64(14);
  return e;
}

Result<std::vector<RelayEntry>> query_relays(sql::Connection& c, std::string_view where, sql::Params params) {
  const std::string sql = "SELECT " + std::string(kRelayColumns) + " FROM relay_journal" +
                          (where.empty() ? std::string() : " WHERE " + std::string(where)) + std::string(kOldestFirst);
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, params));
  std::vector<RelayEntry> out;
  out.reserve(rows.size());
  for (const sql::Row row : rows) {
    BUCKETPAY_ASSIGN_OR_RETURN(RelayEntry e, read_relay(row));
    out.push_back(std::move(e));
  }
  return out;
}

// Why an UPDATE that changed nothing did not apply: no such entry, or it is in another state.
Status not_applied(sql::Connection& c, std::string_view digest, std::string_view becoming) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT state FROM relay_journal WHERE digest = ?1", {digest}));
  if (r.empty()) return Status::not_found("no " + entry_label(digest));
  return Status::failed_precondition(entry_label(digest) + " is " + r[0].text(0) + ": it cannot become " +
                                     std::string(becoming));
}

}  // namespace

Status SqlStore::begin_relay(const RelayEntry& e) {
  return run<Status>("begin_relay", [&](Connection& c) -> Status {
    if (e.digest.empty() || e.sender.empty() || e.kind.empty()) {
      return Status::invalid_argument("a relay entry needs a digest, a kind and a sender");
    }
    const std::int64_t now = e.created_ms != 0 ? e.created_ms : now_ms();
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r,
        c.run("INSERT INTO relay_journal(digest, kind, bundle, fee, sender, deadline, state, tx_hash, block, "
              "gas_used, reason, created_ms, updated_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'received', '', 0, 0, '', ?7, ?7) "
              "ON CONFLICT (digest) DO NOTHING RETURNING digest",
              {e.digest, e.kind, e.bundle, e.fee, e.sender, to_db(e.deadline), now}));
    if (r.empty()) return Status::already_exists(entry_label(e.digest) + " exists");
    return Status::ok();
  });
}

Status SqlStore::record_relay_signed(std::string_view digest, std::string_view tx_hash,
                                     std::span<const std::uint8_t> raw_tx, std::uint64_t nonce) {
  return run<Status>("record_relay_signed", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("UPDATE relay_journal SET state = 'signed', tx_hash = ?2, raw_tx = ?3, "
                                     "nonce = ?4, updated_ms = ?5 WHERE digest = ?1 AND state = 'received'",
                                     {digest, tx_hash, raw_tx, to_db(nonce), now_ms()}));
    if (r.affected() == 1) return Status::ok();
    return not_applied(c, digest, "signed");
  });
}

Status SqlStore::mark_relay_submitted(std::string_view digest) {
  return run<Status>("mark_relay_submitted", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("UPDATE relay_journal SET state = 'submitted', updated_ms = ?2 "
                                                        "WHERE digest = ?1 AND state IN ('signed', 'submitted')",
                                                        {digest, now_ms()}));
    if (r.affected() == 1) return Status::ok();
    return not_applied(c, digest, "submitted");
  });
}

Status SqlStore::mark_relay_mined(std::string_view digest, std::uint64_t block, std::uint64_t gas_used) {
  return run<Status>("mark_relay_mined", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("UPDATE relay_journal SET state = 'mined', block = ?2, gas_used = ?3, "
                                     "updated_ms = ?4 WHERE digest = ?1 AND state IN ('signed', 'submitted')",
                                     {digest, to_db(block), to_db(gas_used), now_ms()}));
    if (r.affected() == 1) return Status::ok();
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows now,
                               c.run("SELECT state FROM relay_journal WHERE digest = ?1", {digest}));
    if (!now.empty() && now[0].text(0) == "mined") return Status::ok();
    return not_applied(c, digest, "mined");
  });
}

Status SqlStore::fail_relay(std::string_view digest, RelayEntryState expected, std::string_view reason,
                            std::uint64_t block, std::uint64_t gas_used) {
  return run<Status>("fail_relay", [&](Connection& c) -> Status {
    if (expected == RelayEntryState::kMined || expected == RelayEntryState::kFailed) {
      return Status::invalid_argument("only a received, signed or submitted entry can fail");
    }
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r,
        c.run("UPDATE relay_journal SET state = 'failed', reason = ?3, block = ?4, "
              "gas_used = ?5, updated_ms = ?6 WHERE digest = ?1 AND state = ?2",
              {digest, relay_entry_state_name(expected), reason, to_db(block), to_db(gas_used), now_ms()}));
    if (r.affected() == 1) return Status::ok();
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows now,
                               c.run("SELECT state FROM relay_journal WHERE digest = ?1", {digest}));
    if (now.empty()) return Status::not_found("no " + entry_label(digest));
    return Status::failed_precondition(entry_label(digest) + " is " + now[0].text(0) + ", not " +
                                       std::string(relay_entry_state_name(expected)) + ": it cannot become failed");
  });
}

Result<std::optional<RelayEntry>> SqlStore::get_relay(std::string_view digest) {
  return run<Result<std::optional<RelayEntry>>>("get_relay", [&](Connection& c) -> Result<std::optional<RelayEntry>> {
    const sql::Value params[] = {digest};
    BUCKETPAY_ASSIGN_OR_RETURN(std::vector<RelayEntry> found, query_relays(c, "digest = ?1", params));
    if (found.empty()) return std::optional<RelayEntry>();
    return std::optional<RelayEntry>(std::move(found.front()));
  });
}

Result<std::vector<RelayEntry>> SqlStore::list_relays(std::optional<RelayEntryState> state) {
  return run<Result<std::vector<RelayEntry>>>("list_relays", [&](Connection& c) -> Result<std::vector<RelayEntry>> {
    if (!state) return query_relays(c, "", {});
    const sql::Value params[] = {relay_entry_state_name(*state)};
    return query_relays(c, "state = ?1", params);
  });
}

Result<std::vector<RelayEntry>> SqlStore::list_open_relays() {
  return run<Result<std::vector<RelayEntry>>>("list_open_relays", [&](Connection& c) {
    return query_relays(c, "state IN ('received', 'signed', 'submitted')", {});
  });
}

Result<RelayCounts> SqlStore::relay_counts() {
  return run<Result<RelayCounts>>("relay_counts", [&](Connection& c) -> Result<RelayCounts> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run("SELECT state, COUNT(*) FROM relay_journal GROUP BY state"));
    RelayCounts counts;
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(const RelayEntryState st, parse_relay_state(row.text(0)));
      const std::int64_t n = row.int64(1);
      switch (st) {
        case RelayEntryState::kReceived:
          counts.received = n;
          break;
        case RelayEntryState::kSigned:
          counts.signed_ = n;
          break;
        case RelayEntryState::kSubmitted:
          counts.submitted = n;
          break;
        case RelayEntryState::kMined:
          counts.mined = n;
          break;
        case RelayEntryState::kFailed:
          counts.failed = n;
          break;
      }
    }
    return counts;
  });
}

// ---- The x402 facilitator's stage.

Status SqlStore::put_x402_stage(const X402Stage& st) {
  return run<Status>("put_x402_stage", [&](Connection& c) -> Status {
    if (st.digest.empty() || st.bundle_hash.empty()) {
      return Status::invalid_argument("an x402 stage needs a digest and a bundle hash");
    }
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r,
        c.run("INSERT INTO x402_stages(digest, bundle_hash, bundle, expires_at, pending_tx, created_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (digest, bundle_hash) DO NOTHING RETURNING digest",
              {st.digest, st.bundle_hash, st.bundle, to_db(st.expires_at), st.pending_tx,
               st.created_ms != 0 ? st.created_ms : now_ms()}));
    if (r.empty()) return Status::already_exists("x402 stage " + st.digest + " " + st.bundle_hash + " exists");
    return Status::ok();
  });
}

Result<std::vector<X402Stage>> SqlStore::list_x402_stages() {
  return run<Result<std::vector<X402Stage>>>("list_x402_stages", [&](Connection& c) -> Result<std::vector<X402Stage>> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows,
                               c.run("SELECT digest, bundle_hash, bundle, expires_at, pending_tx, created_ms "
                                     "FROM x402_stages ORDER BY created_ms, digest, bundle_hash"));
    std::vector<X402Stage> out;
    out.reserve(rows.size());
    for (const sql::Row row : rows) {
      out.push_back(X402Stage{row.text(0), row.text(1), row.text(2), from_db(row.int64(3)), row.text(4), row.int64(5)});
    }
    return out;
  });
}

Result<std::size_t> SqlStore::drop_x402_stages(std::string_view digest, std::string_view bundle_hash) {
  return run<Result<std::size_t>>("drop_x402_stages", [&](Connection& c) -> Result<std::size_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r, bundle_hash.empty() ? c.run("DELETE FROM x402_stages WHERE digest = ?1", {digest})
                                               : c.run("DELETE FROM x402_stages WHERE digest = ?1 AND bundle_hash = ?2",
                                                       {digest, bundle_hash}));
    return static_cast<std::size_t>(r.affected());
  });
}

Result<std::size_t> SqlStore::drop_expired_x402_stages(std::uint64_t now_s) {
  return run<Result<std::size_t>>("drop_expired_x402_stages", [&](Connection& c) -> Result<std::size_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("DELETE FROM x402_stages WHERE expires_at < ?1", {to_db(now_s)}));
    return static_cast<std::size_t>(r.affected());
  });
}

Status SqlStore::set_x402_pending(std::string_view digest, std::string_view tx_hash) {
  return run<Status>("set_x402_pending", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("UPDATE x402_stages SET pending_tx = ?2 WHERE digest = ?1", {digest, tx_hash}));
    if (r.affected() == 0) return Status::not_found("no x402 stage of payment " + std::string(digest));
    return Status::ok();
  });
}

Result<std::optional<std::string>> SqlStore::take_x402_pending(std::string_view digest) {
  return run<Result<std::optional<std::string>>>(
      "take_x402_pending", [&](Connection& c) -> Result<std::optional<std::string>> {
        BUCKETPAY_ASSIGN_OR_RETURN(
            const sql::Rows r,
            c.run("SELECT pending_tx FROM x402_stages WHERE digest = ?1 AND pending_tx <> '' LIMIT 1", {digest}));
        if (r.empty()) return std::optional<std::string>();
        const std::string tx = r[0].text(0);
        // Compare-and-set: of two takers that read it, the one whose UPDATE clears it has it.
        BUCKETPAY_ASSIGN_OR_RETURN(
            const sql::Rows cleared,
            c.run("UPDATE x402_stages SET pending_tx = '' WHERE digest = ?1 AND pending_tx = ?2", {digest, tx}));
        if (cleared.affected() == 0) return std::optional<std::string>();
        return std::optional<std::string>(tx);
      });
}

}  // namespace bucketpay
