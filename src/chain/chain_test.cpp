// The chain client against a real anvil (started per test process on a free port, with its own
// state directory): locally signed EIP-1559 transfers, nonces, deployments, calls, reverts, logs.
#include "bucketpay/chain.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "anvil_testing.h"
#include "testing/testing.h"

namespace bucketpay::eth {
namespace {

using abi::Value;
using testing::Anvil;

std::filesystem::path anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) {  // NOLINT(concurrency-mt-unsafe)
    return env;
  }
  return BUCKETPAY_ANVIL;
}

U256 ether(std::uint64_t n) { return U256(n) * U256(1'000'000'000'000'000'000ULL); }

using testing::Artifact;
using testing::load_artifact;

// 12 bytes of code followed by a payload it copies (CODECOPY from offset 12).
Bytes with_prologue(const std::array<std::uint8_t, 12>& prologue, const Bytes& payload) {
  Bytes out(prologue.size() + payload.size());
  std::copy(prologue.begin(), prologue.end(), out.begin());
  std::copy(payload.begin(), payload.end(), out.begin() + 12);
  return out;
}

// Init code that deploys `runtime` (at most 255 bytes): CODECOPY it to memory and RETURN it.
Bytes deployer_of(const Bytes& runtime) {
  auto n = static_cast<std::uint8_t>(runtime.size());
  return with_prologue({0x60, n, 0x60, 12, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3}, runtime);
}

// Runtime code that always reverts with `data` (at most 255 bytes).
Bytes reverter_runtime(const Bytes& data) {
  auto n = static_cast<std::uint8_t>(data.size());
  return with_prologue({0x60, n, 0x60, 12, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xfd}, data);
}

// One anvil for the suite (CTest runs each test in its own process, so each gets its own).
Anvil* shared_anvil = nullptr;

class ChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<Anvil>> a = Anvil::start(anvil_binary());
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    shared_anvil = std::move(a).value().release();
  }
  static void TearDownTestSuite() {
    delete shared_anvil;
    shared_anvil = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(shared_anvil, nullptr);
    Result<std::unique_ptr<Rpc>> r = Rpc::connect({.url = shared_anvil->url()});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    rpc_ = std::move(r).value();
    wallet_ = std::make_unique<Wallet>(*rpc_, *PrivateKey::from_hex(testing::kAnvilKey0));
  }

  std::unique_ptr<Rpc> rpc_;
  std::unique_ptr<Wallet> wallet_;
};

TEST_F(ChainTest, BasicQueries) {
  EXPECT_EQ(*rpc_->chain_id(), 31337u);
  Result<std::uint64_t> n = rpc_->block_number();
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(wallet_->address().to_checksum(), testing::kAnvilAddress0);
  Result<U256> bal = rpc_->get_balance(wallet_->address());
  ASSERT_TRUE(bal.ok());
  EXPECT_GT(*bal, ether(1000));
  Result<Wallet::Fees> fees = wallet_->estimate_fees();
  ASSERT_TRUE(fees.ok()) << fees.status().to_string();
  EXPECT_GT(fees->max_fee_per_gas, fees->base_fee_per_gas);
  Result<FeeHistory> h = rpc_->fee_history(1, BlockId::latest(), {50.0});
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->base_fee_per_gas.size(), 2u);
  EXPECT_FALSE(rpc_->get_block(BlockId::number(1'000'000))->has_value());
}

