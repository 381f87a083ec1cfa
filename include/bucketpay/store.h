// Store: the engine's durable state: the Merkle tree's leaves, a wallet's notes and spending keys,
// the precomputed proofs and the queue of proving jobs, the wallet's view of the chain, its payments
// journal, the API tokens of its service, and a relayer's journal.
//
// The Store is split by role into narrow interfaces (NoteStore, SecretStore, ProofStore,
// SettingsStore, ChainIndexStore, PaymentJournal, TokenStore, StoreLocks, RelayJournal); Store is all of
// them.
// Nothing here names a backend's types: open_sqlite_store() gives the SQLite store, open_pg_store()
// (bucketpay/pg_store.h) the PostgreSQL one; both are one implementation of these rules over two
// databases (src/store/sql_store.h).
//
// Errors: every expected failure is a Status: kNotFound (no such id/key), kAlreadyExists (a unique
// key is taken), kFailedPrecondition (a state transition that does not apply, a store that needs a
// passphrase), kInvalidArgument (malformed input, wrong passphrase), kCorruption (stored bytes that
// do not decode or do not authenticate), kUnavailable (the database stayed locked by another
// process past the busy timeout), kIoError / kResourceExhausted (file system, disk full).
// No exception leaves a Store method.
//
// Durability: a method that returns OK has committed: its writes survive a crash or power loss
// (SQLite: WAL journal with synchronous=FULL). Each method is one transaction: a multi-row write
// (append_leaves, enqueue_jobs, complete_job, ...) is applied entirely or not at all.
//
// Secrets at rest: when the store has a vault (StoreOptions::passphrase), these columns are sealed by
// it (bucketpay/vault.h) and never written in plaintext: a note's blinding factor r, spending keys,
// a precompute's outputs_json (split outputs carry their r) and a job's spec_json (a job may carry
// the secrets it proves with). Each sealed value is bound to its record (associated data: the
// note's commitment, the wallet name, the precompute's or job's key), so it cannot be moved to
// another record. Without a vault those columns are stored in plaintext (for tests and throwaway
// stores only) and put_spending_key is refused. Everything else (commitments, leaves, values,
// proofs, public inputs, states) is public or derivable from the chain and stored as is.
//
// Thread safety: a Store may be used from any number of threads at once; each call is atomic with
// respect to the others. The SQLite store serialises calls on one connection behind a mutex (calls
// do not run in parallel). Several processes may open the same SQLite file: each write transaction
// takes the database's write lock first, so claim_next_job never hands one job to two workers, even
// across processes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/domain.h"
#include "bucketpay/field.h"
#include "bucketpay/status.h"
#include "bucketpay/vault.h"

namespace bucketpay {

// The life of a note:  pending -> on_chain -> spending -> spent
//                                        ^------------'  (a payment that did not go through)
enum class NoteState : std::uint8_t {
  kPending,   // created (e.g. a deposit or a split output sent), not yet seen in the tree
  kOnChain,   // its commitment is a leaf (leaf_index set): spendable
  kSpending,  // reserved by a payment in flight: not to be chosen again
  kSpent,     // its nullifier is on chain: gone
};
std::string_view note_state_name(NoteState state);  // "pending", "on_chain", "spending", "spent"

struct StoredNote {
  std::int64_t id = 0;  // assigned by insert_note
  std::string wallet;   // the wallet (a name) that owns it
  Fr pk;
  std::uint64_t value = 0;
  Fr r;  // secret blinding factor (sealed at rest when the store has a vault)
  std::optional<std::uint64_t> leaf_index;
  NoteState state = NoteState::kPending;
  Fr commitment;                // H(pk, value, r); the store does not recompute it
  std::int64_t created_ms = 0;  // Unix time in ms; insert_note fills it in when 0

  friend bool operator==(const StoredNote&, const StoredNote&) = default;
};

// One precomputed proof (the proof cache). Unique by key.
struct Precompute {
  std::int64_t id = 0;       // assigned by the store
  std::string key;           // unique; equals the key of the job that made it
  std::int64_t note_id = 0;  // the note it spends (must exist)
  CircuitKind circuit = CircuitKind::kSpend;
  std::uint64_t amount = 0;  // the value paid out
  Fr auth;                   // the spent note's spend authorization address (uint160) the proof binds
  std::vector<Fr> public_inputs;
  std::vector<std::uint8_t> proof;
  std::string outputs_json;     // split outputs [(pk, v, r)], JSON or empty; secret (sealed at rest)
  std::int64_t created_ms = 0;  // filled in when 0
  double prove_ms = 0;
  int worker = 0;

