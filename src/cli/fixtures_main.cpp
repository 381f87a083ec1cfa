// bucketpay-fixtures: writes the cross-language test fixtures the Solidity tests read.
//
//   poseidon2.json  Poseidon2 vectors. Each output is computed by bb's msgpack API (the independent
//                   implementation) AND by the C++; the tool fails if they differ.
//   tree.json       leaves and the C++ tree's root after each insert (for the on-chain tree).
//   payments.json   random EIP-712 payments with the C++ domain separators, struct hashes, digests,
//                   and signatures by auth keys the C++ derived from random (sk, cm); forge
//                   recomputes them all independently (contracts/test/PaymentVectors.t.sol).
//   proofs.json     (--proofs) real proofs made by the engine for a tree the test rebuilds on chain:
//                   deposits by owner in order (leaf i = deposit i), spend proofs with their notes'
//                   auth keys (throwaway test notes), and split proofs with up to 8 outputs. The
//                   format is in contracts/test/PoolProofs.t.sol.
//
// Usage: bucketpay-fixtures --out DIR [--proofs] [--crs DIR]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bucketpay/bb.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/payment.h"
#include "bucketpay/poseidon2.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace bucketpay;

namespace {

int die(const Status& s) {
  std::cerr << "bucketpay-fixtures: error: " << s.message() << "\n";
  return 1;
}

std::string hex_bytes(const std::vector<std::uint8_t>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (auto c : b) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

Status write_json(const fs::path& path, const json& j) {
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp) << j.dump(1) << "\n";
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return ec ? Status::io_error("cannot write " + path.string()) : Status::ok();
}

Status poseidon2_fixture(const fs::path& out, const fs::path& bb_binary) {
  auto bbp = bb::Process::start({bb_binary, 1, {}, {}, {}});
  if (!bbp.ok()) return bbp.status();
  const Fr p_minus_1 = -Fr::one();
  const Fr two64 = *Fr::from_string("18446744073709551616");
  std::vector<Fr> edges = {Fr::zero(), Fr::one(), p_minus_1, two64};
  std::vector<std::array<Fr, 4>> states;
  states.reserve(edges.size() + 33);
  for (const Fr& e : edges) states.push_back({e, e, e, e});
  states.push_back({Fr::zero(), Fr::one(), p_minus_1, two64});
  for (int i = 0; i < 32; ++i) states.push_back({Fr::random(), Fr::random(), Fr::random(), Fr::random()});
  json perms = json::array();
  for (const auto& s : states) {
    auto want = (*bbp)->poseidon2_permutation(s);
    if (!want.ok()) return want.status();
    const auto got = poseidon2::permutation(s);
    if (got != *want) return Status::internal("C++ Poseidon2 differs from bb");
    json in = json::array();
    json outv = json::array();
    for (int k = 0; k < 4; ++k) {
      in.push_back(s[static_cast<std::size_t>(k)].to_hex());
      outv.push_back((*want)[static_cast<std::size_t>(k)].to_hex());
    }
    perms.push_back({{"in", in}, {"out", outv}});
  }
  json hashes = json::array();
  for (int i = 0; i < 48; ++i) {
    const std::size_t n = static_cast<std::size_t>(i % 3) + 1;
    std::vector<Fr> in;
    for (std::size_t k = 0; k < n; ++k)
      in.push_back(i < 12 ? edges[(static_cast<std::size_t>(i) + k) % 4] : Fr::random());
    auto want = (*bbp)->poseidon2_hash(in);
    if (!want.ok()) return want.status();
    if (poseidon2::hash(in) != *want) return Status::internal("C++ H differs from bb's Poseidon2Hash");
    json inj = json::array();
    for (const auto& x : in) inj.push_back(x.to_hex());
    hashes.push_back({{"in", inj}, {"out", want->to_hex()}});
  }
  return write_json(out / "poseidon2.json",
                    {{"source", "outputs from bb's msgpack API (Poseidon2Permutation, Poseidon2Hash); the C++ agrees"},
                     {"permutation", perms},
                     {"hash", hashes}});
}

Status tree_fixture(const fs::path& out) {
  MerkleTree tree;
  json leaves = json::array();
  json roots = json::array();
  for (int i = 0; i < 40; ++i) {
    const Fr leaf = poseidon2::hash2(Fr::from_u64(static_cast<std::uint64_t>(i)), Fr::from_u64(7));
    if (auto r = tree.append(leaf); !r.ok()) return r.status();
    leaves.push_back(leaf.to_hex());
    roots.push_back(tree.root().to_hex());
  }
  json zeros = json::array();
  for (std::size_t k = 0; k <= MerkleTree::kDepth; ++k) zeros.push_back(zero_subtree(k).to_hex());
  return write_json(out / "tree.json",
                    {{"leaves", leaves}, {"roots", roots}, {"empty_root", zeros.back()}, {"zero_subtrees", zeros}});
}

// The auth key's scalar as 32 bytes (PrivateKey never shows its secret): the spec's formula, checked
// against derive_auth_key's address. Only for these throwaway test notes.
Result<eth::Hash32> auth_key_bytes(const SpendingKey& sk, const Fr& cm) {
  eth::Bytes pre(eth::kAuthKeyTag.begin(), eth::kAuthKeyTag.end());
  const Fr::Bytes skb = sk.reveal().to_bytes();
  const Fr::Bytes cmb = cm.to_bytes();
  pre.insert(pre.end(), skb.begin(), skb.end());
  pre.insert(pre.end(), cmb.begin(), cmb.end());
  const eth::Hash32 scalar = eth::detail::auth_scalar(eth::keccak256(pre));
  auto key = eth::PrivateKey::from_bytes(scalar);
  if (!key.ok() || key->address() != auth_address(sk, cm)) return Status::internal("auth key scalar mismatch");
  return scalar;
}

// Random EIP-712 payments under random domains, each signed by the auth key of a random (sk, cm).
Status payments_fixture(const fs::path& out) {
  std::random_device rd;
  std::mt19937_64 rng((std::uint64_t{rd()} << 32) | rd());
  auto random_word = [&] {
    eth::Hash32 w{};
    for (auto& b : w) b = static_cast<std::uint8_t>(rng());
    return eth::U256::from_word(w);
  };
  auto random_address = [&] {
    eth::Address::Raw a{};
    for (auto& b : a) b = static_cast<std::uint8_t>(rng());
    return eth::Address(a);
  };
  json vectors = json::array();
  for (int i = 0; i < 32; ++i) {
    // Edge cases first: no nullifiers, zero addresses and amounts, the largest words.
    const bool edge = i < 4;
    eth::PaymentDomain domain{i == 0 ? eth::U256(31337) : eth::U256(rng() | 1), random_address()};
    eth::Payment p;
    const std::size_t n = i == 1 ? 0 : static_cast<std::size_t>(rng() % 18) + 1;
    for (std::size_t k = 0; k < n; ++k) p.nullifiers.push_back(i == 2 ? eth::U256::max() : random_word());
    p.recipient = i == 3 ? eth::Address{} : random_address();
    p.fee = edge ? (i == 2 ? eth::U256::max() : eth::U256(0)) : random_word() % eth::U256(1'000'000'000'000ULL);
    p.fee_recipient = edge ? eth::Address{} : random_address();
    p.deadline = i == 2 ? eth::U256::max() : eth::U256(rng() % 4'000'000'000ULL);
    const SpendingKey sk = SpendingKey::generate();
    const Fr cm = Fr::random();
    const eth::PrivateKey key = auth_key(sk, cm);
    const eth::Hash32 digest = eth::payment_digest(domain, p);
    const eth::RsvSignature sig = eth::sign_digest(key, digest);
    auto signer = eth::recover_signer(digest, sig);
    if (!signer.ok() || *signer != key.address()) return Status::internal("a C++ payment signature does not recover");
    json nfs = json::array();
    for (const auto& nf : p.nullifiers) nfs.push_back(eth::to_hex(nf.to_word()));
    vectors.push_back({{"chain_id", eth::to_hex(domain.chain_id.to_word())},
                       {"pool", domain.pool.to_hex()},
                       {"nullifiers", nfs},
                       {"recipient", p.recipient.to_hex()},
                       {"fee", eth::to_hex(p.fee.to_word())},
                       {"fee_recipient", p.fee_recipient.to_hex()},
                       {"deadline", eth::to_hex(p.deadline.to_word())},
                       {"domain_separator", eth::to_hex(domain.separator())},
                       {"struct_hash", eth::to_hex(eth::payment_struct_hash(p))},
                       {"digest", eth::to_hex(digest)},
                       {"sk", sk.reveal().to_hex()},
                       {"cm", cm.to_hex()},
                       {"auth", key.address().to_hex()},
                       {"signature", eth::to_hex(sig)}});
  }
  return write_json(out / "payments.json",
                    {{"source", "C++ (src/chain/payment.cpp): random payments, digests and auth-key signatures"},
                     {"vectors", vectors}});
}

Status proofs_fixture(const fs::path& out, const fs::path& root, const fs::path& build, const fs::path& crs,
                      const fs::path& bb_binary) {
  const fs::path dir = fs::temp_directory_path() / ("bucketpay-fixtures-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  StoreOptions so;
  so.passphrase = "fixtures";
  so.vault_params = VaultParams::fast();
  auto store = open_sqlite_store(dir / "store.db", so);
  if (!store.ok()) return store.status();
  ProverConfig pc;
  pc.bb_binary = bb_binary;
  pc.crs_dir = crs;
  pc.circuits_dir = build / "circuits";
  pc.witness_server = root / "scripts" / "witness_server.mjs";
  pc.scratch_root = dir;
  pc.warm_up = false;
  auto pool = ProverPool::start(pc);
  if (!pool.ok()) return pool.status();
  auto engine = Engine::open(**store, **pool, "fixtures");
  if (!engine.ok()) return engine.status();
  const SpendingKey sk = SpendingKey::generate();
  BUCKETPAY_RETURN_IF_ERROR((*store)->put_spending_key("fixtures", sk.reveal()));
  const Fr pk = owner_key(sk);
  // Deposits by hidden owner, in order: leaf i is deposit i. Values in cents.
  // Notes 0-3 and 7-19 get spend proofs (17: a full spendBatch for the gas table), note 4 an
  // 8-output split, note 5 a seed-mode split (withdrawal with change).
  std::vector<std::uint64_t> values = {1, 2, 4, 64, 100000, 1000, 8};
  for (std::uint64_t v = 1; values.size() < 20; ++v) values.push_back(v * 16);
  json deposits = json::array();
  std::vector<std::int64_t> ids;
  std::vector<Note> notes;
  for (auto v : values) {
    const Note note = Note::create(pk, v);
    auto index = (*engine)->append_leaf(note.commitment());
    if (!index.ok()) return index.status();
    StoredNote sn{0, "fixtures", pk, v, note.r, *index, NoteState::kOnChain, note.commitment(), 0};
    auto id = (*store)->insert_note(sn);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
    notes.push_back(note);
    deposits.push_back({{"owner", note.owner().to_hex()},
                        {"value", v},
                        {"commitment", note.commitment().to_hex()},
                        {"leaf_index", *index}});
  }
  auto entry = [&](const std::vector<Fr>& public_inputs, const std::vector<std::uint8_t>& proof, std::size_t note,
                   std::uint64_t amount) -> Result<json> {
    json pi = json::array();
    for (const auto& x : public_inputs) pi.push_back(x.to_hex());
    auto key = auth_key_bytes(sk, notes[note].commitment());
    if (!key.ok()) return key.status();
    return json{{"proof", hex_bytes(proof)},
                {"public_inputs", pi},
                {"note", note},
                {"amount", amount},
                {"auth", auth_address(sk, notes[note].commitment()).to_hex()},
                {"auth_key", eth::to_hex(*key)}};
  };
  // Spend proofs for notes 0-3 and 7-19 (the tests spend some alone and some in batches).
  std::vector<std::size_t> spend_notes = {0, 1, 2, 3};
  for (std::size_t i = 7; i < ids.size(); ++i) spend_notes.push_back(i);
  std::vector<std::int64_t> spend_ids;
  spend_ids.reserve(spend_notes.size());
  for (std::size_t i : spend_notes) spend_ids.push_back(ids[i]);
  auto spends = (*engine)->generate_spend_precomputes(spend_ids, {});
  if (!spends.ok()) return spends.status();
  if (spends->failed != 0) return Status::internal("spend proofs failed: " + spends->errors.front());
  json spend = json::array();
  for (std::size_t k = 0; k < spend_notes.size(); ++k) {
    const Precompute& p = spends->precomputes[k];
    auto e = entry(p.public_inputs, p.proof, spend_notes[k], p.amount);
    if (!e.ok()) return e.status();
    spend.push_back(*e);
  }
  json split = json::array();
  // split[0]: the $1,000 note (note 4) into 8 outputs, withdrawing 4 cents (a rebalancing split
  // paying a relayer's fee): 7 denominations and the rest.
  {
    std::vector<Note> outs;
    std::uint64_t rest = values[4] - 4;
    for (std::uint64_t v : {65536, 16384, 8192, 4096, 2048, 1024, 512}) {
      outs.push_back(Note::create(pk, v));
      rest -= v;
    }
    outs.push_back(Note::create(pk, rest));
    auto outputs = make_split_outputs(outs);
    if (!outputs.ok()) return outputs.status();
    const OwnedNote owned{notes[4], sk, 4};
    auto path = (*engine)->tree().path(4);
    if (!path.ok()) return path.status();
    const Fr root_fr = (*engine)->tree().root();
    const SplitStatement st = split_statement(owned, root_fr, 4, *outputs);
    ProofResult r = (*pool)->prove_now({"split8", std::string(circuit_name(CircuitKind::kSplit)),
                                        split_inputs_json(owned, *path, root_fr, 4, *outputs), st.public_inputs()});
    if (!r.proof.ok()) return r.proof.status().with_context("8-output split proof");
    auto e = entry(r.proof->public_inputs, r.proof->proof, 4, 4);
    if (!e.ok()) return e.status();
    split.push_back(*e);
  }
  // split[1]: seed mode on note 5 ($10): withdraw 256 cents, the change back to the owner (1 output).
  {
    const std::vector<Cents> buckets = {256};
    auto seeded = (*engine)->generate_all_precomputes(ids[5], buckets, {});
    if (!seeded.ok()) return seeded.status();
    if (seeded->failed != 0) return Status::internal("split proofs failed: " + seeded->errors.front());
    const Precompute& p = seeded->precomputes.front();
    auto e = entry(p.public_inputs, p.proof, 5, p.amount);
    if (!e.ok()) return e.status();
    split.push_back(*e);
  }
  return write_json(
      out / "proofs.json",
      {{"root", (*engine)->tree().root().to_hex()}, {"deposits", deposits}, {"spend", spend}, {"split", split}});
}

int run(int argc, char** argv) {
  CLI::App app{"bucketpay-fixtures: cross-language test fixtures"};
  std::string out;
  bool proofs = false;
  std::string crs;
  app.add_option("--out", out, "output directory")->required();
  app.add_flag("--proofs", proofs, "also make real proofs with the engine (proofs.json)");
  app.add_option("--crs", crs, "the CRS directory (default $BUCKETPAY_CRS, else ~/.bb-crs)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const fs::path root = BUCKETPAY_SOURCE_DIR;
  const fs::path build = BUCKETPAY_BUILD_DIR;
  auto bb_binary = bb::locate_binary({root / "node_modules/@aztec/bb.js/build/amd64-linux/bb"});
  if (!bb_binary.ok()) return die(bb_binary.status());
  std::error_code ec;
  fs::create_directories(out, ec);
  if (Status st = poseidon2_fixture(out, *bb_binary); !st.is_ok()) return die(st);
  if (Status st = tree_fixture(out); !st.is_ok()) return die(st);
  if (Status st = payments_fixture(out); !st.is_ok()) return die(st);
  if (proofs) {
    const char* crs_env = std::getenv("BUCKETPAY_CRS");
    const char* home = std::getenv("HOME");
    const fs::path crs_dir = bb::crs_directory(crs.empty() ? std::nullopt : std::optional<fs::path>(crs),
                                               crs_env != nullptr ? std::optional<fs::path>(crs_env) : std::nullopt,
                                               home != nullptr ? home : ".");
    if (Status st = proofs_fixture(out, root, build, crs_dir, *bb_binary); !st.is_ok()) return die(st);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a bug: said, not an abort
    std::cerr << "bucketpay-fixtures: internal error: " << e.what() << "\n";
    return 1;
  }
}
