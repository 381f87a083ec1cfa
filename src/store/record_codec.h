// Record encodings of the SQL store (sql_store.h), the same over SQLite and PostgreSQL, so
// both write and read records the same way: field elements as 32 big-endian bytes, uint64 values by
// their bit pattern in a signed 64-bit column, states by name, and the associated data that binds
// each sealed secret to its record. Internal: not part of the public API.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/domain.h"
#include "bucketpay/field.h"
#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay::store_codec {

using Bytes = std::vector<std::uint8_t>;

// A sealed known plaintext in each store's meta table: a wrong passphrase fails to unseal it.
inline constexpr std::string_view kVaultCheckPlaintext = "bucketpay vault check v1";
inline constexpr std::string_view kVaultCheckAd = "bucketpay.vault.check";

// Associated data of each kind of sealed secret: a sealed value cannot be moved to another record.
inline std::string note_r_ad(const Fr& commitment) { return "bucketpay.note.r:" + commitment.to_hex(); }
inline std::string spending_key_ad(std::string_view wallet) { return "bucketpay.sk:" + std::string(wallet); }
inline std::string outputs_ad(std::string_view key) { return "bucketpay.precompute.outputs:" + std::string(key); }
inline std::string job_spec_ad(std::string_view key) { return "bucketpay.job.spec:" + std::string(key); }
inline std::string secret_ad(std::string_view wallet, std::string_view name) {
  // The wallet's length first: no two (wallet, name) pairs give the same string.
  return "bucketpay.secret:" + std::to_string(wallet.size()) + ":" + std::string(wallet) + ":" + std::string(name);
}

// The Unix time of the records a store writes (created_ms, updated_ms, ...).
inline std::int64_t now_ms() { return Clock::system().unix_ms(); }

// Wipes a buffer that held a secret.
template <typename C>
void wipe(C& c) {
  if (!c.empty()) {
    sodium_memzero(c.data(), c.size() * sizeof(c[0]));
  }
}

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline Result<Fr> decode_fr(std::span<const std::uint8_t> bytes, std::string_view what) {
  if (bytes.size() != 32) {
    return Status::corruption(std::string(what) + ": expected 32 bytes, got " + std::to_string(bytes.size()));
  }
  Result<Fr> fr = Fr::from_bytes(bytes.first<32>());
  if (!fr.ok()) {
    return Status::corruption(std::string(what) + ": " + fr.status().message());
  }
  return fr;
}

inline Bytes encode_frs(std::span<const Fr> frs) {
  Bytes out;
  out.reserve(frs.size() * 32);
  for (const Fr& f : frs) {
    const Fr::Bytes b = f.to_bytes();
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

inline Result<std::vector<Fr>> decode_frs(std::span<const std::uint8_t> bytes, std::string_view what) {
  if (bytes.size() % 32 != 0) {
    return Status::corruption(std::string(what) + ": length " + std::to_string(bytes.size()) +
                              " is not a multiple of 32");
  }
  std::vector<Fr> out;
  out.reserve(bytes.size() / 32);
  for (std::size_t i = 0; i < bytes.size(); i += 32) {
    Result<Fr> f = decode_fr(bytes.subspan(i, 32), what);
    if (!f.ok()) {
      return f.status();
    }
    out.push_back(*f);
  }
  return out;
}

// uint64 values are stored in a signed 64-bit column (SQLite INTEGER, PostgreSQL BIGINT) by their
// bit pattern.
inline std::int64_t to_db(std::uint64_t v) { return static_cast<std::int64_t>(v); }
inline std::uint64_t from_db(std::int64_t v) { return static_cast<std::uint64_t>(v); }

inline Result<NoteState> parse_note_state(std::string_view s) {
  for (NoteState st : {NoteState::kPending, NoteState::kOnChain, NoteState::kSpending, NoteState::kSpent}) {
    if (note_state_name(st) == s) {
      return st;
    }
  }
  return Status::corruption("unknown note state '" + std::string(s) + "'");
}

inline Result<JobState> parse_job_state(std::string_view s) {
  for (JobState st : {JobState::kPending, JobState::kRunning, JobState::kDone, JobState::kFailed}) {
    if (job_state_name(st) == s) {
      return st;
    }
  }
  return Status::corruption("unknown job state '" + std::string(s) + "'");
}

inline Result<PaymentState> parse_payment_state(std::string_view s) {
  for (PaymentState st : {PaymentState::kPrepared, PaymentState::kSigned, PaymentState::kSubmitted,
                          PaymentState::kConfirmed, PaymentState::kFailed}) {
    if (payment_state_name(st) == s) {
      return st;
    }
  }
  return Status::corruption("unknown payment state '" + std::string(s) + "'");
}

// A stored circuit or payment kind: an unknown name is corruption of `what`.
inline Result<CircuitKind> parse_circuit(std::string_view s, std::string_view what) {
  Result<CircuitKind> k = parse_circuit_kind(s);
  if (!k.ok()) return Status::corruption(std::string(what) + ": " + k.status().message());
  return k;
}
inline Result<PaymentKind> parse_kind(std::string_view s, std::string_view what) {
  Result<PaymentKind> k = parse_payment_kind(s);
  if (!k.ok()) return Status::corruption(std::string(what) + ": " + k.status().message());
  return k;
}

// What both backends require of a note before inserting it.
inline Status validate_note(const StoredNote& note) {
  if (note.wallet.empty()) {
    return Status::invalid_argument("the note's wallet is empty");
  }
  if (note.leaf_index && *note.leaf_index > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Status::invalid_argument("leaf index out of range");
  }
  if (note.state == NoteState::kOnChain && !note.leaf_index) {
    return Status::invalid_argument("an on-chain note needs a leaf index");
  }
  if (note.state == NoteState::kPending && note.leaf_index) {
    return Status::invalid_argument("a pending note has no leaf index (use on_chain)");
  }
  return Status::ok();
}

// Empty, or valid JSON.
inline Status check_json(std::string_view json, std::string_view what) {
  if (json.empty() || nlohmann::json::accept(json.begin(), json.end())) {
    return Status::ok();
  }
  return Status::invalid_argument(std::string(what) + " is not valid JSON");
}

}  // namespace bucketpay::store_codec