  friend bool operator==(const Precompute&, const Precompute&) = default;
};

enum class JobState : std::uint8_t {
  kPending,  // waiting for a worker (new, retried, or reset after a crash)
  kRunning,  // claimed by a worker
  kDone,     // its precompute is stored
  kFailed,   // failed permanently
};
std::string_view job_state_name(JobState state);  // "pending", "running", "done", "failed"

// One proof to make. Unique by key, which is also the key of the Precompute it produces.
struct Job {
  std::int64_t id = 0;  // assigned by the store
  std::string key;
  std::string batch;  // groups the jobs of one request, for progress reports
  CircuitKind circuit = CircuitKind::kSpend;
  std::string spec_json;  // what to prove, JSON (the engine's codec); secret (sealed at rest)
  JobState state = JobState::kPending;
  int tries = 0;                // claims so far
  std::string error;            // the last failure's message
  std::int64_t updated_ms = 0;  // last state change, Unix time in ms
  int worker = -1;              // the worker of the last claim, -1 if never claimed

  friend bool operator==(const Job&, const Job&) = default;
};

struct JobCounts {
  std::int64_t pending = 0;
  std::int64_t running = 0;
  std::int64_t done = 0;
  std::int64_t failed = 0;

  [[nodiscard]] std::int64_t total() const { return pending + running + done + failed; }
  friend bool operator==(const JobCounts&, const JobCounts&) = default;
};

// ---- The wallet's view of the chain (bucketpay/wallet.h syncs it from the Pool's events).

// A block the store has learned something from (events), or the sync cursor.
struct BlockRef {
  std::uint64_t number = 0;
  std::array<std::uint8_t, 32> hash{};
  friend bool operator==(const BlockRef&, const BlockRef&) = default;
};

// One leaf learned from an Inserted event.
struct ChainLeaf {
  std::uint64_t index = 0;  // must be the next index (leaf_count() + position in the update)
  Fr value;
  std::uint64_t block = 0;  // the block that inserted it
  Fr root;                  // the root the event carried (the root after its transaction's inserts)
};

// What one sync step learned, applied in one transaction by apply_chain_update().
struct ChainUpdate {
  std::vector<ChainLeaf> leaves;  // appended in order, from leaf_count()
  struct NoteLeaf {
    std::int64_t note_id = 0;
    std::uint64_t leaf_index = 0;
  };
  std::vector<NoteLeaf> note_leaves;  // like set_note_leaf_index (pending -> on_chain)
  struct NoteSpent {
    std::int64_t note_id = 0;
    std::uint64_t block = 0;  // the block whose Spent/Split event carried its nullifier
  };
  std::vector<NoteSpent> spent;  // -> kSpent (from any state), spent block recorded, precomputes dropped
  std::vector<BlockRef> blocks;  // blocks with events, remembered for reorg detection
  BlockRef cursor;               // everything up to and including this block is synced
};

// ---- The payments journal: everything the wallet signs is recorded before it leaves the process.
//
// Two kinds of entries (docs/wallet.md, "Payments and the journal"):
//  - a deposit, a transaction the wallet's own account signs and sends (raw bytes and nonce kept,
//    settled by its receipt);
//  - a relayed payment (pay, on-demand split, rebalancing split; protocol v2): an EIP-712 Payment
//    signed by the spent notes' auth keys, bundled with their proofs and handed to a relayer, who
//    sends it. Its digest names it everywhere; it is settled by chain truth (the Pool's Spent
//    events carrying its digest, whoever sent them) and free again only after its deadline.
//
//  prepared -> signed -> submitted -> confirmed
//      \          \          \--------> failed
//       \----------\------------------> failed
enum class PaymentState : std::uint8_t {
  kPrepared,   // notes reserved (spending), nothing signed yet: nothing of it can land
  kSigned,     // the raw transaction (deposit) or the signed bundle (relayed) is recorded; it may or
               // may not have reached the node or the relayer
  kSubmitted,  // the node (deposit) or the relayer (relayed) accepted it
  kConfirmed,  // it landed: its notes are spent
  kFailed,     // it can never land: its notes are released (or spent, see fail_payment)
};
std::string_view payment_state_name(PaymentState state);  // "prepared", "signed", ...

struct Payment {
  std::int64_t id = 0;  // assigned by begin_payment
  std::string wallet;
  PaymentKind kind = PaymentKind::kPay;
  // Value units (cents): what the recipient receives (pay, split); the fee withdrawn (rebalance);
  // what was deposited (deposit).
  std::uint64_t amount = 0;
  std::string recipient;                   // 0x address, or empty (deposit)
  std::vector<std::int64_t> note_ids;      // notes it spends (reserved: on_chain -> spending)
  std::vector<std::int64_t> new_note_ids;  // notes it creates (already inserted as pending)
  PaymentState state = PaymentState::kPrepared;
  // A deposit: its transaction, set when signed.
  std::string tx_hash;               // 0x-hex
  std::vector<std::uint8_t> raw_tx;  // the signed transaction
  std::uint64_t nonce = 0;
  std::uint64_t gas_used = 0;   // set when confirmed by its own receipt
  std::uint64_t block = 0;      // set when confirmed (or failed in a block)
  std::string error;            // why it failed
  double latency_ms = 0;        // the call to the signed transaction (deposit) or to the bundle handed over
  std::int64_t created_ms = 0;  // filled in when 0
  std::int64_t updated_ms = 0;
  // 0x hash of the transaction whose events confirmed it when that is not tx_hash (settle_payment_by:
  // a relayer's, or anyone's who sent a copy); empty otherwise (set only while confirmed).
  std::string settled_by;
  // A relayed payment (empty or 0 for a deposit):
  std::string digest;          // 0x + 64 hex: the EIP-712 payment digest, set when signed (unique)
  std::uint64_t deadline = 0;  // Unix s: the Pool refuses it in a block with a later timestamp
  std::string fee;             // token base units, decimal ("0" when none), to the relayer
  std::string relayer;         // the relayer's URL it is handed to
  std::string bundle_json;     // the signed bundle (public: proofs, public inputs, signatures), set when signed
  std::string relayer_tx;      // 0x hash of the relayer's transaction, as the relayer reported it

