// The job spec: what a proving job proves, and its one codec (the JSON sealed in the store's jobs).
//
//   spend  {"note_id": N, "auth": "0x<64 hex>"}
//   split  {"note_id": N, "auth": "0x<64 hex>", "amount": CENTS, "change_r": "0x<64 hex>"}
//
// auth is the note's spend authorization address as a field element (checked against the note when
// the job is proved); a seed split's change goes back to the note's owner with blinding change_r,
// fixed when the job is made so that a resumed job makes the same change note.
//
// Decoding is strict: exactly these members, of these types, field elements canonical, the note id
// positive, the amount in 1..2^64-1. Anything else (stored data that does not decode) is
// kCorruption naming what is wrong; nothing throws.
//
// The engine makes and proves jobs from it (src/engine); the service reads a job's note from it. The
// spec holds a secret (change_r): never logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bucketpay/amount.h"
#include "bucketpay/domain.h"
#include "bucketpay/field.h"
#include "bucketpay/status.h"

namespace bucketpay {

struct JobSpec {
  CircuitKind circuit = CircuitKind::kSpend;
  std::int64_t note_id = 0;
  Fr auth;
  Cents amount = 0;  // split only: the withdrawal
  Fr change_r;       // split only: the change note's blinding

  friend bool operator==(const JobSpec&, const JobSpec&) = default;
};

std::string encode_job_spec(const JobSpec& spec);
// The spec of a job of `circuit` (the job's own column: the JSON does not repeat it).
Result<JobSpec> decode_job_spec(CircuitKind circuit, std::string_view json);

}  // namespace bucketpay