TEST_F(ChainTest, Eip1559TransferChangesBalancesByValueAndFee) {
  Address to = PrivateKey::random().address();
  U256 value = ether(1) + U256(12345);
  U256 before = *rpc_->get_balance(wallet_->address());
  Result<Hash32> hash = wallet_->send_transaction(to, {}, value);
  ASSERT_TRUE(hash.ok()) << hash.status().to_string();
  Result<Receipt> receipt = wallet_->wait_for_receipt(*hash);
  ASSERT_TRUE(receipt.ok()) << receipt.status().to_string();
  EXPECT_TRUE(receipt->success);
  EXPECT_EQ(receipt->transaction_hash, *hash);
  EXPECT_EQ(receipt->gas_used, 21000u);
  EXPECT_EQ(receipt->from, wallet_->address());
  EXPECT_EQ(receipt->to, to);
  EXPECT_FALSE(receipt->effective_gas_price.is_zero());
  EXPECT_EQ(*rpc_->get_balance(to), value);
  U256 after = *rpc_->get_balance(wallet_->address());
  EXPECT_EQ(before - after, value + receipt->fee());

  // The node saw what we signed: the transaction's fields and our hash.
  Result<std::optional<Transaction>> tx = rpc_->get_transaction(*hash);
  ASSERT_TRUE(tx.ok() && tx->has_value());
  EXPECT_EQ((*tx)->from, wallet_->address());
  EXPECT_EQ((*tx)->value, value);
  EXPECT_EQ((*tx)->gas, 25200u);  // 21000 + 20%

  // Reorg detection material: the block links to its parent.
  Result<std::optional<BlockHeader>> block = rpc_->get_block(BlockId::number(receipt->block_number));
  Result<std::optional<BlockHeader>> parent = rpc_->get_block(BlockId::number(receipt->block_number - 1));
  ASSERT_TRUE(block.ok() && block->has_value() && parent.ok() && parent->has_value());
  EXPECT_EQ((*block)->hash, receipt->block_hash);
  EXPECT_EQ((*block)->parent_hash, (*parent)->hash);
  EXPECT_TRUE((*block)->base_fee_per_gas.has_value());
}

TEST_F(ChainTest, NoncesAdvanceAndResync) {
  std::uint64_t start = *rpc_->get_transaction_count(wallet_->address());
  std::vector<Hash32> hashes;
  for (int i = 0; i < 5; ++i) {
    Result<Hash32> h = wallet_->send_transaction(PrivateKey::random().address(), {}, U256(1000 + i));
    ASSERT_TRUE(h.ok()) << h.status().to_string();
    hashes.push_back(*h);
  }
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    ASSERT_TRUE(wallet_->wait_for_receipt(hashes[i]).ok());
    EXPECT_EQ((*rpc_->get_transaction(hashes[i]))->nonce, start + i);
  }
  EXPECT_EQ(*rpc_->get_transaction_count(wallet_->address()), start + 5);

  // Another wallet with the same key uses the next nonce behind our back: ours is now too low.
  Wallet other(*rpc_, *PrivateKey::from_hex(testing::kAnvilKey0));
  Result<Receipt> stolen = other.transact(PrivateKey::random().address(), {}, U256(1));
  ASSERT_TRUE(stolen.ok()) << stolen.status().to_string();
  Result<Receipt> ours = wallet_->transact(PrivateKey::random().address(), {}, U256(2));
  ASSERT_TRUE(ours.ok()) << ours.status().to_string();
  EXPECT_EQ((*rpc_->get_transaction(ours->transaction_hash))->nonce, start + 6);
}