  friend bool operator==(const Payment&, const Payment&) = default;
};

// ---- The roles. A Store has them all; a component takes only the roles it uses (e.g. the engine:
// NoteStore, SecretStore and ProofStore), so that it sees what it may touch, and a test or a
// benchmark can stand in for one role without the others.

// The tree's leaves and the wallet's notes.
class NoteStore {
 public:
  virtual ~NoteStore() = default;

  // ---- Leaves: the tree's leaves in order, indices 0..leaf_count()-1, append-only.
  // Appends in one transaction; returns the index of the first one (the count before).
  virtual Result<std::uint64_t> append_leaves(std::span<const Fr> leaves) = 0;
  virtual Result<std::vector<Fr>> load_leaves() = 0;
  virtual Result<std::uint64_t> leaf_count() = 0;

  // ---- Notes.
  // Uniqueness: a leaf index holds one note (two notes with the same leaf index: kAlreadyExists),
  // and at most one note without a leaf index per commitment (inserting a pending note twice:
  // kAlreadyExists). The same commitment may appear at several leaf indices (the same note deposited
  // twice; only one of them can ever be spent, since they share a nullifier) and once more as
  // pending. note.id is ignored; the new id is returned. state kOnChain requires a leaf index.
  virtual Result<std::int64_t> insert_note(const StoredNote& note) = 0;
  virtual Result<StoredNote> get_note(std::int64_t id) = 0;  // kNotFound
  // Every note with this commitment (usually zero or one), by id.
  virtual Result<std::vector<StoredNote>> find_notes_by_commitment(const Fr& commitment) = 0;
  // The wallet's notes, by id; only those in `state` when given.
  virtual Result<std::vector<StoredNote>> list_notes(std::string_view wallet, std::optional<NoteState> state) = 0;
  virtual Status set_note_state(std::int64_t id, NoteState state) = 0;  // kNotFound
  // Compare-and-set: moves the note from `from` to `to`, or kFailedPrecondition when it is not in
  // `from` (e.g. two payments racing to reserve one note: on_chain -> spending succeeds once).
  virtual Status transition_note_state(std::int64_t id, NoteState from, NoteState to) = 0;
  // Records where the note landed in the tree; a pending note becomes kOnChain (other states are
  // kept). Idempotent for the same index; kFailedPrecondition if the note already has another one,
  // kAlreadyExists when another note holds that index.
  virtual Status set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) = 0;
};

// Spending keys and other sealed secrets of a wallet.
class SecretStore {
 public:
  virtual ~SecretStore() = default;

  // True when secret columns are sealed by a vault.
  [[nodiscard]] virtual bool has_vault() const = 0;

  // ---- Spending keys, one per wallet, only ever stored sealed.
  // kFailedPrecondition without a vault; kAlreadyExists if the wallet has a key (never overwritten:
  // a lost key is lost money).
  virtual Status put_spending_key(std::string_view wallet, const Fr& sk) = 0;
  virtual Result<Fr> get_spending_key(std::string_view wallet) = 0;  // kNotFound

