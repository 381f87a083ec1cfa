// Test helper for the CLI process tests (crash_e2e_test, fleet_e2e_test): checks a store's spend
// precomputes independently of the process that made them.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <set>

#include "bucketpay/bb.h"
#include "bucketpay/store.h"
#include "testing/testing.h"

namespace bucketpay::testing {

// The store holds exactly `expected` spend precomputes, one per note (none proved twice), and each
// verifies in a fresh bb process with the verification key computed from build/circuits/spend.json.
inline void expect_spend_precomputes_verify(Store& store, std::size_t expected) {
  auto precomputes = store.list_precomputes_by_circuit(CircuitKind::kSpend);
  ASSERT_TRUE(precomputes.ok()) << precomputes.status().to_string();
  ASSERT_EQ(precomputes->size(), expected);
  auto circuit = bb::load_circuit_artifact(circuit_artifact("spend"), "spend");
  ASSERT_TRUE(circuit.ok()) << circuit.status().to_string();
  auto bbp = bb::Process::start({bb_binary(), 2, {}, {}, crs_dir()});
  ASSERT_TRUE(bbp.ok()) << bbp.status().to_string();
  auto vk = (*bbp)->compute_vk(*circuit);
  ASSERT_TRUE(vk.ok()) << vk.status().to_string();
  std::set<std::int64_t> notes;
  for (const auto& p : *precomputes) {
    EXPECT_TRUE(notes.insert(p.note_id).second) << "note " << p.note_id << " proved twice";
    auto v = (*bbp)->verify(*vk, bb::ProofData{p.public_inputs, p.proof});
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    EXPECT_TRUE(*v) << p.key;
  }
}

}  // namespace bucketpay::testing