TEST_F(ChainTest, DeployCallRevertAndLogs) {
  std::optional<Artifact> token = load_artifact("TestToken.sol", "TestToken");
  if (!token) {
    FAIL() << "contracts/out/TestToken.sol/TestToken.json not built (the build target `contracts` makes it)";
  }
  std::vector<std::string> errors = *abi::signatures_from_abi_json(token->abi_json, "error");
  ASSERT_FALSE(errors.empty());

  Result<Deployment> d = wallet_->deploy(token->bytecode);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(d->receipt.success);
  EXPECT_FALSE(rpc_->get_code(d->address)->empty());
  Address tok = d->address;

  // Mint three times, then read balanceOf with eth_call.
  Address holder = wallet_->address();
  std::uint64_t first_block = 0;
  for (std::uint64_t amount : {100u, 200u, 300u}) {
    Bytes data =
        *abi::encode_call("mint(address,uint256)", std::vector<Value>{Value::address(holder), Value::integer(amount)});
    Result<Receipt> r = wallet_->transact(tok, data, U256());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    if (first_block == 0) {
      first_block = r->block_number;
    }
    ASSERT_EQ(r->logs.size(), 1u);
  }
  Bytes call_data = *abi::encode_call("balanceOf(address)", std::vector<Value>{Value::address(holder)});
  Result<Bytes> ret = rpc_->call({.to = tok, .data = call_data});
  ASSERT_TRUE(ret.ok()) << ret.status().to_string();
  EXPECT_EQ(*abi::decode("(uint256)", *ret), std::vector<Value>{Value::integer(600)});
  Bytes name_data = *abi::encode_call("name()", {});
  EXPECT_EQ(*abi::decode("(string)", *rpc_->call({.to = tok, .data = name_data})),
            std::vector<Value>{Value::string("bucketpay test dollar")});

  // eth_getLogs over the range, filtered by address and topic; decoded.
  abi::Signature transfer = *abi::parse_signature("Transfer(address indexed from, address indexed to, uint256 value)");
  LogFilter filter{.addresses = {tok},
                   .topics = {std::vector<Hash32>{transfer.topic()}},
                   .from_block = BlockId::number(first_block),
                   .to_block = BlockId::latest()};
  Result<std::vector<Log>> logs = rpc_->get_logs(filter);
  ASSERT_TRUE(logs.ok()) << logs.status().to_string();
  ASSERT_EQ(logs->size(), 3u);
  std::vector<Value> values = *abi::decode_log(transfer, (*logs)[2].topics, (*logs)[2].data);
  EXPECT_EQ(values, (std::vector<Value>{Value::address(Address()), Value::address(holder), Value::integer(300)}));
  filter.from_block = BlockId::number(first_block + 1);
  filter.to_block = BlockId::number(first_block + 1);
  EXPECT_EQ(rpc_->get_logs(filter)->size(), 1u);

  // A transfer beyond the balance: estimation fails with the decoded custom error, nothing is sent.
  Result<std::unique_ptr<Rpc>> rpc_errors = Rpc::connect({.url = shared_anvil->url(), .error_signatures = errors});
  ASSERT_TRUE(rpc_errors.ok());
  Wallet w(**rpc_errors, *PrivateKey::from_hex(testing::kAnvilKey0));
  Address stranger = PrivateKey::random().address();
  Bytes too_much =
      *abi::encode_call("transfer(address,uint256)", std::vector<Value>{Value::address(stranger), Value::integer(601)});
  std::uint64_t nonce_before = *rpc_->get_transaction_count(holder);
  Result<Hash32> refused = w.send_transaction(tok, too_much, U256());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ERC20InsufficientBalance(" + holder.to_checksum() + ", 600, 601)"),
            std::string::npos)
      << refused.status().message();
  EXPECT_EQ(*rpc_->get_transaction_count(holder), nonce_before);

  // With a fixed gas limit it is mined and fails; the receipt says why.
  Result<Hash32> sent = w.send_transaction(tok, too_much, U256(), {.gas_limit = 100'000});
  ASSERT_TRUE(sent.ok()) << sent.status().to_string();
  Result<Receipt> failed = w.wait_for_receipt(*sent);
  ASSERT_TRUE(failed.ok()) << failed.status().to_string();
  EXPECT_FALSE(failed->success);
  ASSERT_TRUE(failed->revert_reason.has_value());
  EXPECT_EQ(failed->revert_reason->kind, abi::RevertReason::Kind::kCustom);
  EXPECT_EQ(failed->revert_reason->name, "ERC20InsufficientBalance");
  Result<Receipt> via_transact = w.transact(tok, too_much, U256(), {.gas_limit = 100'000});
  ASSERT_FALSE(via_transact.ok());
  EXPECT_NE(via_transact.status().message().find("ERC20InsufficientBalance"), std::string::npos);

  // eth_call reports the revert data itself.
  Result<CallOutcome> outcome = rpc_->try_call({.from = holder, .to = tok, .data = too_much});
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->reverted);
  EXPECT_EQ(abi::decode_revert(outcome->data, errors).name, "ERC20InsufficientBalance");
}

TEST_F(ChainTest, HandAssembledContractsRevertWithErrorAndPanic) {
  Bytes error_data = *abi::encode_call("Error(string)", std::vector<Value>{Value::string("nope, not today")});
  Result<Deployment> d = wallet_->deploy(deployer_of(reverter_runtime(error_data)));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  Result<Bytes> r = rpc_->call({.to = d->address, .data = Bytes{1, 2, 3}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Error(\"nope, not today\")"), std::string::npos) << r.status().message();

  Bytes panic_data = *abi::encode_call("Panic(uint256)", std::vector<Value>{Value::integer(0x12)});
  Result<Deployment> p = wallet_->deploy(deployer_of(reverter_runtime(panic_data)));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  Result<Hash32> est = wallet_->send_transaction(p->address, {}, U256());
  ASSERT_FALSE(est.ok());
  EXPECT_NE(est.status().message().find("division or modulo by zero"), std::string::npos) << est.status().message();

  // The deployment address is the CREATE address of (sender, nonce).
  Result<std::optional<Transaction>> tx = rpc_->get_transaction(p->receipt.transaction_hash);
  ASSERT_TRUE(tx.ok() && tx->has_value());
  EXPECT_EQ(create_address(wallet_->address(), (*tx)->nonce), p->address);

  // Empty revert data.
  Result<Deployment> e = wallet_->deploy(deployer_of(reverter_runtime({})));
  ASSERT_TRUE(e.ok());
  Result<CallOutcome> o = rpc_->try_call({.to = e->address});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->reverted);
  EXPECT_TRUE(o->data.empty());
}

TEST_F(ChainTest, ReceiptTimeoutForUnknownTransaction) {
  Result<Receipt> r = rpc_->wait_for_receipt(keccak256("no such tx"), std::chrono::milliseconds(200));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
}

}  // namespace
}  // namespace bucketpay::eth

