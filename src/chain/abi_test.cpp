// ABI encoding against the examples of the Solidity ABI specification, decoding round trips and
// hostile inputs, events and revert data.
#include "bucketpay/abi.h"

#include <gtest/gtest.h>

namespace bucketpay::abi {
namespace {

using V = Value;

std::string strip(std::string s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\n') {
      out.push_back(c);
    }
  }
  return out;
}

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(AbiTypes, ParseAndCanonical) {
  EXPECT_EQ(parse_type("uint")->to_string(), "uint256");
  EXPECT_EQ(parse_type("(bytes,uint256,address)[]")->to_string(), "(bytes,uint256,address)[]");
  EXPECT_EQ(parse_type("uint8[2][]")->to_string(), "uint8[2][]");
  EXPECT_TRUE(parse_type("uint256[]")->is_dynamic());
  EXPECT_FALSE(parse_type("uint256[3]")->is_dynamic());
  EXPECT_TRUE(parse_type("(uint256,bytes)")->is_dynamic());
  for (const char* bad :
       {"uint7", "uint264", "bytes33", "bytes0", "int256", "foo", "uint256[", "()", "uint256[0]", "uint256 "}) {
    EXPECT_FALSE(parse_type(bad).ok()) << bad;
  }
  Result<Signature> ev = parse_signature("Spent(uint256 indexed nullifier, address indexed recipient, uint256 value)");
  ASSERT_TRUE(ev.ok()) << ev.status().to_string();
  EXPECT_EQ(ev->canonical(), "Spent(uint256,address,uint256)");
  EXPECT_EQ(ev->indexed, (std::vector<bool>{true, true, false}));
}

// https://docs.soliditylang.org/en/latest/abi-spec.html#examples
TEST(AbiEncode, SpecExampleBaz) {
  std::vector<V> args = {V::integer(69), V::boolean(true)};
  EXPECT_EQ(eth::to_hex(*encode_call("baz(uint32,bool)", args)),
            strip("0xcdcd77c0"
                  "0000000000000000000000000000000000000000000000000000000000000045"
                  "0000000000000000000000000000000000000000000000000000000000000001"));
}

TEST(AbiEncode, SpecExampleSam) {
  std::vector<V> args = {V::bytes(b("dave")), V::boolean(true), V::list({V::integer(1), V::integer(2), V::integer(3)})};
  EXPECT_EQ(eth::to_hex(*encode_call("sam(bytes,bool,uint256[])", args)),
            strip("0xa5643bf2"
                  "0000000000000000000000000000000000000000000000000000000000000060"
                  "0000000000000000000000000000000000000000000000000000000000000001"
                  "00000000000000000000000000000000000000000000000000000000000000a0"
                  "0000000000000000000000000000000000000000000000000000000000000004"
                  "6461766500000000000000000000000000000000000000000000000000000000"
                  "0000000000000000000000000000000000000000000000000000000000000003"
                  "0000000000000000000000000000000000000000000000000000000000000001"
                  "0000000000000000000000000000000000000000000000000000000000000002"
                  "0000000000000000000000000000000000000000000000000000000000000003"));
}

TEST(AbiEncode, SpecExampleDynamic) {
  std::vector<V> args = {V::integer(0x123), V::list({V::integer(0x456), V::integer(0x789)}), V::bytes(b("1234567890")),
                         V::bytes(b("Hello, world!"))};
  Result<Bytes> enc = encode_call("f(uint256,uint32[],bytes10,bytes)", args);
  ASSERT_TRUE(enc.ok()) << enc.status().to_string();
  EXPECT_EQ(eth::to_hex(*enc), strip("0x8be65246"
                                     "0000000000000000000000000000000000000000000000000000000000000123"
                                     "0000000000000000000000000000000000000000000000000000000000000080"
                                     "3132333435363738393000000000000000000000000000000000000000000000"
                                     "00000000000000000000000000000000000000000000000000000000000000e0"
                                     "0000000000000000000000000000000000000000000000000000000000000002"
                                     "0000000000000000000000000000000000000000000000000000000000000456"
                                     "0000000000000000000000000000000000000000000000000000000000000789"
                                     "000000000000000000000000000000000000000000000000000000000000000d"
                                     "48656c6c6f2c20776f726c642100000000000000000000000000000000000000"));
  // And back.
  Result<std::vector<V>> dec = decode("(uint256,uint32[],bytes10,bytes)", std::span(*enc).subspan(4));
  ASSERT_TRUE(dec.ok()) << dec.status().to_string();
  EXPECT_EQ(*dec, args);
}

