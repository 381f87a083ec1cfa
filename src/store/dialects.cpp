// The schema, written once for both databases, and the two dialects side by side: what SQLite and
// PostgreSQL spell differently, and what each adds to the schema of its own.
#include <string>

#include "sql.h"

namespace bucketpay::sql {
namespace {

// The schema's history: kSchema[i] takes version i to i + 1, followed by the dialect's own part of
// that step (Dialect::own_migrations[i]). Append only; never change a step that has shipped.
// Placeholders: {bytes}, {int64}, {real} (column types), {id} (an auto-assigned integer key).
constexpr std::string_view kSchema[] = {
    // 1: leaves, notes, spending keys, precomputes, jobs.
    R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value {bytes} NOT NULL);
CREATE TABLE IF NOT EXISTS leaves(
  idx {int64} PRIMARY KEY CHECK (idx >= 0),
  value {bytes} NOT NULL);
CREATE TABLE IF NOT EXISTS notes(
  id {id},
  wallet TEXT NOT NULL,
  pk {bytes} NOT NULL,
  value {int64} NOT NULL,
  r {bytes} NOT NULL,
  leaf_index {int64},
  state TEXT NOT NULL CHECK (state IN ('pending', 'on_chain', 'spending', 'spent')),
  commitment {bytes} NOT NULL,
  created_ms {int64} NOT NULL,
  CHECK (state <> 'on_chain' OR leaf_index IS NOT NULL),
  CHECK (state <> 'pending' OR leaf_index IS NULL));
CREATE UNIQUE INDEX IF NOT EXISTS notes_by_leaf ON notes(leaf_index) WHERE leaf_index IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS notes_pending_by_commitment ON notes(commitment) WHERE leaf_index IS NULL;
CREATE INDEX IF NOT EXISTS notes_by_commitment ON notes(commitment);
CREATE TABLE IF NOT EXISTS secrets(
  wallet TEXT PRIMARY KEY,
  sk {bytes} NOT NULL,
  created_ms {int64} NOT NULL);
CREATE TABLE IF NOT EXISTS precomputes(
  id {id},
  key TEXT NOT NULL UNIQUE,
  note_id {int64} NOT NULL REFERENCES notes(id),
  circuit TEXT NOT NULL,
  amount {int64} NOT NULL,
  recipient {bytes} NOT NULL,
  public_inputs {bytes} NOT NULL,
  proof {bytes} NOT NULL,
  outputs {bytes},
  created_ms {int64} NOT NULL,
  prove_ms {real} NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS precomputes_by_note ON precomputes(note_id);
CREATE TABLE IF NOT EXISTS jobs(
  id {id},
  key TEXT NOT NULL UNIQUE,
  batch TEXT NOT NULL,
  circuit TEXT NOT NULL,
  spec {bytes},
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  tries INTEGER NOT NULL,
  error TEXT NOT NULL,
  updated_ms {int64} NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs(batch, state);
)sql",
    // 2: the wallet's view of the chain, settings, named secrets, the payments journal.
    R"sql(
ALTER TABLE leaves ADD COLUMN block {int64} NOT NULL DEFAULT 0;
ALTER TABLE leaves ADD COLUMN root {bytes};
CREATE INDEX leaves_by_block ON leaves(block);
ALTER TABLE notes ADD COLUMN spent_block {int64};
CREATE TABLE settings(
  wallet TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (wallet, key));
CREATE TABLE named_secrets(
  wallet TEXT NOT NULL,
  name TEXT NOT NULL,
  value {bytes} NOT NULL,
  created_ms {int64} NOT NULL,
  PRIMARY KEY (wallet, name));
CREATE TABLE chain_blocks(
  number {int64} PRIMARY KEY,
  hash {bytes} NOT NULL);
CREATE TABLE sync_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  number {int64} NOT NULL,
  hash {bytes} NOT NULL);
CREATE TABLE payments(
  id {id},
  wallet TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount {int64} NOT NULL,
  recipient TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('prepared', 'signed', 'submitted', 'confirmed', 'failed')),
  tx_hash TEXT NOT NULL,
  raw_tx {bytes},
  nonce {int64} NOT NULL,
  gas_used {int64} NOT NULL,
  block {int64} NOT NULL,
  error TEXT NOT NULL,
  latency_ms {real} NOT NULL,
  created_ms {int64} NOT NULL,
  updated_ms {int64} NOT NULL);
CREATE INDEX payments_by_wallet_state ON payments(wallet, state, id);
CREATE TABLE payment_notes(
  payment_id {int64} NOT NULL REFERENCES payments(id),
  note_id {int64} NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('spend', 'new')));
