// bucketpay-fixtures: writes the cross-language test fixtures the Solidity tests read.
//
//   poseidon2.json  Poseidon2 vectors. Each output is computed by bb's msgpack API (the independent
//                   implementation) AND by the C++; the tool fails if they differ.
//   tree.json       leaves and the C++ tree's root after each insert (for the on-chain tree).
//   proofs.json     (--proofs) real proofs made by the engine for a tree the test rebuilds on chain:
//                   deposits in order (leaf i = deposit i), spend and split proofs with their public
//                   inputs. See contracts/test/README.md for the format.
//
// Usage: bucketpay-fixtures --out DIR [--proofs] [--crs DIR]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bucketpay/bb.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "bucketpay/merkle_tree.h"
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
    for (std::size_t k = 0; k < n; ++k) in.push_back(i < 12 ? edges[(static_cast<std::size_t>(i) + k) % 4] : Fr::random());
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
  return write_json(out / "tree.json", {{"leaves", leaves}, {"roots", roots}, {"empty_root", zeros.back()},
                                        {"zero_subtrees", zeros}});
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
  // Deposits, in order: leaf i is deposit i. Values in cents.
  // Notes 0-3 and 7-19 get spend proofs (17: a full spendBatch for the gas table), note 4 a split.
  std::vector<std::uint64_t> values = {1, 2, 4, 64, 100000, 1000, 8};
  for (std::uint64_t v = 1; values.size() < 20; ++v) values.push_back(v * 16);
  json deposits = json::array();
  std::vector<std::int64_t> ids;
  for (auto v : values) {
    const Note note = Note::create(pk, v);
    auto index = (*engine)->append_leaf(note.commitment());
    if (!index.ok()) return index.status();
    StoredNote sn{0, "fixtures", pk, v, note.r, *index, NoteState::kOnChain, note.commitment(), 0};
    auto id = (*store)->insert_note(sn);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
    deposits.push_back({{"pk", pk.to_hex()}, {"value", v}, {"r", note.r.to_hex()}, {"commitment", note.commitment().to_hex()},
                        {"leaf_index", *index}});
  }
  const std::string recipient_address = "0x00000000000000000000000000000000000b0b01";
  auto recipient = address_to_field(recipient_address);
  if (!recipient.ok()) return recipient.status();
  // Spend proofs for notes 0-3 and 7-19 (the tests spend some alone and some in batches).
  std::vector<std::int64_t> spend_ids(ids.begin(), ids.begin() + 4);
  spend_ids.insert(spend_ids.end(), ids.begin() + 7, ids.end());
  auto spends = (*engine)->generate_spend_precomputes(spend_ids, *recipient, {});
  if (!spends.ok()) return spends.status();
  if (spends->failed != 0) return Status::internal("spend proofs failed: " + spends->errors.front());
  // Seed-mode split of the $1,000 note: withdraw 256 cents, the change back to the owner.
  const std::vector<Cents> buckets = {256};
  auto splits = (*engine)->generate_all_precomputes(ids[4], buckets, *recipient, {});
  if (!splits.ok()) return splits.status();
  if (splits->failed != 0) return Status::internal("split proofs failed: " + splits->errors.front());
  auto to_entry = [](const Precompute& p) {
    json pi = json::array();
    for (const auto& x : p.public_inputs) pi.push_back(x.to_hex());
    return json{{"proof", hex_bytes(p.proof)}, {"public_inputs", pi}, {"note_id", p.note_id}, {"amount", p.amount}};
  };
  json spend = json::array();
  for (const auto& p : spends->precomputes) spend.push_back(to_entry(p));
  json split = json::array();
  for (const auto& p : splits->precomputes) split.push_back(to_entry(p));
  return write_json(out / "proofs.json", {{"recipient", recipient_address},
                                          {"root", (*engine)->tree().root().to_hex()},
                                          {"deposits", deposits},
                                          {"spend", spend},
                                          {"split", split}});
}

}  // namespace

int main(int argc, char** argv) {
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
  auto bb_binary = bb::locate_binary(std::nullopt, root);
  if (!bb_binary.ok()) return die(bb_binary.status());
  std::error_code ec;
  fs::create_directories(out, ec);
  if (Status st = poseidon2_fixture(out, *bb_binary); !st.is_ok()) return die(st);
  if (Status st = tree_fixture(out); !st.is_ok()) return die(st);
  if (proofs) {
    const fs::path crs_dir = bb::crs_directory(crs.empty() ? std::nullopt : std::optional<fs::path>(crs));
    if (Status st = proofs_fixture(out, root, build, crs_dir, *bb_binary); !st.is_ok()) return die(st);
  }
  return 0;
}