TEST(AbiEncode, SpecExampleNested) {
  std::vector<V> args = {V::list({V::list({V::integer(1), V::integer(2)}), V::list({V::integer(3)})}),
                         V::list({V::string("one"), V::string("two"), V::string("three")})};
  Result<Bytes> enc = encode_call("g(uint256[][],string[])", args);
  ASSERT_TRUE(enc.ok()) << enc.status().to_string();
  EXPECT_EQ(eth::to_hex(*enc), strip("0x2289b18c"
                                     "0000000000000000000000000000000000000000000000000000000000000040"
                                     "0000000000000000000000000000000000000000000000000000000000000140"
                                     "0000000000000000000000000000000000000000000000000000000000000002"
                                     "0000000000000000000000000000000000000000000000000000000000000040"
                                     "00000000000000000000000000000000000000000000000000000000000000a0"
                                     "0000000000000000000000000000000000000000000000000000000000000002"
                                     "0000000000000000000000000000000000000000000000000000000000000001"
                                     "0000000000000000000000000000000000000000000000000000000000000002"
                                     "0000000000000000000000000000000000000000000000000000000000000001"
                                     "0000000000000000000000000000000000000000000000000000000000000003"
                                     "0000000000000000000000000000000000000000000000000000000000000003"
                                     "0000000000000000000000000000000000000000000000000000000000000060"
                                     "00000000000000000000000000000000000000000000000000000000000000a0"
                                     "00000000000000000000000000000000000000000000000000000000000000e0"
                                     "0000000000000000000000000000000000000000000000000000000000000003"
                                     "6f6e650000000000000000000000000000000000000000000000000000000000"
                                     "0000000000000000000000000000000000000000000000000000000000000003"
                                     "74776f0000000000000000000000000000000000000000000000000000000000"
                                     "0000000000000000000000000000000000000000000000000000000000000005"
                                     "7468726565000000000000000000000000000000000000000000000000000000"));
  Result<std::vector<V>> dec = decode("(uint256[][],string[])", std::span(*enc).subspan(4));
  ASSERT_TRUE(dec.ok()) << dec.status().to_string();
  EXPECT_EQ(*dec, args);
}

TEST(AbiEncode, TypeChecks) {
  EXPECT_FALSE(encode_call("f(uint8)", std::vector<V>{V::integer(256)}).ok());
  EXPECT_FALSE(encode_call("f(bytes32)", std::vector<V>{V::bytes(Bytes(31))}).ok());
  EXPECT_FALSE(encode_call("f(uint256[2])", std::vector<V>{V::list({V::integer(1)})}).ok());
  EXPECT_FALSE(encode_call("f(address)", std::vector<V>{V::integer(1)}).ok());
  EXPECT_FALSE(encode_call("f(uint256,uint256)", std::vector<V>{V::integer(1)}).ok());
}