  // ---- Other sealed secrets of a wallet (e.g. its Ethereum account key), by name; like
  // put_spending_key: kFailedPrecondition without a vault, kAlreadyExists (never overwritten).
  virtual Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) = 0;
  virtual Result<std::vector<std::uint8_t>> get_secret(std::string_view wallet,
                                                       std::string_view name) = 0;  // kNotFound
};

// The proof cache (precomputes) and the queue of proving jobs that fills it.
class ProofStore {
 public:
  virtual ~ProofStore() = default;

  // ---- Precomputes (normally written by complete_job).
  virtual Result<std::int64_t> insert_precompute(const Precompute& p) = 0;  // kAlreadyExists on key
  virtual Result<std::optional<Precompute>> find_precompute(std::string_view key) = 0;
  virtual Result<std::vector<Precompute>> list_precomputes_for_note(std::int64_t note_id) = 0;
  virtual Result<std::vector<Precompute>> list_precomputes_by_circuit(CircuitKind circuit) = 0;
  virtual Result<std::int64_t> count_precomputes() = 0;
  // Drops the precomputes of a note (dead once it is spent); returns how many.
  virtual Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) = 0;
  // Drops one precompute (e.g. its root vanished in a reorganisation) and its job, so that the key
  // can be proved again; kNotFound.
  virtual Status delete_precompute(std::string_view key) = 0;

  // ---- Jobs.
  // Adds the jobs whose key is new, as pending with tries 0 (their id, state, tries, error,
  // updated_ms and worker are ignored). A key already present is left exactly as it is, whatever
  // its state: a done job is not re-queued, a running one not disturbed. One transaction. Returns
  // how many were added.
  virtual Result<std::int64_t> enqueue_jobs(std::span<const Job> jobs) = 0;
  // The oldest pending job (lowest id; a retried job keeps its place), now running for `worker` with
  // tries incremented, or nullopt when none is pending. Atomic: a job is claimed by one caller only.
  // A job whose spec cannot be opened (kCorruption) is failed for good and reported.
  virtual Result<std::optional<Job>> claim_next_job(int worker) = 0;
  // The same, among the jobs whose key is one of `keys` only (none when `keys` is empty): a run that
  // proves one request's jobs (one wallet's, in a store several wallets share) claims only those,
  // never another request's. Keys are matched exactly; duplicates are harmless.
  virtual Result<std::optional<Job>> claim_next_job_among(std::span<const std::string> keys, int worker) = 0;
  // Stores the job's precompute and marks the job done, in one transaction: both or neither.
  // The job must be running (else kFailedPrecondition; kNotFound if there is no such job);
  // precompute.key must be empty (then the job's key is used) or equal the job's key
  // (else kInvalidArgument). Returns the precompute's id.
  virtual Result<std::int64_t> complete_job(std::int64_t job_id, const Precompute& precompute) = 0;
  // Records a running job's failure: back to pending for a retry, or failed when `permanent`.
  // kFailedPrecondition if the job is not running.
  virtual Status fail_job(std::int64_t job_id, std::string_view error, bool permanent) = 0;
  // At start-up, before any worker runs: jobs left running by a process that died go back to
  // pending, tries kept. Returns how many. Never call it while workers (of any process) run.
  virtual Result<std::int64_t> reset_running_jobs() = 0;
  // The failed jobs with these keys (every failed job when `keys` is empty) go back to pending with
  // tries 0 and no error, keeping their place in the queue, for another attempt (a failure may
  // have been passing: a prover that crashed, a machine out of memory). One transaction. Returns
  // how many.
  virtual Result<std::int64_t> retry_failed_jobs(std::span<const std::string> keys) = 0;
  virtual Result<Job> get_job(std::int64_t id) = 0;  // kNotFound
  // Jobs by id; only the batch's when given.
  virtual Result<std::vector<Job>> list_jobs(std::optional<std::string_view> batch) = 0;
  virtual Result<JobCounts> job_counts(std::optional<std::string_view> batch) = 0;
};

// Small public named values of a wallet (chain, pool address, relayer, policy).
class SettingsStore {
 public:
  virtual ~SettingsStore() = default;

  virtual Status put_setting(std::string_view wallet, std::string_view key, std::string_view value) = 0;  // upsert
  virtual Result<std::optional<std::string>> get_setting(std::string_view wallet, std::string_view key) = 0;
};

// The wallet's view of the chain (one chain per store; NoteStore's leaves are the chain's).
class ChainIndexStore {
 public:
  virtual ~ChainIndexStore() = default;