CREATE INDEX payment_notes_by_payment ON payment_notes(payment_id, role);
CREATE INDEX payment_notes_by_note ON payment_notes(note_id);
)sql",
    // 3: the API tokens (TokenStore); the transaction that settled a payment (settle_payment_by).
    R"sql(
CREATE TABLE api_tokens(
  id TEXT PRIMARY KEY,
  wallet TEXT NOT NULL,
  secret_sha256 {bytes} NOT NULL,
  created_ms {int64} NOT NULL,
  revoked {int64} NOT NULL DEFAULT 0);
ALTER TABLE payments ADD COLUMN settled_by TEXT NOT NULL DEFAULT '';
)sql",
    // 4: protocol v2. A precompute binds its note's spend authorization address, not a recipient:
    // the proofs of version 3 are v1 proofs (a v1 circuit, a recipient bound), which the v2 Pool
    // never accepts, so they and their jobs go (they are derived data: the engine proves them
    // again). A payment is an EIP-712 message handed to a relayer: its digest, deadline, fee,
    // relayer, signed bundle and the relayer's transaction; one payment per digest.
    R"sql(
DELETE FROM precomputes;
DELETE FROM jobs;
ALTER TABLE precomputes RENAME COLUMN recipient TO auth;
ALTER TABLE payments ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN deadline {int64} NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN fee TEXT NOT NULL DEFAULT '0';
ALTER TABLE payments ADD COLUMN relayer TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN bundle TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN relayer_tx TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX payments_by_digest ON payments(digest) WHERE digest <> '';
)sql",
    // 5: the relayer's journal (RelayJournal): one entry per payment digest. A nonce is held by at
    // most one signed, submitted or mined entry of a sender.
    R"sql(
CREATE TABLE relay_journal(
  digest TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  bundle TEXT NOT NULL,
  fee TEXT NOT NULL,
  sender TEXT NOT NULL,
  deadline {int64} NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('received', 'signed', 'submitted', 'mined', 'failed')),
  tx_hash TEXT NOT NULL,
  raw_tx {bytes},
  nonce {int64},
  block {int64} NOT NULL,
  gas_used {int64} NOT NULL,
  reason TEXT NOT NULL,
  created_ms {int64} NOT NULL,
  updated_ms {int64} NOT NULL,
  CHECK (state IN ('received', 'failed') OR (raw_tx IS NOT NULL AND nonce IS NOT NULL)));
CREATE INDEX relay_journal_by_state ON relay_journal(state, created_ms);
CREATE UNIQUE INDEX relay_journal_nonces ON relay_journal(sender, nonce)
  WHERE state IN ('signed', 'submitted', 'mined');
)sql",
    // 6: a scope per API token ('read' or 'spend'). The tokens of version 5 could do everything
    // their wallet could: they keep it (spend). create_token always names the scope.
    R"sql(
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'spend' CHECK (scope IN ('read', 'spend'));
)sql",
    // 7: the x402 facilitator's stage (RelayJournal, X402Stage): a payer's signed bundle kept,
    // unsent, until a resource server settles it or its deadline passes, and the transaction a
    // /settle reported as settlement_pending; durable so that a restart between stage and settle
    // still settles, once.
    R"sql(
