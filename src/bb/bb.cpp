#include "bucketpay/bb.h"

#include <sodium.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "bucketpay/subprocess.h"
#include "response.h"

namespace bucketpay::bb {
namespace {

namespace fs = std::filesystem;
using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_bin(Packer& pk, std::span<const std::uint8_t> bytes) {
  pk.pack_bin(static_cast<std::uint32_t>(bytes.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), static_cast<std::uint32_t>(bytes.size()));
}

void pack_fr(Packer& pk, const Fr& x) { pack_bin(pk, x.to_bytes()); }

// bb's CircuitInput {name, bytecode, verification_key}; without a key: CircuitInputNoVK.
void pack_circuit(Packer& pk, const Circuit& circuit, std::optional<std::span<const std::uint8_t>> vk) {
  pk.pack_map(vk ? 3 : 2);
  pk.pack(std::string("name"));
  pk.pack(circuit.name);
  pk.pack(std::string("bytecode"));
  pack_bin(pk, circuit.bytecode);
  if (vk) {
    pk.pack(std::string("verification_key"));
    pack_bin(pk, *vk);
  }
}

void pack_settings(Packer& pk, bool optimized_solidity_verifier) {
  pk.pack_map(4);
  pk.pack(std::string("ipa_accumulation"));
  pk.pack(false);
  pk.pack(std::string("oracle_hash_type"));
  pk.pack(std::string("keccak"));
  pk.pack(std::string("disable_zk"));
  pk.pack(false);
  pk.pack(std::string("optimized_solidity_verifier"));
  pk.pack(optimized_solidity_verifier);
}

// Finds a key in a msgpack map object.
const msgpack::object* field(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return &kv.val;
    }
  }
  return nullptr;
}

Result<std::vector<std::uint8_t>> as_bytes(const msgpack::object* o, std::string_view what) {
  if (o == nullptr) return Status::corruption("bb response lacks " + std::string(what));
  if (o->type == msgpack::type::BIN) {
    return std::vector<std::uint8_t>(o->via.bin.ptr, o->via.bin.ptr + o->via.bin.size);
  }
  if (o->type == msgpack::type::STR) {
    return std::vector<std::uint8_t>(o->via.str.ptr, o->via.str.ptr + o->via.str.size);
  }
  return Status::corruption("bb response field " + std::string(what) + " is not binary");
}

Result<Fr> as_fr(const msgpack::object& o) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != 32) {
    return Status::corruption("bb returned a field element that is not 32 bytes");
  }
  return Fr::from_bytes(std::span<const std::uint8_t, 32>(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr), 32));
}

// A vector of 32-byte big-endian values: as field elements, and/or as concatenated bytes.
Status as_fields(const msgpack::object* o, std::string_view what, std::vector<Fr>* fields,
                 std::vector<std::uint8_t>* bytes) {
  if (o == nullptr || o->type != msgpack::type::ARRAY) {
    return Status::corruption("bb response field " + std::string(what) + " is not an array");
  }
  for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
    const auto& e = o->via.array.ptr[i];
    if (e.type != msgpack::type::BIN || e.via.bin.size != 32) {
      return Status::corruption("bb response field " + std::string(what) + " has a non-32-byte element");
    }
    if (bytes != nullptr) bytes->insert(bytes->end(), e.via.bin.ptr, e.via.bin.ptr + 32);
    if (fields != nullptr) {
      auto f = as_fr(e);
      if (!f.ok()) return f.status();
      fields->push_back(*f);
    }
  }
  return Status::ok();
}

Result<std::vector<std::uint8_t>> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot open " + path.string());
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Locating the toolchain

Result<fs::path> locate_binary(const std::vector<fs::path>& candidates) {
  std::string tried;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec) && ::access(c.c_str(), X_OK) == 0) return fs::absolute(c);
    tried += (tried.empty() ? "" : ", ") + c.string();
  }
  return Status::failed_precondition("bb not found (looked at " + tried + "); run `make setup` or pass --bb PATH");
}

fs::path crs_directory(const std::optional<fs::path>& option, const std::optional<fs::path>& from_environment,
                       const fs::path& home) {
  if (option) return fs::absolute(*option);
  if (from_environment && !from_environment->empty()) return fs::absolute(*from_environment);
  return fs::absolute(home / ".bb-crs");
}

std::uint32_t crs_points_for(std::uint32_t circuit_size) { return circuit_size + 1; }