  // Applies a sync step in one transaction: leaves appended (kFailedPrecondition unless they start at
  // leaf_count() and are consecutive), note leaf indices set, notes spent, blocks remembered, cursor
  // moved. Idempotent for a step already applied: a leaf at an index below leaf_count() is accepted
  // when it equals the stored one (else kFailedPrecondition), a spent note stays spent.
  virtual Status apply_chain_update(const ChainUpdate& update) = 0;
  virtual Result<std::optional<BlockRef>> sync_cursor() = 0;  // none before the first sync
  // The remembered blocks, newest first, at most `limit`.
  virtual Result<std::vector<BlockRef>> recent_blocks(std::size_t limit) = 0;
  // Forgets everything learned from blocks after cursor.number, in one transaction: their leaves
  // (the tree is cut at its first leaf from such a block, so it stays contiguous); the leaf index of
  // notes at or past the cut (-> pending, precomputes and their jobs dropped); confirmed payments
  // mined after it (-> submitted, block, gas and settled_by cleared, to be looked up again); spent
  // marks from those blocks (-> spending when a signed or submitted payment holds the note, else
  // on_chain); remembered blocks after it. The cursor becomes `cursor`.
  virtual Status rollback_chain(const BlockRef& cursor) = 0;
  // The root carried by the event of each stored leaf's transaction, distinct, oldest first: the
  // roots a precompute may use.
  virtual Result<std::vector<Fr>> known_roots() = 0;
};

// The payments journal (see PaymentState): everything the wallet signs is recorded before it leaves
// the process.
class PaymentJournal {
 public:
  virtual ~PaymentJournal() = default;

  // Reserves payment.note_ids (each on_chain -> spending; all or none: kFailedPrecondition naming
  // the first note that is not on chain) and records the payment as prepared, in one transaction,
  // with its kind, amount, recipient, notes, deadline, fee and relayer. Returns its id.
  // payment.state, the transaction fields, digest, bundle_json and relayer_tx are ignored.
  // kInvalidArgument when fee is not a decimal number.
  virtual Result<std::int64_t> begin_payment(const Payment& payment) = 0;

  // ---- A deposit (the wallet's own transaction).
  // prepared -> signed with its raw transaction (kFailedPrecondition from another state).
  virtual Status record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                                       std::uint64_t nonce, double latency_ms) = 0;
  // signed -> submitted (idempotent when already submitted).
  virtual Status mark_payment_submitted(std::int64_t id) = 0;
  // -> confirmed, in one transaction: its notes -> spent (spent block = block), their precomputes
  // dropped, settled_by cleared. From signed or submitted; idempotent when already confirmed.
  virtual Status confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) = 0;

  // ---- A relayed payment (its signed EIP-712 Payment, handed to a relayer).
  // prepared -> signed with its digest (0x + 64 hex), the deadline it signed and the bundle: from
  // here on it may land, whoever holds the bundle. kAlreadyExists when another payment has the
  // digest; kInvalidArgument for a malformed digest or bundle (not JSON); kFailedPrecondition from
  // another state.
  virtual Status record_payment_bundle(std::int64_t id, std::string_view digest, std::uint64_t deadline,
                                       std::string_view bundle_json) = 0;
  // begin_payment and record_payment_bundle in one transaction (one durable commit: a payment's
  // bundle signed before its notes are reserved): the notes reserved and the payment recorded
  // signed, never prepared; all or nothing, with the errors of both. Returns its id.
  virtual Result<std::int64_t> begin_signed_payment(const Payment& payment, std::string_view digest,
                                                    std::uint64_t deadline, std::string_view bundle_json) = 0;
  // signed or submitted -> submitted: the relayer took the bundle. relayer_tx (its transaction, as
  // it reported it) is recorded when not empty; latency_ms (the call to the handover) when it is
  // positive and the payment was signed (the first handover). kFailedPrecondition from another state.
  virtual Status record_payment_relayed(std::int64_t id, std::string_view relayer_tx, double latency_ms) = 0;
  // Compare-and-set `expected` (signed or submitted) -> failed because its deadline passed with the
  // payment not paid: it can never land. Its notes in spending go back to on_chain, except those
  // in `spent_note_ids` (their nullifier is on chain, by another payment), which become spent; its
  // new notes still pending are deleted (they can never land). kFailedPrecondition naming the state
  // otherwise.
  virtual Status expire_payment(std::int64_t id, PaymentState expected, std::string_view error,
                                std::span<const std::int64_t> spent_note_ids, std::uint64_t block) = 0;
  // The payment with this digest (0x hex, any case), if any.
  virtual Result<std::optional<Payment>> find_payment_by_digest(std::string_view digest) = 0;

  // ---- Either.
  // Compare-and-set `expected` (signed or submitted) -> confirmed by what the chain's events show
  // rather than by its own receipt: `settled_by` (0x hash) is the transaction whose events spent its
  // notes, `block` its block; gas_used 0. Otherwise as confirm_payment. kFailedPrecondition naming
  // the state when the payment is not in `expected`.
  virtual Status settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                                   std::uint64_t block) = 0;
  // confirmed -> submitted, block, gas and settled_by cleared, in one transaction: its notes that
  // are spent go back to spending (spent block cleared), to be looked up again. For a payment whose
  // transaction the chain no longer holds (a reorganisation that did not reach the sync cursor).
  // Idempotent when already submitted; kFailedPrecondition from another state.
  virtual Status reopen_payment(std::int64_t id) = 0;
  // -> failed with `error`, in one transaction: its notes in spending go back to on_chain, except
  // those in `spent_note_ids` (their nullifier is on chain anyway), which become spent; its new
  // notes that are still pending are deleted. From prepared, signed or submitted; idempotent when
  // already failed.
  virtual Status fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                              std::uint64_t block) = 0;
  // Compare-and-set: -> failed like fail_payment, but only from `expected` (prepared, signed or
  // submitted; kFailedPrecondition naming the state otherwise, failed included), and the pending new
  // notes are deleted only when `expected` is prepared: a payment that was signed may still land
  // (its signed bytes or bundle are out of the process), so its new notes stay pending, and become
  // notes if the sync finds their leaves.
  virtual Status fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                                 std::span<const std::int64_t> spent_note_ids, std::uint64_t block) = 0;
  virtual Result<Payment> get_payment(std::int64_t id) = 0;  // kNotFound
  // The wallet's payments by id; only those in `state` when given.
  virtual Result<std::vector<Payment>> list_payments(std::string_view wallet, std::optional<PaymentState> state) = 0;
};