CREATE TABLE x402_stages(
  digest TEXT NOT NULL,
  bundle_hash TEXT NOT NULL,
  bundle TEXT NOT NULL,
  expires_at {int64} NOT NULL,
  pending_tx TEXT NOT NULL,
  created_ms {int64} NOT NULL,
  PRIMARY KEY (digest, bundle_hash));
CREATE INDEX x402_stages_by_expiry ON x402_stages(expires_at);
)sql",
};

// SQLite's own part of each step.
constexpr std::string_view kSqliteOwn[] = {
    R"sql(
CREATE INDEX IF NOT EXISTS notes_by_wallet_state ON notes(wallet, state);
CREATE INDEX IF NOT EXISTS precomputes_by_circuit ON precomputes(circuit);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
)sql",
    "",
    // The lease columns PostgreSQL's jobs have had from the start: never set on SQLite (it has no
    // fleet), there so that the job SQL is one.
    R"sql(
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
)sql",
    "",  // 4
    "",  // 5
    "",  // 6
    "",  // 7
};

// PostgreSQL's own part of each step: the fleet queue's lease, and payment_notes' order.
constexpr std::string_view kPostgresOwn[] = {
    R"sql(
CREATE INDEX notes_by_wallet_state ON notes(wallet, state, id);
CREATE INDEX precomputes_by_circuit ON precomputes(circuit, id);
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at TIMESTAMPTZ;
ALTER TABLE jobs ADD CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL));
ALTER TABLE jobs ADD CHECK (state = 'running' OR lease_owner IS NULL);
CREATE INDEX jobs_pending ON jobs(id) WHERE state = 'pending';
CREATE INDEX jobs_by_lease ON jobs(lease_expires_at) WHERE lease_expires_at IS NOT NULL;
)sql",
    R"sql(
ALTER TABLE payment_notes ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
)sql",
    "",  // 3
    "",  // 4
    "",  // 5
    "",  // 6
    "",  // 7
};

static_assert(std::size(kSqliteOwn) == std::size(kSchema) && std::size(kPostgresOwn) == std::size(kSchema),
              "each dialect has its part (maybe empty) of every step");

constexpr Dialect kSqlite{
    .name = "sqlite",
    // A write transaction holds the whole database: no row or table locks to take.
    .for_update = "",
    .for_update_skip_locked = "",
    .lock_leaves = "",
    .payment_notes_order = "rowid",
    .bytes_type = "BLOB",
    .int64_type = "INTEGER",
    .real_type = "REAL",
    .id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .own_migrations = kSqliteOwn,
};

constexpr Dialect kPostgres{
    .name = "postgresql",
    .for_update = " FOR UPDATE",
    .for_update_skip_locked = " FOR UPDATE SKIP LOCKED",
    // Appenders queue here (readers do not): the next index is read and used under the lock.
    .lock_leaves = "LOCK TABLE leaves IN SHARE ROW EXCLUSIVE MODE",
    .payment_notes_order = "seq",
    .bytes_type = "BYTEA",
    .int64_type = "BIGINT",
    .real_type = "DOUBLE PRECISION",
    .id_type = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    .own_migrations = kPostgresOwn,
};

std::string replace_all(std::string_view text, std::span<const std::pair<std::string_view, std::string_view>> with) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [placeholder, value] : with) {
      if (text.substr(i, placeholder.size()) == placeholder) {
        out += value;
        i += placeholder.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace

const Dialect& sqlite_dialect() { return kSqlite; }
const Dialect& postgres_dialect() { return kPostgres; }

std::int64_t schema_version_of_this_build() { return static_cast<std::int64_t>(std::size(kSchema)); }

std::string migration(std::int64_t from_version, const Dialect& dialect) {
  const auto i = static_cast<std::size_t>(from_version);
  const std::pair<std::string_view, std::string_view> types[] = {{"{bytes}", dialect.bytes_type},
                                                                 {"{int64}", dialect.int64_type},
                                                                 {"{real}", dialect.real_type},
                                                                 {"{id}", dialect.id_type}};
  return replace_all(std::string(kSchema[i]) + std::string(dialect.own_migrations[i]), types);
}

}  // namespace bucketpay::sql
