// The precompute engine: makes the proofs that turn payments into lookups, and keeps them in the
// store, never losing or corrupting one.
//
// Two modes (docs/protocol.md, "Precomputes and payments"):
//  - seed mode, generate_all_precomputes(): for one note, a `split` proof per bucket b <= v that
//    withdraws b with the change back to the owner as its one output (at most one can ever be used);
//  - inventory mode, generate_spend_precomputes(): one `spend` proof per note, for its exact value.
// Protocol v2: proofs name no recipient. Each binds its note's spend authorization address
// (auth_address(sk, cm), bucketpay/circuit_inputs.h; Precompute::auth); who is paid is decided at
// payment time by the EIP-712 payment that key signs.
//
// Every proof is a job in the store first (idempotent on its key), then proved by the ProverPool,
// verified, and stored with its job marked done in one transaction. Asking for a precompute that
// exists returns it without proving (the proof cache). After a crash, resume() proves the jobs
// left unfinished. Asking again for a proof whose job failed tries it again (its job goes back to
// pending with fresh tries): a failure never leaves a note unproved for good. The tree is the store's leaves; a note
// must have a leaf index to be proved.
//
// Thread safety: an Engine is used by one thread at a time (its pool is internally parallel).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"

namespace bucketpay {

struct PrecomputeOptions {
  bool parallel = true;        // false: one proof at a time
  std::size_t batch_size = 0;  // proofs claimed and handed to the workers at a time; 0: automatic
  // Progress: proofs finished (proved, failed or cached) of the total, after each one.
  std::function<void(std::size_t done, std::size_t total)> on_progress;
  // Called once for each of this request's proofs that failed, before on_progress counts it.
  std::function<void()> on_failed;
  const CancelToken* cancel = nullptr;
  std::string batch;  // a name for this request's jobs; empty: generated
};

struct PrecomputeReport {
  std::string batch;
  std::vector<Precompute> precomputes;  // ready ones, in the order asked (cached or proved)
  std::size_t proved = 0;
  std::size_t cached = 0;
  std::size_t failed = 0;
  std::size_t enqueued = 0;         // jobs added to the store by this request (new keys)
  std::vector<std::string> errors;  // one line per failed proof
};

// The roles of the store the engine uses: the tree's leaves and the notes it proves (NoteStore), the
// owner's spending key (SecretStore), the proof cache and its job queue (ProofStore). A whole Store
// converts to them.
struct EngineStores {
  NoteStore& notes;
  SecretStore& secrets;
  ProofStore& proofs;

  EngineStores(NoteStore& n, SecretStore& s, ProofStore& p) : notes(n), secrets(s), proofs(p) {}
  EngineStores(Store& store) : EngineStores(store, store, store) {}  // NOLINT(google-explicit-constructor)
};

class Engine {
 public:
  // The engine proves with `pool` for `wallet`'s notes in `stores`; both outlive the engine. It
  // loads its own copy of the tree from the store's leaves.
  static Result<std::unique_ptr<Engine>> open(EngineStores stores, ProverPool& pool, std::string wallet);
  // The same on the caller's `tree` (e.g. the wallet's, so that one process keeps one tree), which
  // must hold a prefix of the store's leaves and outlive the engine; the engine appends the leaves
  // another process added when a note lies beyond it. Neither may use the tree while the other does.
  static Result<std::unique_ptr<Engine>> open(EngineStores stores, ProverPool& pool, std::string wallet,
                                              MerkleTree& tree);
  // An engine without a prover: only enqueue_* work (the proving methods fail with
  // kFailedPrecondition).
  static Result<std::unique_ptr<Engine>> open_without_prover(EngineStores stores, std::string wallet);

  // Seed mode for note `note_id` (see above). Buckets above the note's value are skipped.
  // Both modes claim and prove this request's jobs only (by key, ProofStore::claim_next_job_among):
  // in a store several wallets share, another request's pending jobs are left to it, and the
  // report (its errors name jobs by key, i.e. by nullifier) speaks of this request's jobs only.
  Result<PrecomputeReport> generate_all_precomputes(std::int64_t note_id, std::span<const Cents> buckets,
                                                    const PrecomputeOptions& options = {});
  // Inventory mode: one spend proof per note.
  Result<PrecomputeReport> generate_spend_precomputes(std::span<const std::int64_t> note_ids,
                                                      const PrecomputeOptions& options = {});
  // The store's recovery, not a wallet's: proves every pending job in the store, whichever wallet's
  // (after a crash: running ones are reset first, so never while other provers of the store run);
  // the report's precomputes are those it made, its progress counts every pending job.
  Result<PrecomputeReport> resume(const PrecomputeOptions& options = {});

