// The relayer API's bundle and quote field by field (bucketpay/relay_api.h): round trips with the
// bundle's digest and calldata, and every malformed field refused with a message naming it.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bucketpay/relay_api.h"

namespace bucketpay::eth {
namespace {

using nlohmann::json;

U256 random_field() {
  const PrivateKey k = PrivateKey::random();
  return U256::from_word(keccak256(k.address().to_word())) % field_modulus();
}

RelayBundle spend_bundle(std::size_t notes) {
  RelayBundle b;
  b.kind = BundleKind::kSpendBatch;
  b.chain_id = 31337;
  b.pool = PrivateKey::random().address();
  b.payment.recipient = PrivateKey::random().address();
  b.payment.fee = U256(5'000'000'000'000'000ULL);
  b.payment.fee_recipient = PrivateKey::random().address();
  b.payment.deadline = U256(1'900'000'000);
  for (std::size_t i = 0; i < notes; ++i) {
    SpendCall s;
    s.proof = Bytes(6848, static_cast<std::uint8_t>(i + 1));
    s.root = random_field();
    s.nullifier = random_field();
    s.value = 1ULL << i;
    s.auth = PrivateKey::random().address();
    b.payment.nullifiers.push_back(s.nullifier);
    b.spends.push_back(s);
  }
  const Hash32 digest = b.digest();
  for (std::size_t i = 0; i < notes; ++i) b.signatures.push_back(sign_digest(PrivateKey::random(), digest));
  return b;
}

RelayBundle split_bundle() {
  RelayBundle b = spend_bundle(0);
  b.kind = BundleKind::kSplit;
  b.split = SplitCall{};
  b.split->proof = Bytes(7232, 9);
  b.split->root = random_field();
  b.split->nullifier = random_field();
  b.split->amount = 4;
  b.split->auth = PrivateKey::random().address();
  for (std::size_t i = 0; i < 5; ++i) b.split->out_cms[i] = random_field();  // 3 absent outputs: 0
  b.payment.nullifiers = {b.split->nullifier};
  b.signatures = {sign_digest(PrivateKey::random(), b.digest())};
  return b;
}

void expect_same(const RelayBundle& a, const RelayBundle& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.chain_id, b.chain_id);
  EXPECT_EQ(a.pool, b.pool);
  EXPECT_EQ(a.payment, b.payment);
  ASSERT_EQ(a.spends.size(), b.spends.size());
  for (std::size_t i = 0; i < a.spends.size(); ++i) {
    EXPECT_EQ(a.spends[i].proof, b.spends[i].proof);
    EXPECT_EQ(a.spends[i].root, b.spends[i].root);
    EXPECT_EQ(a.spends[i].nullifier, b.spends[i].nullifier);
    EXPECT_EQ(a.spends[i].value, b.spends[i].value);
    EXPECT_EQ(a.spends[i].auth, b.spends[i].auth);
  }
  if (a.kind == BundleKind::kSplit) {
    EXPECT_EQ(a.split->proof, b.split->proof);
    EXPECT_EQ(a.split->root, b.split->root);
    EXPECT_EQ(a.split->nullifier, b.split->nullifier);
    EXPECT_EQ(a.split->amount, b.split->amount);
    EXPECT_EQ(a.split->auth, b.split->auth);
    EXPECT_EQ(a.split->out_cms, b.split->out_cms);
  }
  EXPECT_EQ(a.signatures, b.signatures);
}

TEST(RelayApiFields, SpendBatchRoundTripsWithItsDigestAndCalldata) {
  const RelayBundle b = spend_bundle(3);
  const std::string text = encode_bundle(b);
  Result<RelayBundle> parsed = decode_bundle(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  expect_same(*parsed, b);
  EXPECT_EQ(encode_bundle(*parsed), text);
  EXPECT_EQ(parsed->notes(), 3U);
  EXPECT_EQ(parsed->value_units(), U256(7));
  EXPECT_EQ(parsed->digest(), payment_digest(PaymentDomain{U256(31337), b.pool}, b.payment));
  EXPECT_EQ(parsed->function(), "spendBatch");
  EXPECT_EQ(*parsed->calldata(), *PoolClient::encode_spend_batch(b.spends, b.payment, b.signatures));
  EXPECT_EQ(parsed->proof_nullifiers(), b.payment.nullifiers);
  // Addresses go out in EIP-55 form; lowercase ones are read the same.
  json j = json::parse(text);
  EXPECT_EQ(j["pool"], b.pool.to_checksum());
  j["pool"] = b.pool.to_hex();
  EXPECT_EQ(decode_bundle(j.dump())->pool, b.pool);
}

TEST(RelayApiFields, SplitRoundTripsWithItsCalldata) {
  const RelayBundle b = split_bundle();
  Result<RelayBundle> parsed = decode_bundle(encode_bundle(b));
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  expect_same(*parsed, b);
  EXPECT_EQ(parsed->notes(), 1U);
  EXPECT_EQ(parsed->value_units(), U256(4));
  EXPECT_EQ(parsed->function(), "split");
  EXPECT_EQ(*parsed->calldata(), *PoolClient::encode_split(*b.split, b.payment, b.signatures[0]));
  EXPECT_EQ(parsed->proof_auths(), std::vector<Address>{b.split->auth});
}

struct Bad {
  std::string name;
  std::function<void(json&)> change;
  std::string message;  // a substring of the refusal
};

TEST(RelayApiFields, EveryMalformedFieldIsRefusedByName) {
  const std::string p_hex = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
  const std::vector<Bad> cases = {
      {"no kind", [](json& j) { j.erase("kind"); }, "kind"},
      {"unknown kind", [](json& j) { j["kind"] = "spend"; }, "kind"},
      {"unknown field", [](json& j) { j["extra"] = 1; }, "extra"},
      {"split field in a spend_batch", [](json& j) { j["split"] = json::object(); }, "split"},
      {"no signatures", [](json& j) { j.erase("signatures"); }, "signatures"},
      {"chain id a string", [](json& j) { j["chain_id"] = "31337"; }, "chain_id"},
      {"chain id negative", [](json& j) { j["chain_id"] = -1; }, "chain_id"},
      {"pool malformed", [](json& j) { j["pool"] = "0x1234"; }, "pool"},
      {"pool bad checksum", [](json& j) { j["pool"] = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"; }, "pool"},
      {"payment not an object", [](json& j) { j["payment"] = 1; }, "payment"},
      {"payment without fee", [](json& j) { j["payment"].erase("fee"); }, "payment.fee"},
      {"fee as a number", [](json& j) { j["payment"]["fee"] = 5; }, "payment.fee"},
      {"fee with leading zero", [](json& j) { j["payment"]["fee"] = "05"; }, "payment.fee"},
      {"fee in hex", [](json& j) { j["payment"]["fee"] = "0x5"; }, "payment.fee"},
      {"fee negative", [](json& j) { j["payment"]["fee"] = "-5"; }, "payment.fee"},
      {"fee above 2^256", [](json& j) { j["payment"]["fee"] = std::string(80, '9'); }, "payment.fee"},
      {"zero recipient", [](json& j) { j["payment"]["recipient"] = "0x0000000000000000000000000000000000000000"; },
       "payment.recipient"},
      {"deadline a float", [](json& j) { j["payment"]["deadline"] = 1.5; }, "payment.deadline"},
      {"nullifier short", [](json& j) { j["payment"]["nullifiers"][0] = "0x01"; }, "payment.nullifiers[0]"},
      {"spends empty", [](json& j) { j["spends"] = json::array(); }, "spends"},
      {"33 spends",
       [](json& j) {
         while (j["spends"].size() < kMaxBundleSpends + 1) j["spends"].push_back(j["spends"][0]);
       },
       "spends"},
      {"spend without auth", [](json& j) { j["spends"][2].erase("auth"); }, "spends[2].auth"},
      {"root not canonical", [p_hex](json& j) { j["spends"][0]["root"] = p_hex; }, "spends[0].root"},
      {"nullifier uppercase X", [](json& j) { j["spends"][1]["nullifier"] = "0X" + std::string(64, '1'); },
       "spends[1].nullifier"},
      {"value zero", [](json& j) { j["spends"][1]["value"] = 0; }, "spends[1].value"},
      {"value 2^64", [](json& j) { j["spends"][1]["value"] = 18446744073709551616.0; }, "spends[1].value"},
      {"value as a string", [](json& j) { j["spends"][1]["value"] = "1"; }, "spends[1].value"},
      {"auth zero", [](json& j) { j["spends"][0]["auth"] = "0x0000000000000000000000000000000000000000"; },
       "spends[0].auth"},
      {"proof empty", [](json& j) { j["spends"][0]["proof"] = "0x"; }, "spends[0].proof"},
      {"proof odd hex", [](json& j) { j["spends"][0]["proof"] = "0x123"; }, "spends[0].proof"},
      {"proof not a multiple of 32", [](json& j) { j["spends"][0]["proof"] = "0x" + std::string(66, 'a'); },
       "spends[0].proof"},
      {"proof too large", [](json& j) { j["spends"][0]["proof"] = "0x" + std::string(2 * 16416, 'a'); },
       "spends[0].proof"},
      {"a signature short", [](json& j) { j["signatures"][1] = "0x" + std::string(128, 'a'); }, "signatures[1]"},
      {"a signature missing", [](json& j) { j["signatures"].erase(2); }, "signatures"},
      {"a signature not hex", [](json& j) { j["signatures"][0] = 7; }, "signatures[0]"},
  };
  const std::string good = encode_bundle(spend_bundle(3));
  ASSERT_TRUE(decode_bundle(good).ok());
  for (const Bad& bad : cases) {
    json j = json::parse(good);
    bad.change(j);
    Result<RelayBundle> r = decode_bundle(j.dump());
    EXPECT_FALSE(r.ok()) << bad.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad.name;
    EXPECT_NE(r.status().message().find(bad.message), std::string::npos) << bad.name << ": " << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << bad.name;
  }
}

TEST(RelayApiFields, MalformedSplitsAreRefusedByName) {
  const std::vector<Bad> cases = {
      {"seven outputs", [](json& j) { j["split"]["out_cms"].erase(7); }, "split.out_cms"},
      {"an output not canonical", [](json& j) { j["split"]["out_cms"][3] = "0x" + std::string(64, 'f'); },
       "split.out_cms[3]"},
      {"spends in a split", [](json& j) { j["spends"] = json::array(); }, "spends"},
      {"two signatures", [](json& j) { j["signatures"].push_back(j["signatures"][0]); }, "signatures"},
      {"amount negative", [](json& j) { j["split"]["amount"] = -4; }, "split.amount"},
  };
  const std::string good = encode_bundle(split_bundle());
  json zero = json::parse(good);
  zero["split"]["amount"] = 0;  // a split may withdraw nothing (a private transfer)
  EXPECT_TRUE(decode_bundle(zero.dump()).ok());
  for (const Bad& bad : cases) {
    json j = json::parse(good);
    bad.change(j);
    Result<RelayBundle> r = decode_bundle(j.dump());
    ASSERT_FALSE(r.ok()) << bad.name;
    EXPECT_NE(r.status().message().find(bad.message), std::string::npos) << bad.name << ": " << r.status().message();
  }
}

TEST(RelayApiFields, TextThatIsNotABundleIsRefused) {
  for (const std::string& text : {std::string(""), std::string("{"), std::string("[1,2]"), std::string("null"),
                                  std::string("{\"kind\":\"split\"} trailing")}) {
    Result<RelayBundle> r = decode_bundle(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  }
  EXPECT_NE(decode_bundle("{").status().message().find("not JSON"), std::string::npos);
  // Deep nesting is refused before parsing (a bracket inside a string does not count).
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_NE(decode_bundle(deep).status().message().find("nested deeper than 8"), std::string::npos);
  EXPECT_NE(decode_bundle(R"({"kind":"[[[[[[[[[[[[["})").status().message().find("kind"), std::string::npos);
}

TEST(RelayApiFields, QuotesRoundTripAndMalformedFieldsAreRefused) {
  RelayQuote q;
  q.kind = BundleKind::kSplit;
  q.notes = 1;
  q.fee = U256(12'345'678'901'234'567ULL);
  q.fee_recipient = PrivateKey::random().address();
  q.chain_id = 31337;
  q.pool = PrivateKey::random().address();
  q.gas = 1'120'000;
  q.gas_price = U256(2'000'000'000);
  q.valid_until = 1'900'000'000;
  const std::string text = encode_quote(q);
  Result<RelayQuote> back = decode_quote(text);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, q);
  json j = json::parse(text);
  EXPECT_EQ(j["fee"], "12345678901234567");
  EXPECT_EQ(j["kind"], "split");
  j["fee"] = 12;
  EXPECT_NE(decode_quote(j.dump()).status().message().find("fee"), std::string::npos);
  j = json::parse(text);
  j.erase("valid_until");
  EXPECT_NE(decode_quote(j.dump()).status().message().find("valid_until"), std::string::npos);
}

}  // namespace
}  // namespace bucketpay::eth
