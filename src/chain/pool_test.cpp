// The chain client driving the real Pool contract (forge build output in contracts/out) on anvil,
// with MockVerifier standing in for the proof verifiers (it accepts exactly the proofs registered
// with their public inputs): deposits by hidden owner, spendBatch and split with EIP-712 payments
// signed in C++ and checked by the EVM (the Pool's ecrecover and its OpenZeppelin EIP712 digest),
// events decoded and cross-checked against the C++ Poseidon2, custom errors decoded. Real proofs:
// tests/e2e/pool_e2e_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "anvil_testing.h"
#include "bucketpay/chain.h"
#include "bucketpay/payment.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/poseidon2.h"
#include "testing/testing.h"

namespace bucketpay::eth {
namespace {

using abi::Value;

using testing::Artifact;
using testing::load_artifact;

std::filesystem::path anvil_binary() {
  if (const char* env = std::getenv("BUCKETPAY_ANVIL")) {  // NOLINT(concurrency-mt-unsafe)
    return env;
  }
  return BUCKETPAY_ANVIL;
}

U256 to_u256(const Fr& x) { return U256::from_word(x.to_bytes()); }

Bytes call_data(std::string_view sig, std::vector<Value> args) {
  Result<Bytes> b = abi::encode_call(sig, args);
  EXPECT_TRUE(b.ok()) << b.status().to_string();
  return b.ok() ? *b : Bytes{};
}

U256 address_word(const Address& a) { return U256::from_word(a.to_word()); }

// Pool.spendBatch(bytes[] proofs, SpendInputs[] spends, Payment payment, bytes[] signatures), spelled
// out here independently of PoolClient's constant.
constexpr std::string_view kSpendBatch =
    "spendBatch(bytes[],(uint256,uint256,uint256,address)[],(uint256[],address,uint256,address,uint256),bytes[])";

// Makes MockVerifier accept `proof` for `inputs` (each a 32-byte public input).
void accept_proof(Wallet& wallet, const Address& mock, const Bytes& proof, const std::vector<U256>& inputs) {
  Value::List words;
  for (const U256& x : inputs) {
    words.push_back(Value::bytes32(x.to_word()));
  }
  Result<Receipt> r =
      wallet.transact(mock, call_data("accept(bytes,bytes32[])", {Value::bytes(proof), Value::list(words)}), U256());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
}

// A chain with a TestToken, a MockVerifier and a Pool (UNIT 10^4) whose verifiers are the mock;
// the first anvil account holds tokens and has approved the Pool.
struct MockChain {
  std::unique_ptr<testing::Anvil> anvil;
  std::unique_ptr<Rpc> rpc;
  std::unique_ptr<Wallet> wallet;
  Address token;
  Address mock;
  Address pool;
  std::uint64_t deploy_block = 0;
  std::string pool_abi;
  std::vector<std::string> errors;
  U256 unit{10'000};

  void start() {
    std::optional<Artifact> token_art = load_artifact("TestToken.sol", "TestToken");
    std::optional<Artifact> mock_art = load_artifact("MockVerifier.sol", "MockVerifier");
    std::optional<Artifact> pool_art = load_artifact("Pool.sol", "Pool");
    ASSERT_TRUE(token_art && mock_art && pool_art) << "contracts/out not built (the build target `contracts` makes it)";
    Result<std::unique_ptr<testing::Anvil>> a = testing::Anvil::start(anvil_binary());
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    anvil = std::move(*a);
    pool_abi = pool_art->abi_json;
    errors = *abi::signatures_from_abi_json(pool_abi, "error");
    Result<std::unique_ptr<Rpc>> r =
        Rpc::connect({.url = anvil->url(), .timeout = std::chrono::seconds(30), .error_signatures = errors});
    ASSERT_TRUE(r.ok());
    rpc = std::move(*r);
    wallet = std::make_unique<Wallet>(*rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
    Result<Deployment> t = wallet->deploy(token_art->bytecode);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    token = t->address;
    Result<Deployment> m = wallet->deploy(mock_art->bytecode);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    mock = m->address;
    Result<Bytes> init = abi::encode_deploy(
        pool_art->bytecode, "(address,uint256,address,address)",
        std::vector<Value>{Value::address(token), Value::integer(unit), Value::address(mock), Value::address(mock)});
    ASSERT_TRUE(init.ok());
    Result<Deployment> p = wallet->deploy(*init);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool = p->address;
    deploy_block = p->receipt.block_number;
    const Address me = wallet->address();
    ASSERT_TRUE(wallet
                    ->transact(token,
                               call_data("mint(address,uint256)",
                                         {Value::address(me),
                                          Value::integer(*U256::from_string("1000000000000000000000000000000"))}),
                               U256())
                    .ok());
    ASSERT_TRUE(
        wallet
            ->transact(token,
                       call_data("approve(address,uint256)", {Value::address(pool), Value::integer(U256::max())}),
                       U256())
            .ok());
  }

  U256 balance(const Address& a) {
    Result<Bytes> b = rpc->call({.to = token, .data = call_data("balanceOf(address)", {Value::address(a)})});
    EXPECT_TRUE(b.ok());
    return b.ok() ? *(*abi::decode("(uint256)", *b))[0].as_uint() : U256();
  }
};

// The raw ABI against the Pool: depositMany by owners (commitments H(owner, v) computed on chain
// equal the C++ Poseidon2's), a spendBatch whose payment is signed in C++ by each note's auth key
// (recovered by the Pool's ecrecover), paid to a recipient and a fee recipient and submitted by a
// third party; the Pool's own EIP-712 digest equals the C++ one; errors decoded.
TEST(PoolOnAnvil, DepositSpendBatchEventsAndErrors) {
  MockChain c;
  ASSERT_NO_FATAL_FAILURE(c.start());
  Wallet& wallet = *c.wallet;

  // depositMany([owner1, owner2], [1, 2]): two Inserted events whose commitments are H(owner, v).
  const std::vector<Fr> owners = {Fr::random(), Fr::random()};
  const std::vector<std::uint64_t> values = {1, 2};
  Result<Receipt> dep =
      wallet.transact(c.pool,
                      call_data("depositMany(uint256[],uint256[])",
                                {Value::list({Value::integer(to_u256(owners[0])), Value::integer(to_u256(owners[1]))}),
                                 Value::list({Value::integer(values[0]), Value::integer(values[1])})}),
                      U256());
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  abi::Signature inserted =
      *abi::parse_signature("Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root)");
  std::vector<std::vector<Value>> ins;
  for (const Log& log : dep->logs) {
    if (log.address == c.pool && !log.topics.empty() && log.topics[0] == inserted.topic()) {
      Result<std::vector<Value>> v = abi::decode_log(inserted, log.topics, log.data);
      ASSERT_TRUE(v.ok()) << v.status().to_string();
      ins.push_back(*v);
    }
  }
  ASSERT_EQ(ins.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const Fr cm = poseidon2::hash2(owners[i], Fr::from_u64(values[i]));
    EXPECT_EQ(*ins[i][0].as_uint(), to_u256(cm)) << "on-chain Poseidon2 commitment differs from C++";
    EXPECT_EQ(*ins[i][1].as_uint(), U256(i));
  }
  const U256 root = *ins[1][2].as_uint();
  Result<Bytes> root_ret = c.rpc->call({.to = c.pool, .data = call_data("root()", {})});
  ASSERT_TRUE(root_ret.ok());
  EXPECT_EQ(*(*abi::decode("(uint256)", *root_ret))[0].as_uint(), root);

  // A spendBatch of both notes: each has its own auth key; the mock accepts each proof for its
  // public inputs [root, nullifier, value, auth].
  const std::vector<PrivateKey> keys = {PrivateKey::random(), PrivateKey::random()};
  const Address recipient = PrivateKey::random().address();
  const Address relayer = PrivateKey::random().address();
  Payment payment{{U256(1000), U256(1001)}, recipient, U256(5'000), relayer, U256(4'000'000'000)};
  const PaymentDomain domain{U256(*c.rpc->chain_id()), c.pool};
  const Hash32 digest = payment_digest(domain, payment);
  Value::List proofs;
  Value::List inputs;
  Value::List sigs;
  for (std::size_t i = 0; i < 2; ++i) {
    Bytes proof(64 + i, static_cast<std::uint8_t>(0xa0 + i));
    accept_proof(wallet, c.mock, proof,
                 {root, payment.nullifiers[i], U256(values[i]), address_word(keys[i].address())});
    proofs.push_back(Value::bytes(proof));
    inputs.push_back(Value::list({Value::integer(root), Value::integer(payment.nullifiers[i]),
                                  Value::integer(values[i]), Value::address(keys[i].address())}));
    const RsvSignature sig = sign_digest(keys[i], digest);
    sigs.push_back(Value::bytes(Bytes(sig.begin(), sig.end())));
  }
  const Value payment_tuple =
      Value::list({Value::list({Value::integer(payment.nullifiers[0]), Value::integer(payment.nullifiers[1])}),
                   Value::address(recipient), Value::integer(payment.fee), Value::address(relayer),
                   Value::integer(payment.deadline)});

  // The Pool's digest (OpenZeppelin's EIP712 in the EVM) is the C++ one.
  Result<Bytes> chain_digest = c.rpc->call(
      {.to = c.pool, .data = call_data("paymentDigest((uint256[],address,uint256,address,uint256))", {payment_tuple})});
  ASSERT_TRUE(chain_digest.ok()) << chain_digest.status().to_string();
  EXPECT_EQ(to_hex(*chain_digest), to_hex(digest));
  Result<Bytes> chain_domain = c.rpc->call({.to = c.pool, .data = call_data("domainSeparator()", {})});
  ASSERT_TRUE(chain_domain.ok());
  EXPECT_EQ(to_hex(*chain_domain), to_hex(domain.separator()));

  const Bytes batch =
      call_data(kSpendBatch, {Value::list(proofs), Value::list(inputs), payment_tuple, Value::list(sigs)});
  // PoolClient's encoder gives the same bytes.
  std::vector<SpendCall> calls;
  std::vector<RsvSignature> rsv;
  for (std::size_t i = 0; i < 2; ++i) {
    calls.push_back({.proof = *proofs[i].as_bytes(),
                     .root = root,
                     .nullifier = payment.nullifiers[i],
                     .value = values[i],
                     .auth = keys[i].address()});
    rsv.push_back(sign_digest(keys[i], digest));
  }
  Result<Bytes> encoded = PoolClient::encode_spend_batch(calls, payment, rsv);
  ASSERT_TRUE(encoded.ok()) << encoded.status().to_string();
  EXPECT_EQ(to_hex(*encoded), to_hex(batch));
  // Submitted by a third party (anvil's second account): it changes nothing about who is paid.
  Wallet third(*c.rpc, *PrivateKey::from_hex(testing::kAnvilKey1));
  Result<Receipt> spent = third.transact(c.pool, batch, U256());
  ASSERT_TRUE(spent.ok()) << spent.status().to_string();
  abi::Signature spent_ev = *abi::parse_signature("Spent(uint256 indexed nullifier, bytes32 indexed payment)");
  abi::Signature paid_ev = *abi::parse_signature(
      "Paid(bytes32 indexed payment, address indexed recipient, uint256 amount, address indexed feeRecipient, "
      "uint256 fee)");
  int n_spent = 0;
  int n_paid = 0;
  for (const Log& log : spent->logs) {
    if (log.address != c.pool) {
      continue;
    }
    if (log.topics[0] == spent_ev.topic()) {
      Result<std::vector<Value>> v = abi::decode_log(spent_ev, log.topics, log.data);
      ASSERT_TRUE(v.ok()) << v.status().to_string();
      EXPECT_EQ(*(*v)[0].as_uint(), payment.nullifiers[static_cast<std::size_t>(n_spent)]);
      EXPECT_EQ(to_hex(*(*v)[1].as_bytes()), to_hex(digest));
      ++n_spent;
    } else {
      ASSERT_EQ(log.topics[0], paid_ev.topic());
      Result<std::vector<Value>> v = abi::decode_log(paid_ev, log.topics, log.data);
      ASSERT_TRUE(v.ok()) << v.status().to_string();
      EXPECT_EQ(to_hex(*(*v)[0].as_bytes()), to_hex(digest));
      EXPECT_EQ(*(*v)[1].as_address(), recipient);
      EXPECT_EQ(*(*v)[2].as_uint(), U256(3) * c.unit - payment.fee);
      EXPECT_EQ(*(*v)[3].as_address(), relayer);
      EXPECT_EQ(*(*v)[4].as_uint(), payment.fee);
      ++n_paid;
    }
  }
  EXPECT_EQ(n_spent, 2);
  EXPECT_EQ(n_paid, 1);
  EXPECT_EQ(c.balance(recipient), U256(3) * c.unit - payment.fee);
  EXPECT_EQ(c.balance(relayer), payment.fee);

  // The same batch again: NullifierAlreadySpent, decoded, and nothing sent.
  Result<Hash32> again = wallet.send_transaction(c.pool, batch, U256());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("NullifierAlreadySpent(1000)"), std::string::npos)
      << again.status().message();
  // An unknown root (a batch of one, its payment signed): UnknownRoot.
  Payment one{{U256(5000)}, recipient, U256(0), Address{}, U256(4'000'000'000)};
  const RsvSignature sig = sign_digest(keys[0], payment_digest(domain, one));
  const Bytes bad_root =
      call_data(kSpendBatch, {Value::list({Value::bytes({1})}),
                              Value::list({Value::list({Value::integer(7), Value::integer(5000), Value::integer(1),
                                                        Value::address(keys[0].address())})}),
                              Value::list({Value::list({Value::integer(5000)}), Value::address(recipient),
                                           Value::integer(0), Value::address(Address{}), Value::integer(one.deadline)}),
                              Value::list({Value::bytes(Bytes(sig.begin(), sig.end()))})});
  Result<CallOutcome> outcome = c.rpc->try_call({.from = wallet.address(), .to = c.pool, .data = bad_root});
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome->reverted);
  EXPECT_EQ(c.rpc->decode_revert(outcome->data).message, "UnknownRoot(7)");
}

// PoolClient against the Pool: deposits through encode_deposit_many and the Wallet's sign +
// broadcast, a spendBatch paying a recipient chosen after the "proofs" (the mock's) with a fee, a
// split into 8 outputs (3 absent) inserted as one batch, every event read back in chain order with
// the blocks' hashes, the Pool's digest view, refusals decoded by name, and TokenClient.
TEST(PoolOnAnvil, ClientEncodersEventsAndRefusals) {
  MockChain c;
  ASSERT_NO_FATAL_FAILURE(c.start());
  Wallet& wallet = *c.wallet;
  const Address me = wallet.address();
  PoolClient pool(*c.rpc, wallet, c.pool, *PoolClient::error_signatures_from_abi_json(c.pool_abi));

  // ---- TokenClient: mint, approve, allowance, transfer, balances, decimals.
  TokenClient token(*c.rpc, wallet, c.token);
  EXPECT_EQ(*token.decimals(), 6);
  const Address friend_ = PrivateKey::random().address();
  EXPECT_EQ(*token.allowance(friend_, pool.address()), U256(0));
  ASSERT_TRUE(token.transfer(friend_, U256(3)).ok());
  EXPECT_EQ(*token.balance_of(friend_), U256(3));
  Result<Receipt> too_much = token.transfer(friend_, U256::max());
  ASSERT_FALSE(too_much.ok());
  EXPECT_NE(too_much.status().message().find("token.transfer"), std::string::npos) << too_much.status().to_string();

  // ---- deposits (block A): 3 notes through encode_deposit_many + simulate + sign + broadcast.
  const std::vector<std::uint64_t> values = {5, 7, 100};
  const std::vector<U256> owners = {U256(11), U256(22), U256(33)};
  Result<Bytes> deposit_data = PoolClient::encode_deposit_many(owners, values);
  ASSERT_TRUE(deposit_data.ok()) << deposit_data.status().to_string();
  ASSERT_TRUE(pool.simulate("depositMany", *deposit_data).is_ok());
  Result<SignedTransaction> signed_dep = wallet.sign_transaction(pool.address(), *deposit_data, U256());
  ASSERT_TRUE(signed_dep.ok()) << signed_dep.status().to_string();
  ASSERT_TRUE(wallet.broadcast(*signed_dep).ok());
  Result<Receipt> dep = wallet.wait_for_receipt(signed_dep->hash);
  ASSERT_TRUE(dep.ok() && dep->success);
  const U256 root = *pool.root();

  // Refusals before anything is sent: lengths, zero value; the client's own length check.
  const std::vector<std::uint64_t> one_value = {1};
  Status mismatch = pool.simulate("depositMany", *PoolClient::encode_deposit_many(owners, one_value));
  EXPECT_EQ(mismatch.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(mismatch.message().find("Pool.depositMany reverted: LengthMismatch(3, 1)"), std::string::npos)
      << mismatch.to_string();
  Result<Receipt> zero = pool.deposit(U256(1), 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("ZeroValue()"), std::string::npos) << zero.status().to_string();
  Result<Receipt> uneven = pool.deposit_many(owners, one_value);
  ASSERT_FALSE(uneven.ok());
  EXPECT_EQ(uneven.status().code(), StatusCode::kInvalidArgument);
  Result<Receipt> single = pool.deposit(U256(44), 1);  // block A': leaf 3
  ASSERT_TRUE(single.ok()) << single.status().to_string();

  Result<PaymentDomain> domain = pool.payment_domain();
  ASSERT_TRUE(domain.ok());
  EXPECT_EQ(domain->chain_id, U256(31337));
  EXPECT_EQ(*pool.domain_separator(), domain->separator());

  // ---- spendBatch of two (block B): the "proofs" exist before the recipient is chosen.
  std::vector<PrivateKey> keys = {PrivateKey::random(), PrivateKey::random()};
  std::vector<SpendCall> spends;
  for (std::size_t i = 0; i < 2; ++i) {
    SpendCall s{.proof = Bytes(32 + i, static_cast<std::uint8_t>(0x10 + i)),
                .root = root,
                .nullifier = U256(5000 + i),
                .value = values[i],
                .auth = keys[i].address()};
    accept_proof(wallet, c.mock, s.proof, {s.root, s.nullifier, U256(s.value), address_word(s.auth)});
    spends.push_back(s);
  }
  const Address payee = PrivateKey::random().address();
  const Address relayer = PrivateKey::random().address();
  const Payment payment{
      {spends[0].nullifier, spends[1].nullifier}, payee, U256(2) * c.unit, relayer, U256(4'000'000'000)};
  const Hash32 digest = payment_digest(*domain, payment);
  ASSERT_EQ(*pool.payment_digest(payment), digest);
  std::vector<RsvSignature> sigs = {sign_digest(keys[0], digest), sign_digest(keys[1], digest)};
  // Refusals: signatures swapped; a relayer changing the recipient or raising the fee.
  std::vector<RsvSignature> swapped = {sigs[1], sigs[0]};
  Result<Receipt> wrong = pool.spend_batch(spends, payment, swapped);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("WrongSigner(0)"), std::string::npos) << wrong.status().to_string();
  Payment redirected = payment;
  redirected.recipient = relayer;
  Result<Receipt> stolen = pool.spend_batch(spends, redirected, sigs);
  ASSERT_FALSE(stolen.ok());
  EXPECT_NE(stolen.status().message().find("WrongSigner(0)"), std::string::npos) << stolen.status().to_string();
  Payment greedy = payment;
  greedy.fee = U256(12) * c.unit + U256(1);
  std::vector<RsvSignature> greedy_sigs = {sign_digest(keys[0], payment_digest(*domain, greedy)),
                                           sign_digest(keys[1], payment_digest(*domain, greedy))};
  Result<Receipt> too_high = pool.spend_batch(spends, greedy, greedy_sigs);
  ASSERT_FALSE(too_high.ok());
  EXPECT_NE(too_high.status().message().find("FeeTooHigh(120001, 120000)"), std::string::npos)
      << too_high.status().to_string();
  Result<Receipt> batch = pool.spend_batch(spends, payment, sigs);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();
  EXPECT_EQ(*token.balance_of(payee), U256(12) * c.unit - payment.fee);
  EXPECT_EQ(*token.balance_of(relayer), payment.fee);

  // ---- split of the third note (block C): 30 paid (no fee), 5 outputs of 14 inserted in order.
  const PrivateKey split_key = PrivateKey::random();
  SplitCall sc{
      .proof = Bytes(48, 0x77), .root = root, .nullifier = U256(6000), .amount = 30, .auth = split_key.address()};
  const std::array<std::uint64_t, kSplitOutputs> out_present = {1, 0, 1, 1, 0, 1, 0, 1};
  for (std::size_t i = 0; i < kSplitOutputs; ++i) sc.out_cms[i] = out_present[i] != 0 ? U256(900 + i) : U256(0);
  std::vector<U256> inputs = {sc.root, sc.nullifier, U256(sc.amount), address_word(sc.auth)};
  inputs.insert(inputs.end(), sc.out_cms.begin(), sc.out_cms.end());
  accept_proof(wallet, c.mock, sc.proof, inputs);
  const Payment split_payment{{sc.nullifier}, payee, U256(0), Address{}, U256(4'000'000'000)};
  const RsvSignature split_sig = sign_digest(split_key, payment_digest(*domain, split_payment));
  Result<Bytes> split_data = PoolClient::encode_split(sc, split_payment, split_sig);
  ASSERT_TRUE(split_data.ok()) << split_data.status().to_string();
  ASSERT_TRUE(pool.simulate("split", *split_data).is_ok());
  // A split whose payment names another nullifier is refused.
  Payment other = split_payment;
  other.nullifiers = {U256(6001)};
  Result<Receipt> mism = pool.split(sc, other, sign_digest(split_key, payment_digest(*domain, other)));
  ASSERT_FALSE(mism.ok());
  EXPECT_NE(mism.status().message().find("PaymentMismatch(0)"), std::string::npos) << mism.status().to_string();
  const std::uint64_t leaves_before = *pool.next_index();
  Result<Receipt> split = pool.split(sc, split_payment, split_sig);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_EQ(*pool.next_index(), leaves_before + 5);
  EXPECT_EQ(*token.balance_of(payee), U256(12 + 30) * c.unit - payment.fee);

  // ---- events: Inserted x3, Inserted, Spent x2 + Paid, Inserted x5 + Spent + Paid.
  Result<std::vector<PoolEvent>> events = pool.events(c.deploy_block, *c.rpc->block_number());
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  using Kind = PoolEvent::Kind;
  std::vector<Kind> kinds(4, Kind::kInserted);
  for (Kind k : {Kind::kSpent, Kind::kSpent, Kind::kPaid}) kinds.push_back(k);
  for (int i = 0; i < 5; ++i) kinds.push_back(Kind::kInserted);
  kinds.push_back(Kind::kSpent);
  kinds.push_back(Kind::kPaid);
  ASSERT_EQ(events->size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const PoolEvent& e = (*events)[i];
    EXPECT_EQ(e.kind, kinds[i]) << i;
    Result<std::optional<BlockHeader>> header = c.rpc->get_block(BlockId::number(e.block_number));
    ASSERT_TRUE(header.ok() && header->has_value());
    EXPECT_EQ(e.block_hash, (*header)->hash) << i;
    if (i > 0) {
      const PoolEvent& p = (*events)[i - 1];
      EXPECT_TRUE(p.block_number < e.block_number || (p.block_number == e.block_number && p.log_index < e.log_index))
          << i;
    }
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const PoolEvent& e = (*events)[i];
    EXPECT_EQ(e.block_number, dep->block_number);
    EXPECT_EQ(e.transaction_hash, signed_dep->hash);
    EXPECT_EQ(e.inserted.leaf_index, i);
    EXPECT_EQ(e.inserted.commitment,
              to_u256(poseidon2::hash2(Fr::from_u64(owners[i].low_u64()), Fr::from_u64(values[i]))));
    EXPECT_EQ(e.inserted.root, root);
  }
  for (std::size_t i = 0; i < 2; ++i) {
    const PoolEvent& e = (*events)[4 + i];
    EXPECT_EQ(e.block_hash, batch->block_hash);
    EXPECT_EQ(e.spent.nullifier, spends[i].nullifier);
    EXPECT_EQ(e.spent.payment, digest);
  }
  const PaidEvent& paid = (*events)[6].paid;
  EXPECT_EQ(paid.payment, digest);
  EXPECT_EQ(paid.recipient, payee);
  EXPECT_EQ(paid.amount, U256(12) * c.unit - payment.fee);
  EXPECT_EQ(paid.fee_recipient, relayer);
  EXPECT_EQ(paid.fee, payment.fee);
  // The split's outputs, in order, leaf indices 4.., all carrying the root after the whole batch.
  std::size_t k = 0;
  for (std::size_t i = 0; i < kSplitOutputs; ++i) {
    if (out_present[i] == 0) continue;
    const PoolEvent& e = (*events)[7 + k];
    EXPECT_EQ(e.inserted.commitment, sc.out_cms[i]) << i;
    EXPECT_EQ(e.inserted.leaf_index, 4 + k);
    EXPECT_EQ(e.inserted.root, *pool.root());
    ++k;
  }
  const Hash32 split_digest = payment_digest(*domain, split_payment);
  EXPECT_EQ((*events)[12].spent.nullifier, sc.nullifier);
  EXPECT_EQ((*events)[12].spent.payment, split_digest);
  EXPECT_EQ((*events)[13].paid.payment, split_digest);
  EXPECT_EQ((*events)[13].paid.amount, U256(30) * c.unit);
  EXPECT_EQ((*events)[13].paid.fee, U256(0));
  EXPECT_EQ((*events)[13].block_hash, split->block_hash);

  // A range: only the spendBatch's block; an empty range.
  Result<std::vector<PoolEvent>> only_b = pool.events(batch->block_number, batch->block_number);
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(only_b->size(), 3U);
  Result<std::vector<PoolEvent>> none = pool.events(c.deploy_block, c.deploy_block);
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(pool.events(5, 4)->empty());

  // By nullifier: the Spent of the second spend and of the split, and nothing for an unknown one.
  const std::vector<U256> wanted = {spends[1].nullifier, sc.nullifier, U256(424242)};
  Result<std::vector<PoolEvent>> by_nf = pool.spend_events(wanted, BlockId::number(c.deploy_block), BlockId::latest());
  ASSERT_TRUE(by_nf.ok()) << by_nf.status().to_string();
  ASSERT_EQ(by_nf->size(), 2U);
  EXPECT_EQ((*by_nf)[0].kind, Kind::kSpent);
  EXPECT_EQ((*by_nf)[0].spent.nullifier, spends[1].nullifier);
  EXPECT_EQ((*by_nf)[0].spent.payment, digest);
  EXPECT_EQ((*by_nf)[0].transaction_hash, batch->transaction_hash);
  EXPECT_EQ((*by_nf)[1].kind, Kind::kSpent);
  EXPECT_EQ((*by_nf)[1].spent.nullifier, sc.nullifier);
  EXPECT_EQ((*by_nf)[1].spent.payment, split_digest);
  EXPECT_TRUE(pool.spend_events({}, BlockId::earliest(), BlockId::latest())->empty());

  // The spent batch again: refused by name, and last_revert() says so.
  Result<Receipt> again = pool.spend_batch(spends, payment, sigs);
  ASSERT_FALSE(again.ok());
  ASSERT_TRUE(pool.last_revert().has_value());
  EXPECT_EQ(pool.last_revert()->name, "NullifierAlreadySpent");
  (void)me;
}

// The encoders return the calldata as a Result (an encoding failure is an error, never empty
// calldata); its layout is the ABI's.
TEST(PoolErrors, TheListIsTheCompiledPoolsErrors) {
  std::optional<Artifact> pool = load_artifact("Pool.sol", "Pool");
  ASSERT_TRUE(pool.has_value()) << "contracts/out/Pool.sol/Pool.json (build the contracts target)";
  Result<std::vector<std::string>> from_abi = PoolClient::error_signatures_from_abi_json(pool->abi_json);
  ASSERT_TRUE(from_abi.ok()) << from_abi.status().to_string();
  const std::vector<std::string> ours = pool_error_signatures();
  EXPECT_EQ(std::set<std::string>(ours.begin(), ours.end()), std::set<std::string>(from_abi->begin(), from_abi->end()));
  EXPECT_EQ(std::set<std::string>(ours.begin(), ours.end()).size(), ours.size());
}

TEST(PoolCalldata, EncodersReturnTheAbiLayout) {
  const Address auth = PrivateKey::random().address();
  SplitCall sc{.proof = Bytes(64, 0x01), .root = U256(1), .nullifier = U256(2), .amount = 3, .auth = auth};
  const Payment payment{{U256(2)}, auth, U256(0), Address{}, U256(10)};
  const RsvSignature sig{};
  Result<Bytes> split = PoolClient::encode_split(sc, payment, sig);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  // selector; head: the proof tuple's offset, the payment's offset, the signature's offset; the
  // proof tuple: 5 + 8 words head and the proof (length + 2 words); the payment: 5 words head, the
  // nullifiers (length + 1); the signature: length + 3 words (65 bytes).
  EXPECT_EQ(split->size(), 4U + 3 * 32 + (13 + 3) * 32 + (5 + 2) * 32 + 4 * 32);
  const std::vector<std::uint64_t> values = {1, 2};
  const std::vector<U256> owners = {U256(3), U256(4)};
  Result<Bytes> deposit = PoolClient::encode_deposit_many(owners, values);
  ASSERT_TRUE(deposit.ok());
  EXPECT_EQ(deposit->size(), 4U + 2 * 32 + 2 * 3 * 32);
  Result<Bytes> approve = TokenClient::encode_approve(auth, U256::max());
  ASSERT_TRUE(approve.ok());
  EXPECT_EQ(approve->size(), 4U + 2 * 32);
}

// A log with the Spent topic that does not decode (too few topics) is kCorruption, not skipped.
TEST(PoolOnAnvil, UndecodableEventIsCorruption) {
  Result<std::unique_ptr<testing::Anvil>> anvil = testing::Anvil::start(anvil_binary());
  ASSERT_TRUE(anvil.ok()) << anvil.status().to_string();
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect({.url = (*anvil)->url()});
  ASSERT_TRUE(rpc.ok());
  Wallet wallet(**rpc, *PrivateKey::from_hex(testing::kAnvilKey0));
  // Runtime: PUSH32 topic; PUSH1 0; PUSH1 0; LOG1; STOP. Init code copies it and returns it.
  const Hash32 topic = abi::parse_signature("Spent(uint256 indexed, bytes32 indexed)")->topic();
  Bytes runtime{0x7f};
  runtime.insert(runtime.end(), topic.begin(), topic.end());
  for (const std::uint8_t b : std::initializer_list<std::uint8_t>{0x60, 0x00, 0x60, 0x00, 0xa1, 0x00}) {
    runtime.push_back(b);
  }
  const auto n = static_cast<std::uint8_t>(runtime.size());
  Bytes init{0x60, n, 0x60, 12, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3};
  init.insert(init.end(), runtime.begin(), runtime.end());
  Result<Deployment> emitter = wallet.deploy(init);
  ASSERT_TRUE(emitter.ok()) << emitter.status().to_string();
  Result<Receipt> emitted = wallet.transact(emitter->address, {}, U256(), {.gas_limit = 100'000});
  ASSERT_TRUE(emitted.ok()) << emitted.status().to_string();
  ASSERT_EQ(emitted->logs.size(), 1U);

  PoolClient pool(**rpc, wallet, emitter->address, {});
  Result<std::vector<PoolEvent>> events = pool.events(0, emitted->block_number);
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), StatusCode::kCorruption) << events.status().to_string();
}

}  // namespace
}  // namespace bucketpay::eth