  // The same jobs as generate_all_precomputes / generate_spend_precomputes, put in the store
  // without proving (for a fleet of `bucketpay worker`s). Already stored precomputes count as
  // cached; report.enqueued is how many jobs were added; options.batch names them.
  Result<PrecomputeReport> enqueue_all_precomputes(std::int64_t note_id, std::span<const Cents> buckets,
                                                   const PrecomputeOptions& options = {});
  Result<PrecomputeReport> enqueue_spend_precomputes(std::span<const std::int64_t> note_ids,
                                                     const PrecomputeOptions& options = {});

  // One job, claimed elsewhere (e.g. a fleet worker's lease): its proof request, built from the
  // store (the tree is reloaded from the store when the job's note lies beyond it), proved by the
  // pool, and the precompute to complete the job with. The caller completes or fails the job.
  Result<Precompute> prove_job(const Job& job, const CancelToken* cancel = nullptr);

  // The local tree (the store's leaves). append_leaf() adds to both, durably.
  [[nodiscard]] const MerkleTree& tree() const { return *tree_; }
  Result<std::uint64_t> append_leaf(const Fr& leaf);

  // Precompute keys: one proof per (circuit, note, amount, auth address).
  static std::string spend_key(const Fr& nullifier, const Fr& auth);
  static std::string split_key(const Fr& nullifier, Cents amount, const Fr& auth);

 private:
  struct RunState;
  Engine(EngineStores stores, ProverPool* pool, std::string wallet)
      : notes_(stores.notes),
        secrets_(stores.secrets),
        proofs_(stores.proofs),
        pool_(pool),
        wallet_(std::move(wallet)) {}
  static Result<std::unique_ptr<Engine>> open_with(EngineStores stores, ProverPool* pool, std::string wallet,
                                                   MerkleTree* shared_tree);
  Result<std::vector<Job>> seed_jobs(std::int64_t note_id, std::span<const Cents> buckets);
  Result<std::vector<Job>> spend_jobs(std::span<const std::int64_t> note_ids);
  // Stores the jobs not cached yet under the report's batch; fills batch, cached and enqueued.
  Status enqueue(const std::vector<Job>& jobs, const PrecomputeOptions& options, PrecomputeReport& report);
  // `resuming`: `jobs` is empty and every job claimed is this run's (its progress and its report).
  Result<PrecomputeReport> run(const std::vector<Job>& jobs, const PrecomputeOptions& options, bool resuming = false);
  // Proves jobs claimed by run() and records each result (record_result, from the prover's threads).
  Status prove_claimed(const std::vector<Job>& claimed, RunState& state);
  // A job decoded once (its spec, its note) and its proof request (engine.cpp).
  struct PreparedJob;
  void record_result(const Job& job, const PreparedJob& prepared, const ProofResult& result, RunState& state);
  Result<PreparedJob> prepare(const Job& job);
  static Result<Precompute> precompute_for(const PreparedJob& job, const ProofResult& result);
  Status sync_tree();

  NoteStore& notes_;
  SecretStore& secrets_;
  ProofStore& proofs_;
  ProverPool* pool_;  // null: enqueue only
  std::string wallet_;
  MerkleTree own_tree_;            // when the caller shares none
  MerkleTree* tree_ = &own_tree_;  // the tree in use: own_tree_ or the caller's
};

// The notes a stored split precompute creates when it lands (seed mode: the change back to the
// owner, one note; none when the whole note is withdrawn), from its outputs_json (secret: never
// logged). kCorruption when they do not decode.
Result<std::vector<Note>> split_precompute_outputs(const Precompute& precompute);

// ---- Notes ready to pay: the one rule, used by the wallet (payments, balance, inventory) and the
// service (the payment plan and the dashboard).
//
// A note is ready to pay when it is `wallet`'s, on chain (so neither reserved by a payment in
// flight nor spent) and has a spend precompute carrying the spend statement's four public inputs
// [root, nullifier, value, auth]. Protocol v2: a spend proof names no recipient (it binds the
// note's auth address), so a ready note can pay anyone.
struct ReadyNote {
  StoredNote note;
  Precompute proof;          // its spend proof (the first by id)
  SpendStatement statement;  // what the proof states: its root, nullifier, value (the note's) and auth
};
// The ready notes of `wallet`, by note id. Reads each role once (the notes, the spend precomputes).
Result<std::vector<ReadyNote>> ready_notes(NoteStore& notes, ProofStore& proofs, std::string_view wallet);

}  // namespace bucketpay