namespace bucketpay::eth {
namespace {

// Restores automine when a test that turned it off ends (even on a failed assertion).
struct AutomineOn {
  Rpc& rpc;
  ~AutomineOn() { (void)testing::anvil_set_automine(rpc, true); }
};

TEST_F(ChainTest, SignedTransactionBroadcastTwiceIsMinedOnce) {
  const std::uint64_t start = *rpc_->get_transaction_count(wallet_->address());
  const Address to = PrivateKey::random().address();
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());
  AutomineOn restore{*rpc_};

  Result<SignedTransaction> tx = wallet_->sign_transaction(to, {}, U256(7));
  ASSERT_TRUE(tx.ok()) << tx.status().to_string();
  EXPECT_EQ(tx->nonce, start);
  EXPECT_EQ(tx->hash, keccak256(tx->raw));
  EXPECT_GT(tx->gas_limit, 21'000U) << "estimated, with the margin";
  EXPECT_EQ(*rpc_->get_transaction_count(wallet_->address()), start) << "signing sends nothing";

  Result<Hash32> first = wallet_->broadcast(*tx);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(*first, tx->hash);
  // The node has it in its pool: a resend ("already known") is accepted.
  Result<Hash32> second = wallet_->broadcast(*tx);
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_EQ(*second, tx->hash);

  ASSERT_TRUE(testing::anvil_mine(*rpc_, 1).is_ok());
  Result<Receipt> receipt = wallet_->wait_for_receipt(tx->hash);
  ASSERT_TRUE(receipt.ok()) << receipt.status().to_string();
  EXPECT_TRUE(receipt->success);
  EXPECT_EQ(*rpc_->get_balance(to), U256(7)) << "mined once";
  EXPECT_EQ(*rpc_->get_transaction_count(wallet_->address(), BlockId::latest()), start + 1);
  // Mined already: a resend ("nonce too low" for a hash the node knows) is accepted too.
  Result<Hash32> third = wallet_->broadcast(*tx);
  ASSERT_TRUE(third.ok()) << third.status().to_string();
  EXPECT_EQ(*rpc_->get_balance(to), U256(7));

  // The nonce advanced once: the next transaction takes start + 1.
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, true).is_ok());
  Result<Receipt> next = wallet_->transact(to, {}, U256(1));
  ASSERT_TRUE(next.ok()) << next.status().to_string();
  EXPECT_EQ((*rpc_->get_transaction(next->transaction_hash))->nonce, start + 1);
}