// What an API token may do (the service's endpoints per scope are listed in service.h).
//   read:  GETs only: the dashboard, job status, payment plans, worker statistics. It proves,
//          reserves, signs and pays nothing.
//   spend: everything read may, and what proves, reserves, signs or costs money (POST /v1/jobs,
//          POST /v1/x402/pay).
enum class TokenScope : std::uint8_t { kRead, kSpend };
std::string_view token_scope_name(TokenScope scope);  // "read", "spend"
// The scope of that name (exactly "read" or "spend"); nullopt for anything else.
std::optional<TokenScope> parse_token_scope(std::string_view name);

// API tokens for the HTTP service (`bucketpay serve`), each bound to one wallet and one scope.
//
// A token is "bpt_<id>_<secret>": id = 16 hex digits (public, names the row), secret = 64 hex
// digits (32 random bytes). Only SHA-256(secret) is stored; a token is shown once, at creation.
// authenticate_token() compares hashes in constant time. Tokens are high-entropy, so a plain hash
// (no key stretching) is enough; they need no vault. Tokens made before scopes existed (schema
// version 5 and earlier, and the tokens file of an earlier version) have scope spend: the access
// they always had.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  struct CreatedToken {
    std::string id;     // the public part, for listing and revoking
    std::string token;  // the whole token: shown once, never stored
  };
  struct TokenInfo {
    std::string id;
    std::string wallet;
    std::int64_t created_ms = 0;
    bool revoked = false;
    TokenScope scope = TokenScope::kRead;
    friend bool operator==(const TokenInfo&, const TokenInfo&) = default;
  };
  // What a valid token grants.
  struct TokenGrant {
    std::string wallet;
    TokenScope scope = TokenScope::kRead;
    friend bool operator==(const TokenGrant&, const TokenGrant&) = default;
  };

  // A new token for `wallet` with `scope` (kInvalidArgument for an empty name).
  virtual Result<CreatedToken> create_token(std::string_view wallet, TokenScope scope) = 0;
  // The wallet and scope the token grants; kNotFound for a malformed, unknown or revoked token (the
  // message, "unknown or revoked token", does not say which).
  virtual Result<TokenGrant> authenticate_token(std::string_view token) = 0;
  // Revokes a token by id (kNotFound when there is none); takes effect on the next authenticate.
  virtual Status revoke_token(std::string_view id) = 0;
  // Every token, oldest first.
  virtual Result<std::vector<TokenInfo>> list_tokens() = 0;
};

// Locks shared by every process (and, on PostgreSQL, every machine) using this store.
class StoreLocks {
 public:
  virtual ~StoreLocks() = default;

  // Held until the handle is destroyed (also released when its process dies).
  class Lock {
   public:
    virtual ~Lock() = default;
  };
  // Takes the exclusive lock `name`, waiting up to `timeout` for its holder (then kUnavailable). Not
  // reentrant: a second lock() of the same name waits even in the same process. SQLite: flock(2) on
  // a file beside the database; PostgreSQL: a session advisory lock on a connection of its own.
  virtual Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) = 0;
};

