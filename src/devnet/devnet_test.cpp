// Devnet: artifacts, the contracts JSON, and the bucketpay-devnet binary run as a process against a
// real anvil (deploy, then fund an account), plus its answers to bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bucketpay/deployment.h"
#include "bucketpay/pool_client.h"
#include "chain/anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::devnet {
namespace {

using deployment::Artifact;
using deployment::Contracts;
using deployment::contracts_from_json;
using deployment::load_artifact;
using deployment::to_json;

namespace fs = std::filesystem;

fs::path artifacts_dir() { return testing::project_root() / "contracts" / "out"; }

// A temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bucketpay-devnet-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A view function of no arguments returning one word, e.g. "SPEND_VERIFIER()"; max() on any failure.
eth::U256 view_uint(eth::Rpc& rpc, const eth::Address& to, std::string_view fn) {
  Result<eth::Bytes> data = abi::encode_call(fn, {});
  if (!data.ok()) return eth::U256::max();
  Result<eth::Bytes> ret = rpc.call({.to = to, .data = *data});
  if (!ret.ok() || ret->size() != 32) return eth::U256::max();
  eth::Hash32 word{};
  std::copy(ret->begin(), ret->end(), word.begin());
  return eth::U256::from_word(word);
}

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs bucketpay-devnet with `args` (and `env` as NAME=VALUE words before it), capturing its output.
Outcome devnet(const TempDir& dir, const std::vector<std::string>& args, const std::string& env = "") {
  std::string cmd = env + (env.empty() ? "" : " ") + quote(BUCKETPAY_DEVNET_BINARY);
  for (const std::string& a : args) {
    cmd += ' ';
    cmd += quote(a);
  }
  cmd += " > " + quote((dir.path() / "stdout").string()) + " 2> " + quote((dir.path() / "stderr").string());
  const int status = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe)
  Outcome r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(dir.path() / "stdout");
  r.err = read_file(dir.path() / "stderr");
  return r;
}

// Exit status 2 and exactly one line "bucketpay-devnet: error: ..." on stderr.
void expect_usage_error(const Outcome& r, const std::string& mentions) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("bucketpay-devnet: error: ", 0), 0U) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << "expected '" << mentions << "' in: " << r.err;
}

