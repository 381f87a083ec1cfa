// Records for store tests (SQLite's own, the contract over both backends, PostgreSQL's queue),
// and must(): the value of a Result a test cannot go on without.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/store.h"

namespace bucketpay::store_testing {

// The value of `r`; a failed Result fails the test and throws, ending it (GoogleTest reports the
// exception), so that nothing runs on a value that is not there.
template <typename T>
T must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) {
    throw std::runtime_error(r.status().to_string());
  }
  return std::move(r).value();
}

// A note of `wallet`, on chain at `leaf` if given, else pending. Random pk, r and commitment (the
// store does not recompute it).
inline StoredNote make_note(std::string wallet, std::uint64_t value, std::optional<std::uint64_t> leaf = std::nullopt) {
  StoredNote n;
  n.wallet = std::move(wallet);
  n.pk = Fr::random();
  n.value = value;
  n.r = Fr::random();
  n.leaf_index = leaf;
  n.state = leaf ? NoteState::kOnChain : NoteState::kPending;
  n.commitment = Fr::random();
  n.created_ms = 1'700'000'000'000;
  return n;
}

// A payment of wallet "w" spending `notes`.
inline Payment make_payment(std::vector<std::int64_t> notes, std::uint64_t amount = 3) {
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kPay;
  p.amount = amount;
  p.recipient = "0xc0ffee";
  p.note_ids = std::move(notes);
  return p;
}

// A precompute of `note_id` with every field set (an empty key takes the job's on completion).
inline Precompute make_precompute(std::string key, std::int64_t note_id, CircuitKind circuit = CircuitKind::kSpend) {
  Precompute p;
  p.key = std::move(key);
  p.note_id = note_id;
  p.circuit = circuit;
  p.amount = 64;
  p.auth = Fr::from_u64(0xC0FFEE);
  p.public_inputs = {Fr::random(), Fr::random(), Fr::from_u64(64), Fr::from_u64(0xC0FFEE)};
  p.proof = {1, 2, 3, 4, 5, 0, 255};
  p.outputs_json = R"([{"pk":"0x01","v":3,"r":"0x02"}])";
  p.created_ms = 1'700'000'000'123;
  p.prove_ms = 1234.567891234;
  p.worker = 3;
  return p;
}

// A pending spend job.
inline Job make_job(std::string key, std::string batch = "b1") {
  Job j;
  j.key = std::move(key);
  j.batch = std::move(batch);
  j.circuit = CircuitKind::kSpend;
  j.spec_json = R"({"note_id":1,"auth":"0xc0ffee"})";
  return j;
}

// One secret of each sealed kind in `store`: a note's r, a spending key, a split precompute's
// output r and a secret in a job's spec; the test looks for `secrets` where the store keeps them.
struct OneSecretOfEachKind {
  StoredNote note;  // its commitment is public, its r secret
  std::vector<Fr> secrets;
};
inline OneSecretOfEachKind store_one_secret_of_each_kind(Store& store) {
  OneSecretOfEachKind put{make_note("alice", 64, 0), {}};
  const Fr sk = Fr::random();
  const Fr out_r = Fr::random();
  const Fr spec_secret = Fr::random();
  put.secrets = {put.note.r, sk, out_r, spec_secret};
  const std::int64_t id = must(store.insert_note(put.note));
  EXPECT_TRUE(store.put_spending_key("alice", sk).is_ok());
  Precompute p = make_precompute("pc", id, CircuitKind::kSplit);
  p.outputs_json = R"([{"pk":"0x01","v":3,"r":")" + out_r.to_hex() + R"("}])";
  EXPECT_TRUE(store.insert_precompute(p).ok());
  Job j = make_job("job");
  j.spec_json = R"({"r":")" + spec_secret.to_hex() + R"("})";
  EXPECT_EQ(must(store.enqueue_jobs(std::vector<Job>{j})), 1);
  return put;
}

}  // namespace bucketpay::store_testing