// ---- The relayer's journal (`bucketpay relay`, bucketpay/relay.h): one entry per payment digest, the
// transaction that pays it recorded before it is broadcast, so that a digest never gets a second
// transaction, whatever crashes.
//
//  received -> signed -> submitted -> mined
//      \          \          \--------> failed
//       \----------\------------------> failed
enum class RelayEntryState : std::uint8_t {
  kReceived,   // the bundle passed every check and is recorded; nothing is signed yet
  kSigned,     // its raw transaction (and nonce) is recorded; it may or may not have reached the node
  kSubmitted,  // the node accepted the transaction
  kMined,      // the transaction was mined and succeeded
  kFailed,     // it will never be mined by this relayer, or it reverted (reason says why)
};
std::string_view relay_entry_state_name(RelayEntryState state);  // "received", "signed", "submitted", "mined", "failed"

struct RelayEntry {
  std::string digest;          // the payment digest, "0x" + 64 lowercase hex digits: the entry's key
  std::string kind;            // "spend_batch" or "split"
  std::string bundle;          // the bundle as JSON (what the relayer signs a transaction for)
  std::string fee;             // the payment's fee in token base units, decimal
  std::string sender;          // the relayer account that signs it, "0x" + 40 lowercase hex digits
  std::uint64_t deadline = 0;  // the payment's deadline, Unix seconds
  RelayEntryState state = RelayEntryState::kReceived;
  std::string tx_hash;                 // "0x" hex, set when signed
  std::vector<std::uint8_t> raw_tx;    // the signed transaction, set when signed
  std::optional<std::uint64_t> nonce;  // set when signed
  std::uint64_t block = 0;             // mined, or failed in a block (0 when it failed without one)
  std::uint64_t gas_used = 0;          // of the relayer's own transaction, mined or reverted
  std::string reason;                  // failed: why (e.g. "paid by 0x<tx>")
  std::int64_t created_ms = 0;         // filled in when 0
  std::int64_t updated_ms = 0;

  friend bool operator==(const RelayEntry&, const RelayEntry&) = default;
};

struct RelayCounts {
  std::int64_t received = 0;
  std::int64_t signed_ = 0;
  std::int64_t submitted = 0;
  std::int64_t mined = 0;
  std::int64_t failed = 0;

  [[nodiscard]] std::int64_t open() const { return received + signed_ + submitted; }
  friend bool operator==(const RelayCounts&, const RelayCounts&) = default;
};

// A bundle the x402 facilitator holds for a payer (bucketpay/x402.h): staged, not sent, until a
// resource server settles it or its deadline passes.
struct X402Stage {
  std::string digest;            // the payment digest, "0x" + 64 lowercase hex digits
  std::string bundle_hash;       // keccak256 of its Pool calldata, "0x" + 64 lowercase hex digits
  std::string bundle;            // the bundle as JSON
  std::uint64_t expires_at = 0;  // Unix s: the payment's deadline
  // The transaction a /settle of this digest answered settlement_pending with (the SDK's one
  // reconciling retry waits on it); empty otherwise.
  std::string pending_tx;
  std::int64_t created_ms = 0;  // filled in when 0

  friend bool operator==(const X402Stage&, const X402Stage&) = default;
};

// The relayer's journal (see RelayEntryState). Every transition is a compare-and-set on the entry's
// state, so that two relayer processes on one store never undo each other's work.
class RelayJournal {
 public:
  virtual ~RelayJournal() = default;

  // Records a new entry as received (its state, transaction fields, block, gas and reason are
  // ignored). kAlreadyExists when the digest has an entry, which is left exactly as it is;
  // kInvalidArgument for an empty digest or sender.
  virtual Status begin_relay(const RelayEntry& entry) = 0;
  // received -> signed with its transaction: the one transaction this digest ever gets.
  // kFailedPrecondition (naming the state) from any other state; kAlreadyExists when another entry
  // of the same sender that is signed, submitted or mined holds this nonce; kNotFound.
  virtual Status record_relay_signed(std::string_view digest, std::string_view tx_hash,
                                     std::span<const std::uint8_t> raw_tx, std::uint64_t nonce) = 0;
  // signed -> submitted; idempotent when submitted; kFailedPrecondition from another state.
  virtual Status mark_relay_submitted(std::string_view digest) = 0;
  // signed or submitted -> mined, with its block and gas; idempotent when mined; kFailedPrecondition
  // from another state.
  virtual Status mark_relay_mined(std::string_view digest, std::uint64_t block, std::uint64_t gas_used) = 0;
  // Compare-and-set `expected` (received, signed or submitted) -> failed with `reason`, `block` and
  // `gas_used` (0 when the transaction was never mined). kFailedPrecondition naming the state when
  // the entry is not in `expected` (failed and mined included).
  virtual Status fail_relay(std::string_view digest, RelayEntryState expected, std::string_view reason,
                            std::uint64_t block, std::uint64_t gas_used) = 0;
  // None for an unknown digest.
  virtual Result<std::optional<RelayEntry>> get_relay(std::string_view digest) = 0;
  // The entries in `state` (all when none), oldest first.
  virtual Result<std::vector<RelayEntry>> list_relays(std::optional<RelayEntryState> state) = 0;
  // The entries still open (received, signed or submitted), oldest first.
  virtual Result<std::vector<RelayEntry>> list_open_relays() = 0;
  virtual Result<RelayCounts> relay_counts() = 0;