Contracts sample_contracts() {
  Contracts c;
  c.token = *eth::Address::from_string("0x5FbDB2315678afecb367f032d93F642f64180aa3");
  c.spend_verifier = *eth::Address::from_string("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
  c.split_verifier = *eth::Address::from_string("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
  c.pool = *eth::Address::from_string("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9");
  c.unit = eth::U256(10'000);
  c.deploy_block = 4;
  c.pool_abi_json = R"([{"type":"error","name":"InvalidProof","inputs":[]}])";
  return c;
}

TEST(DevnetJson, RoundTripAndMalformed) {
  const Contracts c = sample_contracts();
  Result<Contracts> back = contracts_from_json(to_json(c));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->token, c.token);
  EXPECT_EQ(back->spend_verifier, c.spend_verifier);
  EXPECT_EQ(back->split_verifier, c.split_verifier);
  EXPECT_EQ(back->pool, c.pool);
  EXPECT_EQ(back->unit, c.unit);
  EXPECT_EQ(back->deploy_block, c.deploy_block);
  EXPECT_EQ(nlohmann::json::parse(back->pool_abi_json), nlohmann::json::parse(c.pool_abi_json));
  EXPECT_EQ(nlohmann::json::parse(to_json(c))["unit"], "10000");

  for (const char* bad : {"", "[]", "{}", R"({"token":"0x12"})"}) {
    Result<Contracts> r = contracts_from_json(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  nlohmann::json j = nlohmann::json::parse(to_json(c));
  j["unit"] = "0";
  EXPECT_EQ(contracts_from_json(j.dump()).status().code(), StatusCode::kInvalidArgument);
  j = nlohmann::json::parse(to_json(c));
  j["deploy_block"] = -1;
  EXPECT_EQ(contracts_from_json(j.dump()).status().code(), StatusCode::kInvalidArgument);
}

TEST(DevnetArtifacts, LoadsForgeOutputAndReportsWhatIsWrong) {
  Result<Artifact> pool = load_artifact(artifacts_dir(), "Pool.sol", "Pool");
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  EXPECT_FALSE(pool->bytecode.empty());
  EXPECT_NE(pool->abi_json.find("UnknownRoot"), std::string::npos);

  EXPECT_EQ(load_artifact(artifacts_dir(), "Nope.sol", "Nope").status().code(), StatusCode::kNotFound);
  // An interface has no bytecode.
  EXPECT_EQ(load_artifact(artifacts_dir(), "IBatchProofVerifier.sol", "IBatchProofVerifier").status().code(),
            StatusCode::kCorruption);
  TempDir dir;
  fs::create_directories(dir.path() / "X.sol");
  std::ofstream(dir.path() / "X.sol" / "X.json") << "{not json";
  EXPECT_EQ(load_artifact(dir.path(), "X.sol", "X").status().code(), StatusCode::kCorruption);
}

TEST(DevnetBinary, DeploysAndFundsOnAnvil) {
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(BUCKETPAY_ANVIL);
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  const std::string url = (*anvil)->url();
  TempDir dir;
  const fs::path out = dir.path() / "contracts.json";

  Outcome deployed =
      devnet(dir, {"deploy", "--rpc", url, "--artifacts", artifacts_dir().string(), "--out", out.string()});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.err;
  Result<Contracts> c = contracts_from_json(read_file(out));
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->unit, eth::U256(10'000)) << "the default unit: a cent of a 6-decimals token";
  EXPECT_GT(c->deploy_block, 0U);
  EXPECT_NE(deployed.out.find(c->pool.to_hex()), std::string::npos) << deployed.out;

  Result<std::unique_ptr<eth::Rpc>> rpc = eth::Rpc::connect({.url = url});
  ASSERT_TRUE(rpc.ok());
  for (const eth::Address& a : {c->token, c->spend_verifier, c->split_verifier, c->pool}) {
    Result<eth::Bytes> code = (*rpc)->get_code(a);
    ASSERT_TRUE(code.ok());
    EXPECT_FALSE(code->empty()) << a.to_hex();
  }
  // The Pool verifies with the batch verifiers deployed beside it: spend's key (4 public inputs,
  // log n 11) and split's (12 public inputs, log n 12).
  EXPECT_EQ(view_uint(**rpc, c->pool, "SPEND_VERIFIER()"), eth::U256::from_word(c->spend_verifier.to_word()));
  EXPECT_EQ(view_uint(**rpc, c->pool, "SPLIT_VERIFIER()"), eth::U256::from_word(c->split_verifier.to_word()));
  EXPECT_EQ(view_uint(**rpc, c->spend_verifier, "NUMBER_OF_PUBLIC_INPUTS()"), eth::U256(4));
  EXPECT_EQ(view_uint(**rpc, c->spend_verifier, "LOG_CIRCUIT_SIZE()"), eth::U256(11));
  EXPECT_EQ(view_uint(**rpc, c->split_verifier, "NUMBER_OF_PUBLIC_INPUTS()"), eth::U256(12));
  EXPECT_EQ(view_uint(**rpc, c->split_verifier, "LOG_CIRCUIT_SIZE()"), eth::U256(12));

  eth::Wallet deployer(**rpc, *eth::PrivateKey::from_hex(testing::kAnvilKey0));
  Result<std::vector<std::string>> errors = eth::PoolClient::error_signatures_from_abi_json(c->pool_abi_json);
  ASSERT_TRUE(errors.ok());
  EXPECT_FALSE(errors->empty());
  eth::PoolClient pool(**rpc, deployer, c->pool, *errors);
  EXPECT_EQ(*pool.unit(), c->unit);
  EXPECT_EQ(*pool.token(), c->token);
  EXPECT_EQ(*pool.next_index(), 0U);

  // fund: ether set, tokens minted (cents * unit), to a fresh account.
  const eth::Address account = eth::PrivateKey::random().address();
  Outcome funded = devnet(dir, {"fund", "--rpc", url, "--contracts", out.string(), "--to", account.to_hex(), "--eth",
                                "3", "--tokens", "12345"});
  ASSERT_EQ(funded.exit_code, 0) << funded.err;
  EXPECT_EQ(*(*rpc)->get_balance(account), eth::U256(3) * eth::U256(1'000'000'000'000'000'000ULL));
  eth::TokenClient token(**rpc, deployer, c->token);
  EXPECT_EQ(*token.balance_of(account), eth::U256(12345) * c->unit);
  EXPECT_EQ(*token.decimals(), 6);

  // A second deployment with another unit and key (from the environment), printed to stdout.
  Outcome again = devnet(dir, {"deploy", "--rpc", url, "--unit", "10000000000000000"},
                         std::string("BUCKETPAY_DEVNET_KEY=") + testing::kAnvilKey1);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  Result<Contracts> c2 = contracts_from_json(again.out);
  ASSERT_TRUE(c2.ok()) << c2.status().to_string() << "\n" << again.out;
  EXPECT_EQ(c2->unit, eth::U256(10'000'000'000'000'000ULL));
  EXPECT_NE(c2->pool, c->pool);
  EXPECT_EQ(*(*rpc)->get_transaction_count(*eth::Address::from_string(testing::kAnvilAddress0)), 5U)
      << "the first deployment's 4 transactions and the mint, none of the second's";
  EXPECT_EQ(*(*rpc)->get_transaction_count(*eth::Address::from_string(testing::kAnvilAddress1)), 4U);
}

TEST(DevnetBinary, BadInputIsOneLineAndExitStatus2) {
  TempDir dir;
  const fs::path contracts = dir.path() / "contracts.json";
  std::ofstream(contracts) << to_json(sample_contracts());
  const std::string url = "http://127.0.0.1:9";  // nobody is asked: the input is refused first

  expect_usage_error(devnet(dir, {}), "subcommand");
  expect_usage_error(devnet(dir, {"deploy"}), "--rpc");
  expect_usage_error(devnet(dir, {"launch", "--rpc", url}), "subcommand");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", "ftp://x"}), "--rpc");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", url, "--unit", "0"}), "--unit");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", url, "--unit", "ten"}), "--unit");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", url, "--key", "0x1234"}), "key");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", url}, "BUCKETPAY_DEVNET_KEY=nothex"), "key");
  expect_usage_error(devnet(dir, {"deploy", "--rpc", url, "--artifacts", (dir.path() / "nope").string()}),
                     "--artifacts");
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", contracts.string()}), "--to");
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", (dir.path() / "missing.json").string(), "--to",
                                  testing::kAnvilAddress0}),
                     "--contracts");
  std::ofstream(dir.path() / "bad.json") << "{\"token\": 1}";
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", (dir.path() / "bad.json").string(), "--to",
                                  testing::kAnvilAddress0}),
                     "--contracts");
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", contracts.string(), "--to", "0x12"}), "--to");
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", contracts.string(), "--to",
                                  testing::kAnvilAddress0, "--tokens", "-5"}),
                     "--tokens");
  expect_usage_error(devnet(dir, {"fund", "--rpc", url, "--contracts", contracts.string(), "--to",
                                  testing::kAnvilAddress0, "--eth", "1.5"}),
                     "--eth");

  // Nobody listening is a failure, not bad input: exit status 1, still one line.
  Outcome down =
      devnet(dir, {"fund", "--rpc", url, "--contracts", contracts.string(), "--to", testing::kAnvilAddress0});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_EQ(down.err.rfind("bucketpay-devnet: error: ", 0), 0U) << down.err;
  EXPECT_EQ(std::count(down.err.begin(), down.err.end(), '\n'), 1) << down.err;

  Outcome help = devnet(dir, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("deploy"), std::string::npos);
}

}  // namespace
}  // namespace bucketpay::devnet