Status check_crs(const fs::path& dir, std::uint32_t num_points) {
  const auto need = [&] {
    return "the CRS in " + dir.string() + " must hold at least " + std::to_string(num_points) +
           " G1 points (bn254_g1.dat of " + std::to_string(std::uint64_t{num_points} * 64) +
           " bytes or more) and bn254_g2.dat (128 bytes)";
  };
  std::error_code ec;
  const fs::path g1_path = dir / "bn254_g1.dat";
  const fs::path g2_path = dir / "bn254_g2.dat";
  if (!fs::is_directory(dir, ec)) {
    return Status::failed_precondition("CRS directory " + dir.string() + " does not exist; " + need());
  }
  const auto g1_size = fs::file_size(g1_path, ec);
  if (ec) return Status::failed_precondition("missing " + g1_path.string() + "; " + need());
  if (g1_size < std::uint64_t{num_points} * 64) {
    return Status::failed_precondition(g1_path.string() + " has only " + std::to_string(g1_size / 64) + " points; " +
                                       need());
  }
  const auto g2_size = fs::file_size(g2_path, ec);
  if (ec || g2_size != 128) return Status::failed_precondition("missing or bad " + g2_path.string() + "; " + need());
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// gzip and artifacts

Result<std::vector<std::uint8_t>> gunzip(std::span<const std::uint8_t> data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::internal("inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  std::vector<std::uint8_t> out;
  std::uint8_t chunk[1 << 16];
  int rc;
  do {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::corruption("not valid gzip data");
    }
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::corruption("truncated gzip data");
  return out;
}

Result<std::vector<std::uint8_t>> gzip(std::span<const std::uint8_t> data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::internal("deflateInit2 failed");
  }
  std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::internal("deflate failed");
  out.resize(zs.total_out);
  return out;
}

Result<Circuit> load_circuit_artifact(const fs::path& artifact_json, std::string name) {
  auto text = read_file(artifact_json);
  if (!text.ok()) return text.status().with_context("circuit artifact");
  auto json = nlohmann::json::parse(text->begin(), text->end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("bytecode") || !json["bytecode"].is_string()) {
    return Status::corruption(artifact_json.string() + " is not a Noir artifact (no bytecode)");
  }
  const std::string b64 = json["bytecode"].get<std::string>();
  std::vector<std::uint8_t> gz(b64.size());
  std::size_t len = 0;
  if (sodium_base642bin(gz.data(), gz.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::corruption(artifact_json.string() + ": bytecode is not base64");
  }
  gz.resize(len);
  auto raw = gunzip(gz);
  if (!raw.ok()) return raw.status().with_context(artifact_json.string() + ": bytecode");
  return Circuit{std::move(name), std::move(*raw)};
}

// ---------------------------------------------------------------------------------------------
// The msgpack process

struct Process::Impl {
  Subprocess child;
};

struct ProcessAccess {
  // Sends one command and returns bb's answer frame, or the failure. Any transport failure kills
  // the process and marks it dead.
  static Result<std::vector<std::uint8_t>> call(Process& p, std::string_view command,
                                                const std::function<void(Packer&)>& pack_fields,
                                                Process::Deadline deadline) {
    if (!p.alive_) return Status::unavailable("bb process is dead");
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(1);
    pk.pack_array(2);
    pk.pack(std::string(command));
    pack_fields(pk);
    auto& child = p.impl_->child;
    Status st = child.write_frame(std::span(reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()));
    Result<std::vector<std::uint8_t>> frame =
        st.is_ok() ? child.read_frame(deadline) : Result<std::vector<std::uint8_t>>(st);
    if (!frame.ok()) {
      p.alive_ = false;
      child.kill();
      child.wait();
      std::string tail = child.stderr_tail(600);
      std::string msg = "bb " + std::string(command) + ": " + frame.status().message();
      if (!tail.empty()) msg += "; bb said: " + tail;
      return Status(frame.status().code(), msg);
    }
    return frame;
  }
};

Process::Process(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Process::~Process() {
  if (impl_) {
    impl_->child.close_stdin();
    impl_->child.kill();
  }
}

int Process::pid() const { return impl_ ? impl_->child.pid() : -1; }

Result<std::unique_ptr<Process>> Process::start(const ProcessOptions& options) {
  Subprocess::Options so;
  so.argv = {options.binary.string(), "msgpack", "run"};
  if (options.threads > 0) so.env.emplace_back("HARDWARE_CONCURRENCY", std::to_string(options.threads));
  // bb resolves CRS_PATH from its own working directory; given a relative path there, it finds no
  // CRS and goes to the network for one (in msgpack mode it was seen waiting there for minutes).
  if (!options.crs_dir.empty()) so.env.emplace_back("CRS_PATH", fs::absolute(options.crs_dir).string());
  so.stderr_path = options.stderr_path;
  so.cwd = options.cwd;
  auto child = Subprocess::spawn(so);
  if (!child.ok()) return child.status().with_context("starting bb");
  auto impl = std::make_unique<Impl>(Impl{std::move(*child)});
  return std::unique_ptr<Process>(new Process(std::move(impl)));
}

Result<std::array<Fr, 4>> Process::poseidon2_permutation(const std::array<Fr, 4>& inputs) {
  auto frame = ProcessAccess::call(
      *this, "Poseidon2Permutation",
      [&](Packer& pk) {
        pk.pack_map(1);
        pk.pack(std::string("inputs"));
        pk.pack_array(4);
        for (const auto& x : inputs) pack_fr(pk, x);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  return response::poseidon2_permutation(*frame);
}

Result<Fr> Process::poseidon2_hash(std::span<const Fr> inputs) {
  auto frame = ProcessAccess::call(
      *this, "Poseidon2Hash",
      [&](Packer& pk) {
        pk.pack_map(1);
        pk.pack(std::string("inputs"));
        pk.pack_array(static_cast<std::uint32_t>(inputs.size()));
        for (const auto& x : inputs) pack_fr(pk, x);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  return response::poseidon2_hash(*frame);
}

Result<Process::CircuitInfo> Process::circuit_info(const Circuit& circuit) {
  auto frame = ProcessAccess::call(
      *this, "CircuitStats",
      [&](Packer& pk) {
        pk.pack_map(3);
        pk.pack(std::string("circuit"));
        pack_circuit(pk, circuit, std::span<const std::uint8_t>{});
        pk.pack(std::string("include_gates_per_opcode"));
        pk.pack(false);
        pk.pack(std::string("settings"));
        pack_settings(pk, false);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  return response::circuit_info(*frame);
}

Result<std::vector<std::uint8_t>> Process::compute_vk(const Circuit& circuit) {
  auto frame = ProcessAccess::call(
      *this, "CircuitComputeVk",
      [&](Packer& pk) {
        pk.pack_map(2);
        pk.pack(std::string("circuit"));
        pack_circuit(pk, circuit, std::nullopt);
        pk.pack(std::string("settings"));
        pack_settings(pk, false);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  return response::compute_vk(*frame);
}

Result<ProofData> Process::prove(const Circuit& circuit, std::span<const std::uint8_t> vk,
                                 std::span<const std::uint8_t> witness, Deadline deadline) {
  auto frame = ProcessAccess::call(
      *this, "CircuitProve",
      [&](Packer& pk) {
        pk.pack_map(3);
        pk.pack(std::string("circuit"));
        pack_circuit(pk, circuit, vk);
        pk.pack(std::string("witness"));
        pack_bin(pk, witness);
        pk.pack(std::string("settings"));
        pack_settings(pk, false);
      },
      deadline);
  if (!frame.ok()) return frame.status();
  return response::prove(*frame);
}

Result<bool> Process::verify(std::span<const std::uint8_t> vk, const ProofData& proof) {
  if (proof.proof.size() % 32 != 0) return Status::invalid_argument("proof length is not a multiple of 32");
  auto frame = ProcessAccess::call(
      *this, "CircuitVerify",
      [&](Packer& pk) {
        pk.pack_map(4);
        pk.pack(std::string("verification_key"));
        pack_bin(pk, vk);
        pk.pack(std::string("public_inputs"));
        pk.pack_array(static_cast<std::uint32_t>(proof.public_inputs.size()));
        for (const auto& x : proof.public_inputs) pack_fr(pk, x);
        pk.pack(std::string("proof"));
        const auto n = static_cast<std::uint32_t>(proof.proof.size() / 32);
        pk.pack_array(n);
        for (std::uint32_t i = 0; i < n; ++i) pack_bin(pk, std::span(proof.proof).subspan(std::size_t{i} * 32, 32));
        pk.pack(std::string("settings"));
        pack_settings(pk, false);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  auto verified = response::verify(*frame);
  // bb reports some malformed proofs as errors rather than as "not verified"; either way the proof
  // is not valid, but a dead process is a real failure.
  if (!verified.ok() && verified.status().code() == StatusCode::kInternal) return false;
  return verified;
}

Result<std::string> Process::solidity_verifier(std::span<const std::uint8_t> vk, bool optimized) {
  auto frame = ProcessAccess::call(
      *this, "CircuitWriteSolidityVerifier",
      [&](Packer& pk) {
        pk.pack_map(2);
        pk.pack(std::string("verification_key"));
        pack_bin(pk, vk);
        pk.pack(std::string("settings"));
        pack_settings(pk, optimized);
      },
      std::nullopt);
  if (!frame.ok()) return frame.status();
  return response::solidity_verifier(*frame);
}

// ---------------------------------------------------------------------------------------------
// Answers

namespace response {
namespace {

// Unpacks [Name, {fields}] and checks Name. msgpack-c sizes each array, map, string and binary from
// its header before reading it: without limits a 5-byte frame claiming 2^32 - 1 elements makes it
// allocate 128 GiB. No element takes less than a byte, so none can be longer than the frame.
Result<msgpack::object_handle> decode(std::span<const std::uint8_t> frame, std::string_view command,
                                      std::string_view response_name) {
  const auto max = static_cast<std::size_t>(std::min<std::size_t>(frame.size(), 0xffffffffU));
  const msgpack::unpack_limit limit(max, max, max, max, max, /*depth=*/64);
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(reinterpret_cast<const char*>(frame.data()), frame.size(), nullptr, nullptr, limit);
  } catch (const std::exception& e) {
    return Status::corruption("bb " + std::string(command) + ": malformed msgpack response: " + e.what());
  }
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 2 || o.via.array.ptr[0].type != msgpack::type::STR) {
    return Status::corruption("bb " + std::string(command) + ": unexpected response shape");
  }
  const std::string_view name(o.via.array.ptr[0].via.str.ptr, o.via.array.ptr[0].via.str.size);
  if (name == "ErrorResponse") {
    std::string message = "unknown error";
    if (const auto* m = field(o.via.array.ptr[1], "message"); m != nullptr && m->type == msgpack::type::STR) {
      message.assign(m->via.str.ptr, m->via.str.size);
    }
    return Status::internal("bb " + std::string(command) + " failed: " + message);
  }
  if (name != response_name) {
    return Status::corruption("bb " + std::string(command) + ": expected " + std::string(response_name) + ", got " +
                              std::string(name));
  }
  return oh;
}

const msgpack::object& fields_of(const msgpack::object_handle& oh) { return oh.get().via.array.ptr[1]; }

}  // namespace

Result<std::array<Fr, 4>> poseidon2_permutation(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "Poseidon2Permutation", "Poseidon2PermutationResponse"));
  const auto* out = field(fields_of(oh), "outputs");
  if (out == nullptr || out->type != msgpack::type::ARRAY || out->via.array.size != 4) {
    return Status::corruption("bb Poseidon2Permutation: expected 4 outputs");
  }
  std::array<Fr, 4> result;
  for (std::size_t i = 0; i < 4; ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(result[i], as_fr(out->via.array.ptr[i]));
  }
  return result;
}

Result<Fr> poseidon2_hash(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "Poseidon2Hash", "Poseidon2HashResponse"));
  const auto* h = field(fields_of(oh), "hash");
  if (h == nullptr) return Status::corruption("bb Poseidon2Hash: no hash");
  return as_fr(*h);
}

Result<Process::CircuitInfo> circuit_info(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "CircuitStats", "CircuitInfoResponse"));
  const auto* gates = field(fields_of(oh), "num_gates");
  const auto* dyadic = field(fields_of(oh), "num_gates_dyadic");
  if (gates == nullptr || dyadic == nullptr || gates->type != msgpack::type::POSITIVE_INTEGER ||
      dyadic->type != msgpack::type::POSITIVE_INTEGER) {
    return Status::corruption("bb CircuitStats: no gate counts");
  }
  return Process::CircuitInfo{static_cast<std::uint32_t>(gates->via.u64), static_cast<std::uint32_t>(dyadic->via.u64)};
}

Result<std::vector<std::uint8_t>> compute_vk(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "CircuitComputeVk", "CircuitComputeVkResponse"));
  return as_bytes(field(fields_of(oh), "bytes"), "bytes");
}

Result<ProofData> prove(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "CircuitProve", "CircuitProveResponse"));
  ProofData out;
  BUCKETPAY_RETURN_IF_ERROR(
      as_fields(field(fields_of(oh), "public_inputs"), "public_inputs", &out.public_inputs, nullptr));
  BUCKETPAY_RETURN_IF_ERROR(as_fields(field(fields_of(oh), "proof"), "proof", nullptr, &out.proof));
  return out;
}

Result<bool> verify(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh, decode(frame, "CircuitVerify", "CircuitVerifyResponse"));
  const auto* v = field(fields_of(oh), "verified");
  if (v == nullptr || v->type != msgpack::type::BOOLEAN)
    return Status::corruption("bb CircuitVerify: no verified flag");
  return v->via.boolean;
}

Result<std::string> solidity_verifier(std::span<const std::uint8_t> frame) {
  BUCKETPAY_ASSIGN_OR_RETURN(const auto oh,
                             decode(frame, "CircuitWriteSolidityVerifier", "CircuitWriteSolidityVerifierResponse"));
  BUCKETPAY_ASSIGN_OR_RETURN(const auto code, as_bytes(field(fields_of(oh), "solidity_code"), "solidity_code"));
  return std::string(code.begin(), code.end());
}

}  // namespace response
}  // namespace bucketpay::bb