  // ---- The x402 facilitator's stage (X402Stage), keyed by (digest, bundle_hash). Each call is one
  // durable transaction, so a facilitator killed at any point finds on restart every stage it
  // answered for.
  // Records a stage (pending_tx and created_ms as given; created_ms 0: now). kAlreadyExists when
  // the pair is staged, which is left as it is; kInvalidArgument for an empty digest or hash.
  virtual Status put_x402_stage(const X402Stage& stage) = 0;
  // Every stage, oldest first.
  virtual Result<std::vector<X402Stage>> list_x402_stages() = 0;
  // Drops the stage of the pair, or every stage of the digest when bundle_hash is empty; how many
  // were dropped (0: none was there).
  virtual Result<std::size_t> drop_x402_stages(std::string_view digest, std::string_view bundle_hash) = 0;
  // Drops the stages whose expires_at is before `now_s`; how many.
  virtual Result<std::size_t> drop_expired_x402_stages(std::uint64_t now_s) = 0;
  // Sets the pending transaction of every stage of the digest (kNotFound when it has none).
  virtual Status set_x402_pending(std::string_view digest, std::string_view tx_hash) = 0;
  // Clears the digest's pending transaction and returns it, once: of two concurrent calls exactly
  // one gets it; none when none was set.
  virtual Result<std::optional<std::string>> take_x402_pending(std::string_view digest) = 0;
};

// Every role: what open_sqlite_store() and open_pg_store() return.
class Store : public NoteStore,
              public SecretStore,
              public ProofStore,
              public SettingsStore,
              public ChainIndexStore,
              public PaymentJournal,
              public TokenStore,
              public StoreLocks,
              public RelayJournal {
 public:
  // Moves the write-ahead log into the database file when it holds at least `min_pages` pages
  // (SQLite: a passive checkpoint, which waits for no reader; PostgreSQL: nothing to do). SQLite
  // otherwise does it inside whichever commit takes the log past 1,000 pages (4 MB), a payment's
  // included: the wallet calls this at quiet moments (after a sync, after a payment settled) so
  // that a payment's commit rarely has to.
  virtual Status checkpoint_log(int min_pages) = 0;
};

struct StoreOptions {
  // Seal secret columns with a vault derived from this passphrase. For a new vault a random salt is
  // made and kept in the store with vault_params and a sealed check value; later opens use the
  // stored salt and params and refuse a wrong passphrase (kInvalidArgument). A store that has a
  // vault cannot be opened without its passphrase (kFailedPrecondition). A vault can be added to a
  // store without one only while it holds no secrets yet (else kFailedPrecondition).
  std::optional<std::string> passphrase;
  // Argon2id cost of a new vault (ignored when the store has one).
  VaultParams vault_params = VaultParams::moderate();
  // How long a call waits for another process's lock before kUnavailable.
  int busy_timeout_ms = 5000;
};

// Opens a SQLite store, creating it when `file` does not exist, and migrates its schema to this
// build's version. A new store is made in a temporary file beside `file` and moved into place once
// its schema is written, so `file` is either absent or a whole store: kill -9 during creation leaves
// no half-made store. The new file is 0600 and the directories created for it 0700 (existing
// directories are left as they are). Errors: kFailedPrecondition when `file` exists but is empty (0
// bytes: not a store, never silently turned into one) or its schema is newer than this build knows;
// kCorruption when it is not a SQLite database.
//
// API tokens of an earlier version lived in a file of their own beside the store, "<file>.tokens":
// when that file exists, its tokens (hashes) are copied into the store once, on open, and the file
// is renamed "<file>.tokens.imported".
Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, const StoreOptions& options = {});

}  // namespace bucketpay