TEST(AbiEncode, SpendBatchRoundTrip) {
  // Pool.spendBatch((bytes,uint256,uint256,uint256,address)[]).
  eth::Address rcpt = *eth::Address::from_string("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  V req1 = V::list({V::bytes(Bytes(100, 0xab)), V::integer(1), V::integer(2), V::integer(3), V::address(rcpt)});
  V req2 = V::list({V::bytes(Bytes{}), V::integer(4), V::integer(5), V::integer(6), V::address(rcpt)});
  std::vector<V> args = {V::list({req1, req2})};
  Result<Bytes> enc = encode_call("spendBatch((bytes,uint256,uint256,uint256,address)[])", args);
  ASSERT_TRUE(enc.ok()) << enc.status().to_string();
  Result<std::vector<V>> dec = decode("((bytes,uint256,uint256,uint256,address)[])", std::span(*enc).subspan(4));
  ASSERT_TRUE(dec.ok()) << dec.status().to_string();
  EXPECT_EQ(*dec, args);
}

TEST(AbiDecode, HostileInput) {
  Bytes word(32, 0);
  // Offset far beyond the data.
  Bytes huge_offset = word;
  huge_offset[31] = 0xff;
  huge_offset[0] = 0x7f;
  EXPECT_EQ(decode("(bytes)", huge_offset).status().code(), StatusCode::kCorruption);
  // A length that claims 2^64 elements.
  Bytes big_len(64, 0);
  big_len[31] = 0x20;
  for (int i = 32; i < 56; ++i) {
    big_len[i] = 0xff;
  }
  EXPECT_EQ(decode("(uint256[])", big_len).status().code(), StatusCode::kCorruption);
  // Truncated.
  EXPECT_FALSE(decode("(uint256)", Bytes(31)).ok());
  // Non-canonical address and bool.
  Bytes dirty = word;
  dirty[0] = 1;
  EXPECT_FALSE(decode("(address)", dirty).ok());
  EXPECT_FALSE(decode("(bool)", dirty).ok());
  EXPECT_FALSE(decode("(uint8)", dirty).ok());
  Bytes two = word;
  two[31] = 2;
  EXPECT_FALSE(decode("(bool)", two).ok());
  // bytes4 with non-zero padding.
  Bytes pad = word;
  pad[10] = 1;
  EXPECT_FALSE(decode("(bytes4)", pad).ok());
}

TEST(AbiLogs, DecodeEvent) {
  Signature ev = *parse_signature("Spent(uint256 indexed nullifier, address indexed recipient, uint256 value)");
  eth::Address rcpt = *eth::Address::from_string("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  std::vector<eth::Hash32> topics = {ev.topic(), U256(77).to_word(), rcpt.to_word()};
  Bytes data = *encode(std::vector<Type>{*parse_type("uint256")}, std::vector<V>{V::integer(500)});
  Result<std::vector<V>> v = decode_log(ev, topics, data);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(*v, (std::vector<V>{V::integer(77), V::address(rcpt), V::integer(500)}));
  // Wrong event, wrong topic count.
  topics[0] = eth::keccak256("Other()");
  EXPECT_FALSE(decode_log(ev, topics, data).ok());
  topics[0] = ev.topic();
  topics.pop_back();
  EXPECT_FALSE(decode_log(ev, topics, data).ok());
}

TEST(AbiRevert, ErrorPanicCustomUnknown) {
  Bytes err = *encode_call("Error(string)", std::vector<V>{V::string("not enough")});
  RevertReason r = decode_revert(err);
  EXPECT_EQ(r.kind, RevertReason::Kind::kError);
  EXPECT_EQ(r.message, "Error(\"not enough\")");

  Bytes panic = *encode_call("Panic(uint256)", std::vector<V>{V::integer(0x11)});
  r = decode_revert(panic);
  EXPECT_EQ(r.kind, RevertReason::Kind::kPanic);
  EXPECT_EQ(r.message, "Panic(0x11: arithmetic overflow or underflow)");

  std::vector<std::string> errors = {"ZeroRecipient()", "UnknownRoot(uint256)", "LengthMismatch(uint256,uint256)"};
  Bytes custom = *encode_call("LengthMismatch(uint256,uint256)", std::vector<V>{V::integer(3), V::integer(2)});
  r = decode_revert(custom, errors);
  EXPECT_EQ(r.kind, RevertReason::Kind::kCustom);
  EXPECT_EQ(r.name, "LengthMismatch");
  EXPECT_EQ(r.message, "LengthMismatch(3, 2)");
  r = decode_revert(*encode_call("ZeroRecipient()", {}), errors);
  EXPECT_EQ(r.message, "ZeroRecipient()");

  r = decode_revert(custom);  // not listed
  EXPECT_EQ(r.kind, RevertReason::Kind::kUnknown);
  EXPECT_NE(r.message.find(eth::to_hex(selector("LengthMismatch(uint256,uint256)"))), std::string::npos);
  EXPECT_EQ(decode_revert(Bytes{}).kind, RevertReason::Kind::kEmpty);
  EXPECT_EQ(decode_revert(Bytes{1, 2}).kind, RevertReason::Kind::kUnknown);
  // Error(string) with a broken body is unknown, not a crash.
  Bytes broken(err.begin(), err.begin() + 40);
  EXPECT_EQ(decode_revert(broken).kind, RevertReason::Kind::kUnknown);
}

TEST(AbiJson, SignaturesFromForgeAbi) {
  std::string abi = R"([
    {"type":"function","name":"spendBatch","inputs":[{"name":"requests","type":"tuple[]","components":[
      {"name":"proof","type":"bytes"},{"name":"root","type":"uint256"},{"name":"nullifier","type":"uint256"},
      {"name":"value","type":"uint256"},{"name":"recipient","type":"address"}]}],"outputs":[]},
    {"type":"event","name":"Spent","inputs":[{"name":"nullifier","type":"uint256","indexed":true},
      {"name":"recipient","type":"address","indexed":true},{"name":"value","type":"uint256","indexed":false}]},
    {"type":"error","name":"UnknownRoot","inputs":[{"name":"root","type":"uint256"}]}])";
  EXPECT_EQ(*signatures_from_abi_json(abi, "function"),
            std::vector<std::string>{"spendBatch((bytes,uint256,uint256,uint256,address)[])"});
  EXPECT_EQ(*signatures_from_abi_json(abi, "event"),
            std::vector<std::string>{"Spent(uint256 indexed,address indexed,uint256)"});
  EXPECT_EQ(*signatures_from_abi_json(abi, "error"), std::vector<std::string>{"UnknownRoot(uint256)"});
  EXPECT_FALSE(signatures_from_abi_json("{not json", "error").ok());
}

}  // namespace
}  // namespace bucketpay::abi