TEST_F(ChainTest, SignedButNeverSentNonceComesBackAfterARestart) {
  const std::uint64_t start = *rpc_->get_transaction_count(wallet_->address());
  const Address to = PrivateKey::random().address();
  Result<SignedTransaction> lost = wallet_->sign_transaction(to, {}, U256(5));
  ASSERT_TRUE(lost.ok()) << lost.status().to_string();
  EXPECT_EQ(lost->nonce, start);
  // The same wallet goes on from its local nonce.
  Result<SignedTransaction> after = wallet_->sign_transaction(to, {}, U256(6));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->nonce, start + 1);

  // A restart: a fresh Wallet learns the nonce from the node, which never saw `lost`.
  Wallet restarted(*rpc_, *PrivateKey::from_hex(testing::kAnvilKey0));
  Result<SignedTransaction> same = restarted.sign_transaction(to, {}, U256(5));
  ASSERT_TRUE(same.ok()) << same.status().to_string();
  EXPECT_EQ(same->nonce, start);
  EXPECT_EQ(same->hash, lost->hash) << "the same call, nonce and fees sign to the same transaction";
  restarted.reset_nonce();
  Result<SignedTransaction> again = restarted.sign_transaction(to, {}, U256(6));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->nonce, start);
  ASSERT_TRUE(restarted.broadcast(*again).ok());
  ASSERT_TRUE(restarted.wait_for_receipt(again->hash).ok());

  // The old wallet's transaction with the same nonce is now rejected (a different hash the node
  // does not know), and the rejection resyncs its nonce: its next send takes start + 1.
  Result<Hash32> stale = wallet_->broadcast(*lost);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition) << stale.status().to_string();
  Result<Receipt> next = wallet_->transact(to, {}, U256(1));
  ASSERT_TRUE(next.ok()) << next.status().to_string();
  EXPECT_EQ((*rpc_->get_transaction(next->transaction_hash))->nonce, start + 1);
  EXPECT_EQ(*rpc_->get_balance(to), U256(7));
}

TEST_F(ChainTest, RawRequest) {
  Result<std::string> id = rpc_->raw_request("eth_chainId", "[]");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(*id, "\"0x7a69\"");  // 31337
  Result<std::string> block = rpc_->raw_request("eth_getBlockByNumber", R"(["0x0", false])");
  ASSERT_TRUE(block.ok());
  EXPECT_TRUE(nlohmann::json::parse(*block).contains("hash"));
  EXPECT_EQ(rpc_->raw_request("eth_chainId", "{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rpc_->raw_request("eth_chainId", "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(rpc_->raw_request("no_suchMethod", "[]").ok());
}

// What a wallet's reorganisation test relies on: after evm_revert and new blocks, the same heights
// carry other blocks, and what the forgotten blocks held is gone.
TEST_F(ChainTest, SnapshotRevertAndNewBlocksAreAReorganisation) {
  Result<std::string> snapshot = testing::anvil_snapshot(*rpc_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().to_string();
  const std::uint64_t base = *rpc_->block_number();
  const Address to = PrivateKey::random().address();
  Result<Receipt> paid = wallet_->transact(to, {}, U256(9));
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->block_number, base + 1);
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 2).is_ok());
  ASSERT_EQ(*rpc_->block_number(), base + 3);
  std::vector<Hash32> before;
  for (std::uint64_t n = base + 1; n <= base + 3; ++n) {
    before.push_back((*rpc_->get_block(BlockId::number(n)))->hash);
  }
  EXPECT_EQ(before[0], paid->block_hash);

  ASSERT_TRUE(testing::anvil_revert(*rpc_, *snapshot).is_ok());
  EXPECT_EQ(*rpc_->block_number(), base);
  EXPECT_FALSE(testing::anvil_revert(*rpc_, *snapshot).is_ok()) << "a snapshot is used up by reverting to it";
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 3).is_ok());
  ASSERT_EQ(*rpc_->block_number(), base + 3);
  for (std::uint64_t n = base + 1; n <= base + 3; ++n) {
    EXPECT_NE((*rpc_->get_block(BlockId::number(n)))->hash, before[n - base - 1]) << "block " << n;
  }
  EXPECT_FALSE(rpc_->get_transaction_receipt(paid->transaction_hash)->has_value());
  EXPECT_EQ(*rpc_->get_balance(to), U256(0));
  wallet_->reset_nonce();  // the local nonce counted the forgotten transaction
}

TEST_F(ChainTest, DroppedTransactionLeavesThePool) {
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());
  AutomineOn restore{*rpc_};
  Result<SignedTransaction> tx = wallet_->sign_transaction(PrivateKey::random().address(), {}, U256(3));
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(wallet_->broadcast(*tx).ok());
  EXPECT_TRUE(rpc_->get_transaction(tx->hash)->has_value());
  ASSERT_TRUE(testing::anvil_drop_transaction(*rpc_, tx->hash).is_ok());
  EXPECT_FALSE(rpc_->get_transaction(tx->hash)->has_value());
  wallet_->reset_nonce();
}

}  // namespace
}  // namespace bucketpay::eth
